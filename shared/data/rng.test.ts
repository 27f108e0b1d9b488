import { describe, expect, it } from 'vitest';
import { createRng, deriveSeed, hashSeed } from './rng';

function mean(xs: number[]): number {
  return xs.reduce((s, x) => s + x, 0) / xs.length;
}

function variance(xs: number[]): number {
  const m = mean(xs);
  return xs.reduce((s, x) => s + (x - m) ** 2, 0) / xs.length;
}

describe('createRng', () => {
  it('is deterministic per seed and differs across seeds', () => {
    const a = createRng(42);
    const b = createRng(42);
    const c = createRng(43);
    const sa = Array.from({ length: 20 }, () => a.uniform());
    const sb = Array.from({ length: 20 }, () => b.uniform());
    const sc = Array.from({ length: 20 }, () => c.uniform());
    expect(sa).toEqual(sb);
    expect(sa).not.toEqual(sc);
  });

  it('hashes nearby and fractional seeds to different states', () => {
    expect(hashSeed(1)).not.toBe(hashSeed(2));
    expect(hashSeed(0)).not.toBe(hashSeed(2 ** 32));
    expect(deriveSeed(1, 'train')).not.toBe(deriveSeed(1, 'test'));
    expect(deriveSeed(1, 'train')).toBe(deriveSeed(1, 'train'));
    expect(() => hashSeed(Number.NaN)).toThrow(/finite/);
  });

  it('uniform is in [0,1) with mean ~0.5', () => {
    const r = createRng(1);
    const xs = Array.from({ length: 20000 }, () => r.uniform());
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    expect(mean(xs)).toBeCloseTo(0.5, 1);
  });

  it('int covers [0, n) roughly uniformly and validates n', () => {
    const r = createRng(2);
    const counts = new Array<number>(7).fill(0);
    for (let i = 0; i < 7000; i++) counts[r.int(7)]! += 1;
    for (const c of counts) expect(c).toBeGreaterThan(850);
    expect(() => r.int(0)).toThrow();
    expect(() => r.int(2.5)).toThrow();
  });

  it('normal has mean ~0 and variance ~1', () => {
    const r = createRng(3);
    const xs = Array.from({ length: 20000 }, () => r.normal());
    expect(Math.abs(mean(xs))).toBeLessThan(0.03);
    expect(variance(xs)).toBeGreaterThan(0.95);
    expect(variance(xs)).toBeLessThan(1.05);
  });

  it.each([0.3, 1, 2.5, 10])('gamma(%f) has mean ~shape and variance ~shape', (shape) => {
    const r = createRng(4);
    const xs = Array.from({ length: 20000 }, () => r.gamma(shape));
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.abs(mean(xs) - shape) / shape).toBeLessThan(0.05);
    expect(Math.abs(variance(xs) - shape) / shape).toBeLessThan(0.1);
  });

  it('gamma rejects bad shapes', () => {
    const r = createRng(5);
    expect(() => r.gamma(0)).toThrow(/shape/);
    expect(() => r.gamma(-1)).toThrow(/shape/);
    expect(() => r.gamma(Number.POSITIVE_INFINITY)).toThrow(/shape/);
  });

  it('dirichlet sums to 1 and stays finite for tiny alphas', () => {
    const r = createRng(6);
    for (const alpha of [0.001, 0.1, 1, 100]) {
      const p = r.dirichlet(new Array(20).fill(alpha));
      expect(p.every((x) => Number.isFinite(x) && x >= 0)).toBe(true);
      expect(p.reduce((s, x) => s + x, 0)).toBeCloseTo(1, 10);
    }
    // Tiny alpha concentrates mass; large alpha spreads it.
    const tiny = r.dirichlet(new Array(20).fill(0.001));
    const big = r.dirichlet(new Array(20).fill(1000));
    expect(Math.max(...tiny)).toBeGreaterThan(0.9);
    expect(Math.max(...big)).toBeLessThan(0.1);
  });

  it('shuffle returns a permutation in place, deterministically', () => {
    const a = Array.from({ length: 100 }, (_, i) => i);
    const out = createRng(7).shuffle(a);
    expect(out).toBe(a);
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(a).not.toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(createRng(7).shuffle(Array.from({ length: 100 }, (_, i) => i))).toEqual(a);
  });
});
