/**
 * PRGs, read as little-endian uint32 words (client and server must expand a seed to the
 * same words, so the byte order is fixed on every platform).
 *
 * Mask PRG (Bonawitz et al. 2017, §4: any secure PRG): the AES-256-CTR keystream under the
 * 32-byte seed as key, initial counter block 0^128, full 128-bit big-endian increment
 * (NIST SP 800-38A §B.1 with m = 128). Why AES-CTR and not ChaCha20: masking costs k + 1
 * expansions of d words per client and, after dropouts, ≈ δ·n·(1 − δ)·k on the server
 * (44.5k × 265k words at n = 1000, δ = 0.3). Browsers offer AES-CTR natively through
 * WebCrypto (with AES-NI) but no ChaCha20, so only AES-CTR runs at native speed on both
 * ends. Three implementations give the same bytes (prg.test.ts, unmask-pool.test.ts):
 *   - expandMask: @noble/ciphers `ctr`, synchronous reference (slow, ~25 ms per 1M words);
 *   - expandMaskAsync: WebCrypto AES-CTR with `length: 128` (browser and Node clients);
 *   - server/federation/node-primitives.ts: node:crypto 'aes-256-ctr', streamed in chunks.
 *
 * chachaWords: the ChaCha20 (RFC 8439) keystream with a nonce, for the small seeded streams
 * (neighbour graph, stochastic rounding); not used for masks.
 */
import { ctr } from '@noble/ciphers/aes.js';
import { chacha20 } from '@noble/ciphers/chacha.js';

const ZERO_NONCE = new Uint8Array(12);
/** The mask PRG's initial counter block. */
export const MASK_COUNTER0 = new Uint8Array(16);
export const IS_LE = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function checkSeed(what: string, seed32: Uint8Array, length: number): void {
  if (!(seed32 instanceof Uint8Array) || seed32.length !== 32) throw new Error(`${what}: seed must be 32 bytes`);
  if (!Number.isSafeInteger(length) || length < 0) throw new Error(`${what}: bad length ${length}`);
}

function checkArgs(what: string, seed32: Uint8Array, length: number, out: Uint32Array | undefined): Uint32Array {
  checkSeed(what, seed32, length);
  const words = out ?? new Uint32Array(length);
  if (words.length !== length) throw new Error(`${what}: out has ${words.length} words, expected ${length}`);
  return words;
}

/** Byte-swaps every word on a big-endian host, so words read the keystream little-endian everywhere. */
export function wordsFromLittleEndian(words: Uint32Array): Uint32Array {
  if (IS_LE) return words;
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    words[i] = ((w & 0xff) << 24) | ((w & 0xff00) << 8) | ((w >>> 8) & 0xff00) | (w >>> 24);
  }
  return words;
}

/**
 * AES-256-CTR keystream bytes (reference, @noble/ciphers): `counter0` is the initial 16-byte
 * counter block, incremented as one 128-bit big-endian integer per block.
 */
export function aesCtrKeystream(key32: Uint8Array, counter0: Uint8Array, out: Uint8Array): Uint8Array {
  if (key32.length !== 32) throw new Error('aesCtrKeystream: key must be 32 bytes');
  out.fill(0);
  // Keystream XOR zeros; noble allows output === input.
  return ctr(key32, counter0).encrypt(out, out);
}

/**
 * The mask PRG: expands a 32-byte seed to `length` uniform uint32 words (synchronous reference).
 * @param out optional destination (reused scratch buffer; must have exactly `length` words).
 */
export function expandMask(seed32: Uint8Array, length: number, out?: Uint32Array): Uint32Array {
  const words = checkArgs('expandMask', seed32, length, out);
  aesCtrKeystream(seed32, MASK_COUNTER0, new Uint8Array(words.buffer, words.byteOffset, length * 4));
  return wordsFromLittleEndian(words);
}

function subtle(): SubtleCrypto | undefined {
  return globalThis.crypto?.subtle;
}

/** Whether expandMaskAsync runs natively (WebCrypto exists: browsers in a secure context, Node ≥ 20). */
export function hasWebCryptoPrg(): boolean {
  return subtle() !== undefined;
}

/** Up to this many zero bytes are kept as the WebCrypto input (the keystream is E(0) ⊕ 0). */
let zeros = new Uint8Array(0);

/**
 * The mask PRG on WebCrypto (same words as expandMask). Falls back to the synchronous
 * reference where WebCrypto is missing (an insecure browser context), which is ~50× slower.
 */
export async function expandMaskAsync(seed32: Uint8Array, length: number): Promise<Uint32Array> {
  checkSeed('expandMaskAsync', seed32, length);
  const s = subtle();
  if (!s) return expandMask(seed32, length);
  const bytes = length * 4;
  if (zeros.length < bytes) zeros = new Uint8Array(bytes);
  const key = await s.importKey('raw', seed32 as Uint8Array<ArrayBuffer>, 'AES-CTR', false, ['encrypt']);
  const ks = await s.encrypt(
    { name: 'AES-CTR', counter: MASK_COUNTER0 as Uint8Array<ArrayBuffer>, length: 128 },
    key,
    zeros.subarray(0, bytes),
  );
  return wordsFromLittleEndian(new Uint32Array(ks, 0, length));
}

/**
 * ChaCha20 keystream words (RFC 8439, counter 0) under `seed32` and a 12-byte nonce.
 * @param out optional destination (must have exactly `length` words).
 */
export function chachaWords(
  seed32: Uint8Array,
  length: number,
  nonce: Uint8Array = ZERO_NONCE,
  out?: Uint32Array,
): Uint32Array {
  const words = checkArgs('chachaWords', seed32, length, out);
  if (nonce.length !== 12) throw new Error('chachaWords: nonce must be 12 bytes');
  const bytes = new Uint8Array(words.buffer, words.byteOffset, length * 4);
  bytes.fill(0);
  chacha20(seed32, nonce, bytes, bytes);
  return wordsFromLittleEndian(words);
}
