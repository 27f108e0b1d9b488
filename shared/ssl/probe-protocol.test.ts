import { describe, expect, it } from 'vitest';
import { createRng } from '../data/rng';
import {
  accuracy,
  fitLogisticRegression,
  logRegLossGrad,
  meanSd,
  predictLogReg,
  runProbeProtocol,
  standardize,
} from './probe-protocol';

/** Seeded Gaussian blobs: class k centred at 2·e_k (first `classes` dims), unit noise. */
function blobs(n: number, dim: number, classes: number, seed: number) {
  const rng = createRng(seed);
  const x = new Float32Array(n * dim);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const k = i % classes;
    y[i] = k;
    for (let j = 0; j < dim; j++) x[i * dim + j] = rng.normal() + (j === k ? 2 : 0);
  }
  return { x, y };
}

describe('standardize', () => {
  it('uses training statistics only and zeroes constant features', () => {
    const train = Float32Array.from([1, 5, 3, 5, 5, 5]); // 3 rows × 2 dims; dim 1 constant
    const test = Float32Array.from([7, 9]);
    const s = standardize(train, test, 2);
    const sd = Math.sqrt(((1 - 3) ** 2 + 0 + (5 - 3) ** 2) / 3);
    expect(Array.from(s.train)).toEqual([(1 - 3) / sd, 0, 0, 0, (5 - 3) / sd, 0].map((v) => Math.fround(v)));
    expect(s.test[0]).toBeCloseTo((7 - 3) / sd, 6);
    expect(s.test[1]).toBe(0);
    expect(s.constantFeatures).toBe(1);
  });
});

describe('multinomial logistic regression', () => {
  it('has an analytic gradient equal to central finite differences', () => {
    const { x, y } = blobs(30, 4, 3, 1);
    const size = 4 * 3 + 3;
    const rng = createRng(2);
    const w = Float64Array.from({ length: size }, () => 0.3 * rng.normal());
    const g = new Float64Array(size);
    logRegLossGrad(w, x, y, 4, 3, 0.5, g);
    const scratch = new Float64Array(size);
    for (let i = 0; i < size; i++) {
      const h = 1e-5;
      const wp = Float64Array.from(w);
      wp[i]! += h;
      const wm = Float64Array.from(w);
      wm[i]! -= h;
      const fd =
        (logRegLossGrad(wp, x, y, 4, 3, 0.5, scratch) - logRegLossGrad(wm, x, y, 4, 3, 0.5, scratch)) / (2 * h);
      expect(g[i]).toBeCloseTo(fd, 6);
    }
  });

  it('L-BFGS reaches the optimum: tiny gradient, and no nearby point has a lower objective', () => {
    const { x, y } = blobs(300, 6, 3, 3);
    const m = fitLogisticRegression(x, y, 6, 3, { C: 1, gradTolerance: 1e-6 });
    expect(m.converged).toBe(true);
    expect(m.gradMax).toBeLessThan(1e-6);
    const g = new Float64Array(m.params.length);
    const rng = createRng(4);
    for (let t = 0; t < 20; t++) {
      const p = Float64Array.from(m.params, (v) => v + 1e-2 * rng.normal());
      expect(logRegLossGrad(p, x, y, 6, 3, 1, g)).toBeGreaterThan(m.loss);
    }
    // The loss history only goes down.
    for (let i = 1; i < m.lossHistory.length; i++) expect(m.lossHistory[i]!).toBeLessThan(m.lossHistory[i - 1]!);
  });

  it('separates well-separated classes and beats chance by a wide margin on noisy ones', () => {
    const easy = blobs(200, 5, 4, 5);
    const m = fitLogisticRegression(easy.x, easy.y, 5, 4);
    // Centres 2 apart with unit noise: Bayes accuracy ≈ 0.8; chance is 0.25.
    expect(accuracy(predictLogReg(m, easy.x), easy.y)).toBeGreaterThan(0.7);
  });

  it('the protocol uses only the first trainCount rows and reports the whole test split', () => {
    const train = blobs(400, 5, 4, 6);
    const test = blobs(100, 5, 4, 7);
    const r = runProbeProtocol({ features: train.x, labels: train.y }, { features: test.x, labels: test.y }, 5, 4, 120);
    expect(r.trainCount).toBe(120);
    expect(r.testCount).toBe(100);
    expect(r.converged).toBe(true);
    expect(r.testAccuracy).toBeGreaterThan(0.6);
  });

  it('rejects malformed inputs', () => {
    expect(() => fitLogisticRegression(new Float32Array(5), new Uint8Array(2), 2, 2)).toThrow(/values/);
    expect(() => fitLogisticRegression(new Float32Array(4), Uint8Array.from([0, 3]), 2, 2)).toThrow(/label/);
  });
});

it('meanSd is the sample mean and standard deviation', () => {
  expect(meanSd([1, 2, 3, 4])).toEqual({ mean: 2.5, sd: Math.sqrt(5 / 3), n: 4 });
  expect(meanSd([0.8])).toEqual({ mean: 0.8, sd: 0, n: 1 });
});

it('picks C on the validation rows, never on the test rows', () => {
  // 40 noisy dims, few rows: strong regularisation generalises better than weak.
  const train = blobs(60, 40, 3, 11);
  const val = blobs(300, 40, 3, 12);
  const test = blobs(300, 40, 3, 13);
  const r = runProbeProtocol({ features: train.x, labels: train.y }, { features: test.x, labels: test.y }, 40, 3, 60, {
    cGrid: [1e-3, 1e3],
    validation: { features: val.x, labels: val.y },
  });
  expect(r.validation?.map((v) => v.C)).toEqual([1e-3, 1e3]);
  const best = r.validation!.reduce((a, b) => (b.accuracy > a.accuracy ? b : a));
  expect(r.C).toBe(best.C);
  // Without a validation split the grid is ignored and C stays as given.
  const plain = runProbeProtocol(
    { features: train.x, labels: train.y },
    { features: test.x, labels: test.y },
    40,
    3,
    60,
    { cGrid: [1e-3, 1e3], C: 0.5 },
  );
  expect(plain.C).toBe(0.5);
  expect(plain.validation).toBeUndefined();
});
