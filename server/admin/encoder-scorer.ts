import * as tf from '@tensorflow/tfjs';
import type { Registry } from '../registry/registry';
import { loadVersion } from '../model/global-model';
import { loadNpmDataset } from '../data/npm-datasets';
import { createSimclrModel, disposeSimclrModel } from '../../shared/model/encoder';
import type { ModelConfig } from '../../shared/model/config';
import { unflattenWeights } from '../../shared/model/weights';
import type { DatasetSplit } from '../../shared/data/dataset';
import type { ProbeSetup } from '../../shared/ssl/probe-baselines';
import { protocolProbe, RawBaselineCache } from './raw-baseline';
import { initWasmBackendForNode } from '../../shared/tfjs/wasm-node';
import type { EvaluationOptions } from './evaluation-options';

const yieldToEventLoop = () => new Promise<void>((r) => setImmediate(r));

interface EvalData {
  split: DatasetSplit;
  shape: [number, number, number];
}

export interface Embeddings {
  emb: Float32Array;
  dim: number;
}

export interface EncoderScore {
  accuracy: number;
  /** Embeddings of the fixed reference images. */
  ref: Float32Array;
  dim: number;
  trainCount: number;
  testCount: number;
}

/**
 * Scores one encoder on the labelled evaluation set: frozen features a batch at a time (yielding to the
 * event loop between batches), a linear probe, and the reference embeddings; caches the random-init
 * baseline and the reference embeddings of the few most recent versions. `check` throws to abort.
 */
export class EncoderScorer {
  private data?: EvalData;
  private randomBaseline?: number;
  private readonly rawBaselines = new RawBaselineCache();
  private readonly referenceCache = new Map<number, Embeddings>();

  constructor(
    private readonly registry: Registry,
    private readonly modelConfig: () => ModelConfig,
    private readonly options: EvaluationOptions,
    private readonly check: () => void,
  ) {}

  async prepare(): Promise<void> {
    if (this.data) return;
    await initWasmBackendForNode();
    const o = this.options;
    const split = loadNpmDataset(o.dataset, {
      trainPerClass: Math.ceil((o.trainImages + o.validationImages) / 10),
      testPerClass: Math.ceil(Math.max(o.testImages, o.referenceImages) / 10),
    });
    const cfg = this.modelConfig();
    this.data = { split, shape: [cfg.inputShape[0], cfg.inputShape[1], cfg.inputShape[2]] };
  }

  /** Probe accuracy of a random-init encoder (seeded), computed once. */
  async baseline(): Promise<number> {
    if (this.randomBaseline === undefined) {
      const random = createSimclrModel(this.modelConfig(), this.options.randomSeed);
      try {
        this.randomBaseline = (await this.score(random.encoder)).accuracy;
      } finally {
        disposeSimclrModel(random);
      }
    }
    return this.randomBaseline;
  }

  /** The same probe on the raw pixels of the same images (per dataset and setup, cached). */
  rawBaseline(): number {
    return this.rawBaselines.get(this.options.dataset, this.data!.split, this.setup()).testAccuracy;
  }

  /** The probe's row counts as the loaded split allows them (before prepare(): as configured). */
  setup(): ProbeSetup {
    const o = this.options;
    const split = this.data?.split;
    const labels = Math.min(o.trainImages, split?.train.count ?? o.trainImages);
    return {
      labels,
      validation: Math.min(o.validationImages, (split?.train.count ?? Infinity) - labels),
      test: Math.min(o.testImages, split?.test.count ?? o.testImages),
    };
  }

  /** Scores a stored version's encoder and remembers its reference embeddings. */
  async scoreVersion(version: number): Promise<EncoderScore> {
    const cfg = this.modelConfig();
    const global = loadVersion(this.registry, version, cfg);
    const model = createSimclrModel(cfg);
    try {
      unflattenWeights(model, global.layout, global.weights);
      const s = await this.score(model.encoder);
      this.remember(version, { emb: s.ref, dim: s.dim });
      return s;
    } finally {
      disposeSimclrModel(model);
    }
  }

  /** Reference embeddings of a stored version (cached for recent ones), or undefined if it is gone. */
  async referenceEmbeddings(version: number): Promise<Embeddings | undefined> {
    const cached = this.referenceCache.get(version);
    if (cached) return cached;
    if (!this.registry.getVersion(version)) return undefined;
    const model = createSimclrModel(this.modelConfig());
    try {
      const stored = loadVersion(this.registry, version, this.modelConfig());
      unflattenWeights(model, stored.layout, stored.weights);
      const nRef = Math.min(this.options.referenceImages, this.data!.split.test.count);
      const f = await this.features(model.encoder, this.data!.split.test.images, nRef);
      const entry = { emb: f.features, dim: f.dim };
      this.remember(version, entry);
      return entry;
    } finally {
      disposeSimclrModel(model);
    }
  }

  private remember(version: number, entry: Embeddings): void {
    this.referenceCache.set(version, entry);
    // Keep the few most recent versions: the next one's parent is almost always among them.
    while (this.referenceCache.size > 4) this.referenceCache.delete(this.referenceCache.keys().next().value!);
  }

  /** Frozen-encoder features, a batch at a time with a yield between batches. */
  private async features(
    encoder: tf.LayersModel,
    images: Uint8Array,
    count: number,
  ): Promise<{ features: Float32Array; dim: number }> {
    const shape = this.data!.shape;
    const per = shape[0] * shape[1] * shape[2];
    const bs = this.options.batchSize;
    let out = new Float32Array(0);
    let dim = 0;
    for (let start = 0; start < count; start += bs) {
      this.check();
      const n = Math.min(bs, count - start);
      const t = tf.tidy(() => {
        const x = tf
          .tensor4d(images.subarray(start * per, (start + n) * per), [n, ...shape], 'int32')
          .toFloat()
          .div(255);
        return encoder.predict(x) as tf.Tensor2D;
      });
      try {
        if (start === 0) {
          dim = t.shape[1];
          out = new Float32Array(count * dim);
        }
        out.set((await t.data()) as Float32Array, start * dim);
      } finally {
        t.dispose();
      }
      await yieldToEventLoop();
    }
    return { features: out, dim };
  }

  /** Probe accuracy (bench:quality's protocol, as for the raw-pixel baseline) and reference embeddings. */
  private async score(encoder: tf.LayersModel): Promise<EncoderScore> {
    const { split } = this.data!;
    const o = this.options;
    const setup = this.setup();
    const nFeat = setup.labels + setup.validation;
    const nTest = Math.min(Math.max(o.testImages, o.referenceImages), split.test.count);
    const train = await this.features(encoder, split.train.images, nFeat);
    const test = await this.features(encoder, split.test.images, nTest);
    this.check();
    const r = protocolProbe(
      { features: train.features, labels: split.train.labels.subarray(0, nFeat) },
      {
        features: test.features.subarray(0, setup.test * test.dim),
        labels: split.test.labels.subarray(0, setup.test),
      },
      train.dim,
      split.train.numClasses,
      setup,
    );
    const nRef = Math.min(o.referenceImages, nTest);
    return {
      accuracy: r.testAccuracy,
      ref: test.features.slice(0, nRef * test.dim),
      dim: test.dim,
      trainCount: setup.labels,
      testCount: setup.test,
    };
  }
}
