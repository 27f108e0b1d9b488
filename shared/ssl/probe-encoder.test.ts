import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { createRng } from '../data/rng';
import type { DatasetSplit, ImageDataset } from '../data/dataset';
import { TINY_MODEL_CONFIG } from '../model/config';
import { createSimclrModel, disposeSimclrModel } from '../model/encoder';
import { rawPixelProbe } from './probe-baselines';
import { encoderProbe, fitSetup, rawPixelBaseline } from './probe-encoder';
import { withTfObjective } from './probe-tf';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Seeded 28×28 images where class k (of 4) brightens a k-th horizontal band. */
function dataset(n: number, seed: number): ImageDataset {
  const rng = createRng(seed);
  const images = new Uint8Array(n * 784);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const k = rng.int(4);
    labels[i] = k;
    for (let p = 0; p < 784; p++) {
      const band = Math.floor(p / 28 / 7) === k ? 80 : 0;
      images[i * 784 + p] = Math.max(0, Math.min(255, Math.round(60 + band + 40 * rng.normal())));
    }
  }
  return { name: 'bands', width: 28, height: 28, channels: 1, numClasses: 4, classNames: [], images, labels, count: n };
}

const split: DatasetSplit = { train: dataset(160, 1), test: dataset(60, 2) };
const setup = { labels: 100, validation: 60, test: 60 };

describe('page probe: encoder, random init and raw pixels under one protocol', () => {
  it('a random-init encoder with a seed gives the same probe result every time; another seed another encoder', async () => {
    const run = async (seed: number) => {
      const m = createSimclrModel(TINY_MODEL_CONFIG, seed);
      try {
        return await encoderProbe(m.encoder, split, setup);
      } finally {
        disposeSimclrModel(m);
      }
    };
    const before = tf.memory().numTensors;
    const a = await run(7);
    expect(await run(7)).toEqual(a);
    expect(tf.memory().numTensors).toBe(before);
    expect(a.trainCount).toBe(100);
    expect(a.testCount).toBe(60);
    expect(a.validation).toHaveLength(3);
    const m7 = createSimclrModel(TINY_MODEL_CONFIG, 7);
    const m8 = createSimclrModel(TINY_MODEL_CONFIG, 8);
    const x = tf.zeros([1, 28, 28, 1]).add(0.5);
    const [f7, f8] = [m7.encoder.predict(x) as tf.Tensor, m8.encoder.predict(x) as tf.Tensor];
    expect(Array.from(f7.dataSync())).not.toEqual(Array.from(f8.dataSync()));
    tf.dispose([x, f7, f8]);
    disposeSimclrModel(m7);
    disposeSimclrModel(m8);
  });

  it('the raw baseline is rawPixelProbe of the same rows, computed once per loaded split', () => {
    const r = rawPixelBaseline(split, setup);
    expect(rawPixelBaseline(split, setup)).toBe(r);
    expect(r).toEqual(withTfObjective((make) => rawPixelProbe(split.train, split.test, 4, setup, make)));
    expect(r.testAccuracy).toBeGreaterThan(0.5); // the bands carry the label
  });

  it('shrinks the setup to what a small split holds', () => {
    expect(fitSetup(split, { labels: 1000, validation: 1000, test: 1000 })).toEqual({
      labels: 160,
      validation: 0,
      test: 60,
    });
  });
});
