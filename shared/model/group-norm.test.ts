import { beforeAll, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { GroupNormalization, groupNorm } from './group-norm';
import { createSimclrModel, disposeSimclrModel } from './encoder';
import { DEFAULT_MODEL_CONFIG, TINY_MODEL_CONFIG } from './config';
import { createTrainer, trainableVars } from '../ssl/train-step';
import { defaultPolicy } from '../ssl/augment';
import { ntXentLoss } from '../ssl/ntxent';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

it('normalises each image × group to mean 0 and variance 1 (γ = 1, β = 0), independently of the batch', () => {
  const layer = new GroupNormalization({ groups: 2 });
  const x = tf.randomNormal([3, 4, 4, 6], 5, 3, 'float32', 11) as tf.Tensor4D;
  const y = layer.apply(x) as tf.Tensor4D;
  const v = y.arraySync();
  for (let n = 0; n < 3; n++) {
    for (let g = 0; g < 2; g++) {
      const vals: number[] = [];
      for (let h = 0; h < 4; h++)
        for (let w = 0; w < 4; w++) for (let c = g * 3; c < g * 3 + 3; c++) vals.push(v[n]![h]![w]![c]!);
      const mean = vals.reduce((a, b) => a + b, 0) / vals.length;
      const variance = vals.reduce((a, b) => a + (b - mean) ** 2, 0) / vals.length;
      expect(Math.abs(mean)).toBeLessThan(1e-5);
      expect(variance).toBeCloseTo(1, 3);
    }
  }
  // Image 0 alone gives the same output: no batch statistics.
  const alone = layer.apply(tf.slice(x, [0, 0, 0, 0], [1, 4, 4, 6])) as tf.Tensor4D;
  expect(Array.from(alone.dataSync())).toEqual(Array.from(tf.slice(y, [0, 0, 0, 0], [1, 4, 4, 6]).dataSync()));
  expect(() => new GroupNormalization({ groups: 4 }).apply(x)).toThrow(/divisible/);
});

it('a GroupNorm encoder (as the default) has norm weights that receive gradients', () => {
  expect(DEFAULT_MODEL_CONFIG.norm).toBe('group');
  // The tiny architecture with the default's normalization keeps this fast on cpu.
  const cfg = { ...TINY_MODEL_CONFIG, norm: 'group' as const, groups: 4 };
  const m = createSimclrModel(cfg, 3);
  const vars = trainableVars(m);
  const gn = vars.filter((v) => /enc_gn\d\/(gamma|beta)/.test(v.name));
  expect(gn.length).toBe(2 * cfg.convFilters.length);
  const x1 = tf.randomUniform([4, 28, 28, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
  const x2 = tf.randomUniform([4, 28, 28, 1], 0, 1, 'float32', 2) as tf.Tensor4D;
  const { grads } = tf.variableGrads(
    () =>
      ntXentLoss(
        m.head.apply(m.encoder.apply(x1)) as tf.Tensor2D,
        m.head.apply(m.encoder.apply(x2)) as tf.Tensor2D,
        0.2,
      ),
    gn,
  );
  for (const v of gn) expect(tf.max(tf.abs(grads[v.name]!)).dataSync()[0]!).toBeGreaterThan(0);
  disposeSimclrModel(m);
});

it('a GroupNorm encoder survives a tfjs layers save/load round trip (the admin export format)', async () => {
  const cfg = { ...TINY_MODEL_CONFIG, norm: 'group' as const, groups: 4, poolGrid: 1 };
  const m = createSimclrModel(cfg, 4);
  let artifacts: tf.io.ModelArtifacts | undefined;
  await m.encoder.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts!));
  const x = tf.randomUniform([2, 28, 28, 1], 0, 1, 'float32', 8) as tf.Tensor4D;
  const a = (m.encoder.predict(x) as tf.Tensor).dataSync();
  const b = (loaded.predict(x) as tf.Tensor).dataSync();
  expect(Array.from(b)).toEqual(Array.from(a));
  loaded.dispose();
  disposeSimclrModel(m);
});

/** GroupNorm written as plain ops, differentiated by tfjs's autodiff: the reference for the fused op. */
function referenceGroupNorm(x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, groups: number): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const grouped = tf.reshape(x, [n, h * w, groups, c / groups]);
  const { mean, variance } = tf.moments(grouped, [1, 3], true);
  const normed = tf.mul(tf.sub(grouped, mean), tf.rsqrt(tf.add(variance, 1e-5)));
  return tf.add(tf.mul(tf.reshape(normed, [n, h, w, c]), gamma), beta) as tf.Tensor4D;
}

it('the fused op (analytic gradient) matches autodiff through plain ops: value and all three gradients', () => {
  const x = tf.randomNormal([3, 5, 4, 8], 2, 3, 'float32', 21) as tf.Tensor4D;
  const gamma = tf.randomNormal([8], 1, 0.5, 'float32', 22) as tf.Tensor1D;
  const beta = tf.randomNormal([8], 0, 0.5, 'float32', 23) as tf.Tensor1D;
  const r = tf.randomNormal([3, 5, 4, 8], 0, 1, 'float32', 24);
  const fused = groupNorm(4, 1e-5);
  // A loss whose gradient is not uniform, so every term of the backward formula matters.
  const loss = (f: typeof fused) => (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
    tf.sum(tf.mul(tf.square(f(a as tf.Tensor4D, b as tf.Tensor1D, c as tf.Tensor1D)), r));
  const ref = (a: tf.Tensor4D, b: tf.Tensor1D, c: tf.Tensor1D) => referenceGroupNorm(a, b, c, 4);
  const close = (a: tf.Tensor, b: tf.Tensor) =>
    tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]! / Math.max(1e-6, tf.max(tf.abs(b)).dataSync()[0]!);
  expect(close(fused(x, gamma, beta), ref(x, gamma, beta))).toBeLessThan(1e-5);
  const got = tf.grads(loss(fused))([x, gamma, beta]);
  const want = tf.grads(loss(ref))([x, gamma, beta]);
  for (let i = 0; i < 3; i++) expect(close(got[i]!, want[i]!), `gradient ${i}`).toBeLessThan(1e-4);
});

it('training steps through the fused op leave the tensor count flat', async () => {
  const m = createSimclrModel({ ...TINY_MODEL_CONFIG, norm: 'group' as const, groups: 4 }, 5);
  const trainer = createTrainer(m, { learningRate: 1e-3, temperature: 0.5, policy: defaultPolicy(1), augmentSeed: 1 });
  const x = tf.randomUniform([4, 28, 28, 1], 0, 1, 'float32', 6) as tf.Tensor4D;
  await trainer.step(x);
  const after1 = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) await trainer.step(x);
  expect(tf.memory().numTensors).toBe(after1);
  trainer.dispose();
  x.dispose();
  disposeSimclrModel(m);
});
