/**
 * socket.io-parser refuses packets with more than 10 binary attachments, and a
 * SecAgg+ message can hold dozens of keys and shares. `packBinary` moves every
 * typed array of a message into ONE attachment and leaves {$b: [offset, length]}
 * placeholders; `unpackBinary` restores Uint8Array views.
 */
import { toBytes } from './binary';

export interface PackedMessage {
  p: unknown;
  b: Uint8Array;
}

type Placeholder = { $b: [number, number] };

export function packBinary(value: unknown): PackedMessage {
  const parts: Uint8Array[] = [];
  let size = 0;
  const walk = (v: unknown): unknown => {
    const bytes = v instanceof ArrayBuffer || ArrayBuffer.isView(v) ? toBytes(v) : undefined;
    if (bytes) {
      const ph: Placeholder = { $b: [size, bytes.byteLength] };
      parts.push(bytes);
      size += bytes.byteLength;
      return ph;
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  const p = walk(value);
  const b = new Uint8Array(size);
  let off = 0;
  for (const part of parts) {
    b.set(part, off);
    off += part.byteLength;
  }
  return { p, b };
}

/** Inverse of packBinary; throws on a malformed envelope or out-of-range placeholder. */
export function unpackBinary(raw: unknown): unknown {
  if (raw === null || typeof raw !== 'object' || !('p' in raw) || !('b' in raw)) throw new Error('expected a packed message {p, b}');
  const blob = toBytes((raw as { b: unknown }).b);
  if (!blob) throw new Error('packed message has no binary part');
  const walk = (v: unknown, depth: number): unknown => {
    if (depth > 16) throw new Error('packed message nested too deeply');
    if (Array.isArray(v)) return v.map((x) => walk(x, depth + 1));
    if (v !== null && typeof v === 'object') {
      const ref = (v as Partial<Placeholder>).$b;
      if (Array.isArray(ref) && Object.keys(v).length === 1) {
        const [off, len] = ref;
        if (!Number.isInteger(off) || !Number.isInteger(len) || off < 0 || len < 0 || off + len > blob.byteLength) {
          throw new Error('binary placeholder out of range');
        }
        return blob.slice(off, off + len);
      }
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, depth + 1)]));
    }
    return v;
  };
  return walk((raw as { p: unknown }).p, 0);
}
