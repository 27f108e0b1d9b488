/// <reference lib="webworker" />
import * as Comlink from 'comlink';
import * as tf from '@tensorflow/tfjs';
import { type BackendChoice, type BackendName, selectBackend } from './backend';
import { createSimclrModel, disposeSimclrModel, type SimclrModel } from '../../shared/model/encoder';
import { DEFAULT_MODEL_CONFIG, TINY_MODEL_CONFIG, type ModelConfig } from '../../shared/model/config';
import { flattenWeightsAsync, unflattenWeights, weightLayout } from '../../shared/model/weights';
import { createTrainer, type SimclrTrainer } from '../../shared/ssl/train-step';
import { defaultPolicy } from '../../shared/ssl/augment';
import { probeAccuracy } from '../../shared/ssl/evaluate';
import { heldOutLoss } from '../../shared/ssl/held-out-loss';
import type { ImageDataset, DatasetSplit } from '../../shared/data/dataset';
import { toFloatBatch } from '../../shared/data/dataset';
import { decodeDatasetBundle } from '../../shared/data/bundle';
import { loadCheckpoint, saveCheckpoint, deleteCheckpoint, listUserImages } from './store';
import { subset } from '../../shared/data/dataset';
import { partition } from '../../shared/data/splits';
import { sampleWithoutReplacement, trainLocalRound, type LocalRoundResult } from '../../shared/federation/local-round';
import type { TrainingConfig } from '../../shared/protocol/round-config';
import { ModelConfigSchema } from '../../shared/model/config';
import { benchmarkTrainStep, type TrainBenchmarkOptions, type TrainBenchmarkResult } from '../../shared/ssl/train-benchmark';

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
  gain: number;
  trainCount: number;
  testCount: number;
  ms: number;
}

const DEFAULT_TRAIN: TrainOptions = { batchSize: 64, learningRate: 1e-3, temperature: 0.5, checkpointEvery: 10 };

class Trainer {
  private backend?: BackendChoice;
  private model?: SimclrModel;
  private fedModel?: SimclrModel;
  private trainer?: SimclrTrainer;
  private trainerKey = '';
  private step = 0;
  private lossHistory: number[] = [];
  private restored = false;
  private checkpointKey = 'local';
  private data?: { source: DatasetSource; split: DatasetSplit };
  private running = false;
  private stopRequested = false;

  async init(opts: InitOptions = {}): Promise<TrainerStatus> {
    this.backend ??= await selectBackend(opts.forceBackend);
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
    return {
      backend: this.backend!,
      step: this.step,
      lossHistory: this.lossHistory,
      restored: this.restored,
      running: this.running,
      parameters: weightLayout(model).totalSize,
      ...(this.data ? { dataset: { source: this.data.source, count: this.data.split.train.count } } : {}),
    };
  }

  async loadDataset(source: DatasetSource, shard?: ShardSpec): Promise<{ source: DatasetSource; count: number }> {
    let split = source === 'user' ? await userImagesSplit() : await fetchBundle(source);
    if (shard) {
      if (!(shard.index >= 0 && shard.index < shard.count)) throw new Error(`shard ${shard.index} is outside 0..${shard.count - 1}`);
      const parts = partition(split.train.labels, shard.count, shard.split, shard.seed);
      split = { ...split, train: subset(split.train, parts[shard.index]!) };
    }
    if (split.train.count < 2) throw new Error(`dataset "${source}" has ${split.train.count} images; SimCLR needs at least 2`);
    this.data = { source, split };
    return { source, count: split.train.count };
  }

