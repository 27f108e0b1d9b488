/**
 * Encryption of the Shamir share bundles u → v with ChaCha20-Poly1305.
 *
 * Key: the pairwise encKey (keys.pairEncKey). Nonce: 12 random bytes per
 * message (each key encrypts only the two bundles u→v and v→u of one round,
 * so random-nonce collisions are negligible). AAD binds session, round, from
 * and to, so a bundle cannot be replayed into another round or redirected.
 *
 * Plaintext (compact binary):
 *   u8 version=1 | u16 len | from utf8 | u16 len | to utf8 |
 *   u8 len | selfSeedShare | u8 len | maskKeyShare
 */
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { encodeFields, randomBytes } from './encoding';
import type { RoundContext } from './keys';
import type { EncryptedShare } from './messages';

export interface SharePlaintext {
  from: string;
  to: string;
  selfSeedShare: Uint8Array;
  maskKeyShare: Uint8Array;
}

const VERSION = 1;
const utf8enc = new TextEncoder();
const utf8dec = new TextDecoder('utf-8', { fatal: true });

export function encodeSharePlaintext(p: SharePlaintext): Uint8Array {
  const from = utf8enc.encode(p.from);
  const to = utf8enc.encode(p.to);
  if (from.length > 0xffff || to.length > 0xffff) throw new Error('share plaintext: id too long');
  if (p.selfSeedShare.length > 255 || p.maskKeyShare.length > 255) throw new Error('share plaintext: share too long');
  const out = new Uint8Array(
    1 + 2 + from.length + 2 + to.length + 1 + p.selfSeedShare.length + 1 + p.maskKeyShare.length,
  );
  const v = new DataView(out.buffer);
  let o = 0;
  out[o++] = VERSION;
  v.setUint16(o, from.length);
  out.set(from, (o += 2));
  o += from.length;
  v.setUint16(o, to.length);
  out.set(to, (o += 2));
  o += to.length;
  out[o++] = p.selfSeedShare.length;
  out.set(p.selfSeedShare, o);
  o += p.selfSeedShare.length;
  out[o++] = p.maskKeyShare.length;
  out.set(p.maskKeyShare, o);
  return out;
}

export function decodeSharePlaintext(b: Uint8Array): SharePlaintext {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let o = 0;
  const need = (n: number) => {
    if (o + n > b.length) throw new Error('share plaintext: truncated');
  };
  need(1);
  if (b[o++] !== VERSION) throw new Error('share plaintext: unknown version');
  const str = () => {
    need(2);
    const n = v.getUint16(o);
    o += 2;
    need(n);
    const s = utf8dec.decode(b.subarray(o, o + n));
    o += n;
    return s;
  };
  const bytes = () => {
    need(1);
    const n = b[o++]!;
    need(n);
    const s = b.slice(o, o + n);
    o += n;
    return s;
  };
  const from = str();
  const to = str();
  const selfSeedShare = bytes();
  const maskKeyShare = bytes();
  if (o !== b.length) throw new Error('share plaintext: trailing bytes');
  return { from, to, selfSeedShare, maskKeyShare };
}

function aad(ctx: RoundContext, from: string, to: string): Uint8Array {
  return encodeFields('fedssl-secagg-v1/share', ctx.sessionId, ctx.round, from, to);
}

export function encryptShare(encKey: Uint8Array, p: SharePlaintext, ctx: RoundContext): EncryptedShare {
  const nonce = randomBytes(12);
  const ciphertext = chacha20poly1305(encKey, nonce, aad(ctx, p.from, p.to)).encrypt(encodeSharePlaintext(p));
  return { from: p.from, to: p.to, nonce, ciphertext };
}

export function encryptShares(
  items: readonly { encKey: Uint8Array; plaintext: SharePlaintext }[],
  ctx: RoundContext,
): EncryptedShare[] {
  return items.map((it) => encryptShare(it.encKey, it.plaintext, ctx));
}

/**
 * Decrypts a bundle addressed to `ctx.me`; throws if the tag fails (wrong key,
 * tampered, other round/session, redirected) or the inner ids disagree.
 */
export function decryptShare(
  encKey: Uint8Array,
  enc: EncryptedShare,
  ctx: RoundContext & { me: string },
): SharePlaintext {
  if (enc.to !== ctx.me) throw new Error(`decryptShare: bundle is addressed to ${enc.to}, not ${ctx.me}`);
  if (!(enc.nonce instanceof Uint8Array) || enc.nonce.length !== 12)
    throw new Error('decryptShare: nonce must be 12 bytes');
  const plain = chacha20poly1305(encKey, enc.nonce, aad(ctx, enc.from, enc.to)).decrypt(enc.ciphertext);
  const p = decodeSharePlaintext(plain);
  if (p.from !== enc.from || p.to !== enc.to) throw new Error('decryptShare: inner ids do not match the envelope');
  return p;
}
