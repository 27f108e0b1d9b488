import { describe, expect, it } from 'vitest';
import { planDpRound, realisedNoiseMultiplier } from './dp-round';
import { combinedNoiseMultiplier } from '../../shared/privacy/noise-split';

describe('DP round plan: who adds which noise, and what the accountant records (finding 3)', () => {
  it('central: the joint release (delta + centred bit + loss) has multiplier exactly z', () => {
    const plan = planDpRound({
      z: 0.9,
      mode: 'central',
      clipNorm: 2,
      expectedClients: 40,
      bitNoiseStd: 2,
      lossMax: 20,
    });
    expect(plan.lossNoiseStd).toBe(40); // lossMax·m/20
    const joint = combinedNoiseMultiplier(plan.deltaMultiplier, [
      { sensitivity: 0.5, std: 2 },
      { sensitivity: 10, std: 40 },
    ]);
    expect(joint).toBeCloseTo(0.9, 12);
    expect(plan.deltaMultiplier).toBeGreaterThan(0.9);
    expect(realisedNoiseMultiplier(plan, 12)).toBe(0.9);
    expect(plan.client).toBeUndefined();
  });

  it('distributed: each expected client adds 1/m of every variance, and fewer survivors mean a smaller realised multiplier', () => {
    const m = 16;
    const plan = planDpRound({ z: 1, mode: 'distributed', clipNorm: 1, expectedClients: m, bitNoiseStd: 0.8 });
    expect(plan.client!.clientNoiseStd).toBeCloseTo(plan.deltaMultiplier / 4, 12);
    expect(plan.client!.clientBitNoiseStd).toBeCloseTo(0.2, 12);
    // s survivors: the other s − 1 clients' noise, (s − 1)/m of the planned variance.
    for (const s of [17, 16, 9, 5]) expect(realisedNoiseMultiplier(plan, s)).toBeCloseTo(Math.sqrt((s - 1) / m), 12);
  });

  it('refuses a split where the side queries would spend the whole budget', () => {
    expect(() => planDpRound({ z: 2, mode: 'central', clipNorm: 1, expectedClients: 10, bitNoiseStd: 0.5 })).toThrow(
      /whole budget/,
    );
  });
});
