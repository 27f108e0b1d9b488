import { describe, expect, it } from 'vitest';
import { binomialTail, checkRosterParams, chooseSecAggParams, predictFailure } from './parameters';
import { simulateDropoutRounds } from './dropout-sim';

describe('dropout-aware SecAgg+ parameters (Bell et al. 2020)', () => {
  it('binomial tails match direct sums', () => {
    // P[Bin(10, 0.3) ≥ 5] = 0.15026833260000003 (direct sum of C(10,i)·0.3^i·0.7^(10−i)).
    expect(binomialTail(10, 0.3, 5)).toBeCloseTo(0.1502683326, 9);
    expect(binomialTail(10, 0.3, 0)).toBe(1);
    expect(binomialTail(10, 0.3, 11)).toBe(0);
    expect(binomialTail(200, 0.3, 150)).toBeGreaterThan(0);
  });

  it('is a pure function of n, δ, γ and the target: t > k/2, both union bounds meet the target', () => {
    for (const n of [20, 100, 1000, 5000]) {
      for (const dropoutRate of [0.1, 0.3]) {
        const p = chooseSecAggParams({ n, dropoutRate });
        expect(chooseSecAggParams({ n, dropoutRate })).toEqual(p);
        expect(2 * p.t).toBeGreaterThan(p.k);
        expect(p.t).toBeLessThanOrEqual(p.k);
        const again = predictFailure(n, p.k, p.t, dropoutRate, 0.1);
        expect(again.predictedFailure).toBe(p.predictedFailure);
        if (p.k < n - 1) {
          expect(p.meetsTarget).toBe(true);
          // Minimal: the next smaller even degree misses the target.
          const smaller = predictFailure(n, p.k - 2, Math.floor((p.k - 2) / 2) + 1, dropoutRate, 0.1);
          expect(Math.max(smaller.predictedFailure, smaller.predictedCorruption)).toBeGreaterThan(1e-6);
        }
      }
    }
    expect(chooseSecAggParams({ n: 1000 }).k).toBeGreaterThan(chooseSecAggParams({ n: 1000, dropoutRate: 0.1 }).k);
  });

  it('a client accepts the derived (k, t) for the rates the server announces', () => {
    const announced = { n: 1000, dropoutRate: 0.3, corruptFraction: 0.1, failureTarget: 1e-6 };
    const need = chooseSecAggParams(announced);
    expect(checkRosterParams({ k: need.k, t: need.t, announced })).toEqual({ ok: true });
    expect(checkRosterParams({ k: need.k - 2, t: need.t - 1, announced }).reason).toMatch(
      new RegExp(`below the k=${need.k}`),
    );
  });

  it('the simulation does see failures when k is too small (it can fail)', () => {
    const sim = simulateDropoutRounds({ n: 100, k: 14, t: 8, dropoutRate: 0.3, rounds: 300, seed: 3 });
    expect(sim.successRate).toBeLessThan(0.5);
  });
});
