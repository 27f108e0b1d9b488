import { expect, it } from 'vitest';
import { warmupCosineLr } from './lr-schedule';

it('warms up linearly to the peak, then decays by a half cosine to the floor', () => {
  const s = { peak: 1e-3, totalSteps: 101, warmupSteps: 10, finalFraction: 0.1 };
  const lr = Array.from({ length: 101 }, (_, t) => warmupCosineLr(t, s));
  for (let t = 0; t < 10; t++) expect(lr[t]).toBeCloseTo((1e-3 * (t + 1)) / 10, 12);
  expect(lr[10]).toBeCloseTo(1e-3, 12);
  expect(lr[100]).toBeCloseTo(1e-4, 12);
  // Halfway through the decay the cosine is at the midpoint between peak and floor.
  expect(lr[55]).toBeCloseTo(1e-4 + 0.5 * (1e-3 - 1e-4), 12);
  // A fifth of the way the half cosine is still at 90.5% of the span (a linear decay would be at 80%).
  expect(lr[28]).toBeCloseTo(1e-4 + 0.5 * (1 + Math.cos(0.2 * Math.PI)) * (1e-3 - 1e-4), 12);
  for (let t = 11; t <= 100; t++) expect(lr[t]!).toBeLessThan(lr[t - 1]!);
  expect(warmupCosineLr(500, s)).toBeCloseTo(1e-4, 12);
  expect(() => warmupCosineLr(0, { ...s, warmupSteps: 200 })).toThrow(/warmupSteps/);
});
