/**
 * Unambiguous byte encodings for domain separation (HKDF salt/info, AEAD
 * associated data, commitments). Each field is prefixed by its 4-byte
 * big-endian length so that ("ab","c") and ("a","bc") never collide.
 */

const utf8 = new TextEncoder();

export type Field = string | number | Uint8Array;

function fieldBytes(f: Field): Uint8Array {
  if (f instanceof Uint8Array) return f;
  if (typeof f === 'number') {
    if (!Number.isSafeInteger(f) || f < 0) throw new Error(`secagg: expected a non-negative safe integer, got ${f}`);
    return utf8.encode(String(f));
  }
  return utf8.encode(f);
}

/** Concatenates length-prefixed fields. */
export function encodeFields(...fields: Field[]): Uint8Array {
  const parts = fields.map(fieldBytes);
  const total = parts.reduce((s, p) => s + 4 + p.length, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let o = 0;
  for (const p of parts) {
    view.setUint32(o, p.length, false);
    out.set(p, o + 4);
    o += 4 + p.length;
  }
  return out;
}

/** Byte equality (not constant-time; only used on public values such as public keys and commitments). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Fresh random bytes from the platform CSPRNG (chunked: getRandomValues caps at 65,536 bytes per call). */
export function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let o = 0; o < n; o += 65536) crypto.getRandomValues(out.subarray(o, Math.min(n, o + 65536)));
  return out;
}
