/**
 * Key material for one round: X25519 key pairs, pairwise agreement, and HKDF
 * derivation of the mask seed / share-encryption key bound to the round.
 *
 * HKDF-SHA256(ikm = X25519 shared secret,
 *             salt = SHA-256(len-prefixed "fedssl-secagg-v1/salt", sessionId, round),
 *             info = len-prefixed "fedssl-secagg-v1/pair", min(a,b), max(a,b))
 * → 64 bytes: maskSeed = [0, 32), encKey = [32, 64).
 * The pair is ordered by JS string comparison so both ends derive the same
 * bytes; binding round and session means reused keys never repeat a mask.
 * Clients agree the mask seed on their s keys and the encryption key on
 * their c keys, so revealing a dropped client's s key (to remove its masks)
 * does not expose the share ciphertexts encrypted under c.
 */
import { x25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { encodeFields, randomBytes } from './encoding';

const DOMAIN = 'fedssl-secagg-v1';

export interface KeyPair {
  secretKey: Uint8Array;
  publicKey: Uint8Array;
}

export interface RoundContext {
  round: number;
  sessionId: string;
}

export interface PairContext extends RoundContext {
  a: string;
  b: string;
}

/** 32 random bytes from crypto.getRandomValues (self-mask seeds, secret keys). */
export function randomSeed(): Uint8Array {
  return randomBytes(32);
}

export function generateKeyPair(): KeyPair {
  const secretKey = randomSeed();
  return { secretKey, publicKey: x25519.getPublicKey(secretKey) };
}

export function publicKeyOf(secretKey: Uint8Array): Uint8Array {
  return x25519.getPublicKey(secretKey);
}

/** X25519 shared secret (32 bytes). noble rejects low-order public keys (all-zero output). */
export function agree(mySecret: Uint8Array, theirPublic: Uint8Array): Uint8Array {
  if (theirPublic.length !== 32) throw new Error('agree: public key must be 32 bytes');
  return x25519.getSharedSecret(mySecret, theirPublic);
}

/** The round's HKDF salt; the last one is kept (an unmask derives ~10^4 pair seeds in one round). */
let saltCache: { sessionId: string; round: number; salt: Uint8Array } | undefined;
function roundSalt(ctx: RoundContext): Uint8Array {
  if (saltCache?.sessionId !== ctx.sessionId || saltCache.round !== ctx.round)
    saltCache = {
      sessionId: ctx.sessionId,
      round: ctx.round,
      salt: sha256(encodeFields(`${DOMAIN}/salt`, ctx.sessionId, ctx.round)),
    };
  return saltCache.salt;
}

function pairInfo(ctx: PairContext): Uint8Array {
  if (ctx.a === ctx.b) throw new Error('derivePairSecrets: a and b must differ');
  const [lo, hi] = ctx.a < ctx.b ? [ctx.a, ctx.b] : [ctx.b, ctx.a];
  return encodeFields(`${DOMAIN}/pair`, lo, hi);
}

const b64url = (b: Uint8Array) =>
  btoa(String.fromCharCode(...b))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');

/**
 * X25519 of one secret key with many public keys: on WebCrypto where the platform has X25519
 * (Node ≥ 20; Chrome 133+, Firefox 130+, Safari 17+), else noble; the bytes are the same
 * (keys.test.ts). A client masks with k of these (212 at n = 1000), ~10× faster natively.
 * A low-order public key (all-zero secret) throws on both paths.
 */
export async function agreeMany(
  me: KeyPair,
  theirPublics: readonly Uint8Array[],
  opts: { webCrypto?: boolean } = {},
): Promise<Uint8Array[]> {
  for (const p of theirPublics) if (p.length !== 32) throw new Error('agree: public key must be 32 bytes');
  const s = opts.webCrypto === false ? undefined : globalThis.crypto?.subtle;
  let priv: CryptoKey | undefined;
  if (s) {
    try {
      const jwk = { kty: 'OKP', crv: 'X25519', d: b64url(me.secretKey), x: b64url(me.publicKey) };
      priv = await s.importKey('jwk', jwk, { name: 'X25519' }, false, ['deriveBits']);
    } catch {
      priv = undefined; // no X25519 in this WebCrypto: noble below
    }
  }
  if (!s || !priv) return theirPublics.map((p) => agree(me.secretKey, p));
  const key = priv;
  return Promise.all(
    theirPublics.map(async (p) => {
      const pub = await s.importKey('raw', p as Uint8Array<ArrayBuffer>, { name: 'X25519' }, false, []);
      let bits: ArrayBuffer;
      try {
        bits = await s.deriveBits({ name: 'X25519', public: pub }, key, 256);
      } catch (e) {
        throw new Error(`agree: ${(e as Error).message} (low-order public key?)`);
      }
      const out = new Uint8Array(bits);
      if (out.every((b) => b === 0)) throw new Error('agree: low-order public key');
      return out;
    }),
  );
}

export function derivePairSecrets(shared: Uint8Array, ctx: PairContext): { maskSeed: Uint8Array; encKey: Uint8Array } {
  const info = pairInfo(ctx);
  const okm = hkdf(sha256, shared, roundSalt(ctx), info, 64);
  return { maskSeed: okm.slice(0, 32), encKey: okm.slice(32, 64) };
}

/**
 * derivePairSecrets(…).maskSeed alone: HKDF output is a prefix of any longer output (RFC 5869
 * §2.3, T(1) comes first), so 32 bytes cost one HMAC block less. The server's unmask uses it.
 */
export function derivePairMaskSeed(shared: Uint8Array, ctx: PairContext): Uint8Array {
  return hkdf(sha256, shared, roundSalt(ctx), pairInfo(ctx), 32);
}

/** Mask seed for the pair (me, peer): agreement on s keys + HKDF. */
export function pairMaskSeed(mySSecret: Uint8Array, peerSPublic: Uint8Array, ctx: PairContext): Uint8Array {
  return derivePairSecrets(agree(mySSecret, peerSPublic), ctx).maskSeed;
}

/** Share-encryption key for the pair (me, peer): agreement on c keys + HKDF. */
export function pairEncKey(myCSecret: Uint8Array, peerCPublic: Uint8Array, ctx: PairContext): Uint8Array {
  return derivePairSecrets(agree(myCSecret, peerCPublic), ctx).encKey;
}

/** Hash commitment to a self-mask seed, sent in AdvertiseKeys and checked after reconstruction. */
export function selfSeedCommitment(seed: Uint8Array, ctx: RoundContext & { id: string }): Uint8Array {
  return sha256(encodeFields(`${DOMAIN}/self-seed`, ctx.sessionId, ctx.round, ctx.id, seed));
}
