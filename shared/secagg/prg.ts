/**
 * Mask PRG: the ChaCha20 (RFC 8439) keystream under the full 32-byte secret,
 * read as little-endian uint32 words. Client and server must expand the same
 * seed to the same words, so the byte order is fixed to little-endian on
 * every platform.
 */
import { chacha20 } from '@noble/ciphers/chacha.js';

const ZERO_NONCE = new Uint8Array(12);
const IS_LE = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Expands a 32-byte seed to `length` uniform uint32 words.
 * @param nonce optional 12-byte nonce for domain separation (default all zero; seeds are already unique per round).
 * @param out optional destination (reused scratch buffer; must have exactly `length` words).
 */
export function expandMask(
  seed32: Uint8Array,
  length: number,
  nonce: Uint8Array = ZERO_NONCE,
  out?: Uint32Array,
): Uint32Array {
  if (!(seed32 instanceof Uint8Array) || seed32.length !== 32) throw new Error('expandMask: seed must be 32 bytes');
  if (nonce.length !== 12) throw new Error('expandMask: nonce must be 12 bytes');
  if (!Number.isSafeInteger(length) || length < 0) throw new Error(`expandMask: bad length ${length}`);
  const words = out ?? new Uint32Array(length);
  if (words.length !== length) throw new Error(`expandMask: out has ${words.length} words, expected ${length}`);
  const bytes = new Uint8Array(words.buffer, words.byteOffset, length * 4);
  bytes.fill(0);
  // Keystream XOR zeros, in place (noble allows output === data).
  chacha20(seed32, nonce, bytes, bytes);
  if (!IS_LE) {
    for (let i = 0; i < length; i++) {
      const w = words[i]!;
      words[i] = ((w & 0xff) << 24) | ((w & 0xff00) << 8) | ((w >>> 8) & 0xff00) | (w >>> 24);
    }
  }
  return words;
}
