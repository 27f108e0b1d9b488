/** What the trainer worker's API takes and returns (the page imports these through trainer.worker.ts). */
import type { BackendChoice, BackendName } from '../backend';

/** Which slice of a bundled dataset this client holds (simulated clients). */
export interface ShardSpec {
  index: number;
  count: number;
  split: string;
  seed: number;
}

export type DatasetSource = 'mnist' | 'fashion-mnist' | 'user';

export interface InitOptions {
  forceBackend?: BackendName;
  model?: 'default' | 'tiny';
  checkpointKey?: string;
}

export interface TrainOptions {
  batchSize: number;
  learningRate: number;
  temperature: number;
  /** Stop after this many total steps (undefined: run until paused). */
  maxSteps?: number;
  /** Save a checkpoint every this many steps. */
  checkpointEvery: number;
}

/** τ is the recipe's (shared/ssl/recipe.ts); the page trains open-ended, so the learning rate is constant. */
export const DEFAULT_TRAIN: TrainOptions = { batchSize: 64, learningRate: 1e-3, temperature: 0.2, checkpointEvery: 10 };

export interface Progress {
  step: number;
  loss: number;
  imagesPerSec: number;
  msPerStep: number;
  numTensors: number;
  numBytes: number;
}

export interface TrainerStatus {
  backend: BackendChoice;
  step: number;
  lossHistory: number[];
  restored: boolean;
  dataset?: { source: DatasetSource; count: number };
  running: boolean;
  parameters: number;
}

export interface ProbeReport {
  trained: number;
  randomInit: number;
  /** The same probe on the raw pixels of the same images: the bar an encoder must clear. */
  raw: number;
  /** trained − randomInit. */
  gain: number;
  trainCount: number;
  validationCount: number;
  testCount: number;
  /** The protocol, in words (labels, test images, classifier). */
  protocol: string;
  ms: number;
}
