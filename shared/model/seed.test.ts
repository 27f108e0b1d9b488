import { expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { createSimclrModel, disposeSimclrModel } from './encoder';
import { TINY_MODEL_CONFIG } from './config';
import { flattenWeights } from './weights';

it('a seeded encoder is reproducible, seed 0 included (the server initialises v0 with it)', async () => {
  await tf.setBackend('cpu');
  for (const seed of [0, 7]) {
    const a = createSimclrModel(TINY_MODEL_CONFIG, seed);
    const b = createSimclrModel(TINY_MODEL_CONFIG, seed);
    expect(flattenWeights(a).data).toEqual(flattenWeights(b).data);
    disposeSimclrModel(a);
    disposeSimclrModel(b);
  }
  const c = createSimclrModel(TINY_MODEL_CONFIG, 1);
  const d = createSimclrModel(TINY_MODEL_CONFIG, 2);
  expect(flattenWeights(c).data).not.toEqual(flattenWeights(d).data);
  disposeSimclrModel(c);
  disposeSimclrModel(d);
});
