import type * as tf from '@tensorflow/tfjs';
import { createSimclrModel, disposeSimclrModel } from '../model/encoder';
import type { ModelConfig } from '../model/config';
import { unflattenWeights, type WeightLayout } from '../model/weights';
import type { DatasetSplit, ImageDataset } from '../data/dataset';
import { extractFeatures, linearProbe, type ProbeOptions } from './probe';

export interface ProbeComparison {
  trained: number;
  randomInit: number;
  /** What SSL bought: trained − randomInit (accuracy points as a fraction). */
  gain: number;
  trainCount: number;
  testCount: number;
}

export interface ProbeComparisonOptions extends Partial<ProbeOptions> {
  maxTrain?: number;
  maxTest?: number;
  /** Seed of the random-init baseline encoder, so comparisons are repeatable. */
  randomSeed?: number;
}

function firstN(ds: ImageDataset, n: number): ImageDataset {
  const count = Math.min(n, ds.count);
  const per = ds.width * ds.height * ds.channels;
  return { ...ds, count, images: ds.images.subarray(0, count * per), labels: ds.labels.subarray(0, count) };
}

/** The same probe on a trained encoder and on its random-init baseline, side by side. */
export async function compareProbes(
  trained: { encoder: tf.LayersModel },
  randomInit: { encoder: tf.LayersModel },
  split: DatasetSplit,
  opts: ProbeComparisonOptions = {},
): Promise<ProbeComparison> {
  const t = await probeAccuracy(trained, split, opts);
  const r = await probeAccuracy(randomInit, split, opts);
  return {
    trained: t.accuracy,
    randomInit: r.accuracy,
    gain: t.accuracy - r.accuracy,
    trainCount: t.trainCount,
    testCount: t.testCount,
  };
}

export async function probeAccuracy(
  model: { encoder: tf.LayersModel },
  split: DatasetSplit,
  opts: ProbeComparisonOptions = {},
): Promise<{ accuracy: number; trainCount: number; testCount: number }> {
  const train = firstN(split.train, opts.maxTrain ?? 2000);
  const test = firstN(split.test, opts.maxTest ?? 1000);
  const shape = [train.height, train.width, train.channels] as const;
  const a = await extractFeatures(model.encoder, train.images, train.count, shape);
  const b = await extractFeatures(model.encoder, test.images, test.count, shape);
  const r = await linearProbe(
    { features: a.features, labels: train.labels, dim: a.dim },
    { features: b.features, labels: test.labels, dim: b.dim },
    train.numClasses,
    opts,
  );
  return { accuracy: r.testAccuracy, trainCount: train.count, testCount: test.count };
}

/** Linear-probe accuracy of given weights and of a random-init encoder of the same architecture. */
export async function compareWithRandomInit(
  config: ModelConfig,
  layout: WeightLayout,
  weights: Float32Array,
  split: DatasetSplit,
  opts: ProbeComparisonOptions = {},
): Promise<ProbeComparison> {
  const trainedModel = createSimclrModel(config);
  const randomModel = createSimclrModel(config, opts.randomSeed ?? 12345);
  try {
    unflattenWeights(trainedModel, layout, weights);
    return await compareProbes(trainedModel, randomModel, split, opts);
  } finally {
    disposeSimclrModel(trainedModel);
    disposeSimclrModel(randomModel);
  }
}
