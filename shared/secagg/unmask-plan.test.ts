import { describe, expect, it } from 'vitest';
import { generateKeyPair, pairMaskSeed, randomSeed } from './keys';
import { unmaskSum } from './mask';
import { maskTotal, maskTotalAsync, planCost, splitPlan, subtractTotal, type UnmaskPlan } from './unmask-plan';
import { pairSign } from './mask';

function plan(): UnmaskPlan {
  const keys = Array.from({ length: 6 }, () => generateKeyPair());
  const ids = keys.map((_, i) => `c${i}`);
  return {
    round: 3,
    sessionId: 'sess-abc',
    selfSeeds: [randomSeed(), randomSeed(), randomSeed()],
    dropped: [0, 1].map((u) => ({
      id: ids[u]!,
      maskKey: keys[u]!.secretKey,
      survivors: [2, 3, 4, 5].map((v) => ({ id: ids[v]!, sPk: keys[v]!.publicKey })),
    })),
  };
}

describe('unmask plan', () => {
  it('removes the same masks as unmaskSum (self seeds and dropped pairs)', () => {
    const p = plan();
    const acc = new Uint32Array(100).map((_, i) => i * 7919);
    const droppedPairSeeds = p.dropped.flatMap((u) =>
      u.survivors.map((v) => ({
        seed: pairMaskSeed(u.maskKey, v.sPk, { round: 3, sessionId: 'sess-abc', a: u.id, b: v.id }),
        sign: pairSign(v.id, u.id),
      })),
    );
    expect(subtractTotal(acc, maskTotal(p, 100))).toEqual(
      unmaskSum(acc, { survivorSelfSeeds: p.selfSeeds, droppedPairSeeds }),
    );
  });

  it('maskTotalAsync (WebCrypto PRG) gives the same total as maskTotal', async () => {
    const p = plan();
    expect(await maskTotalAsync(p, 1001)).toEqual(maskTotal(p, 1001));
  });

  it('any split into parts gives the same total and covers the same work', () => {
    const p = plan();
    const whole = maskTotal(p, 64);
    for (const parts of [1, 2, 3, 7]) {
      const split = splitPlan(p, parts);
      expect(split.reduce((a, q) => a + planCost(q), 0)).toBe(planCost(p));
      const sum = new Uint32Array(64);
      for (const q of split) {
        const t = maskTotal(q, 64);
        for (let i = 0; i < 64; i++) sum[i] = sum[i]! + t[i]!;
      }
      expect(sum).toEqual(whole);
    }
  });
});
