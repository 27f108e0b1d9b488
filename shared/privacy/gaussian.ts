/**
 * Gaussian noise for DP from a CSPRNG: a ChaCha20 keystream (RFC 8439) keyed by
 * 32 bytes from crypto.getRandomValues (or a caller's seed, for reproducible
 * tests), turned into normals by Box–Muller. Math.random is never used: its
 * state is recoverable from outputs, which would let anyone subtract the noise.
 */
import { chacha20 } from '@noble/ciphers/chacha.js';

const KEY_BYTES = 32;
const NONCE_BYTES = 12;
// 48 words per 3 ChaCha blocks, so a chunk always holds whole (3-word) draws.
const CHUNK_BYTES = 192 * 1024;
const BLOCK_BYTES = 64;
const TWO_PI = 2 * Math.PI;
const TWO_POW_M32 = 2 ** -32;
const TWO_POW_M53 = 2 ** -53;
const TWO_POW_26 = 2 ** 26;

/** 32 bytes from the platform CSPRNG (Web Crypto; present in browsers and Node ≥ 19). */
export function randomSeed(): Uint8Array {
  const c = (globalThis as { crypto?: { getRandomValues?: (a: Uint8Array) => Uint8Array } }).crypto;
  if (!c?.getRandomValues) throw new Error('gaussian: crypto.getRandomValues is not available');
  return c.getRandomValues(new Uint8Array(KEY_BYTES));
}

/** A stream of standard normals from one (key, nonce) pair. */
export class GaussianStream {
  private readonly key: Uint8Array;
  private readonly nonce: Uint8Array;
  private counter = 0; // ChaCha block counter of the next chunk
  private readonly zeros = new Uint8Array(CHUNK_BYTES);
  private readonly bytes = new Uint8Array(CHUNK_BYTES);
  private readonly words = new Uint32Array(this.bytes.buffer);
  private pos = this.words.length; // next unread word; starts "empty"
  private spare: number | null = null;

  /** key: 32 bytes (default: fresh from the CSPRNG). nonce: 12 bytes (default zeros) to split one key into streams. */
  constructor(key?: Uint8Array, nonce?: Uint8Array) {
    if (key !== undefined && key.length !== KEY_BYTES)
      throw new Error(`gaussian: seed must be ${KEY_BYTES} bytes, got ${key.length}`);
    if (nonce !== undefined && nonce.length !== NONCE_BYTES)
      throw new Error(`gaussian: nonce must be ${NONCE_BYTES} bytes, got ${nonce.length}`);
    this.key = key ? Uint8Array.from(key) : randomSeed();
    this.nonce = nonce ? Uint8Array.from(nonce) : new Uint8Array(NONCE_BYTES);
  }

  private refill(): void {
    // RFC 8439 has a 32-bit block counter: 256 GiB per (key, nonce), far beyond any model size.
    if (this.counter + CHUNK_BYTES / BLOCK_BYTES > 2 ** 32)
      throw new Error('gaussian: keystream exhausted for this (key, nonce)');
    chacha20(this.key, this.nonce, this.zeros, this.bytes, this.counter);
    this.counter += CHUNK_BYTES / BLOCK_BYTES;
    this.pos = 0;
  }

  /**
   * Writes std·N(0,1) into out[0..n) (or adds it when `add` is true).
   * Each pair of normals uses 3 words: 53 bits for the radius uniform (never 0,
   * so the log is finite; tails reach ~8.6σ) and 32 bits for the angle.
   */
  fill(out: Float32Array | Float64Array, std: number, add = false): void {
    if (!(std >= 0) || !Number.isFinite(std)) throw new Error(`gaussian: std must be finite and >= 0, got ${std}`);
    const n = out.length;
    let i = 0;
    if (n > 0 && this.spare !== null) {
      out[0] = (add ? out[0]! : 0) + std * this.spare;
      this.spare = null;
      i = 1;
    }
    const words = this.words;
    while (i < n) {
      if (this.pos >= words.length) this.refill();
      let p = this.pos;
      // Draws available in this chunk, capped by what `out` still needs.
      const pairs = Math.min((words.length - p) / 3, Math.ceil((n - i) / 2));
      for (let k = 0; k < pairs; k++) {
        const hi = words[p]! >>> 5; // 27 bits
        const lo = words[p + 1]! >>> 6; // 26 bits
        const u = (hi * TWO_POW_26 + lo + 0.5) * TWO_POW_M53; // (0, 1)
        const theta = TWO_PI * words[p + 2]! * TWO_POW_M32;
        p += 3;
        const r = Math.sqrt(-2 * Math.log(u));
        const z0 = r * Math.cos(theta);
        const z1 = r * Math.sin(theta);
        out[i] = (add ? out[i]! : 0) + std * z0;
        i++;
        if (i < n) {
          out[i] = (add ? out[i]! : 0) + std * z1;
          i++;
        } else {
          this.spare = z1;
        }
      }
      this.pos = p;
    }
  }

  /** One standard normal. */
  next(): number {
    const one = new Float64Array(1);
    this.fill(one, 1);
    return one[0]!;
  }
}

/** n i.i.d. N(0, std²) values. With a 32-byte seed the output is reproducible; without, fresh CSPRNG randomness. */
export function gaussianNoise(n: number, std: number, seed?: Uint8Array): Float32Array {
  if (!Number.isInteger(n) || n < 0) throw new Error(`gaussian: n must be a non-negative integer, got ${n}`);
  const out = new Float32Array(n);
  new GaussianStream(seed).fill(out, std);
  return out;
}

/** v + N(0, std²) per coordinate, as a new array (v is not modified). */
export function addGaussianNoise(v: ArrayLike<number>, std: number, seed?: Uint8Array): Float32Array {
  const out = Float32Array.from(v);
  new GaussianStream(seed).fill(out, std, true);
  return out;
}