  /** Trains until paused or maxSteps; progress goes to the page through a comlink proxy. */
  async train(options: Partial<TrainOptions>, onProgress: (p: Progress) => void): Promise<TrainerStatus> {
    if (this.running) throw new Error('training is already running');
    if (!this.data) throw new Error('load a dataset before training');
    const opts = { ...DEFAULT_TRAIN, ...options };
    const ds = this.data.split.train;
    const trainer = this.ensureTrainer(opts);
    const shape = [ds.height, ds.width, ds.channels] as const;
    this.running = true;
    this.stopRequested = false;
    try {
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
        onProgress({ step: this.step, loss, imagesPerSec: (2 * n * 1000) / ms, msPerStep: ms, numTensors: mem.numTensors, numBytes: mem.numBytes });
        if (this.step % opts.checkpointEvery === 0) await this.saveCheckpoint();
        // Yield so pause() and other messages get through between steps.
        await new Promise((r) => setTimeout(r, 0));
      }
      await this.saveCheckpoint();
    } finally {
      this.running = false;
    }
    return this.status();
  }

  pause(): void {
    this.stopRequested = true;
  }

  async probe(maxTrain = 2000, maxTest = 1000): Promise<ProbeReport> {
    if (!this.data || this.data.source === 'user') throw new Error('the linear probe needs a labelled dataset (MNIST or Fashion-MNIST)');
    if (this.running) throw new Error('pause training before running the probe');
    const t0 = performance.now();
    const model = this.requireModel();
    const random = createSimclrModel(model.config);
    try {
      const opts = { maxTrain, maxTest };
      const trained = await probeAccuracy(model, this.data.split, opts);
      const randomInit = await probeAccuracy(random, this.data.split, opts);
      return {
        trained: trained.accuracy, randomInit: randomInit.accuracy, gain: trained.accuracy - randomInit.accuracy,
        trainCount: trained.trainCount, testCount: trained.testCount, ms: performance.now() - t0,
      };
    } finally {
      disposeSimclrModel(random);
    }
  }

  /** The SimCLR loss of the local model on the first `count` held-out images, with fixed augmentation seeds. */
  heldOutLoss(count = 256, temperature = DEFAULT_TRAIN.temperature): number {
    if (!this.data) throw new Error('load a dataset before scoring the model');
    if (this.running) throw new Error('pause training before scoring the model');
    const ds = this.data.split.test.count >= 2 ? this.data.split.test : this.data.split.train;
    const n = Math.min(count, ds.count);
    const indices = Array.from({ length: n }, (_, i) => i);
    const x = tf.tensor4d(toFloatBatch(ds, indices), [n, ds.height, ds.width, ds.channels]);
    try {
      return heldOutLoss(this.requireModel(), x, defaultPolicy(ds.channels), temperature);
    } finally {
      x.dispose();
    }
  }

  /** Builds the federation model with the server's architecture (kept apart from local training). */
  setFederationModel(config: unknown): { parameters: number } {
    const cfg = ModelConfigSchema.parse(config);
    if (!this.fedModel || JSON.stringify(this.fedModel.config) !== JSON.stringify(cfg)) {
      if (this.fedModel) disposeSimclrModel(this.fedModel);
      this.fedModel = createSimclrModel(cfg);
    }
    return { parameters: weightLayout(this.fedModel).totalSize };
  }

  /** One federated round on local data; only the delta and scalars go back to the page. */
  async trainRound(globalWeights: Float32Array, training: TrainingConfig, onStep?: (step: number, loss: number) => void): Promise<LocalRoundResult> {
    if (!this.fedModel) throw new Error('join the federation first (no server model config yet)');
    if (!this.data) throw new Error('load a dataset before joining the federation');
    if (this.running) throw new Error('pause local training before a federated round');
    this.running = true;
    try {
      const result = await trainLocalRound({
        model: this.fedModel, layout: weightLayout(this.fedModel), globalWeights, data: this.data.split.train, training,
        ...(onStep ? { onStep } : {}),
      });
      return Comlink.transfer(result, [result.delta.buffer]);
    } finally {
      this.running = false;
    }
  }

  /** Times training steps on this worker's backend with a fresh model (npm run bench:train). */
  async benchmark(
    opts: Partial<Omit<TrainBenchmarkOptions, 'model'>> & { model?: 'default' | 'tiny' },
    onStep?: (phase: 'warmup' | 'timed', index: number, ms: number) => void,
  ): Promise<TrainBenchmarkResult & { choice: BackendChoice }> {
    if (this.running) throw new Error('pause training before running the benchmark');
    const choice = this.backend ?? (this.backend = await selectBackend());
    const { model, ...rest } = opts;
    this.running = true;
    try {
      const result = await benchmarkTrainStep(
        { ...rest, model: model === 'tiny' ? TINY_MODEL_CONFIG : DEFAULT_MODEL_CONFIG },
        onStep,
      );
      return { ...result, choice };
    } finally {
      this.running = false;
    }
  }

  memory(): { numTensors: number; numBytes: number } {
    const m = tf.memory();
    return { numTensors: m.numTensors, numBytes: m.numBytes };
  }

  /** Forgets local progress: fresh weights, optimizer and history. */
  async reset(): Promise<TrainerStatus> {
    if (this.running) throw new Error('pause training before resetting');
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

  private ensureTrainer(opts: TrainOptions): SimclrTrainer {
    const model = this.requireModel();
    const key = `${opts.learningRate}|${opts.temperature}`;
    if (this.trainer && this.trainerKey === key) return this.trainer;
    // Keep Adam's moments when only resuming with the same hyper-parameters.
    this.trainer?.dispose();
    this.trainer = createTrainer(model, {
      learningRate: opts.learningRate,
      temperature: opts.temperature,
      policy: defaultPolicy(model.config.inputShape[2]),
    });
    this.trainerKey = key;
    return this.trainer;
  }

  private async saveCheckpoint(): Promise<void> {
    const model = this.requireModel();
    const { layout, data } = await flattenWeightsAsync(model);
    const optWeights = this.trainer ? await this.trainer.optimizer.getWeights() : [];
    const optimizer = await Promise.all(
      optWeights.map(async (w) => ({ name: w.name, shape: w.tensor.shape, data: Float32Array.from(await w.tensor.data()) })),
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
      dataset: this.data?.source ?? '',
      savedAt: Date.now(),
    });
  }

  private requireModel(): SimclrModel {
    if (!this.model) throw new Error('trainer not initialised: call init() first');
    return this.model;
  }
}

async function fetchBundle(name: 'mnist' | 'fashion-mnist'): Promise<DatasetSplit> {
  const url = new URL(`${import.meta.env.BASE_URL}datasets/${name}.bin`, self.location.origin);
  const res = await fetch(url);
  if (!res.ok) throw new Error(`could not load dataset ${name}: HTTP ${res.status} from ${url.pathname} (run "npm run build")`);
  return decodeDatasetBundle(new Uint8Array(await res.arrayBuffer()));
}

async function userImagesSplit(): Promise<DatasetSplit> {
  const records = await listUserImages();
  if (records.length === 0) throw new Error('no images uploaded yet: use "Add images" first');
  const { width, height, channels } = records[0]!;
  const per = width * height * channels;
  const images = new Uint8Array(records.length * per);
  records.forEach((r, i) => images.set(r.pixels, i * per));
  const train: ImageDataset = {
    name: 'user', width, height, channels, numClasses: 0, classNames: [],
    images, labels: new Uint8Array(records.length), count: records.length,
  };
  return { train, test: { ...train, images: new Uint8Array(0), labels: new Uint8Array(0), count: 0 } };
}

const trainer = new Trainer();
export type TrainerApi = Trainer;
Comlink.expose(trainer);
