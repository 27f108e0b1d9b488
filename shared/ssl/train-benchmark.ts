/**
 * Times SimCLR training steps on the active tfjs backend, the way
 * `reference/torch_simclr_step.py` times PyTorch: a fresh model, a random batch of
 * N pairs (2N images per step), warm-up steps, then the median of timed steps.
 */
import * as tf from '@tensorflow/tfjs';
import { createSimclrModel, disposeSimclrModel, countParameters } from '../model/encoder';
import { DEFAULT_MODEL_CONFIG, type ModelConfig } from '../model/config';
import { createTrainer } from './train-step';
import { AugmentationPolicySchema, defaultPolicy, type AugmentationPolicy } from './augment-policy';

export interface TrainBenchmarkOptions {
  /** Positive pairs per step (the torch reference uses 128, i.e. 256 images). */
  pairs: number;
  warmupSteps: number;
  timedSteps: number;
  /** Stops timing early once this much time has gone by (slow backends); at least `minTimedSteps` run. */
  budgetMs: number;
  minTimedSteps: number;
  /** true: the default augmentation runs inside the step; false: identity views, as in the torch reference. */
  augment: boolean;
  /** Adds a per-kernel breakdown of one extra step (tf.profile). */
  profile: boolean;
  /**
   * A warm-up step slower than this marks the backend as slow: warm-up ends, one
   * timed step is enough and the profile is skipped (software WebGPU, plain CPU).
   */
  slowStepMs: number;
  model: ModelConfig;
}

export const DEFAULT_TRAIN_BENCHMARK: TrainBenchmarkOptions = {
  pairs: 128,
  warmupSteps: 3,
  timedSteps: 10,
  budgetMs: 120_000,
  minTimedSteps: 2,
  augment: false,
  profile: true,
  slowStepMs: Number.POSITIVE_INFINITY,
  model: DEFAULT_MODEL_CONFIG,
};

export interface KernelShare {
  name: string;
  ms: number;
  calls: number;
  share: number;
}

export interface TrainBenchmarkResult {
  backend: string;
  parameters: number;
  pairs: number;
  imagesPerStep: number;
  augment: boolean;
  warmupSteps: number;
  stepMs: number[];
  medianMs: number;
  imagesPerSec: number;
  firstLoss: number;
  lastLoss: number;
  /** tf.memory() after the run, once the benchmark's own tensors are released. */
  memoryAfter: { numTensors: number; numBytes: number };
  /** numTensors growth between the first and the last timed step (0 when nothing leaks). */
  tensorsLeakedPerRun: number;
  /** A warm-up step exceeded slowStepMs, so the run was shortened. */
  slow: boolean;
  /** Per-kernel time of one profiled step, biggest first (empty when not profiled). */
  kernels: KernelShare[];
  profiledStepMs?: number;
}

/** Every augmentation off: the two "views" are the batch itself, like the torch reference. */
export function identityPolicy(): AugmentationPolicy {
  const p = AugmentationPolicySchema.parse({});
  return {
    ...p,
    crop: { ...p.crop, enabled: false },
    affine: { ...p.affine, enabled: false },
    blur: { ...p.blur, enabled: false },
    noise: { ...p.noise, enabled: false },
  };
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error('median of an empty list');
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Sums kernel times by name and returns them biggest first, with their share of the total. */
export function summarizeKernels(kernels: readonly { name: string; kernelTimeMs: unknown }[]): KernelShare[] {
  const byName = new Map<string, { ms: number; calls: number }>();
  for (const k of kernels) {
    const ms = typeof k.kernelTimeMs === 'number' && Number.isFinite(k.kernelTimeMs) ? k.kernelTimeMs : 0;
    const e = byName.get(k.name) ?? { ms: 0, calls: 0 };
    e.ms += ms;
    e.calls += 1;
    byName.set(k.name, e);
  }
  const total = [...byName.values()].reduce((a, e) => a + e.ms, 0) || 1;
  return [...byName.entries()]
    .map(([name, e]) => ({ name, ms: e.ms, calls: e.calls, share: e.ms / total }))
    .sort((a, b) => b.ms - a.ms);
}

export async function benchmarkTrainStep(
  partial: Partial<TrainBenchmarkOptions> = {},
  onStep?: (phase: 'warmup' | 'timed', index: number, ms: number) => void,
): Promise<TrainBenchmarkResult> {
  const o = { ...DEFAULT_TRAIN_BENCHMARK, ...partial };
  if (!Number.isInteger(o.pairs) || o.pairs < 2) throw new Error(`pairs must be an integer ≥ 2, got ${o.pairs}`);
  if (o.timedSteps < 1 || o.minTimedSteps < 1) throw new Error('timedSteps and minTimedSteps must be ≥ 1');
  const [h, w, c] = o.model.inputShape;
  const model = createSimclrModel(o.model, 1);
  const parameters = countParameters(model);
  const policy = o.augment ? defaultPolicy(c) : identityPolicy();
  const trainer = createTrainer(model, { learningRate: 1e-3, temperature: 0.5, policy, augmentSeed: 1 });
  const batch = tf.randomUniform([o.pairs, h, w, c], 0, 1, 'float32', 1) as tf.Tensor4D;
  const stepMs: number[] = [];
  const losses: number[] = [];
  let kernels: KernelShare[] = [];
  let profiledStepMs: number | undefined;
  let tensorsAtFirstTimed = 0;
  let tensorsAtLastTimed = 0;
  let slow = false;
  try {
    for (let i = 0; i < o.warmupSteps && !slow; i++) {
      const t0 = performance.now();
      losses.push(await trainer.step(batch));
      const ms = performance.now() - t0;
      onStep?.('warmup', i, ms);
      slow = ms > o.slowStepMs;
    }
    const minTimed = slow ? 1 : o.minTimedSteps;
    const started = performance.now();
    for (let i = 0; i < o.timedSteps; i++) {
      if (i >= minTimed && performance.now() - started > o.budgetMs) break;
      const t0 = performance.now();
      losses.push(await trainer.step(batch));
      const ms = performance.now() - t0;
      stepMs.push(ms);
      onStep?.('timed', i, ms);
      if (i === 0) tensorsAtFirstTimed = tf.memory().numTensors;
      tensorsAtLastTimed = tf.memory().numTensors;
    }
    if (o.profile && !slow) {
      const t0 = performance.now();
      const info = await tf.profile(async () => {
        losses.push(await trainer.step(batch));
      });
      profiledStepMs = performance.now() - t0;
      // GPU backends time kernels asynchronously: settle every timing first.
      const settled = await Promise.all(
        info.kernels.map(async (k) => ({ name: k.name, kernelTimeMs: await Promise.resolve(k.kernelTimeMs) })),
      );
      kernels = summarizeKernels(settled);
    }
  } finally {
    batch.dispose();
    trainer.dispose();
    disposeSimclrModel(model);
  }
  const med = median(stepMs);
  const m = tf.memory();
  return {
    backend: tf.getBackend(),
    parameters,
    pairs: o.pairs,
    imagesPerStep: 2 * o.pairs,
    augment: o.augment,
    warmupSteps: o.warmupSteps,
    stepMs,
    medianMs: med,
    imagesPerSec: (2 * o.pairs) / (med / 1000),
    firstLoss: losses[0] ?? NaN,
    lastLoss: losses[losses.length - 1] ?? NaN,
    memoryAfter: { numTensors: m.numTensors, numBytes: m.numBytes },
    tensorsLeakedPerRun: tensorsAtLastTimed - tensorsAtFirstTimed,
    slow,
    kernels,
    ...(profiledStepMs !== undefined ? { profiledStepMs } : {}),
  };
}
