import { describe, expect, it } from 'vitest';
import { createRng } from '../data/rng';
import { embeddingDrift, embeddingHealth, effectiveRankOf, symmetricEigenvalues } from './embedding-health';

function gaussian(n: number, d: number, seed: number): Float32Array {
  const rng = createRng(seed);
  const out = new Float32Array(n * d);
  for (let i = 0; i < out.length; i++) out[i] = rng.normal();
  return out;
}

describe('symmetric eigen-solver', () => {
  it('recovers the spectrum of a rotated diagonal matrix', () => {
    const d = 6;
    const spectrum = [5, 3, 2, 1, 0.5, 0];
    // Q = a random orthogonal matrix via Gram–Schmidt; A = Q diag Qᵀ.
    const g = gaussian(d, d, 3);
    const q: number[][] = [];
    for (let i = 0; i < d; i++) {
      const v = Array.from(g.subarray(i * d, (i + 1) * d));
      for (const u of q) {
        const dot = v.reduce((s, x, k) => s + x * u[k]!, 0);
        for (let k = 0; k < d; k++) v[k]! -= dot * u[k]!;
      }
      const norm = Math.hypot(...v);
      q.push(v.map((x) => x / norm));
    }
    const a = new Float64Array(d * d);
    for (let r = 0; r < d; r++)
      for (let c = 0; c < d; c++) for (let k = 0; k < d; k++) a[r * d + c]! += q[k]![r]! * spectrum[k]! * q[k]![c]!;
    const eig = Array.from(symmetricEigenvalues(a, d)).sort((x, y) => y - x);
    eig.forEach((e, i) => expect(e).toBeCloseTo(spectrum[i]!, 8));
  });

  it('effective rank is d for a flat spectrum and 1 for a single direction', () => {
    expect(effectiveRankOf([2, 2, 2, 2])).toBeCloseTo(4, 10);
    expect(effectiveRankOf([3, 0, 0, 0])).toBeCloseTo(1, 10);
    expect(effectiveRankOf([0, 0])).toBe(0);
  });
});

describe('embeddingHealth', () => {
  const n = 512;
  const d = 32;

  it('an isotropic Gaussian embedding is healthy: std ≈ 1/√d and near-full effective rank', () => {
    const h = embeddingHealth(gaussian(n, d, 1), n, d);
    expect(h.collapsed).toBe(false);
    expect(h.stdRatio).toBeGreaterThan(0.9);
    expect(h.stdRatio).toBeLessThan(1.1);
    expect(h.effectiveRank).toBeGreaterThan(0.85 * d);
    expect(h.effectiveRank).toBeLessThanOrEqual(d + 1e-9);
  });

  it('identical embeddings are collapsed (zero std, zero rank)', () => {
    const e = new Float32Array(n * d);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) e[i * d + j] = j % 3 === 0 ? 1.5 : -0.25;
    const h = embeddingHealth(e, n, d);
    expect(h.collapsed).toBe(true);
    expect(h.meanStd).toBeLessThan(1e-6);
    expect(h.effectiveRank).toBe(0);
  });

  it('rank-1 embeddings (all on one line through the origin, both signs) are collapsed by effective rank', () => {
    const dir = gaussian(1, d, 9);
    const scale = gaussian(n, 1, 10);
    const e = new Float32Array(n * d);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) e[i * d + j] = scale[i]! * dir[j]!;
    const h = embeddingHealth(e, n, d);
    expect(h.effectiveRank).toBeCloseTo(1, 3);
    expect(h.collapsed).toBe(true);
  });

  it('the rank threshold is configurable', () => {
    // Variance in 4 of 32 dimensions: rank ≈ 4.
    const e = gaussian(n, d, 4);
    for (let i = 0; i < n; i++) for (let j = 4; j < d; j++) e[i * d + j] = 0;
    const h = embeddingHealth(e, n, d);
    expect(h.effectiveRank).toBeGreaterThan(3.5);
    expect(h.effectiveRank).toBeLessThan(4.01);
    expect(h.collapsed).toBe(false);
    expect(embeddingHealth(e, n, d, { minEffectiveRank: 8 }).collapsed).toBe(true);
  });

  it('rejects a wrong shape', () => {
    expect(() => embeddingHealth(new Float32Array(10), 3, 3)).toThrow(/expected 3×3/);
  });
});

describe('embeddingDrift', () => {
  const n = 64;
  const d = 16;
  it('is 0 for the same (or rescaled) embeddings and ≈ 1 for independent ones', () => {
    const a = gaussian(n, d, 5);
    const scaled = a.map((x) => 3 * x);
    expect(embeddingDrift(a, a, n, d)).toBeCloseTo(0, 6);
    expect(embeddingDrift(a, scaled, n, d)).toBeCloseTo(0, 6);
    const b = gaussian(n, d, 6);
    const drift = embeddingDrift(a, b, n, d);
    expect(drift).toBeGreaterThan(0.7);
    expect(drift).toBeLessThan(1.3);
    expect(
      embeddingDrift(
        a,
        a.map((x) => -x),
        n,
        d,
      ),
    ).toBeCloseTo(2, 6);
  });

  it('grows with the size of a perturbation', () => {
    const a = gaussian(n, d, 7);
    const noise = gaussian(n, d, 8);
    const small = a.map((x, i) => x + 0.05 * noise[i]!);
    const large = a.map((x, i) => x + 0.5 * noise[i]!);
    expect(embeddingDrift(a, small, n, d)).toBeLessThan(embeddingDrift(a, large, n, d));
  });
});
