import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSimclrModel, disposeSimclrModel } from '../../shared/model/encoder';
import { TINY_MODEL_CONFIG } from '../../shared/model/config';
import { flattenWeights } from '../../shared/model/weights';
import { createTrainer } from '../../shared/ssl/train-step';
import { defaultPolicy } from '../../shared/ssl/augment';
import { initWasmBackendForNode } from '../../shared/tfjs/wasm-node';
import {
  readFederatedState,
  readJobCheckpoint,
  removeJobCheckpoint,
  restoreJobCheckpoint,
  saveFederatedState,
  saveJobCheckpoint,
  serverDirOf,
} from './job-checkpoint';

const dir = mkdtempSync(join(tmpdir(), 'fedssl-job-ckpt-'));
beforeAll(() => initWasmBackendForNode());
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const batch = () => tf.randomUniform([8, 28, 28, 1], 0, 1, 'float32', 3) as tf.Tensor4D;
const schedule = { peak: 2e-3, warmupSteps: 2, totalSteps: 10, finalFraction: 0.05 };
const trainerFor = (model: ReturnType<typeof createSimclrModel>, startStep: number) =>
  createTrainer(model, {
    learningRate: 2e-3,
    temperature: 0.5,
    policy: defaultPolicy(1),
    augmentSeed: 5,
    schedule,
    startStep,
  });

describe('bench:quality mid-job checkpoints', () => {
  it('a restored job takes exactly the step the uninterrupted one takes next', async () => {
    const file = join(dir, 'central.ckpt');
    const a = createSimclrModel(TINY_MODEL_CONFIG, 1);
    const ta = trainerFor(a, 0);
    for (let i = 0; i < 3; i++) {
      const x = batch();
      await ta.step(x);
      x.dispose();
    }
    await saveJobCheckpoint(file, a, ta, { step: 3, images: 24, curve: [{ images: 24, loss: 1 }] });

    const b = createSimclrModel(TINY_MODEL_CONFIG, 99); // other init: everything must come from the file
    const stored = readJobCheckpoint(file)!;
    expect([stored.step, stored.images, stored.curve]).toEqual([3, 24, [{ images: 24, loss: 1 }]]);
    const tb = trainerFor(b, stored.step);
    await restoreJobCheckpoint(stored, b, tb);
    expect(flattenWeights(b).data).toEqual(flattenWeights(a).data);

    // Same next batch and augmentation stream (fresh trainers of the same seed): same loss and weights after.
    const ta2 = trainerFor(a, 3);
    await ta2.optimizer.setWeights(await ta.optimizer.getWeights());
    const x = batch();
    const [la, lb] = [await ta2.step(x), await tb.step(x)];
    x.dispose();
    expect(lb).toBe(la);
    expect(flattenWeights(b).data).toEqual(flattenWeights(a).data);
    for (const t of [ta, tb, ta2]) t.dispose();
    disposeSimclrModel(a);
    disposeSimclrModel(b);
  });

  it('refuses a truncated file and a checkpoint of another architecture, and is gone once removed', async () => {
    const file = join(dir, 'other.ckpt');
    const m = createSimclrModel(TINY_MODEL_CONFIG, 1);
    const t = trainerFor(m, 0);
    const x = batch();
    await t.step(x);
    x.dispose();
    await saveJobCheckpoint(file, m, t, { step: 1, images: 8, curve: [] });
    const other = createSimclrModel({ ...TINY_MODEL_CONFIG, headUnits: [12, 8] }, 1);
    const tOther = trainerFor(other, 1);
    await expect(restoreJobCheckpoint(readJobCheckpoint(file)!, other, tOther)).rejects.toThrow(/another model/);
    truncateSync(file, statSync(file).size - 4);
    expect(() => readJobCheckpoint(file)).toThrow(/truncated/);
    removeJobCheckpoint(file);
    expect(readJobCheckpoint(file)).toBeUndefined();
    for (const tr of [t, tOther]) tr.dispose();
    disposeSimclrModel(m);
    disposeSimclrModel(other);
  });

  it('federated state: written atomically, read back, refused in an unknown format, removed with its server directory', () => {
    const file = join(dir, 'fed.ckpt');
    expect(readFederatedState(file)).toBeUndefined();
    const state = { committed: 7, images: 4480, curve: [{ images: 4480, loss: 3.2, lr: 1e-3 }], notes: ['n'] };
    saveFederatedState(file, state);
    expect(readFederatedState(file)).toEqual({ version: 1, ...state });
    mkdirSync(join(serverDirOf(file), 'checkpoints'), { recursive: true });
    writeFileSync(file, JSON.stringify({ version: 2 }));
    expect(() => readFederatedState(file)).toThrow(/unknown checkpoint format/);
    removeJobCheckpoint(file);
    expect([existsSync(file), existsSync(serverDirOf(file))]).toEqual([false, false]);
  });
});
