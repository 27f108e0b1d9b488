import { describe, expect, it } from 'vitest';
import { addGaussianNoise, gaussianNoise, GaussianStream } from './gaussian';

function moments(v: ArrayLike<number>): { mean: number; std: number; kurtosis: number } {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]!;
  const mean = s / v.length;
  let m2 = 0;
  let m4 = 0;
  for (let i = 0; i < v.length; i++) {
    const d = v[i]! - mean;
    m2 += d * d;
    m4 += d * d * d * d;
  }
  m2 /= v.length;
  m4 /= v.length;
  return { mean, std: Math.sqrt(m2), kurtosis: m4 / (m2 * m2) };
}

const seedOf = (b: number) => new Uint8Array(32).fill(b);

describe('gaussianNoise', () => {
  it('has std z·C within 1% and mean ≈ 0 over 1e5 coordinates', () => {
    const z = 1.1;
    const C = 0.7;
    const v = gaussianNoise(100_000, z * C);
    const m = moments(v);
    expect(Math.abs(m.std - z * C) / (z * C)).toBeLessThan(0.01);
    // Standard error of the mean is std/√n ≈ 0.0024; allow 5 SE.
    expect(Math.abs(m.mean)).toBeLessThan((5 * (z * C)) / Math.sqrt(1e5));
    // Gaussian shape, not merely the right variance (uniform would give 1.8).
    expect(Math.abs(m.kurtosis - 3)).toBeLessThan(0.1);
  });

  it('puts the right mass in the tails', () => {
    const v = gaussianNoise(200_000, 1);
    const beyond2 = v.filter((x) => Math.abs(x) > 2).length / v.length;
    expect(Math.abs(beyond2 - 0.0455)).toBeLessThan(0.003);
  });

  it('two unseeded calls differ; a fixed seed reproduces; different seeds differ', () => {
    const a = gaussianNoise(1000, 1);
    const b = gaussianNoise(1000, 1);
    expect(a).not.toEqual(b);
    expect(gaussianNoise(1000, 1, seedOf(7))).toEqual(gaussianNoise(1000, 1, seedOf(7)));
    expect(gaussianNoise(1000, 1, seedOf(7))).not.toEqual(gaussianNoise(1000, 1, seedOf(8)));
  });

  it('a stream is consistent across chunk boundaries and odd lengths', () => {
    const whole = new Float64Array(200_001);
    new GaussianStream(seedOf(3)).fill(whole, 1);
    const s = new GaussianStream(seedOf(3));
    const parts = [1, 99_999, 3, 100_000]; // crosses the 16384-pair chunk boundary at odd offsets
    const joined: number[] = [];
    for (const n of parts) {
      const p = new Float64Array(n);
      s.fill(p, 1);
      joined.push(...p);
    }
    joined.push(s.next(), s.next()); // totals 200_005 ≥ 200_001
    expect(joined.slice(0, whole.length)).toEqual(Array.from(whole));
  });

  it('different nonces give different streams under one key', () => {
    const n1 = new Uint8Array(12);
    const n2 = new Uint8Array(12);
    n2[0] = 1;
    const a = new Float64Array(10);
    const b = new Float64Array(10);
    new GaussianStream(seedOf(1), n1).fill(a, 1);
    new GaussianStream(seedOf(1), n2).fill(b, 1);
    expect(a).not.toEqual(b);
  });

  it('addGaussianNoise adds to a copy', () => {
    const v = new Float32Array([1, 2, 3, 4]);
    const out = addGaussianNoise(v, 0.5, seedOf(9));
    const noise = gaussianNoise(4, 0.5, seedOf(9));
    expect(v).toEqual(new Float32Array([1, 2, 3, 4]));
    for (let i = 0; i < 4; i++) expect(out[i]!).toBeCloseTo(v[i]! + noise[i]!, 5);
  });

  it('std 0 gives zeros; bad arguments throw', () => {
    expect(gaussianNoise(5, 0)).toEqual(new Float32Array(5));
    expect(() => gaussianNoise(5, -1)).toThrow(/std/);
    expect(() => gaussianNoise(5, 1, new Uint8Array(16))).toThrow(/32 bytes/);
    expect(() => gaussianNoise(1.5, 1)).toThrow(/n must/);
  });

  it('draws 1M coordinates with unit variance and no non-finite values', () => {
    // Timing lives in `npm run bench:micro`; this keeps the large-n path checked for correctness.
    const v = gaussianNoise(1_000_000, 1, new Uint8Array(32).fill(9));
    let sum = 0;
    let sq = 0;
    let nonFinite = 0;
    for (const x of v) {
      if (!Number.isFinite(x)) nonFinite++;
      sum += x;
      sq += x * x;
    }
    expect(nonFinite).toBe(0);
    const mean = sum / v.length;
    // Standard errors at n = 1e6: mean 0.001, variance 0.0014; 5 SE bounds.
    expect(Math.abs(mean)).toBeLessThan(0.005);
    expect(Math.abs(sq / v.length - mean * mean - 1)).toBeLessThan(0.007);
  });
});
