/**
 * The page's probe (and any caller with a DatasetSplit): frozen-encoder features of the
 * split's first rows, then the protocol of probe-baselines.ts with the tfjs objective,
 * and the raw-pixel baseline of the same rows, computed once per loaded split.
 */
import * as tf from '@tensorflow/tfjs';
import type { DatasetSplit } from '../data/dataset';
import type { ProbeProtocolResult } from './probe-protocol';
import { extractFeatures } from './probe';
import { probeWithSetup, rawPixelProbe, type MakeLossGrad, type ProbeSetup } from './probe-baselines';
import { withTfObjective } from './probe-tf';

/**
 * The tfjs objective reads its results synchronously (dataSync), which stalls WebGPU/WebGL in a worker:
 * there the plain-JS objective (the same J and ∇J, in float64) fits the probe instead.
 */
function withObjective<T>(fn: (make: MakeLossGrad) => T): T {
  return ['wasm', 'cpu'].includes(tf.getBackend()) ? withTfObjective(fn) : fn(undefined);
}

/** The rows a setup can use of this split (fewer when the split is smaller). */
export function fitSetup(split: DatasetSplit, setup: ProbeSetup): ProbeSetup {
  const labels = Math.min(setup.labels, split.train.count);
  return {
    labels,
    validation: Math.min(setup.validation, split.train.count - labels),
    test: Math.min(setup.test, split.test.count),
  };
}

export async function encoderProbe(
  encoder: tf.LayersModel,
  split: DatasetSplit,
  setup: ProbeSetup,
): Promise<ProbeProtocolResult> {
  const s = fitSetup(split, setup);
  const { train, test } = split;
  const shape = [train.height, train.width, train.channels] as const;
  const per = train.height * train.width * train.channels;
  const nTrain = s.labels + s.validation;
  const a = await extractFeatures(encoder, train.images.subarray(0, nTrain * per), nTrain, shape);
  const b = await extractFeatures(encoder, test.images.subarray(0, s.test * per), s.test, shape);
  return withObjective((make) =>
    probeWithSetup(
      { features: a.features, labels: train.labels.subarray(0, nTrain) },
      { features: b.features, labels: test.labels.subarray(0, s.test) },
      a.dim,
      train.numClasses,
      s,
      make,
    ),
  );
}

const rawCache = new WeakMap<DatasetSplit, Map<string, ProbeProtocolResult>>();

/** The raw-pixel baseline of this split's rows under `setup`; computed on first use per loaded split. */
export function rawPixelBaseline(split: DatasetSplit, setup: ProbeSetup): ProbeProtocolResult {
  const s = fitSetup(split, setup);
  const key = `${s.labels}/${s.validation}/${s.test}`;
  let bySetup = rawCache.get(split);
  if (!bySetup) rawCache.set(split, (bySetup = new Map()));
  let r = bySetup.get(key);
  if (!r) {
    r = withObjective((make) => rawPixelProbe(split.train, split.test, split.train.numClasses, s, make));
    bySetup.set(key, r);
  }
  return r;
}
