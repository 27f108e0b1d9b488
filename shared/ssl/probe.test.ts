import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { extractFeatures, linearProbe, type FeatureSet } from './probe';
import { createSimclrModel, disposeSimclrModel } from '../model/encoder';
import { TINY_MODEL_CONFIG } from '../model/config';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Gaussian blobs around well separated class centres. */
function blobs(n: number, dim: number, classes: number, spread: number, seed: number): FeatureSet {
  let s = seed;
  const rand = () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
  const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  const features = new Float32Array(n * dim);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % classes;
    labels[i] = c;
    for (let j = 0; j < dim; j++) features[i * dim + j] = (j % classes === c ? 4 : 0) + spread * gauss();
  }
  return { features, labels, dim };
}

describe('linear probe', () => {
  it('reaches ~100% on separable toy features', async () => {
    const r = await linearProbe(blobs(400, 16, 4, 0.5, 1), blobs(200, 16, 4, 0.5, 2), 4);
    expect(r.trainAccuracy).toBeGreaterThan(0.98);
    expect(r.testAccuracy).toBeGreaterThan(0.98);
  });

  it('stays near chance on label-independent features', async () => {
    const train = blobs(400, 16, 4, 0.5, 3);
    const test = blobs(400, 16, 4, 0.5, 4);
    // Shuffle test labels against their features.
    test.labels.reverse();
    for (let i = 0; i < test.labels.length; i += 3) test.labels[i] = (test.labels[i]! + 1) % 4;
    const r = await linearProbe(train, test, 4);
    expect(r.testAccuracy).toBeLessThan(0.5);
  });

  it('does not leak tensors across repeated runs', async () => {
    const train = blobs(100, 8, 2, 0.5, 5);
    const test = blobs(50, 8, 2, 0.5, 6);
    await linearProbe(train, test, 2, { epochs: 5 });
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) await linearProbe(train, test, 2, { epochs: 5 });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('extracts encoder features in batches without leaking', async () => {
    const m = createSimclrModel(TINY_MODEL_CONFIG, 3);
    const images = new Uint8Array(10 * 784).map((_, i) => (i * 7) % 256);
    await extractFeatures(m.encoder, images, 10, [28, 28, 1], 4);
    const before = tf.memory().numTensors;
    const { features, dim } = await extractFeatures(m.encoder, images, 10, [28, 28, 1], 4);
    expect(tf.memory().numTensors).toBe(before);
    expect(dim).toBe(16);
    expect(features.length).toBe(160);
    const whole = (await extractFeatures(m.encoder, images, 10, [28, 28, 1], 100)).features;
    whole.forEach((v, i) => expect(v).toBeCloseTo(features[i]!, 4));
    await expect(extractFeatures(m.encoder, images.subarray(1), 10, [28, 28, 1])).rejects.toThrow(/bytes/);
    disposeSimclrModel(m);
  });
});
