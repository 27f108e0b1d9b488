import * as tf from '@tensorflow/tfjs';
import { type SimclrModel, project } from '../model/encoder';
import { ntXentLoss } from './ntxent';
import { type AugmentationPolicy, type Rng, makeRng, twoViews } from './augment';
import { type WarmupCosine, warmupCosineLr } from './lr-schedule';

export interface TrainConfig {
  learningRate: number;
  temperature: number;
  policy: AugmentationPolicy;
  /** Seeds the augmentation stream so a run is reproducible; unseeded runs use Math.random. */
  augmentSeed?: number;
  /** Warm-up + cosine schedule over this trainer's steps; its peak replaces learningRate. */
  schedule?: WarmupCosine;
  /** Steps already taken (a resumed run): the schedule goes on from here. Default 0. */
  startStep?: number;
}

/** Adam whose learning rate can follow a schedule (tfjs keeps it protected). */
export class ScheduledAdam extends tf.AdamOptimizer {
  setLearningRate(lr: number): void {
    this.learningRate = lr;
  }
  get currentLearningRate(): number {
    return this.learningRate;
  }
}

/** Adam-driven SimCLR training on one model; owns its optimizer state. */
export interface SimclrTrainer {
  readonly optimizer: ScheduledAdam;
  /**
   * One step on a batch of N images (NHWC, [0,1]); resolves to the NT-Xent loss.
   * Async because a synchronous GPU read-back stalls (or breaks) WebGPU in workers.
   */
  step(batch: tf.Tensor4D): Promise<number>;
  dispose(): void;
}

export function trainableVars(model: SimclrModel): tf.Variable[] {
  return [...model.encoder.trainableWeights, ...model.head.trainableWeights].map((w) => w.read() as tf.Variable);
}

/** Loss of one SimCLR step: augment twice, project both views, NT-Xent. */
export function simclrLoss(model: SimclrModel, batch: tf.Tensor4D, cfg: TrainConfig, rng?: Rng): tf.Scalar {
  return tf.tidy(() => {
    const [v1, v2] = twoViews(batch, cfg.policy, rng ? { rng } : {});
    return ntXentLoss(project(model, v1), project(model, v2), cfg.temperature);
  });
}

export function createTrainer(model: SimclrModel, cfg: TrainConfig): SimclrTrainer {
  // tf.train.adam's defaults: β1 0.9, β2 0.999, ε 1e-7.
  const optimizer = new ScheduledAdam(cfg.schedule ? cfg.schedule.peak : cfg.learningRate, 0.9, 0.999, 1e-7);
  const vars = trainableVars(model);
  const rng = cfg.augmentSeed === undefined ? undefined : makeRng(cfg.augmentSeed);
  let t = cfg.startStep ?? 0;
  return {
    optimizer,
    async step(batch) {
      if (batch.shape[0] < 2) throw new Error('a SimCLR step needs at least 2 images (negatives)');
      if (cfg.schedule) optimizer.setLearningRate(warmupCosineLr(t, cfg.schedule));
      t++;
      const loss = optimizer.minimize(() => simclrLoss(model, batch, cfg, rng), true, vars);
      if (!loss) throw new Error('optimizer returned no loss');
      const value = (await loss.data())[0]!;
      loss.dispose();
      return value;
    },
    dispose() {
      optimizer.dispose();
    },
  };
}
