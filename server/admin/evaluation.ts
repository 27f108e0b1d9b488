import { EventEmitter } from 'node:events';
import * as tf from '@tensorflow/tfjs';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Registry } from '../registry/registry';
import { loadVersion } from '../model/global-model';
import { loadNpmDataset } from '../data/npm-datasets';
import { createSimclrModel, disposeSimclrModel } from '../../shared/model/encoder';
import type { ModelConfig } from '../../shared/model/config';
import { unflattenWeights } from '../../shared/model/weights';
import { DATASET_NAMES, type DatasetSplit } from '../../shared/data/dataset';
import { describeProbe, type ProbeSetup } from '../../shared/ssl/probe-baselines';
import { protocolProbe, RawBaselineCache } from './raw-baseline';
import { embeddingDrift, embeddingHealth } from '../../shared/ssl/embedding-health';
import { initWasmBackendForNode } from '../../shared/tfjs/wasm-node';
import type { QualityWarning, StoredHealth } from '../../shared/protocol/admin';
export type { QualityWarning, StoredHealth } from '../../shared/protocol/admin';

export const EvaluationOptionsSchema = z.object({
  dataset: z.enum(DATASET_NAMES).default('fashion-mnist'),
  /** Labelled images the probe is fitted on. */
  trainImages: z.number().int().min(10).max(20_000).default(1000),
  /** Labelled images after the probe's training images that pick its L2 strength (bench:quality's protocol). */
  validationImages: z.number().int().min(0).max(20_000).default(1000),
  /** Labelled holdout images the probe is scored on. */
  testImages: z.number().int().min(10).max(5_000).default(500),
  /** Fixed reference images (the first of the holdout) for embedding health and drift. */
  referenceImages: z.number().int().min(8).max(2_000).default(256),
  /** Unused: the probe follows bench:quality's protocol (L-BFGS to convergence); kept so old settings still parse. */
  probeEpochs: z.number().int().min(1).max(2_000).default(200),
  batchSize: z.number().int().min(1).max(1024).default(64),
  /** A drop of more than this many accuracy points below the previous evaluated version raises a warning. */
  warnDropPoints: z.number().min(0).max(100).default(5),
  minStdRatio: z.number().min(0).default(0.05),
  minEffectiveRank: z.number().min(0).default(1.5),
  /** Seed of the random-init baseline encoder. */
  randomSeed: z.number().int().default(12345),
});
export type EvaluationOptions = z.infer<typeof EvaluationOptionsSchema>;

export interface EvaluationResult extends StoredHealth {
  version: number;
  probeAccuracy: number;
  probeRandom: number;
  /** The same probe on the raw pixels of the same images (per dataset, cached). */
  probeRaw: number;
}

/** Reads FEDSSL_EVAL* env vars; FEDSSL_EVAL=0 disables evaluation. */
export function evaluationOptionsFromEnv(env = process.env): false | Partial<EvaluationOptions> {
  if (env.FEDSSL_EVAL === '0' || env.FEDSSL_EVAL === 'false') return false;
  const num = (v: string | undefined) => (v === undefined || v === '' ? undefined : Number(v));
  const raw = {
    dataset: env.FEDSSL_EVAL_DATASET,
    trainImages: num(env.FEDSSL_EVAL_TRAIN),
    validationImages: num(env.FEDSSL_EVAL_VALIDATION),
    testImages: num(env.FEDSSL_EVAL_TEST),
    referenceImages: num(env.FEDSSL_EVAL_REFERENCE),
    warnDropPoints: num(env.FEDSSL_EVAL_WARN_POINTS),
  };
  return Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined)) as Partial<EvaluationOptions>;
}

class Aborted extends Error {}
const yieldToEventLoop = () => new Promise<void>((r) => setImmediate(r));

interface EvalData {
  split: DatasetSplit;
  shape: [number, number, number];
}

/**
 * Scores committed global versions in the background: linear-probe accuracy on
 * a labelled holdout (against a random-init encoder), embedding health on a
 * fixed reference set, and drift from the parent version. One evaluation at a
 * time; if versions arrive faster than they are scored, only the newest waits.
 * Feature extraction yields to the event loop between batches so rounds keep
 * flowing. Events: 'started' (version), 'evaluated' (EvaluationResult),
 * 'quality-warning' (QualityWarning), 'error' is never emitted (failures are logged).
 */
