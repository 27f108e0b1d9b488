import type * as tf from '@tensorflow/tfjs';
import { createSimclrModel, disposeSimclrModel } from '../model/encoder';
import type { ModelConfig } from '../model/config';
import { unflattenWeights, type WeightLayout } from '../model/weights';
import type { DatasetSplit, ImageDataset } from '../data/dataset';
import { extractFeatures } from './probe';
import { LOW_LABEL_SETUP, describeProbe, probeWithSetup, rawPixelProbe, type ProbeSetup } from './probe-baselines';
import { withTfObjective } from './probe-tf';

export interface ProbeComparison {
  trained: number;
  randomInit: number;
  /** The same probe on the raw pixels of the same images: is the encoder worth having at all? */
  rawPixels: number;
  /** What SSL bought: trained − randomInit (accuracy points as a fraction). */
  gain: number;
  trainCount: number;
  testCount: number;
  /** The probe protocol in words (bench:quality's, shared/ssl/probe-baselines.ts). */
  protocol: string;
}

export interface ProbeComparisonOptions {
  /** Labelled, validation and test rows (default: bench:quality's low-label regime, 1,000 each). */
  setup?: ProbeSetup;
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
  const setup = opts.setup ?? LOW_LABEL_SETUP;
  const t = await probeAccuracy(trained, split, opts);
  const r = await probeAccuracy(randomInit, split, opts);
  const raw = withTfObjective((make) => rawPixelProbe(split.train, split.test, split.train.numClasses, setup, make));
  return {
    trained: t.accuracy,
    randomInit: r.accuracy,
    rawPixels: raw.testAccuracy,
    gain: t.accuracy - r.accuracy,
    trainCount: t.trainCount,
    testCount: t.testCount,
    protocol: describeProbe(setup),
  };
}

export async function probeAccuracy(
  model: { encoder: tf.LayersModel },
  split: DatasetSplit,
  opts: ProbeComparisonOptions = {},
): Promise<{ accuracy: number; trainCount: number; testCount: number }> {
  const setup = opts.setup ?? LOW_LABEL_SETUP;
  const train = firstN(split.train, setup.labels + setup.validation);
  const test = firstN(split.test, setup.test);
  const shape = [train.height, train.width, train.channels] as const;
  const a = await extractFeatures(model.encoder, train.images, train.count, shape);
  const b = await extractFeatures(model.encoder, test.images, test.count, shape);
  // bench:quality's protocol: standardised features, L-BFGS logistic regression, C picked on the validation rows.
  const r = withTfObjective((make) =>
    probeWithSetup(
      { features: a.features, labels: train.labels },
      { features: b.features, labels: test.labels },
      a.dim,
      train.numClasses,
      setup,
      make,
    ),
  );
  return { accuracy: r.testAccuracy, trainCount: r.trainCount, testCount: r.testCount };
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
