import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { TINY_MODEL_CONFIG } from '../model/config';
import { benchmarkTrainStep, identityPolicy, median, summarizeKernels } from './train-benchmark';
import { initWasmBackendForNode } from '../tfjs/wasm-node';

beforeAll(async () => {
  await initWasmBackendForNode();
});

describe('training-step benchmark', () => {
  it('median handles odd, even and empty lists', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow(/empty/);
  });

  it('sums kernel time by name, biggest first, shares adding to 1', () => {
    const k = summarizeKernels([
      { name: 'Conv2D', kernelTimeMs: 3 },
      { name: 'Relu', kernelTimeMs: 1 },
      { name: 'Conv2D', kernelTimeMs: 4 },
      { name: 'Bad', kernelTimeMs: { error: 'no timer' } },
    ]);
    expect(k.map((e) => e.name)).toEqual(['Conv2D', 'Relu', 'Bad']);
    expect(k[0]).toMatchObject({ ms: 7, calls: 2 });
    expect(k.reduce((a, e) => a + e.share, 0)).toBeCloseTo(1, 12);
  });

  it('the identity policy turns every augmentation off', () => {
    const p = identityPolicy();
    for (const part of Object.values(p)) expect(part.enabled).toBe(false);
  });

  it('times steps on the active backend, profiles one, and leaks no tensors', async () => {
    const before = tf.memory().numTensors;
    const seen: string[] = [];
    const r = await benchmarkTrainStep(
      { model: TINY_MODEL_CONFIG, pairs: 8, warmupSteps: 1, timedSteps: 3, augment: true, profile: true },
      (phase, i) => seen.push(`${phase}${i}`),
    );
    expect(seen).toEqual(['warmup0', 'timed0', 'timed1', 'timed2']);
    expect(r.backend).toBe('wasm');
    expect(r.stepMs).toHaveLength(3);
    expect(r.slow).toBe(false);
    expect(r.imagesPerStep).toBe(16);
    expect(r.imagesPerSec).toBeCloseTo(16 / (r.medianMs / 1000), 6);
    expect(Number.isFinite(r.firstLoss) && Number.isFinite(r.lastLoss)).toBe(true);
    expect(r.tensorsLeakedPerRun).toBe(0);
    expect(r.memoryAfter.numTensors).toBe(before);
    expect(r.kernels.some((k) => k.name === 'Conv2D')).toBe(true);
    expect(r.kernels.some((k) => k.name === 'Conv2DBackpropFilter')).toBe(true);
  });

  it('stops timing at the budget once the minimum steps ran', async () => {
    const r = await benchmarkTrainStep({
      model: TINY_MODEL_CONFIG,
      pairs: 4,
      warmupSteps: 0,
      timedSteps: 50,
      budgetMs: 0,
      minTimedSteps: 2,
      profile: false,
    });
    expect(r.stepMs).toHaveLength(2);
    expect(r.kernels).toEqual([]);
  });

  it('shortens the run on a slow backend: one warm-up, one timed step, no profile', async () => {
    const seen: string[] = [];
    const r = await benchmarkTrainStep(
      { model: TINY_MODEL_CONFIG, pairs: 4, warmupSteps: 3, timedSteps: 5, budgetMs: 0, slowStepMs: 0, profile: true },
      (phase, i) => seen.push(`${phase}${i}`),
    );
    expect(seen).toEqual(['warmup0', 'timed0']);
    expect(r.slow).toBe(true);
    expect(r.kernels).toEqual([]);
  });

  it('rejects a batch without negatives', async () => {
    await expect(benchmarkTrainStep({ model: TINY_MODEL_CONFIG, pairs: 1 })).rejects.toThrow(/pairs/);
  });
});
