import { describe, expect, it } from 'vitest';
import { DpStrategy } from './dp';
import { FedAdam } from './fedadam';
import { FedAvg } from './fedavg';
import { createStrategy } from './index';

const seed = (b: number) => new Uint8Array(32).fill(b);

function std(v: Float32Array): { mean: number; std: number } {
  let s = 0;
  for (const x of v) s += x;
  const mean = s / v.length;
  let m2 = 0;
  for (const x of v) m2 += (x - mean) ** 2;
  return { mean, std: Math.sqrt(m2 / v.length) };
}

describe('DpStrategy', () => {
  it('adds noise of std z·C/m to the average (empirically within 2%)', () => {
    const C = 0.5;
    const z = 1.2;
    const m = 40;
    const dp = new DpStrategy(new FedAvg(), { clipNorm: C, noiseMultiplier: z });
    expect(dp.noiseStd).toBeCloseTo(z * C, 12);
    expect(dp.averageNoiseStd(m)).toBeCloseTo((z * C) / m, 12);
    const n = 100_000;
    const avg = dp.average(
      { weightedSum: new Float32Array(n), weightSum: 35 },
      { round: 1, survivors: 35, expectedClients: m },
    );
    const s = std(avg);
    expect(Math.abs(s.std - (z * C) / m) / ((z * C) / m)).toBeLessThan(0.02);
    expect(Math.abs(s.mean)).toBeLessThan((5 * (z * C)) / m / Math.sqrt(n));
  });

  it('divides by the FIXED expected cohort size, never the survivor count or weight sum', () => {
    const sum = new Float32Array([4, -8, 12]);
    const run = (survivors: number, weightSum: number) =>
      new DpStrategy(new FedAvg(), { clipNorm: 1, noiseMultiplier: 1, seed: seed(1) }).average(
        { weightedSum: sum, weightSum },
        { round: 3, survivors, expectedClients: 10 },
      );
    const a = run(10, 10);
    const b = run(4, 4);
    const c = run(7, 6.5);
    expect(Array.from(b)).toEqual(Array.from(a));
    expect(Array.from(c)).toEqual(Array.from(a));
    // With zero noise the result is exactly sum / m.
    const exact = new DpStrategy(new FedAvg(), { clipNorm: 1, noiseMultiplier: 0 }).average(
      { weightedSum: sum, weightSum: 4 },
      { round: 0, survivors: 4, expectedClients: 10 },
    );
    expect(exact).toEqual(new Float32Array([4 / 10, -8 / 10, 12 / 10]));
  });

  it('draws fresh noise each round, reproducibly under a seed', () => {
    const input = { weightedSum: new Float32Array(1000), weightSum: 5 };
    const mk = () => new DpStrategy(new FedAvg(), { clipNorm: 1, noiseMultiplier: 1, seed: seed(2) });
    const a = mk();
    const b = mk();
    const a1 = a.average(input, { round: 1, survivors: 5, expectedClients: 5 });
    const a2 = a.average(input, { round: 2, survivors: 5, expectedClients: 5 });
    const aRetry = a.average(input, { round: 2, survivors: 5, expectedClients: 5 });
    expect(a1).not.toEqual(a2);
    expect(aRetry).not.toEqual(a2); // a retried round must not reuse noise
    expect(b.average(input, { round: 1, survivors: 5, expectedClients: 5 })).toEqual(a1);
    // Unseeded: two strategies never agree.
    const u1 = new DpStrategy(new FedAvg(), { clipNorm: 1, noiseMultiplier: 1 }).average(input, {
      round: 1,
      survivors: 5,
      expectedClients: 5,
    });
    const u2 = new DpStrategy(new FedAvg(), { clipNorm: 1, noiseMultiplier: 1 }).average(input, {
      round: 1,
      survivors: 5,
      expectedClients: 5,
    });
    expect(u1).not.toEqual(u2);
  });

  it('wraps FedAvg and FedAdam: step delegates to the inner optimiser', () => {
    const g = new Float32Array([1, 2, 3]);
    const u = new Float32Array([0.1, -0.2, 0.3]);
    const ctx = { round: 1, survivors: 3, expectedClients: 3 };

    const avg = new DpStrategy(new FedAvg({ serverLearningRate: 2 }), { clipNorm: 1, noiseMultiplier: 1 });
    expect(avg.name).toBe('dp-fedavg');
    expect(Array.from(avg.step(g, u, ctx))).toEqual(Array.from(new FedAvg({ serverLearningRate: 2 }).step(g, u, ctx)));

    const adam = new DpStrategy(new FedAdam({ lr: 0.1 }), { clipNorm: 1, noiseMultiplier: 1 });
    expect(adam.name).toBe('dp-fedadam');
    const ref = new FedAdam({ lr: 0.1 });
    expect(Array.from(adam.step(g, u, ctx))).toEqual(Array.from(ref.step(g, u, ctx)));
    expect(Array.from(adam.step(g, u, ctx))).toEqual(Array.from(ref.step(g, u, ctx))); // momentum carried inside
    // State goes through the wrapper to the inner optimiser.
    const st = adam.saveState();
    expect(st.t).toBe(2);
    const copy = new DpStrategy(new FedAdam({ lr: 0.1 }), { clipNorm: 1, noiseMultiplier: 1 });
    copy.loadState(st);
    expect(Array.from(copy.step(g, u, ctx))).toEqual(Array.from(ref.step(g, u, ctx)));
  });

  it('rejects client weights above 1 and bad parameters', () => {
    const dp = new DpStrategy(new FedAvg(), { clipNorm: 1, noiseMultiplier: 1 });
    expect(() =>
      dp.average({ weightedSum: new Float32Array(2), weightSum: 600 }, { round: 1, survivors: 3, expectedClients: 3 }),
    ).toThrow(/weights must be <= 1/);
    expect(() =>
      dp.average({ weightedSum: new Float32Array(2), weightSum: 1 }, { round: 1, survivors: 1, expectedClients: 0 }),
    ).toThrow(/expectedClients/);
    expect(() => new DpStrategy(new FedAvg(), { clipNorm: 0, noiseMultiplier: 1 })).toThrow(/clipNorm/);
    expect(() => dp.setClipNorm(-1)).toThrow(/clipNorm/);
    dp.setClipNorm(2);
    expect(dp.noiseStd).toBe(2);
  });
});

