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

/** Work bounds for one incoming message, checked before any byte is copied. */
export interface UnpackLimits {
  /** Most {$b} placeholders in the message. */
  maxPlaceholders: number;
  /** Most bytes the placeholders may reference in total (overlapping references count each time). */
  maxBytes: number;
  /** Deepest nesting of arrays/objects. */
  maxDepth: number;
  /** Most JSON nodes (objects, arrays, scalars) visited. */
  maxNodes: number;
}

/** Generous defaults for messages whose size is not known better (server→client relays). */
export const DEFAULT_UNPACK_LIMITS: UnpackLimits = {
  maxPlaceholders: 4096,
  maxBytes: 64 * 1024 * 1024,
  maxDepth: 16,
  maxNodes: 100_000,
};

export class UnpackError extends Error {
  constructor(
    readonly code: 'malformed' | 'too_large',
    message: string,
  ) {
    super(message);
  }
}

/**
 * Inverse of packBinary; throws UnpackError on a malformed envelope, an
 * out-of-range placeholder or a message past `limits`. A first pass only counts
 * (nodes, depth, placeholders, referenced bytes), so a hostile message costs
 * O(its own size) before it is refused; the second pass returns views, not copies.
 */
export function unpackBinary(raw: unknown, limits: UnpackLimits = DEFAULT_UNPACK_LIMITS): unknown {
  if (raw === null || typeof raw !== 'object' || !('p' in raw) || !('b' in raw))
    throw new UnpackError('malformed', 'expected a packed message {p, b}');
  const blob = toBytes((raw as { b: unknown }).b);
  if (!blob) throw new UnpackError('malformed', 'packed message has no binary part');
  const root = (raw as { p: unknown }).p;
  let nodes = 0;
  let placeholders = 0;
  let bytes = 0;
  const isRef = (v: object): [number, number] | undefined => {
    const ref = (v as Partial<Placeholder>).$b;
    return Array.isArray(ref) && Object.keys(v).length === 1 ? (ref as [number, number]) : undefined;
  };
  // Pass 1: measure. Iterative, so depth is checked without recursion past the limit.
  const stack: [unknown, number][] = [[root, 0]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (++nodes > limits.maxNodes)
      throw new UnpackError('too_large', `packed message has more than ${limits.maxNodes} fields`);
    if (depth > limits.maxDepth)
      throw new UnpackError('too_large', `packed message nested deeper than ${limits.maxDepth}`);
    if (v === null || typeof v !== 'object') continue;
    const ref = isRef(v);
    if (ref) {
      const [off, len] = ref;
      if (!Number.isInteger(off) || !Number.isInteger(len) || off < 0 || len < 0 || off + len > blob.byteLength) {
        throw new UnpackError('malformed', 'binary placeholder out of range');
      }
      if (++placeholders > limits.maxPlaceholders)
        throw new UnpackError('too_large', `packed message has more than ${limits.maxPlaceholders} binary fields`);
      bytes += len;
      if (bytes > limits.maxBytes)
        throw new UnpackError('too_large', `packed message references more than ${limits.maxBytes} bytes`);
      continue;
    }
    for (const x of Array.isArray(v) ? v : Object.values(v)) stack.push([x, depth + 1]);
  }
  // Pass 2: rebuild with views into the one attachment (bounded by pass 1).
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') {
      const ref = isRef(v);
      if (ref) return blob.subarray(ref[0], ref[0] + ref[1]);
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    }
    return v;
  };
  return walk(root);
}
