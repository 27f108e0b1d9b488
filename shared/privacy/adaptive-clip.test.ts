import { describe, expect, it } from 'vitest';
import { createRng } from '../data/rng';
import {
  AdaptiveClipper,
  defaultBitNoiseStd,
  effectiveNoiseMultiplier,
  unclippedBit,
  updateClipNorm,
} from './adaptive-clip';

const seed = (b: number) => new Uint8Array(32).fill(b);

/** Standard normal quantiles Φ⁻¹(γ) for the γ values tested. */
const Z_QUANTILE: Record<number, number> = { 0.5: 0, 0.8: 0.8416212335729143, 0.2: -0.8416212335729143 };

/** Runs the server loop on log-normal client norms; returns the last `tail` clip norms. */
function simulate(gamma: number, rounds: number, tail: number, mu: number, s: number): number[] {
  const rng = createRng(42);
  const m = 100;
  const clipper = new AdaptiveClipper({ initialClipNorm: 0.05, targetQuantile: gamma, seed: seed(5) });
  const seen: number[] = [];
  for (let r = 0; r < rounds; r++) {
    let count = 0;
    for (let i = 0; i < m; i++) count += unclippedBit(Math.exp(mu + s * rng.normal()), clipper.clipNorm);
    clipper.update(count - m / 2, m);
    if (r >= rounds - tail) seen.push(clipper.clipNorm);
  }
  return seen;
}

describe('adaptive clipping', () => {
  it('reports 1 for updates that were NOT clipped', () => {
    expect(unclippedBit(0.5, 1)).toBe(1);
    expect(unclippedBit(1, 1)).toBe(1);
    expect(unclippedBit(1.5, 1)).toBe(0);
  });

  it('grows C when most updates are clipped, shrinks it when few are (sign check)', () => {
    // All clients clipped: bits are 0, b̄ ≈ 0 < γ.
    const grow = new AdaptiveClipper({ initialClipNorm: 1, bitNoiseStd: 0, seed: seed(1) });
    const g = grow.update(0 - 50, 100);
    expect(g.clipNorm).toBeGreaterThan(1);
    expect(g.clipNorm).toBeCloseTo(Math.exp(0.2 * 0.5), 12);
    // No client clipped: bits are 1, b̄ ≈ 1 > γ.
    const shrink = new AdaptiveClipper({ initialClipNorm: 1, bitNoiseStd: 0, seed: seed(1) });
    expect(shrink.update(100 - 50, 100).clipNorm).toBeCloseTo(Math.exp(-0.2 * 0.5), 12);
    // At the target, C stays put.
    expect(updateClipNorm(2, 0.5, 0.5, 0.2)).toBe(2);
  });

  it('adds bit noise with std m/20 by default and divides by the expected cohort', () => {
    expect(defaultBitNoiseStd(100)).toBe(5);
    const c = new AdaptiveClipper({ initialClipNorm: 1, seed: seed(2) });
    const fractions: number[] = [];
    for (let i = 0; i < 4000; i++) fractions.push(c.update(0, 100).unclippedFraction);
    const mean = fractions.reduce((a, b) => a + b, 0) / fractions.length;
    const sd = Math.sqrt(fractions.reduce((a, b) => a + (b - mean) ** 2, 0) / fractions.length);
    expect(mean).toBeCloseTo(0.5, 2);
    expect(Math.abs(sd - 0.05) / 0.05).toBeLessThan(0.05);
  });

  for (const gamma of [0.5, 0.8, 0.2]) {
    it(`converges to the γ=${gamma} quantile of log-normal norms`, () => {
      const mu = Math.log(0.8);
      const s = 0.6;
      const target = Math.exp(mu + s * Z_QUANTILE[gamma]!);
      const tail = simulate(gamma, 400, 100, mu, s);
      const avg = tail.reduce((a, b) => a + b, 0) / tail.length;
      expect(Math.abs(avg - target) / target).toBeLessThan(0.1);
      for (const c of tail) expect(Math.abs(c - target) / target).toBeLessThan(0.3);
    });
  }

  it('effective noise multiplier z_Δ = (z⁻² − (2σ_b)⁻²)^(−1/2)', () => {
    // m = 100: σ_b = 5, so (2σ_b)⁻² = 0.01.
    expect(effectiveNoiseMultiplier(1, 5)).toBeCloseTo(1 / Math.sqrt(1 - 0.01), 12);
    expect(effectiveNoiseMultiplier(1.1, 5)).toBeGreaterThan(1.1);
    expect(() => effectiveNoiseMultiplier(10, 5)).toThrow(/σ_b=5 is too small.*need z < 2σ_b/);
    expect(() => effectiveNoiseMultiplier(11, 5)).toThrow(/positive/);
  });

  it('round-trips its state', () => {
    const c = new AdaptiveClipper({ initialClipNorm: 0.3, targetQuantile: 0.7, learningRate: 0.1, seed: seed(3) });
    c.update(10 - 50, 100);
    const copy = AdaptiveClipper.fromJSON(JSON.parse(JSON.stringify(c)));
    expect(copy.clipNorm).toBe(c.clipNorm);
    expect(copy.targetQuantile).toBe(0.7);
    expect(copy.learningRate).toBe(0.1);
  });
});