export class EvaluationService extends EventEmitter {
  readonly options: EvaluationOptions;
  private pending?: number;
  private current?: number;
  private running?: Promise<void>;
  private stopped = false;
  private data?: EvalData;
  private randomBaseline?: number;
  private readonly rawBaselines = new RawBaselineCache();
  private rawBaseline?: number;
  private readonly referenceCache = new Map<number, { emb: Float32Array; dim: number }>();
  readonly warnings: QualityWarning[] = [];
  private lastResult?: EvaluationResult;

  constructor(
    private readonly registry: Registry,
    private readonly modelConfig: () => ModelConfig,
    private readonly log: Logger,
    options: Partial<EvaluationOptions> = {},
  ) {
    super();
    this.options = EvaluationOptionsSchema.parse(options);
  }

  state() {
    return {
      enabled: true,
      current: this.current ?? null,
      pending: this.pending ?? null,
      options: this.options,
      warnings: this.warnings.slice(-20),
      last: this.lastResult ?? null,
      baselines: {
        raw: this.rawBaseline ?? null,
        random: this.randomBaseline ?? null,
        protocol: describeProbe(this.setup()),
        ...this.setup(),
      },
    };
  }

  /** The probe's row counts as the loaded split allows them. */
  private setup(): ProbeSetup {
    const o = this.options;
    const split = this.data?.split;
    const labels = Math.min(o.trainImages, split?.train.count ?? o.trainImages);
    return {
      labels,
      validation: Math.min(o.validationImages, (split?.train.count ?? Infinity) - labels),
      test: Math.min(o.testImages, split?.test.count ?? o.testImages),
    };
  }

  /** Queues a version (replacing any older queued one) and starts the worker loop if idle. */
  enqueue(version: number): void {
    if (this.stopped) return;
    if (this.pending === undefined || version > this.pending) this.pending = version;
    this.running ??= this.loop().finally(() => {
      this.running = undefined;
    });
  }

  /** Resolves when nothing is queued or running (tests). */
  async whenIdle(): Promise<void> {
    while (this.running) await this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.pending = undefined;
    await this.running?.catch(() => undefined);
  }

  private async loop(): Promise<void> {
    await yieldToEventLoop(); // never run inside the emitter's call stack (e.g. the coordinator's commit)
    while (this.pending !== undefined && !this.stopped) {
      const version = this.pending;
      this.pending = undefined;
      if (!this.registry.getVersion(version)) continue;
      this.current = version;
      this.emit('started', version);
      try {
        await this.evaluate(version);
      } catch (err) {
        if (!(err instanceof Aborted)) this.log.error({ err, version }, 'model evaluation failed');
      } finally {
        this.current = undefined;
      }
    }
  }

  private check(): void {
    if (this.stopped) throw new Aborted('evaluation stopped');
  }

