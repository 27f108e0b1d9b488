import { describe, expect, it } from 'vitest';
import { publicKeyOf, randomSeed } from './keys';
import { SHARE_BYTES, ShamirError, reconstructSecret, shareSecret } from './shamir';

const holders = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];

describe('shamir wrappers', () => {
  it('reconstructs from exactly t shares (any subset)', async () => {
    const secret = randomSeed();
    const t = 5;
    const shares = await shareSecret(secret, holders, t);
    expect([...shares.keys()]).toEqual(holders);
    for (const s of shares.values()) expect(s.length).toBe(SHARE_BYTES);
    const all = [...shares.values()];
    for (const subset of [all.slice(0, t), all.slice(3, 3 + t), [all[7]!, all[1]!, all[5]!, all[0]!, all[2]!]]) {
      expect(await reconstructSecret(subset, t)).toEqual(secret);
    }
    expect(await reconstructSecret(all, t)).toEqual(secret);
  });

  it('throws with t − 1 shares (the library alone would return a wrong secret)', async () => {
    const secret = randomSeed();
    const shares = [...(await shareSecret(secret, holders, 5)).values()];
    await expect(reconstructSecret(shares.slice(0, 4), 5)).rejects.toThrow(ShamirError);
    await expect(reconstructSecret(shares.slice(0, 4), 5)).rejects.toThrow(/need at least t=5 distinct shares, got 4/);
    // Repeating a share does not count twice.
    await expect(reconstructSecret([...shares.slice(0, 4), shares[0]!], 5)).rejects.toThrow(/got 4/);
  });

  it('verifies against a commitment (mask key vs advertised public key)', async () => {
    const sk = randomSeed();
    const pk = publicKeyOf(sk);
    const shares = [...(await shareSecret(sk, holders, 4)).values()];
    const eq = (a: Uint8Array, b: Uint8Array) => a.every((x, i) => x === b[i]);
    expect(await reconstructSecret(shares.slice(2, 6), 4, (s) => eq(publicKeyOf(s), pk))).toEqual(sk);
    const corrupted = shares.slice(0, 4).map((s) => s.slice());
    // Not byte 0: X25519 clamps its low 3 bits, so a change there can leave the public
    // key equal (the secret shifts by λ·δ, and λ varies with the random share x-coordinates).
    corrupted[0]![5]! ^= 0xff;
    await expect(reconstructSecret(corrupted, 4, (s) => eq(publicKeyOf(s), pk))).rejects.toThrow(/verification/);
  });

  it('validates parameters', async () => {
    await expect(shareSecret(randomSeed(), ['a', 'a', 'b'], 2)).rejects.toThrow(/distinct/);
    await expect(shareSecret(randomSeed(), ['a', 'b'], 3)).rejects.toThrow(/threshold/);
    await expect(shareSecret(randomSeed(), ['a', 'b', 'c'], 1)).rejects.toThrow(/threshold/);
  });
});
