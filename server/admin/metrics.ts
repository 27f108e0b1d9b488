import type { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, Gauge, Histogram, Registry as PromRegistry, collectDefaultMetrics } from 'prom-client';
import type { Registry } from '../registry/registry';
import type { CoordinatorStatus, RoundCoordinator, RoundEndedEvent } from '../federation/coordinator';
import { RoundOutcome } from '../../shared/protocol/phases';
import { bearerToken } from '../http/admin-api';
import { sendJson } from '../http/router';
import type { EvaluationResult, EvaluationService } from './evaluation';
import { LONG_HANDLER_MS, type HandlerTimes } from '../federation/handler-times';

export interface ServerMetrics {
  /** This server's own prom-client registry (never the global one, so tests can run several servers). */
  register: PromRegistry;
  /** Answers GET /metrics; false for any other path. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  close(): void;
}

/** Privacy block a DP-enabled coordinator adds to its status. */
type MaybePrivate = CoordinatorStatus & { privacy?: { epsilon: number; target: number; delta: number } };

/**
 * Prometheus metrics of one server: round counters and phase durations from the
 * coordinator's events, gauges read on scrape, and prom-client's process metrics.
 * GET /metrics needs an admin or a metrics token (Authorization: Bearer …).
 */
export function createMetrics(
  registry: Registry,
  coordinator: RoundCoordinator,
  evaluation?: EvaluationService,
  handlerTimes?: HandlerTimes,
): ServerMetrics {
  const register = new PromRegistry();
  // A 50 ms GC bucket: the event-loop target is 50 ms, and loop-delay spikes must be told apart from GC pauses.
  collectDefaultMetrics({ register, gcDurationBuckets: [0.001, 0.01, 0.05, 0.1, 0.5, 1, 5] });
  const registers = [register];

  const started = new Counter({
    name: 'fedssl_rounds_started_total',
    help: 'Rounds started (cohort selected).',
    registers,
  });
  const completed = new Counter({
    name: 'fedssl_rounds_completed_total',
    help: 'Rounds that committed a new global version.',
    registers,
  });
  const failed = new Counter({
    name: 'fedssl_rounds_failed_total',
    help: 'Rounds that ended without a new version.',
    labelNames: ['outcome'],
    registers,
  });
  const phase = new Histogram({
    name: 'fedssl_round_phase_duration_seconds',
    help: 'Time spent in each round phase.',
    labelNames: ['phase'],
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600],
    registers,
  });
  const bytesIn = new Counter({
    name: 'fedssl_bytes_received_total',
    help: 'Bytes of client updates received (per ended round).',
    registers,
  });
  const bytesOut = new Counter({
    name: 'fedssl_bytes_sent_total',
    help: 'Bytes of models and round messages sent (per ended round).',
    registers,
  });
  const rejected = new Counter({
    name: 'fedssl_rejected_updates_total',
    help: 'Client updates rejected, by reason code.',
    labelNames: ['reason'],
    registers,
  });
  const roundDuration = new Histogram({
    name: 'fedssl_round_duration_seconds',
    help: 'Wall time of ended rounds.',
    labelNames: ['outcome'],
    buckets: [1, 5, 10, 30, 60, 120, 300, 600, 1800],
    registers,
  });

  new Gauge({
    name: 'fedssl_connected_clients',
    help: 'Clients with an open federation socket.',
    registers,
    collect() {
      this.set(coordinator.pool.size);
    },
  });
  new Gauge({
    name: 'fedssl_eligible_clients',
    help: 'Connected clients ready to train.',
    registers,
    collect() {
      this.set(coordinator.status().eligibleClients);
    },
  });
  new Gauge({
    name: 'fedssl_global_model_version',
    help: 'Version number of the current global model.',
    registers,
    collect() {
      this.set(coordinator.globalModel.version);
    },
  });
  new Gauge({
    name: 'fedssl_rounds_paused',
    help: '1 while the administrator has paused rounds.',
    registers,
    collect() {
      this.set(coordinator.status().paused ? 1 : 0);
    },
  });
  new Gauge({
    name: 'fedssl_epsilon_spent',
    help: 'Differential-privacy epsilon spent so far (latest version).',
    registers,
    collect() {
      const s = coordinator.status() as MaybePrivate;
      this.set(s.privacy?.epsilon ?? registry.latestVersion()?.epsilon ?? 0);
    },
  });
  new Gauge({
    name: 'fedssl_epsilon_budget',
    help: 'Configured epsilon budget (0 when DP is off).',
    registers,
    collect() {
      this.set((coordinator.status() as MaybePrivate).privacy?.target ?? 0);
    },
  });

