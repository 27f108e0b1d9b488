import { describe, expect, it } from 'vitest';
import { createRng } from '../data/rng';
import { clipToNorm, l2Norm } from './clip';

function randomVector(n: number, scale: number, seed: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: n }, () => rng.normal() * scale);
}

describe('l2Norm', () => {
  it('computes the Euclidean norm', () => {
    expect(l2Norm([3, 4])).toBe(5);
    expect(l2Norm(new Float32Array(0))).toBe(0);
    expect(l2Norm([0, 0, 0])).toBe(0);
  });
  it('does not overflow or underflow', () => {
    expect(l2Norm([3e200, 4e200])).toBeCloseTo(5e200, -190);
    expect(l2Norm([3e-200, 4e-200]) / 5e-200).toBeCloseTo(1, 12);
  });
});

describe('clipToNorm', () => {
  it('leaves vectors with norm ≤ C unchanged (same values, new array)', () => {
    const v = randomVector(1000, 0.01, 1);
    const C = l2Norm(v) * 1.5;
    const r = clipToNorm(v, C);
    expect(r.wasClipped).toBe(false);
    expect(r.norm).toBeCloseTo(l2Norm(v), 12);
    expect(Array.from(r.clipped)).toEqual(Array.from(v));
    expect(r.clipped).not.toBe(v);
  });

  it('scales larger vectors to exactly C, keeping the direction', () => {
    for (const [n, C] of [
      [1000, 1],
      [100_000, 0.1],
      [10, 1.2],
    ] as const) {
      const v = randomVector(n, 1, n);
      const before = l2Norm(v);
      expect(before).toBeGreaterThan(C);
      const r = clipToNorm(v, C);
      expect(r.wasClipped).toBe(true);
      expect(r.norm).toBeCloseTo(before, 10);
      const after = l2Norm(r.clipped);
      expect(after).toBeLessThanOrEqual(C);
      expect(Math.abs(after - C) / C).toBeLessThan(1e-6); // float32 precision
      const ratio = r.clipped[0]! / v[0]!;
      for (let i = 0; i < n; i += Math.max(1, n >> 6)) expect(r.clipped[i]! / v[i]!).toBeCloseTo(ratio, 5);
    }
  });

  it('does not modify its input', () => {
    const v = randomVector(100, 1, 7);
    const copy = Float32Array.from(v);
    clipToNorm(v, 0.5);
    expect(v).toEqual(copy);
  });

  it('throws clearly on non-finite input or a bad clip norm', () => {
    expect(() => clipToNorm(new Float32Array([1, NaN, 2]), 1)).toThrow(/non-finite.*index 1/);
    expect(() => clipToNorm(new Float32Array([Infinity]), 1)).toThrow(/non-finite/);
    expect(() => clipToNorm(new Float32Array([1]), 0)).toThrow(/clip norm/);
    expect(() => clipToNorm(new Float32Array([1]), NaN)).toThrow(/clip norm/);
  });
});
