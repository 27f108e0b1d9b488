import { beforeAll, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { GroupNormalization } from './group-norm';
import { createSimclrModel, disposeSimclrModel } from './encoder';
import { RECIPE_MODEL_CONFIG, TINY_MODEL_CONFIG } from './config';
import { trainableVars } from '../ssl/train-step';
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
  expect(RECIPE_MODEL_CONFIG.norm).toBe('group');
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
