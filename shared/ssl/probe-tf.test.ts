import { beforeAll, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { createRng } from '../data/rng';
import { fitLogisticRegression, logRegLossGrad } from './probe-protocol';
import { tfLossGrad } from './probe-tf';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

it('the tfjs objective equals the plain-JS one (value and gradient) and leaks nothing', () => {
  const rng = createRng(9);
  const n = 50,
    dim = 7,
    k = 4;
  const x = Float32Array.from({ length: n * dim }, () => rng.normal());
  const y = Uint8Array.from({ length: n }, (_, i) => i % k);
  const p = Float64Array.from({ length: dim * k + k }, () => 0.2 * rng.normal());
  const g1 = new Float64Array(p.length);
  const g2 = new Float64Array(p.length);
  const before = tf.memory().numTensors;
  const f = tfLossGrad(x, y, dim, k, 0.7);
  const l2 = f(p, g2);
  f.dispose();
  expect(tf.memory().numTensors).toBe(before);
  const l1 = logRegLossGrad(p, x, y, dim, k, 0.7, g1);
  expect(l2).toBeCloseTo(l1, 5);
  for (let i = 0; i < p.length; i++) expect(g2[i]).toBeCloseTo(g1[i]!, 5);
  // And L-BFGS on it lands on the same optimum as the plain-JS path.
  const a = fitLogisticRegression(x, y, dim, k, { C: 0.7 });
  let made: ReturnType<typeof tfLossGrad> | undefined;
  const b = fitLogisticRegression(x, y, dim, k, { C: 0.7 }, (...args) => (made = tfLossGrad(...args)));
  made?.dispose();
  expect(b.loss).toBeCloseTo(a.loss, 4);
});
