import * as tf from '@tensorflow/tfjs';
import { type SimclrModel, project } from '../model/encoder';
import { ntXentLoss } from './ntxent';
import { type AugmentationPolicy, type Rng, makeRng, twoViews } from './augment';

export interface TrainConfig {
  learningRate: number;
  temperature: number;
  policy: AugmentationPolicy;
  /** Seeds the augmentation stream so a run is reproducible; unseeded runs use Math.random. */
  augmentSeed?: number;
}

/** Adam-driven SimCLR training on one model; owns its optimizer state. */
export interface SimclrTrainer {
  readonly optimizer: tf.AdamOptimizer;
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
  const optimizer = tf.train.adam(cfg.learningRate);
  const vars = trainableVars(model);
  const rng = cfg.augmentSeed === undefined ? undefined : makeRng(cfg.augmentSeed);
  return {
    optimizer,
    async step(batch) {
      if (batch.shape[0] < 2) throw new Error('a SimCLR step needs at least 2 images (negatives)');
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
