/**
 * Local SimCLR training on this device: the local model and its Adam state, the train loop, checkpoints in
 * IndexedDB, the linear probe and the held-out loss. Federated rounds use a separate model (federation-participant).
 */
import * as tf from '@tensorflow/tfjs';
import { createSimclrModel, disposeSimclrModel, type SimclrModel } from '../../../shared/model/encoder';
import {
  DEFAULT_MODEL_CONFIG,
  isDefaultModel,
  TINY_MODEL_CONFIG,
  type ModelConfig,
} from '../../../shared/model/config';
import { flattenWeightsAsync, unflattenWeights, weightLayout } from '../../../shared/model/weights';
import { createTrainer, type SimclrTrainer } from '../../../shared/ssl/train-step';
import { defaultPolicy } from '../../../shared/ssl/augment';
import type { AugmentationPolicy } from '../../../shared/ssl/augment-policy';
import { grayscaleRecipePolicy } from '../../../shared/ssl/recipe';
import { encoderProbe, fitSetup, rawPixelBaseline } from '../../../shared/ssl/probe-encoder';
import { describeProbe, LOW_LABEL_SETUP } from '../../../shared/ssl/probe-baselines';
import { heldOutLoss } from '../../../shared/ssl/held-out-loss';
import { toFloatBatch } from '../../../shared/data/dataset';
import { sampleWithoutReplacement } from '../../../shared/federation/local-round';
import { loadCheckpoint, saveCheckpoint, deleteCheckpoint } from '../store';
import type { WorkerSession } from './session';
import {
  DEFAULT_TRAIN,
  type InitOptions,
  type ProbeReport,
  type Progress,
  type TrainerStatus,
  type TrainOptions,
} from './types';

/** Seed of the random-init baseline encoder (the server's evaluation uses the same), so reruns agree. */
const RANDOM_INIT_SEED = 12345;

export class LocalTrainer {
  private model?: SimclrModel;
  private trainer?: SimclrTrainer;
  private trainerKey = '';
  private step = 0;
  private lossHistory: number[] = [];
  private restored = false;
  private checkpointKey = 'local';
  private stopRequested = false;

  constructor(private readonly session: WorkerSession) {}

  async init(opts: InitOptions = {}): Promise<TrainerStatus> {
    await this.session.ensureBackend(opts.forceBackend);
    this.checkpointKey = opts.checkpointKey ?? 'local';
    const config: ModelConfig = opts.model === 'tiny' ? TINY_MODEL_CONFIG : DEFAULT_MODEL_CONFIG;
    if (!this.model) {
      this.model = createSimclrModel(config);
      await this.restore();
    }
    return this.status();
  }

  private async restore(): Promise<void> {
    const model = this.requireModel();
    const ckpt = await loadCheckpoint(this.checkpointKey);
    if (!ckpt) return;
    const layout = weightLayout(model);
    if (ckpt.layoutHash !== layout.hash) {
      // A checkpoint for another architecture is stale; keep it out of the way.
      return;
    }
    unflattenWeights(model, layout, ckpt.weights);
    this.step = ckpt.step;
    this.lossHistory = ckpt.lossHistory;
    this.restored = true;
    if (ckpt.optimizer.length > 0) {
      const trainer = this.ensureTrainer(DEFAULT_TRAIN);
      const weights = ckpt.optimizer.map((w) => ({ name: w.name, tensor: tf.tensor(w.data, w.shape) }));
      // setWeights copies into new variables, so our temporary tensors must go.
      await trainer.optimizer.setWeights(weights);
      tf.dispose(weights.map((w) => w.tensor));
    }
  }

  status(): TrainerStatus {
    const model = this.requireModel();
    const { backend, data, running } = this.session;
    if (!backend) throw new Error('trainer not initialised: call init() first');
    return {
      backend,
      step: this.step,
      lossHistory: this.lossHistory,
      restored: this.restored,
      running,
      parameters: weightLayout(model).totalSize,
      ...(data ? { dataset: { source: data.source, count: data.split.train.count } } : {}),
    };
  }

  /** Trains until paused or maxSteps; progress goes to the page through a comlink proxy. */
  async train(options: Partial<TrainOptions>, onProgress: (p: Progress) => void): Promise<TrainerStatus> {
    if (this.session.running) throw new Error('training is already running');
    const data = this.session.data;
    if (!data) throw new Error('load a dataset before training');
    const opts = { ...DEFAULT_TRAIN, ...options };
    const ds = data.split.train;
    const trainer = this.ensureTrainer(opts);
    const shape = [ds.height, ds.width, ds.channels] as const;
    this.stopRequested = false;
    await this.session.exclusive(async () => {
      while (!this.stopRequested && (opts.maxSteps === undefined || this.step < opts.maxSteps)) {
        const n = Math.min(opts.batchSize, ds.count);
        const indices = sampleWithoutReplacement(ds.count, n, Math.random);
        const t0 = performance.now();
        const x = tf.tensor4d(toFloatBatch(ds, indices), [n, ...shape]);
        const loss = await trainer.step(x).finally(() => x.dispose());
        const ms = performance.now() - t0;
        this.step += 1;
        this.lossHistory.push(loss);
        const mem = tf.memory();
        onProgress({
          step: this.step,
          loss,
          imagesPerSec: (2 * n * 1000) / ms,
          msPerStep: ms,
          numTensors: mem.numTensors,
          numBytes: mem.numBytes,
        });
        if (this.step % opts.checkpointEvery === 0) await this.saveCheckpoint();
        // Yield so pause() and other messages get through between steps.
        await new Promise((r) => setTimeout(r, 0));
      }
      await this.saveCheckpoint();
    });
    return this.status();
  }

