/**
 * OpenSSL-backed (node:crypto) versions of the two unmask primitives, for the server only:
 * the same ChaCha20 keystream (RFC 8439; OpenSSL's 16-byte IV is the 32-bit little-endian
 * block counter followed by the 96-bit nonce) and the same X25519 (RFC 7748), about 2–3×
 * faster than the pure-JS ones here. unmask-pool.test checks byte equality with the shared ones.
 */
import { createCipheriv, createPrivateKey, createPublicKey, diffieHellman, type KeyObject } from 'node:crypto';
import type { UnmaskPrimitives } from '../../shared/secagg/unmask-plan';

// DER prefixes of an X25519 PKCS#8 private key and SPKI public key (RFC 8410), followed by the 32 raw bytes.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');
const ZERO_IV = Buffer.alloc(16);
const IS_LE = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Fresh primitives for one unmask job. Importing a raw X25519 key into OpenSSL costs ~10× the
 * agreement itself, so key objects are cached for the job (a dropped client's key is used with
 * each of its surviving neighbours); the caches die with the object.
 */
export function createNodePrimitives(): UnmaskPrimitives {
  const privateKeys = new Map<string, KeyObject>();
  const publicKeys = new Map<string, KeyObject>();
  const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
  return {
    expand(seed, out) {
      if (seed.length !== 32) throw new Error('expand: seed must be 32 bytes');
      if (!IS_LE) throw new Error('expand: OpenSSL path assumes a little-endian host');
      const bytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
      bytes.fill(0);
      const c = createCipheriv('chacha20', seed, ZERO_IV);
      // Keystream XOR zeros, written straight into `out`.
      const n = c.update(bytes).copy(bytes);
      if (n !== bytes.length) throw new Error('expand: short keystream');
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
