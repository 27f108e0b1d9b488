import { describe, expect, it } from 'vitest';
import { randomSeed } from './keys';
import { decodeSharePlaintext, decryptShare, encodeSharePlaintext, encryptShare } from './share-crypto';

const plain = {
  from: 'alice',
  to: 'bob',
  selfSeedShare: new Uint8Array(33).fill(1),
  maskKeyShare: new Uint8Array(33).fill(2),
};
const ctx = { round: 7, sessionId: 'sess' };

describe('share encryption', () => {
  it('round-trips the compact plaintext', () => {
    const enc = encodeSharePlaintext(plain);
    expect(enc.length).toBe(1 + 2 + 5 + 2 + 3 + 1 + 33 + 1 + 33);
    expect(decodeSharePlaintext(enc)).toEqual(plain);
    expect(() => decodeSharePlaintext(enc.subarray(0, enc.length - 1))).toThrow(/truncated/);
  });

  it('decrypts with the right key and context', () => {
    const key = randomSeed();
    const e = encryptShare(key, plain, ctx);
    expect(e.nonce.length).toBe(12);
    expect(e.ciphertext.length).toBe(encodeSharePlaintext(plain).length + 16);
    expect(decryptShare(key, e, { ...ctx, me: 'bob' })).toEqual(plain);
    // Fresh nonce each time.
    expect(encryptShare(key, plain, ctx).nonce).not.toEqual(e.nonce);
  });

  it('fails on wrong key, other round/session, redirection or tampering', () => {
    const key = randomSeed();
    const e = encryptShare(key, plain, ctx);
    expect(() => decryptShare(randomSeed(), e, { ...ctx, me: 'bob' })).toThrow();
    expect(() => decryptShare(key, e, { round: 8, sessionId: 'sess', me: 'bob' })).toThrow();
    expect(() => decryptShare(key, e, { round: 7, sessionId: 'other', me: 'bob' })).toThrow();
    expect(() => decryptShare(key, { ...e, to: 'carol' }, { ...ctx, me: 'carol' })).toThrow();
    expect(() => decryptShare(key, { ...e, from: 'mallory' }, { ...ctx, me: 'bob' })).toThrow();
    const tampered = e.ciphertext.slice();
    tampered[3]! ^= 0x80;
    expect(() => decryptShare(key, { ...e, ciphertext: tampered }, { ...ctx, me: 'bob' })).toThrow();
  });
});
