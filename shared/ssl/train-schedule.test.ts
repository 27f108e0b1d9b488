import { beforeAll, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { createSimclrModel, disposeSimclrModel } from '../model/encoder';
import { TINY_MODEL_CONFIG } from '../model/config';
import { createTrainer } from './train-step';
import { grayscaleRecipePolicy } from './recipe';
import { warmupCosineLr } from './lr-schedule';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

it('a scheduled trainer steps Adam with the warm-up + cosine learning rate of each step', async () => {
  const m = createSimclrModel(TINY_MODEL_CONFIG, 1);
  const schedule = { peak: 1e-2, totalSteps: 4, warmupSteps: 2, finalFraction: 0.1 };
  const trainer = createTrainer(m, {
    learningRate: 1,
    temperature: 0.2,
    policy: grayscaleRecipePolicy({ flip: true }),
    augmentSeed: 3,
    schedule,
  });
  const x = tf.randomUniform([8, 28, 28, 1], 0, 1, 'float32', 5) as tf.Tensor4D;
  const seen: number[] = [];
  for (let t = 0; t < 4; t++) {
    await trainer.step(x);
    seen.push(trainer.optimizer.currentLearningRate);
  }
  expect(seen).toEqual([0, 1, 2, 3].map((t) => warmupCosineLr(t, schedule)));
  expect(seen[1]).toBeCloseTo(1e-2, 12);
  trainer.dispose();
  x.dispose();
  disposeSimclrModel(m);
});

it('the grayscale recipe flips only where the classes are mirror-symmetric', () => {
  expect(grayscaleRecipePolicy({ flip: true }).flip.enabled).toBe(true);
  expect(grayscaleRecipePolicy({ flip: false }).flip.enabled).toBe(false);
  const p = grayscaleRecipePolicy({ flip: false });
  expect([p.colorJitter.enabled, p.colorJitter.brightness, p.colorJitter.contrast]).toEqual([true, 0.4, 0.4]);
});
