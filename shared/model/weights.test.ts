import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { createSimclrModel, disposeSimclrModel, countParameters, project } from './encoder';
import { COMPACT_MODEL_CONFIG, DEFAULT_MODEL_CONFIG, TINY_MODEL_CONFIG, representationDim } from './config';
import {
  applyDelta,
  assertSameLayout,
  computeDelta,
  flattenWeights,
  flattenWeightsAsync,
  unflattenWeights,
  weightLayout,
  WeightLayoutMismatchError,
} from './weights';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('encoder factory', () => {
  it('builds the default encoder: GroupNorm convs, a 512-d representation (2×2 pooled) and a 128-d projection', () => {
    const m = createSimclrModel(DEFAULT_MODEL_CONFIG);
    const z = tf.tidy(() => project(m, tf.zeros([2, 28, 28, 1])).shape);
    const h = tf.tidy(() => (m.encoder.predict(tf.zeros([2, 28, 28, 1])) as tf.Tensor).shape);
    expect(h).toEqual([2, representationDim(DEFAULT_MODEL_CONFIG)]);
    expect(h).toEqual([2, 512]);
    expect(z).toEqual([2, 128]);
    // conv 1→32→64→128→128 (3x3, no bias) + GroupNorm γ, β per channel + dense 512→256→128
    const expected =
      9 * 1 * 32 +
      9 * 32 * 64 +
      9 * 64 * 128 +
      9 * 128 * 128 +
      2 * (32 + 64 + 128 + 128) +
      (512 * 256 + 256) +
      (256 * 128 + 128);
    expect(countParameters(m)).toBe(expected);
    disposeSimclrModel(m);
  });

  it('builds the compact encoder (no norm, GAP to 128-d)', () => {
    const m = createSimclrModel(COMPACT_MODEL_CONFIG);
    const h = tf.tidy(() => (m.encoder.predict(tf.zeros([2, 28, 28, 1])) as tf.Tensor).shape);
    expect(h).toEqual([2, 128]);
    const expected =
      9 * 1 * 32 +
      32 +
      (9 * 32 * 64 + 64) +
      (9 * 64 * 128 + 128) +
      (9 * 128 * 128 + 128) +
      (128 * 128 + 128) +
      (128 * 64 + 64);
    expect(countParameters(m)).toBe(expected);
    disposeSimclrModel(m);
  });

  it('refuses GroupNorm groups that do not divide the filters and a pool grid that does not divide the map', () => {
    expect(() => createSimclrModel({ ...DEFAULT_MODEL_CONFIG, groups: 5 })).toThrow(/divisible/);
    expect(() => createSimclrModel({ ...DEFAULT_MODEL_CONFIG, poolGrid: 3 })).toThrow(/poolGrid/);
  });

  it('is configurable in size', () => {
    const m = createSimclrModel(TINY_MODEL_CONFIG);
    expect(weightLayout(m).totalSize).toBe(countParameters(m));
    expect(countParameters(m)).toBeLessThan(5000);
    disposeSimclrModel(m);
  });

  it('refuses an inconsistent config', () => {
    expect(() => createSimclrModel({ ...TINY_MODEL_CONFIG, convStrides: [1] })).toThrow(/same length/);
  });
});

describe('flatten / unflatten', () => {
  it('round-trips all trainable weights in a stable, named order', () => {
    const a = createSimclrModel(TINY_MODEL_CONFIG, 1);
    const b = createSimclrModel(TINY_MODEL_CONFIG, 2);
    const fa = flattenWeights(a);
    const fb = flattenWeights(b);
    expect(fa.layout.entries.map((e) => e.name)).toEqual([
      'enc_conv1/kernel',
      'enc_conv1/bias',
      'enc_conv2/kernel',
      'enc_conv2/bias',
      'head_dense1/kernel',
      'head_dense1/bias',
      'head_dense2/kernel',
      'head_dense2/bias',
    ]);
    expect(fa.layout.hash).toBe(fb.layout.hash);
    expect(fa.data).not.toEqual(fb.data);

    unflattenWeights(b, fa.layout, fa.data);
    expect(flattenWeights(b).data).toEqual(fa.data);
    // Same weights ⇒ same outputs.
    const [ya, yb] = tf.tidy(() => {
      const x = tf.randomUniform([3, 28, 28, 1], 0, 1, 'float32', 7) as tf.Tensor4D;
      return [project(a, x).arraySync(), project(b, x).arraySync()];
    });
    expect(yb).toEqual(ya);
    disposeSimclrModel(a);
    disposeSimclrModel(b);
  });

  it('async flatten (for GPU backends) gives the same vector without leaking', async () => {
    const m = createSimclrModel(TINY_MODEL_CONFIG, 5);
    const before = tf.memory().numTensors;
    const a = await flattenWeightsAsync(m);
    expect(tf.memory().numTensors).toBe(before);
    expect(a.data).toEqual(flattenWeights(m).data);
    expect(a.layout.hash).toBe(weightLayout(m).hash);
    disposeSimclrModel(m);
  });

  it('detects a shape mismatch and a wrong length, naming the layer', () => {
    const tiny = createSimclrModel(TINY_MODEL_CONFIG);
    const wider = createSimclrModel({ ...TINY_MODEL_CONFIG, convFilters: [8, 24] });
    const fw = flattenWeights(wider);
    expect(() => unflattenWeights(tiny, fw.layout, fw.data)).toThrow(WeightLayoutMismatchError);
    expect(() => unflattenWeights(tiny, fw.layout, fw.data)).toThrow(/enc_conv2\/kernel/);
    const ft = flattenWeights(tiny);
    expect(() => unflattenWeights(tiny, ft.layout, ft.data.subarray(1))).toThrow(/values/);
    expect(() => assertSameLayout(ft.layout, fw.layout)).toThrow(WeightLayoutMismatchError);
    disposeSimclrModel(tiny);
    disposeSimclrModel(wider);
  });

  it('does not leak tensors when writing weights repeatedly', () => {
    const m = createSimclrModel(TINY_MODEL_CONFIG);
    const f = flattenWeights(m);
    unflattenWeights(m, f.layout, f.data);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 10; i++) unflattenWeights(m, f.layout, f.data);
    expect(tf.memory().numTensors).toBe(before);
    disposeSimclrModel(m);
  });
});

describe('deltas', () => {
  it('applyDelta(global, computeDelta(local, global)) recovers local', () => {
    const global = Float32Array.from([1, 2, 3, 4]);
    const local = Float32Array.from([1.5, 1, 3, 10]);
    const delta = computeDelta(local, global);
    expect(Array.from(delta)).toEqual([0.5, -1, 0, 6]);
    expect(applyDelta(global, delta)).toEqual(local);
    expect(Array.from(applyDelta(global, delta, 0.5))).toEqual([1.25, 1.5, 3, 7]);
    expect(() => computeDelta(local, global.subarray(1))).toThrow(/different lengths/);
  });
});
