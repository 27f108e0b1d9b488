import { Worker } from 'node:worker_threads';
import type { Registry } from '../registry/registry';
import { loadVersion } from '../model/global-model';
import type { ModelConfig } from '../../shared/model/config';
import type { ProbeSetup } from '../../shared/ssl/probe-baselines';
import { RawBaselineCache } from './raw-baseline';
import type { EvaluationOptions } from './evaluation-options';
import type { EncoderSpec, ScorerReply, ScorerRequest } from './scorer-messages';

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

/** How much nicer than the process the scorer's worker thread runs: evaluation is background work. */
const SCORER_NICE = 10;

type Request = ScorerRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;
type ReplyOf<K extends ScorerReply['kind']> = Extract<ScorerReply, { kind: K }>;

/**
 * Scores encoders on the labelled evaluation set (frozen features, bench:quality's probe, reference
 * embeddings) on a worker thread (scorer-worker.ts), so evaluation never holds the event loop; caches the
 * random-init and raw-pixel baselines and the reference embeddings of the few most recent versions.
 * `check` throws to abort between steps; close() ends the worker.
 */
export class EncoderScorer {
  private worker?: Worker;
  private counts?: { train: number; test: number };
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: ScorerReply) => void; reject: (e: Error) => void }>();
  private randomBaseline?: number;
  private readonly rawBaselines = new RawBaselineCache();
  private readonly referenceCache = new Map<number, Embeddings>();
  /** The worker thread's nice value, once it started. */
  workerNice?: number;

  constructor(
    private readonly registry: Registry,
    private readonly modelConfig: () => ModelConfig,
    private readonly options: EvaluationOptions,
    private readonly check: () => void,
  ) {}

  /** Starts the worker and loads the held-out split there (once). */
  async prepare(): Promise<void> {
    if (this.counts) return;
    const r = await this.call({ kind: 'init', options: this.options }, 'init');
    this.counts = { train: r.trainCount, test: r.testCount };
    this.workerNice = r.nice;
  }

  /** Probe accuracy of a random-init encoder (seeded), computed once. */
  async baseline(): Promise<number> {
    this.randomBaseline ??= (await this.score({ config: this.modelConfig(), seed: this.options.randomSeed })).accuracy;
    return this.randomBaseline;
  }

  /** The same probe on the raw pixels of the same images (per dataset and setup, cached). */
  rawBaseline(): Promise<number> {
    const setup = this.setup();
    return this.rawBaselines.get(
      this.options.dataset,
      setup,
      async () => (await this.call({ kind: 'raw', setup }, 'raw')).accuracy,
    );
  }

  /** The probe's row counts as the loaded split allows them (before prepare(): as configured). */
  setup(): ProbeSetup {
    const o = this.options;
    const labels = Math.min(o.trainImages, this.counts?.train ?? o.trainImages);
    return {
      labels,
      validation: Math.min(o.validationImages, (this.counts?.train ?? Infinity) - labels),
      test: Math.min(o.testImages, this.counts?.test ?? o.testImages),
    };
  }

  /** Scores a stored version's encoder and remembers its reference embeddings. */
  async scoreVersion(version: number): Promise<EncoderScore> {
    const cfg = this.modelConfig();
    const global = loadVersion(this.registry, version, cfg);
    const s = await this.score({ config: cfg, weights: { layout: global.layout, data: global.weights } });
    this.remember(version, { emb: s.ref, dim: s.dim });
    return s;
  }

  /** Reference embeddings of a stored version (cached for recent ones), or undefined if it is gone. */
  async referenceEmbeddings(version: number): Promise<Embeddings | undefined> {
    const cached = this.referenceCache.get(version);
    if (cached) return cached;
    const row = this.registry.getVersion(version);
    // Checkpoint retention may have deleted its weights while this version waited (fast rounds, slow scoring).
    if (!row || row.pruned_at !== null) return undefined;
    const cfg = this.modelConfig();
    const stored = loadVersion(this.registry, version, cfg);
    const r = await this.call(
      {
        kind: 'reference',
        encoder: { config: cfg, weights: { layout: stored.layout, data: stored.weights } },
        referenceCount: this.referenceCount(),
      },
      'reference',
    );
    const entry = { emb: r.emb, dim: r.dim };
    this.remember(version, entry);
    return entry;
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    this.counts = undefined;
    this.fail(new Error('evaluation stopped'));
    await w?.terminate();
  }

  private referenceCount(): number {
    return Math.min(this.options.referenceImages, this.counts?.test ?? this.options.referenceImages);
  }

  private remember(version: number, entry: Embeddings): void {
    this.referenceCache.set(version, entry);
    // Keep the few most recent versions: the next one's parent is almost always among them.
    while (this.referenceCache.size > 4) this.referenceCache.delete(this.referenceCache.keys().next().value!);
  }

  /** Probe accuracy (bench:quality's protocol, as for the raw-pixel baseline) and reference embeddings. */
  private async score(encoder: EncoderSpec): Promise<EncoderScore> {
    this.check();
    const setup = this.setup();
    const nTest = Math.min(Math.max(this.options.testImages, this.options.referenceImages), this.counts!.test);
    const r = await this.call(
      { kind: 'score', encoder, setup, testCount: nTest, referenceCount: this.referenceCount() },
      'score',
    );
    this.check();
    return { accuracy: r.accuracy, ref: r.ref, dim: r.dim, trainCount: setup.labels, testCount: setup.test };
  }

  private spawn(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(new URL('./scorer-worker-entry.mjs', import.meta.url), { workerData: { nice: SCORER_NICE } });
    w.unref(); // an idle scorer never keeps the process alive
    w.on('message', (r: ScorerReply) => {
      const p = this.pending.get(r.id);
      if (!p) return;
      this.pending.delete(r.id);
      if (r.kind === 'error') p.reject(new Error(`evaluation worker: ${r.message}`));
      else p.resolve(r);
    });
    w.on('error', (err: Error) => {
      this.worker = undefined;
      this.counts = undefined;
      this.fail(err);
    });
    this.worker = w;
    return w;
  }

  private fail(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  private call<K extends Request['kind']>(req: Extract<Request, { kind: K }>, kind: K): Promise<ReplyOf<K>> {
    const w = this.spawn();
    return new Promise<ReplyOf<K>>((resolve, reject) => {
      const id = this.nextId++;
      this.pending.set(id, {
        resolve: (r) =>
          r.kind === kind
            ? resolve(r as ReplyOf<K>)
            : reject(new Error(`evaluation worker: ${r.kind} reply to ${kind}`)),
        reject,
      });
      w.postMessage({ id, ...req });
    });
  }
}
