import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { extractFeatures } from './probe';
import { createSimclrModel, disposeSimclrModel } from '../model/encoder';
import { TINY_MODEL_CONFIG } from '../model/config';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('frozen-encoder features', () => {
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
