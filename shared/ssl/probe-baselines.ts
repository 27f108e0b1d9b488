/**
 * The probe the page and the console show, as bench:quality runs it: one function for
 * every encoder and for the raw-pixel baseline, so the three numbers a user compares
 * (trained, random init, raw pixels) come from the same protocol on the same images.
 * Pure apart from the optional objective (`makeLossGrad`, e.g. tfjs matrix products).
 */
import { DEFAULT_C_GRID, runProbeProtocol, type ProbeProtocolResult } from './probe-protocol';

/** How many rows each part of the probe uses: the first `labels` training rows are labelled, the next `validation` pick C. */
export interface ProbeSetup {
  labels: number;
  validation: number;
  test: number;
}

/** bench:quality's low-label regime (its main probe is 10,000 labels / 3,000 test). */
export const LOW_LABEL_SETUP: ProbeSetup = { labels: 1000, validation: 1000, test: 1000 };

export const PROBE_CLASSIFIER =
  'multinomial logistic regression on standardised frozen features, fitted by L-BFGS to convergence';

/** The label, test and classifier a number was produced with, in words (shown next to it). */
export function describeProbe(s: ProbeSetup): string {
  const grid = DEFAULT_C_GRID.join(', ');
  return (
    `${s.labels.toLocaleString('en-US')} labelled / ${s.test.toLocaleString('en-US')} test images; ${PROBE_CLASSIFIER}, ` +
    `L2 strength C ∈ {${grid}} picked on ${s.validation.toLocaleString('en-US')} validation images ` +
    `(bench:quality's protocol; its headline numbers use 10,000 labels / 3,000 test)`
  );
}

/** Raw pixels in [0, 1] as features (standardisation inside the protocol makes the scale moot). */
export function rawPixelFeatures(images: Uint8Array): Float32Array {
  return Float32Array.from(images, (v) => v / 255);
}

export type MakeLossGrad = Parameters<typeof runProbeProtocol>[6];

/**
 * The protocol on features already extracted: `train` holds at least labels + validation
 * rows (labelled first, then validation), `test` at least `setup.test` rows.
 */
export function probeWithSetup(
  train: { features: Float32Array; labels: Uint8Array },
  test: { features: Float32Array; labels: Uint8Array },
  dim: number,
  classes: number,
  setup: ProbeSetup,
  makeLossGrad?: MakeLossGrad,
): ProbeProtocolResult {
  const nTrain = train.labels.length;
  const nTest = test.labels.length;
  if (train.features.length !== nTrain * dim || test.features.length !== nTest * dim)
    throw new Error(`probe: features are not rows of dim ${dim}`);
  const labels = Math.min(setup.labels, nTrain);
  const validation = Math.min(setup.validation, nTrain - labels);
  const testRows = Math.min(setup.test, nTest);
  if (labels < 2 || testRows < 1) throw new Error(`probe: ${labels} labelled and ${testRows} test rows are too few`);
  const rows = (x: { features: Float32Array; labels: Uint8Array }, from: number, to: number) => ({
    features: x.features.subarray(from * dim, to * dim),
    labels: x.labels.subarray(from, to),
  });
  return runProbeProtocol(
    rows(train, 0, labels),
    rows(test, 0, testRows),
    dim,
    classes,
    labels,
    validation > 0 ? { cGrid: DEFAULT_C_GRID, validation: rows(train, labels, labels + validation) } : {},
    makeLossGrad,
  );
}

/** The raw-pixel baseline: the same protocol on the pixels of the same rows. */
export function rawPixelProbe(
  train: { images: Uint8Array; labels: Uint8Array },
  test: { images: Uint8Array; labels: Uint8Array },
  classes: number,
  setup: ProbeSetup,
  makeLossGrad?: MakeLossGrad,
): ProbeProtocolResult {
  const nTrain = Math.min(train.labels.length, setup.labels + setup.validation);
  const nTest = Math.min(test.labels.length, setup.test);
  const per = train.images.length / train.labels.length;
  if (!Number.isInteger(per) || per < 1 || test.images.length !== test.labels.length * per)
    throw new Error('probe: images are not rows of one size');
  return probeWithSetup(
    { features: rawPixelFeatures(train.images.subarray(0, nTrain * per)), labels: train.labels.subarray(0, nTrain) },
    { features: rawPixelFeatures(test.images.subarray(0, nTest * per)), labels: test.labels.subarray(0, nTest) },
    per,
    classes,
    setup,
    makeLossGrad,
  );
}
