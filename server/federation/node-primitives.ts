/**
 * OpenSSL-backed (node:crypto) versions of the unmask primitives, for the server only: the
 * same AES-256-CTR mask PRG (shared/secagg/prg.ts: key = seed, zero 128-bit counter block,
 * big-endian full-block increment, as OpenSSL's 'aes-256-ctr' does) and the same X25519
 * (RFC 7748), several times faster than the pure-JS ones. (OpenSSL's HKDF through node was
 * slower than noble's for 32-byte inputs, so the key derivation stays shared.) The masks go
 * through the native addon (server/native/mask-prg.c) when it is built, else through
 * node:crypto in chunks. unmask-pool.test checks byte equality with the shared ones.
 */
import { createCipheriv, createPrivateKey, createPublicKey, diffieHellman, type KeyObject } from 'node:crypto';
import { checkBatch, type UnmaskPrimitives } from '../../shared/secagg/unmask-plan';
import { nativeMaskPrg, type NativeMaskPrg } from '../native/mask-prg';
import { IS_LE, MASK_COUNTER0 } from '../../shared/secagg/prg';

// DER prefixes of an X25519 PKCS#8 private key and SPKI public key (RFC 8410), followed by the 32 raw bytes.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');
/**
 * Keystream bytes per cipher call: small enough that the chunk and the matching slice of the
 * accumulator stay in the core's L2 while they are added, large enough to amortise the call
 * (node allocates each output buffer). 64 KB measured best (bench/secagg.ts prints the rate).
 */
export const KEYSTREAM_CHUNK = 65536;
const ZEROS = Buffer.alloc(KEYSTREAM_CHUNK);

export interface NodePrimitiveOptions {
  /** Keystream bytes per node:crypto call (default KEYSTREAM_CHUNK). */
  chunkBytes?: number;
  /** The native mask PRG (default: the built one, if any); null forces node:crypto. */
  native?: NativeMaskPrg | null;
}

/**
 * Fresh primitives for one unmask job. Importing a raw X25519 key into OpenSSL costs ~10× the
 * agreement itself, so key objects are cached for the job (a dropped client's key is used with
 * each of its surviving neighbours); the caches die with the object.
 */
export function createNodePrimitives(opts: NodePrimitiveOptions = {}): UnmaskPrimitives {
  if (!IS_LE) throw new Error('node primitives: the keystream-as-words path assumes a little-endian host');
  const chunkBytes = opts.chunkBytes ?? KEYSTREAM_CHUNK;
  if (chunkBytes % 16 !== 0 || chunkBytes < 16 || chunkBytes > KEYSTREAM_CHUNK)
    throw new Error(`node primitives: chunk must be a multiple of 16 up to ${KEYSTREAM_CHUNK}`);
  const native = opts.native === undefined ? nativeMaskPrg() : opts.native;
  const privateKeys = new Map<string, KeyObject>();
  const publicKeys = new Map<string, KeyObject>();
  const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
  return {
    addMasks(acc, seeds, signs) {
      checkBatch(seeds, signs);
      if (native) {
        native.addMasks(acc.words, seeds, signs);
        return;
      }
      const total = acc.length * 4;
      for (let j = 0; j < signs.length; j++) {
        const c = createCipheriv('aes-256-ctr', seeds.subarray(32 * j, 32 * j + 32), MASK_COUNTER0);
        // Keystream XOR zeros, a chunk at a time, each added to its slice of the accumulator at once.
        for (let off = 0; off < total; off += chunkBytes) {
          const n = Math.min(chunkBytes, total - off);
          const ks = c.update(n === ZEROS.length ? ZEROS : ZEROS.subarray(0, n));
          if (ks.length !== n) throw new Error('addMasks: short keystream');
          acc.add(ks, signs[j] === 1 ? 1 : -1, off / 4);
        }
      }
    },
    agree(secretKey, publicKey) {
      if (secretKey.length !== 32 || publicKey.length !== 32) throw new Error('agree: keys must be 32 bytes');
      const sk = hex(secretKey);
      let privateKey = privateKeys.get(sk);
      if (!privateKey) {
        privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, secretKey]), format: 'der', type: 'pkcs8' });
        privateKeys.set(sk, privateKey);
      }
      const pk = hex(publicKey);
      let pub = publicKeys.get(pk);
      if (!pub) {
        pub = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' });
        publicKeys.set(pk, pub);
      }
      const s = diffieHellman({ privateKey, publicKey: pub });
      // noble refuses an all-zero secret (low-order public key); so must we.
      if (s.every((b) => b === 0)) throw new Error('agree: low-order public key');
      return new Uint8Array(s);
    },
  };
}