describe('createStrategy', () => {
  it('builds FedAvg / FedAdam; DP is not a strategy option (the coordinator wraps once)', () => {
    expect(createStrategy({ name: 'fedavg' })).toBeInstanceOf(FedAvg);
    const adam = createStrategy({ name: 'fedadam', lr: 0.03 });
    expect(adam).toBeInstanceOf(FedAdam);
    expect((adam as FedAdam).lr).toBe(0.03);
    expect(() => createStrategy({ name: 'fedadam', dp: { clipNorm: 0.5, noiseMultiplier: 1.1 } })).toThrow(/dp/);
  });

  it("the DP wrapper takes each round's C and z without being rebuilt", () => {
    const dp = new DpStrategy(new FedAvg(), { clipNorm: 1, noiseMultiplier: 1 });
    expect(dp.forRound({ clipNorm: 0.5, noiseMultiplier: 1.1 })).toBe(dp);
    expect(dp.noiseStd).toBeCloseTo(0.55, 12);
    expect(() => dp.forRound({ clipNorm: 0, noiseMultiplier: 1 })).toThrow(/clipNorm/);
    expect(() => dp.forRound({ clipNorm: 1, noiseMultiplier: -1 })).toThrow(/noiseMultiplier/);
  });

  it('rejects invalid configs', () => {
    expect(() => createStrategy({ name: 'fedprox' })).toThrow();
    expect(() => createStrategy({ name: 'fedavg', lr: 0.1 })).toThrow(); // FedAdam's key on FedAvg
    expect(() => createStrategy({ name: 'fedadam', beta1: 1 })).toThrow();
  });
});