  // Latest evaluation: read from the registry on scrape so a restart keeps it.
  const latestEvaluated = () =>
    registry.db
      .prepare(
        'SELECT version, probe_accuracy, probe_random, health_json FROM versions WHERE probe_accuracy IS NOT NULL ORDER BY version DESC LIMIT 1',
      )
      .get() as
      { version: number; probe_accuracy: number; probe_random: number | null; health_json: string | null } | undefined;
  new Gauge({
    name: 'fedssl_probe_accuracy',
    help: 'Linear-probe accuracy of the latest evaluated global version.',
    registers,
    collect() {
      const r = latestEvaluated();
      if (r) this.set(r.probe_accuracy);
    },
  });
  new Gauge({
    name: 'fedssl_probe_accuracy_random_init',
    help: 'Linear-probe accuracy of a random-init encoder (baseline).',
    registers,
    collect() {
      const r = latestEvaluated();
      if (r?.probe_random != null) this.set(r.probe_random);
    },
  });
  new Gauge({
    name: 'fedssl_embedding_effective_rank',
    help: 'Effective rank of the reference embeddings of the latest evaluated version.',
    registers,
    collect() {
      const h = healthOf(latestEvaluated()?.health_json);
      if (h) this.set(h.health.effectiveRank);
    },
  });
  new Gauge({
    name: 'fedssl_embedding_drift',
    help: 'Mean cosine distance of reference embeddings to the parent version.',
    registers,
    collect() {
      const h = healthOf(latestEvaluated()?.health_json);
      if (h?.drift != null) this.set(h.drift);
    },
  });
  if (handlerTimes) {
    new Gauge({
      name: 'fedssl_handler_max_seconds',
      help: 'Longest time one client event handler held the event loop (schema check + synchronous part), per event.',
      labelNames: ['event'],
      registers,
      collect() {
        for (const s of handlerTimes.snapshot()) this.set({ event: s.event }, s.maxMs / 1000);
      },
    });
    new Gauge({
      name: 'fedssl_handler_long_total',
      help: `Client event handlers that held the event loop longer than ${LONG_HANDLER_MS} ms, per event.`,
      labelNames: ['event'],
      registers,
      collect() {
        for (const s of handlerTimes.snapshot()) this.set({ event: s.event }, s.long);
      },
    });
    new Gauge({
      name: 'fedssl_handler_calls_total',
      help: 'Client event handlers run, per event.',
      labelNames: ['event'],
      registers,
      collect() {
        for (const s of handlerTimes.snapshot()) this.set({ event: s.event }, s.count);
      },
    });
  }
  const evaluations = new Counter({ name: 'fedssl_evaluations_total', help: 'Global versions evaluated.', registers });
  const warnings = new Counter({
    name: 'fedssl_quality_warnings_total',
    help: 'Model quality warnings.',
    labelNames: ['kind'],
    registers,
  });

  const onStarted = () => started.inc();
  const onEnded = (e: RoundEndedEvent) => {
    if (e.outcome === RoundOutcome.Committed) completed.inc();
    else failed.inc({ outcome: e.outcome });
    bytesIn.inc(e.bytesUp);
    bytesOut.inc(e.bytesDown);
    roundDuration.observe({ outcome: e.outcome }, e.durationMs / 1000);
  };
  const onPhase = (p: { phase: string; ms: number }) => phase.observe({ phase: p.phase }, p.ms / 1000);
  const onRejected = (r: { code: string }) => rejected.inc({ reason: r.code });
  const onEvaluated = (_r: EvaluationResult) => evaluations.inc();
  const onWarning = (w: { kind: string }) => warnings.inc({ kind: w.kind });
  // One table drives both subscribing and unsubscribing, so close() cannot miss a listener.
  const subscriptions: [EventEmitter | undefined, string, (...args: never[]) => void][] = [
    [coordinator, 'round-started', onStarted],
    [coordinator, 'round-ended', onEnded],
    [coordinator, 'phase-duration', onPhase],
    [coordinator, 'rejected', onRejected],
    [evaluation, 'evaluated', onEvaluated],
    [evaluation, 'quality-warning', onWarning],
  ];
  for (const [emitter, event, fn] of subscriptions) emitter?.on(event, fn as (...args: unknown[]) => void);

  return {
    register,
    async handle(req, res) {
      const path = new URL(req.url ?? '/', 'http://local').pathname;
      if (path !== '/metrics') return false;
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        sendJson(res, 405, { error: `method ${req.method} not allowed on /metrics` });
        return true;
      }
      if (!registry.verifyToken(bearerToken(req), ['admin', 'metrics'])) {
        res.setHeader('WWW-Authenticate', 'Bearer realm="fedssl-metrics"');
        sendJson(res, 401, { error: 'an admin or metrics token is required (Authorization: Bearer <token>)' });
        return true;
      }
      const body = await register.metrics();
      res.writeHead(200, { 'Content-Type': register.contentType, 'Cache-Control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
      return true;
    },
    close() {
      for (const [emitter, event, fn] of subscriptions) emitter?.off(event, fn as (...args: unknown[]) => void);
      register.clear();
    },
  };
}

function healthOf(
  json: string | null | undefined,
): { health: { effectiveRank: number }; drift?: number | null } | undefined {
  if (!json) return undefined;
  try {
    return JSON.parse(json) as { health: { effectiveRank: number }; drift?: number | null };
  } catch {
    return undefined;
  }
}
