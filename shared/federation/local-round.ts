import * as tf from '@tensorflow/tfjs';
import type { SimclrModel } from '../model/encoder';
import { computeDelta, flattenWeightsAsync, unflattenWeights, type WeightLayout } from '../model/weights';
import { createTrainer } from '../ssl/train-step';
import { defaultPolicy } from '../ssl/augment';
import { type ImageDataset, toFloatBatch } from '../data/dataset';
import type { TrainingConfig } from '../protocol/round-config';

export interface LocalRoundResult {
  delta: Float32Array;
  meanLoss: number;
  steps: number;
  numExamples: number;
}

export interface LocalRoundOptions {
  model: SimclrModel;
  layout: WeightLayout;
  globalWeights: Float32Array;
  data: ImageDataset;
  training: TrainingConfig;
  onStep?: (step: number, loss: number) => void;
  /** Uniform [0,1) source for batch sampling (Math.random by default). */
  random?: () => number;
}

/**
 * One client's part of a federated round: start from the global weights, run
 * `localSteps` SimCLR steps on local data with a fresh Adam, return the delta.
 * Only the delta and scalar metrics leave this function.
 */
export async function trainLocalRound(opts: LocalRoundOptions): Promise<LocalRoundResult> {
  const { model, layout, globalWeights, data, training } = opts;
  if (data.count < 2) throw new Error(`local dataset has ${data.count} images; SimCLR needs at least 2`);
  unflattenWeights(model, layout, globalWeights);
  const trainer = createTrainer(model, {
    learningRate: training.learningRate,
    temperature: training.temperature,
    policy: training.augmentation ?? defaultPolicy(data.channels),
  });
  const random = opts.random ?? Math.random;
  const shape = [data.height, data.width, data.channels] as const;
  const n = Math.min(training.batchSize, data.count);
  let lossSum = 0;
  try {
    for (let step = 1; step <= training.localSteps; step++) {
      const indices = sampleWithoutReplacement(data.count, n, random);
      const x = tf.tensor4d(toFloatBatch(data, indices), [n, ...shape]);
      const loss = await trainer.step(x).finally(() => x.dispose());
      lossSum += loss;
      opts.onStep?.(step, loss);
    }
  } finally {
    trainer.dispose();
  }
  const local = await flattenWeightsAsync(model);
  return {
    delta: computeDelta(local.data, globalWeights),
    meanLoss: lossSum / training.localSteps,
    steps: training.localSteps,
    numExamples: data.count,
  };
}

export function sampleWithoutReplacement(count: number, n: number, random: () => number): number[] {
  const chosen = new Set<number>();
  // Floyd's algorithm: n distinct indices without materialising [0, count).
  for (let j = count - n; j < count; j++) {
    const t = Math.floor(random() * (j + 1));
    chosen.add(chosen.has(t) ? j : t);
  }
  return [...chosen];
}