  pause(): void {
    this.stopRequested = true;
  }

  /**
   * bench:quality's probe at its low-label size (1,000 labels, C picked on 1,000 validation images, 1,000 test
   * images; fewer when the loaded split is smaller) on the local encoder, a seeded random-init encoder of the
   * same architecture, and the raw pixels of the same images.
   */
  async probe(labels = LOW_LABEL_SETUP.labels, test = LOW_LABEL_SETUP.test): Promise<ProbeReport> {
    const data = this.session.data;
    if (!data || data.source === 'user')
      throw new Error('the linear probe needs a labelled dataset (MNIST or Fashion-MNIST)');
    if (this.session.running) throw new Error('pause training before running the probe');
    const t0 = performance.now();
    const model = this.requireModel();
    const random = createSimclrModel(model.config, RANDOM_INIT_SEED);
    try {
      const setup = fitSetup(data.split, { ...LOW_LABEL_SETUP, labels, test });
      const trained = (await encoderProbe(model.encoder, data.split, setup)).testAccuracy;
      const randomInit = (await encoderProbe(random.encoder, data.split, setup)).testAccuracy;
      const raw = rawPixelBaseline(data.split, setup).testAccuracy;
      return {
        trained,
        randomInit,
        raw,
        gain: trained - randomInit,
        trainCount: setup.labels,
        validationCount: setup.validation,
        testCount: setup.test,
        protocol: describeProbe(setup),
        ms: performance.now() - t0,
      };
    } finally {
      disposeSimclrModel(random);
    }
  }

  /** The SimCLR loss of the local model on the first `count` held-out images, with fixed augmentation seeds. */
  heldOutLoss(count = 256, temperature = DEFAULT_TRAIN.temperature): number {
    const data = this.session.data;
    if (!data) throw new Error('load a dataset before scoring the model');
    if (this.session.running) throw new Error('pause training before scoring the model');
    const ds = data.split.test.count >= 2 ? data.split.test : data.split.train;
    const n = Math.min(count, ds.count);
    const indices = Array.from({ length: n }, (_, i) => i);
    const x = tf.tensor4d(toFloatBatch(ds, indices), [n, ds.height, ds.width, ds.channels]);
    try {
      return heldOutLoss(this.requireModel(), x, this.policy(), temperature);
    } finally {
      x.dispose();
    }
  }

  /** Forgets local progress: fresh weights, optimizer and history. */
  async reset(): Promise<TrainerStatus> {
    if (this.session.running) throw new Error('pause training before resetting');
    const config = this.requireModel().config;
    this.trainer?.dispose();
    this.trainer = undefined;
    disposeSimclrModel(this.requireModel());
    this.model = createSimclrModel(config);
    this.step = 0;
    this.lossHistory = [];
    this.restored = false;
    await deleteCheckpoint(this.checkpointKey);
    return this.status();
  }

  /**
   * The default encoder trains with the recipe's augmentations (no flip: the page cannot know that the user's
   * images are mirror-symmetric), the tiny one with the plain defaults. Fixed per model, so Adam's moments
   * survive a reload.
   */
  private policy(): AugmentationPolicy {
    const model = this.requireModel();
    return isDefaultModel(model.config)
      ? grayscaleRecipePolicy({ flip: false })
      : defaultPolicy(model.config.inputShape[2]);
  }

  private ensureTrainer(opts: TrainOptions): SimclrTrainer {
    const model = this.requireModel();
    const key = `${opts.learningRate}|${opts.temperature}`;
    if (this.trainer && this.trainerKey === key) return this.trainer;
    // Keep Adam's moments when only resuming with the same hyper-parameters.
    this.trainer?.dispose();
    this.trainer = createTrainer(model, {
      learningRate: opts.learningRate,
      temperature: opts.temperature,
      policy: this.policy(),
    });
    this.trainerKey = key;
    return this.trainer;
  }

  private async saveCheckpoint(): Promise<void> {
    const model = this.requireModel();
    const { layout, data } = await flattenWeightsAsync(model);
    const optWeights = this.trainer ? await this.trainer.optimizer.getWeights() : [];
    const optimizer = await Promise.all(
      optWeights.map(async (w) => ({
        name: w.name,
        shape: w.tensor.shape,
        data: Float32Array.from(await w.tensor.data()),
      })),
    );
    // getWeights returns the live moment variables plus a fresh iteration scalar; free only the latter.
    tf.dispose(optWeights.map((w) => w.tensor).filter((t) => !(t instanceof tf.Variable)));
    await saveCheckpoint({
      key: this.checkpointKey,
      layoutHash: layout.hash,
      weights: data,
      optimizer,
      step: this.step,
      lossHistory: this.lossHistory,
      dataset: this.session.data?.source ?? '',
      savedAt: Date.now(),
    });
  }

  private requireModel(): SimclrModel {
    if (!this.model) throw new Error('trainer not initialised: call init() first');
    return this.model;
  }
}
