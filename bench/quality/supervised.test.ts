import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { createSimclrModel, disposeSimclrModel } from '../../shared/model/encoder';
import { TINY_MODEL_CONFIG } from '../../shared/model/config';
import { flattenWeights } from '../../shared/model/weights';
import { createRng } from '../../shared/data/rng';
import type { DatasetSplit, ImageDataset } from '../../shared/data/dataset';
import { initWasmBackendForNode } from '../../shared/tfjs/wasm-node';
import { trainSupervisedCeiling } from './supervised';

beforeAll(() => initWasmBackendForNode());

/** Two classes a tiny CNN with global pooling separates easily: horizontal or vertical stripes. */
function stripes(count: number, seed: number): ImageDataset {
  const rng = createRng(seed);
  const images = new Uint8Array(count * 784);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    labels[i] = i % 2;
    for (let p = 0; p < 784; p++) {
      const along = labels[i] === 0 ? Math.floor(p / 28) : p % 28;
      images[i * 784 + p] = Math.round((along % 4 < 2 ? 180 : 20) + 50 * rng.uniform());
    }
  }
  return {
    name: 'halves',
    width: 28,
    height: 28,
    channels: 1,
    numClasses: 2,
    classNames: ['horizontal', 'vertical'],
    images,
    labels,
    count,
  };
}

describe('bench:quality supervised ceiling', () => {
  it('trains the encoder with the labels: the loss falls far below chance, and no tensor is left behind', async () => {
    const split: DatasetSplit = { train: stripes(96, 1), test: stripes(16, 2) };
    const model = createSimclrModel(TINY_MODEL_CONFIG, 3);
    const before = flattenWeights(model).data;
    const tensors = tf.memory().numTensors;
    const losses: number[] = [];
    const images = await trainSupervisedCeiling(model, split, {
      labels: 64,
      budget: 64 * 150,
      seed: 1,
      onStep: (_images, loss) => void losses.push(loss),
    });
    expect(images).toBe(64 * 150);
    expect(losses).toHaveLength(150);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    // Chance is ln 2 ≈ 0.69 for two balanced classes.
    expect(mean(losses.slice(0, 5))).toBeGreaterThan(0.6);
    expect(mean(losses.slice(-10))).toBeLessThan(0.45);
    expect(flattenWeights(model).data).not.toEqual(before);
    expect(tf.memory().numTensors).toBe(tensors);
    disposeSimclrModel(model);
  });

  it('refuses more labels than training images', async () => {
    const split: DatasetSplit = { train: stripes(8, 1), test: stripes(4, 2) };
    const model = createSimclrModel(TINY_MODEL_CONFIG, 3);
    await expect(
      trainSupervisedCeiling(model, split, { labels: 9, budget: 8, seed: 1, onStep: () => {} }),
    ).rejects.toThrow(/9 labels > 8 training images/);
    disposeSimclrModel(model);
  });
});
