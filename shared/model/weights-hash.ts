import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';

/** Content hash of a weight vector; clients cache global models by it and verify downloads. */
export function weightsHash(weights: Float32Array): string {
  return bytesToHex(sha256(new Uint8Array(weights.buffer, weights.byteOffset, weights.byteLength))).slice(0, 32);
}
