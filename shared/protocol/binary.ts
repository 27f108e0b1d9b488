/**
 * Binary payloads cross socket.io as attachments: Buffer in Node, ArrayBuffer in
 * browsers. These helpers normalise both and decode float32 vectors safely
 * (attachments are not necessarily 4-byte aligned).
 */
export function toBytes(value: unknown): Uint8Array | undefined {
  // Plain Uint8Array views: some libraries reject subclasses such as Node's Buffer.
  if (value instanceof Uint8Array)
    return value.constructor === Uint8Array ? value : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  return undefined;
}

export function float32FromBytes(bytes: Uint8Array): Float32Array {
  if (bytes.byteLength % 4 !== 0) throw new Error(`float32 payload has ${bytes.byteLength} bytes, not a multiple of 4`);
  const out = new Float32Array(bytes.byteLength / 4);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

export function float32ToBytes(values: Float32Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

export function uint32FromBytes(bytes: Uint8Array): Uint32Array {
  if (bytes.byteLength % 4 !== 0) throw new Error(`uint32 payload has ${bytes.byteLength} bytes, not a multiple of 4`);
  const out = new Uint32Array(bytes.byteLength / 4);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}