  private async prepare(): Promise<EvalData> {
    if (this.data) return this.data;
    await initWasmBackendForNode();
    const o = this.options;
    const split = loadNpmDataset(o.dataset, {
      trainPerClass: Math.ceil((o.trainImages + o.validationImages) / 10),
      testPerClass: Math.ceil(Math.max(o.testImages, o.referenceImages) / 10),
    });
    const cfg = this.modelConfig();
    this.data = { split, shape: [cfg.inputShape[0], cfg.inputShape[1], cfg.inputShape[2]] };
    return this.data;
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

  /** Probe accuracy and reference embeddings of one encoder. */
  private async score(
    encoder: tf.LayersModel,
  ): Promise<{ accuracy: number; ref: Float32Array; dim: number; trainCount: number; testCount: number }> {
    const { split } = this.data!;
    const o = this.options;
    const setup = this.setup();
    const nTrain = setup.labels;
    const nFeat = setup.labels + setup.validation;
    const nTest = Math.min(Math.max(o.testImages, o.referenceImages), split.test.count);
    const train = await this.features(encoder, split.train.images, nFeat);
    const test = await this.features(encoder, split.test.images, nTest);
    const nProbeTest = setup.test;
    this.check();
    // bench:quality's protocol (raw-baseline.ts), the same for the raw-pixel baseline.
    const r = protocolProbe(
      { features: train.features, labels: split.train.labels.subarray(0, nFeat) },
      { features: test.features.subarray(0, nProbeTest * test.dim), labels: split.test.labels.subarray(0, nProbeTest) },
      train.dim,
      split.train.numClasses,
      setup,
    );
    const nRef = Math.min(o.referenceImages, nTest);
    return {
      accuracy: r.testAccuracy,
      ref: test.features.slice(0, nRef * test.dim),
      dim: test.dim,
      trainCount: nTrain,
      testCount: nProbeTest,
    };
  }

  private async referenceEmbeddings(version: number): Promise<{ emb: Float32Array; dim: number } | undefined> {
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

  private remember(version: number, entry: { emb: Float32Array; dim: number }): void {
    this.referenceCache.set(version, entry);
    // Keep the few most recent versions: the next one's parent is almost always among them.
    while (this.referenceCache.size > 4) this.referenceCache.delete(this.referenceCache.keys().next().value!);
  }

  private async evaluate(version: number): Promise<EvaluationResult> {
    const t0 = Date.now();
    await this.prepare();
    const cfg = this.modelConfig();
    if (this.randomBaseline === undefined) {
      const random = createSimclrModel(cfg, this.options.randomSeed);
      try {
        this.randomBaseline = (await this.score(random.encoder)).accuracy;
      } finally {
        disposeSimclrModel(random);
      }
    }
    this.rawBaseline ??= this.rawBaselines.get(this.options.dataset, this.data!.split, this.setup()).testAccuracy;
    const global = loadVersion(this.registry, version, cfg);
    const model = createSimclrModel(cfg);
    let s;
    try {
      unflattenWeights(model, global.layout, global.weights);
      s = await this.score(model.encoder);
    } finally {
      disposeSimclrModel(model);
    }
    this.check();
    const nRef = s.ref.length / s.dim;
    const health = embeddingHealth(s.ref, nRef, s.dim, {
      minStdRatio: this.options.minStdRatio,
      minEffectiveRank: this.options.minEffectiveRank,
    });
    this.remember(version, { emb: s.ref, dim: s.dim });
    const parent = this.registry.getVersion(version)?.parent ?? null;
    const parentRef = parent !== null ? await this.referenceEmbeddings(parent) : undefined;
    this.check();
    const drift = parentRef && parentRef.dim === s.dim ? embeddingDrift(parentRef.emb, s.ref, nRef, s.dim) : null;
    const stored: StoredHealth = {
      health,
      drift,
      driftFrom: drift === null ? null : parent,
      trainCount: s.trainCount,
      testCount: s.testCount,
      referenceCount: nRef,
      ms: Date.now() - t0,
      evaluatedAt: Date.now(),
    };
    const previous = this.previousEvaluated(version);
    this.registry.setVersionEvaluation(version, s.accuracy, this.randomBaseline, stored);
    const result: EvaluationResult = {
      version,
      probeAccuracy: s.accuracy,
      probeRandom: this.randomBaseline,
      probeRaw: this.rawBaseline,
      ...stored,
    };
    this.lastResult = result;
    this.log.info(
      {
        version,
        probeAccuracy: s.accuracy,
        probeRandom: this.randomBaseline,
        meanStd: health.meanStd,
        effectiveRank: health.effectiveRank,
        drift,
        ms: stored.ms,
      },
      'evaluated global model',
    );
    this.emit('evaluated', result);

    if (previous && previous.acc - s.accuracy > this.options.warnDropPoints / 100) {
      this.warn({
        kind: 'probe-drop',
        version,
        previousVersion: previous.version,
        probeAccuracy: s.accuracy,
        previousAccuracy: previous.acc,
        at: Date.now(),
        message: `linear-probe accuracy of v${version} is ${(100 * s.accuracy).toFixed(1)}%, ${(100 * (previous.acc - s.accuracy)).toFixed(1)} points below v${previous.version} (${(100 * previous.acc).toFixed(1)}%)`,
      });
    }
    if (health.collapsed) {
      this.warn({
        kind: 'collapse',
        version,
        at: Date.now(),
        message: `embeddings of v${version} look collapsed (std ratio ${health.stdRatio.toFixed(3)}, effective rank ${health.effectiveRank.toFixed(2)} of ${health.d})`,
      });
    }
    return result;
  }

  /** The newest version below `version` that has a probe accuracy. */
  private previousEvaluated(version: number): { version: number; acc: number } | undefined {
    const row = this.registry.db
      .prepare(
        'SELECT version, probe_accuracy AS acc FROM versions WHERE version < ? AND probe_accuracy IS NOT NULL ORDER BY version DESC LIMIT 1',
      )
      .get(version) as { version: number; acc: number } | undefined;
    return row;
  }

  private warn(w: QualityWarning): void {
    this.warnings.push(w);
    if (this.warnings.length > 100) this.warnings.shift();
    this.log.warn({ ...w }, 'model quality warning');
    this.emit('quality-warning', w);
  }
}
