import { describe, expect, it } from 'vitest';
import {
  agree,
  agreeMany,
  derivePairMaskSeed,
  derivePairSecrets,
  generateKeyPair,
  pairMaskSeed,
  publicKeyOf,
  selfSeedCommitment,
} from './keys';

describe('keys', () => {
  it('X25519 agreement is symmetric', () => {
    const a = generateKeyPair();
    const b = generateKeyPair();
    expect(a.secretKey.length).toBe(32);
    expect(publicKeyOf(a.secretKey)).toEqual(a.publicKey);
    expect(agree(a.secretKey, b.publicKey)).toEqual(agree(b.secretKey, a.publicKey));
    expect(agree(a.secretKey, b.publicKey)).not.toEqual(agree(a.secretKey, generateKeyPair().publicKey));
  });

  it('agreeMany (WebCrypto X25519, and its noble fallback) gives noble’s shared secrets; low-order keys throw', async () => {
    const me = generateKeyPair();
    const peers = Array.from({ length: 6 }, () => generateKeyPair().publicKey);
    const want = peers.map((p) => agree(me.secretKey, p));
    expect(await agreeMany(me, peers)).toEqual(want);
    expect(await agreeMany(me, peers, { webCrypto: false })).toEqual(want);
    // u = 0 and u = 1 are low-order points: the shared secret would be all zeros.
    const zero = new Uint8Array(32);
    const one = new Uint8Array(32);
    one[0] = 1;
    for (const bad of [zero, one]) {
      await expect(agreeMany(me, [peers[0]!, bad])).rejects.toThrow(/agree/);
      await expect(agreeMany(me, [bad], { webCrypto: false })).rejects.toThrow();
    }
  });

  it('derivePairMaskSeed is the maskSeed half, across changing rounds and sessions (salt cache)', () => {
    const shared = agree(generateKeyPair().secretKey, generateKeyPair().publicKey);
    const ctxs = [
      { round: 3, sessionId: 's', a: 'alice', b: 'bob' },
      { round: 4, sessionId: 's', a: 'alice', b: 'bob' },
      { round: 3, sessionId: 't', a: 'bob', b: 'alice' },
      { round: 3, sessionId: 's', a: 'alice', b: 'carol' },
      { round: 3, sessionId: 's', a: 'alice', b: 'bob' },
    ];
    const seeds = ctxs.map((c) => derivePairMaskSeed(shared, c));
    ctxs.forEach((c, i) => expect(seeds[i]).toEqual(derivePairSecrets(shared, c).maskSeed));
    expect(new Set(seeds.map((x) => x.join())).size).toBe(4);
  });

  it('derived secrets are symmetric in the pair and bound to round, session and pair', () => {
    const shared = agree(generateKeyPair().secretKey, generateKeyPair().publicKey);
    const base = derivePairSecrets(shared, { round: 3, sessionId: 's', a: 'alice', b: 'bob' });
    expect(base.maskSeed.length).toBe(32);
    expect(base.encKey.length).toBe(32);
    expect(base.maskSeed).not.toEqual(base.encKey);
    expect(derivePairSecrets(shared, { round: 3, sessionId: 's', a: 'bob', b: 'alice' })).toEqual(base);
    for (const other of [
      { round: 4, sessionId: 's', a: 'alice', b: 'bob' },
      { round: 3, sessionId: 't', a: 'alice', b: 'bob' },
      { round: 3, sessionId: 's', a: 'alice', b: 'carol' },
      { round: 3, sessionId: 's', a: 'alic', b: 'ebob' },
    ]) {
      const d = derivePairSecrets(shared, other);
      expect(d.maskSeed).not.toEqual(base.maskSeed);
      expect(d.encKey).not.toEqual(base.encKey);
    }
    expect(() => derivePairSecrets(shared, { round: 1, sessionId: 's', a: 'x', b: 'x' })).toThrow();
  });

  it('both ends of a pair derive the same mask seed', () => {
    const u = generateKeyPair();
    const v = generateKeyPair();
    const ctx = { round: 1, sessionId: 's' };
    expect(pairMaskSeed(u.secretKey, v.publicKey, { ...ctx, a: 'u', b: 'v' })).toEqual(
      pairMaskSeed(v.secretKey, u.publicKey, { ...ctx, a: 'v', b: 'u' }),
    );
  });

  it('self-seed commitment binds seed, id and round', () => {
    const seed = new Uint8Array(32).fill(1);
    const c = selfSeedCommitment(seed, { round: 1, sessionId: 's', id: 'u' });
    expect(c.length).toBe(32);
    expect(selfSeedCommitment(seed, { round: 1, sessionId: 's', id: 'u' })).toEqual(c);
    expect(selfSeedCommitment(seed, { round: 2, sessionId: 's', id: 'u' })).not.toEqual(c);
    expect(selfSeedCommitment(seed, { round: 1, sessionId: 's', id: 'v' })).not.toEqual(c);
    expect(selfSeedCommitment(new Uint8Array(32).fill(2), { round: 1, sessionId: 's', id: 'u' })).not.toEqual(c);
  });
});
