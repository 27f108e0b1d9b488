import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { Registry } from '../registry/registry';
import type { ModelConfig } from '../../shared/model/config';
import { embeddingDrift, embeddingHealth } from '../../shared/ssl/embedding-health';
import type { QualityWarning, StoredHealth } from '../../shared/protocol/admin';
import { EvaluationOptionsSchema, type EvaluationOptions } from './evaluation-options';
import { EncoderScorer } from './encoder-scorer';
import { describeProbe } from '../../shared/ssl/probe-baselines';
export type { QualityWarning, StoredHealth } from '../../shared/protocol/admin';
export { EvaluationOptionsSchema, evaluationOptionsFromEnv, type EvaluationOptions } from './evaluation-options';

export interface EvaluationResult extends StoredHealth {
  version: number;
  probeAccuracy: number;
  probeRandom: number;
  /** The same probe on the raw pixels of the same images (per dataset, cached). */
  probeRaw: number;
}

class Aborted extends Error {}
const yieldToEventLoop = () => new Promise<void>((r) => setImmediate(r));

/**
 * Scores committed global versions in the background: linear-probe accuracy on
 * a labelled holdout (against a random-init encoder), embedding health on a
 * fixed reference set, and drift from the parent version. One evaluation at a
 * time; if versions arrive faster than they are scored, only the newest waits.
 * Features and probe fits run on a worker thread (encoder-scorer.ts) so rounds keep
 * flowing. Events: 'started' (version), 'evaluated' (EvaluationResult),
 * 'quality-warning' (QualityWarning), 'error' is never emitted (failures are logged).
 */
export class EvaluationService extends EventEmitter {
  readonly options: EvaluationOptions;
  private pending?: number;
  private current?: number;
  private running?: Promise<void>;
  private stopped = false;
  private readonly scorer: EncoderScorer;
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
    this.scorer = new EncoderScorer(registry, modelConfig, this.options, () => this.check());
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
        raw: this.lastResult?.probeRaw ?? null,
        random: this.lastResult?.probeRandom ?? null,
        protocol: describeProbe(this.scorer.setup()),
        ...this.scorer.setup(),
      },
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
    await this.scorer.close(); // the work in flight is abandoned with its worker
    await this.running?.catch(() => undefined);
  }

  private async loop(): Promise<void> {
    await yieldToEventLoop(); // never run inside the emitter's call stack (e.g. the coordinator's commit)
    while (this.pending !== undefined && !this.stopped) {
      const version = this.pending;
      this.pending = undefined;
      const row = this.registry.getVersion(version);
      if (!row) continue;
      if (row.pruned_at !== null) {
        // Rounds outran the evaluation and retention deleted its weights: a newer version is queued or coming.
        this.log.info({ version }, 'skipped evaluating a version whose checkpoint retention already deleted');
        continue;
      }
      this.current = version;
      this.emit('started', version);
      try {
        await this.evaluate(version);
      } catch (err) {
        if (err instanceof Aborted || this.stopped) continue;
        // Retention may delete the weights while they are being scored; that is a skip, not a failure.
        if (this.registry.getVersion(version)?.pruned_at != null)
          this.log.info({ version }, 'skipped evaluating a version whose checkpoint retention deleted meanwhile');
        else this.log.error({ err, version }, 'model evaluation failed');
      } finally {
        this.current = undefined;
      }
    }
  }

  private check(): void {
    if (this.stopped) throw new Aborted('evaluation stopped');
  }

  private async evaluate(version: number): Promise<EvaluationResult> {
    const t0 = Date.now();
    await this.scorer.prepare();
    const probeRandom = await this.scorer.baseline();
    const probeRaw = await this.scorer.rawBaseline();
    // The parent's embeddings first: under fast rounds its checkpoint is the one retention deletes sooner, and
    // without it the drift is null while the probe and health are still stored.
    const parent = this.registry.getVersion(version)?.parent ?? null;
    const parentRef = parent !== null ? await this.scorer.referenceEmbeddings(parent) : undefined;
    this.check();
    const s = await this.scorer.scoreVersion(version);
    this.check();
    const nRef = s.ref.length / s.dim;
    const health = embeddingHealth(s.ref, nRef, s.dim, {
      minStdRatio: this.options.minStdRatio,
      minEffectiveRank: this.options.minEffectiveRank,
    });
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
    const previous = this.registry.versions.previousEvaluated(version);
    this.registry.setVersionEvaluation(version, s.accuracy, probeRandom, stored);
    const result: EvaluationResult = {
      version,
      probeAccuracy: s.accuracy,
      probeRandom,
      probeRaw,
      ...stored,
    };
    this.lastResult = result;
    this.log.info(
      {
        version,
        probeAccuracy: s.accuracy,
        probeRandom,
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

  private warn(w: QualityWarning): void {
    this.warnings.push(w);
    if (this.warnings.length > 100) this.warnings.shift();
    this.log.warn({ ...w }, 'model quality warning');
    this.emit('quality-warning', w);
  }
}
