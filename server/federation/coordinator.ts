import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { RoundOutcome, RoundPhase } from '../../shared/protocol/phases';
import { type RoundConfig } from '../../shared/protocol/round-config';
import {
  EVENTS,
  ErrorCodes,
  type ErrorCode,
  type Ack,
  type RoundEnd,
  type RoundStart,
  type UpdateSubmit,
} from '../../shared/protocol/messages';
import { float32FromBytes } from '../../shared/protocol/binary';
import type { Strategy } from '../strategies/strategy';
import type { Registry } from '../registry/registry';
import { type GlobalModel, configHash } from '../model/global-model';
import { ClientPool } from './client-pool';
import { describeSampling, selectCohort } from './sampling';
import { checkDelta } from './validate-update';
import { checkSecureAggregate } from './aggregate-guard';
import { plainAggregate, type PlainUpdate } from './plain-aggregate';
import { SecureRound, type ReceiveHook, type SecureMessageKind, type SecureRoundResult } from './secure-round';
import { PrivacyPolicy, type RoundDp } from './privacy-policy';
import { coordinateRanges } from '../../shared/secagg/masked-vector-layout';
import { encodingParamsForRound } from '../../shared/protocol/round-layout';
import { layerNormalizedSum } from '../../shared/federation/divergence-weights';
import type { DpRoundPlan } from './dp-round';
import { VersionStore } from './version-store';
import type { CoordinatorStatus } from '../../shared/protocol/admin';
export type { CoordinatorStatus } from '../../shared/protocol/admin';

interface ActiveRound {
  id: number;
  baseVersion: number;
  cohort: Set<string>;
  dropped: Set<string>;
  delivered: Map<string, PlainUpdate>;
  startedAt: number;
  deadline: number;
  bytesUp: number;
  bytesDown: number;
  phaseStartedAt: number;
  /** Set in secure-aggregation mode; the plain `delivered` map then stays empty. */
  secure?: SecureRound;
  /** DP-FedAvg's fixed denominator: q·N under Poisson sampling, K for a fixed cohort. */
  expectedClients: number;
  /** Set when the round runs under differential privacy (with the DP wrapper it started with). */
  dp?: RoundDp;
  /** The clip clients use this round (adaptive clipping moves it between rounds). */
  clipNorm: number;
  /** Under DP: how z is split between the delta, the clip bit and the loss, and who adds the noise. */
  dpPlan?: DpRoundPlan;
  /** Under DP: the multiplier recorded for this round once its noised sum was unmasked. */
  recordedZ?: number;
}

export interface RoundEndedEvent {
  roundId: number;
  outcome: RoundOutcome;
  reason?: string;
  newVersion?: number;
  survivors: number;
  dropouts: number;
  durationMs: number;
  meanLoss: number | null;
  bytesUp: number;
  bytesDown: number;
}

export interface CoordinatorOptions {
  registry: Registry;
  strategy: Strategy;
  config: RoundConfig;
  model: GlobalModel;
  log: Logger;
  pool?: ClientPool;
  /** Test hook: every secure-aggregation message the server receives. */
  onSecureReceive?: ReceiveHook;
}

/**
 * The round state machine (plain mode): Idle → Select → Train → Aggregate → Idle.
 * Each active phase has a deadline; a round commits a new global version only
 * with at least `minSurvivors` valid updates, and otherwise fails cleanly
 * leaving the global model untouched.
 */
export class RoundCoordinator extends EventEmitter {
  readonly pool: ClientPool;
  private readonly registry: Registry;
  private readonly strategy: Strategy;
  /** Budget gate, DP wrapper, adaptive clipper and per-round noise plan. */
  private readonly privacy: PrivacyPolicy;
  /** Checkpoints, optimiser state, registry rows, rollback and retention. */
  readonly versions: VersionStore;
  private readonly log: Logger;
  private cfg: RoundConfig;
  private model: GlobalModel;
  private phase = RoundPhase.Idle;
  private paused = false;
  private stopped = false;
  private round?: ActiveRound;
  private lastRoundId = 0;
  private timer?: NodeJS.Timeout;
  private startTimer?: NodeJS.Timeout;
  private readonly onSecureReceive?: ReceiveHook;
  private lastSecAgg?: CoordinatorStatus['secagg'];

  constructor(opts: CoordinatorOptions) {
    super();
    if (opts.onSecureReceive) this.onSecureReceive = opts.onSecureReceive;
    this.registry = opts.registry;
    this.strategy = opts.strategy;
    this.cfg = opts.config;
    this.model = opts.model;
    this.privacy = new PrivacyPolicy(this.registry, this.strategy, this.cfg);
    // The optimiser state (FedAdam's moments) that produced the current version survives restarts.
    this.versions = new VersionStore(this.registry, this.strategy);
    this.versions.restoreStrategy(this.model.version);
    this.log = opts.log.child({ component: 'coordinator' });
    this.pool = opts.pool ?? new ClientPool();
  }

  /**
   * Listeners (metrics, console, evaluation) run inside round transitions; one that throws
   * must not abort the transition half-way (rounds would stop being scheduled), so its
   * error is logged and the round goes on. Committed state is already in SQLite by then.
   */
  override emit(event: string | symbol, ...args: unknown[]): boolean {
    try {
      return super.emit(event, ...args);
    } catch (err) {
      this.log.error({ err, event: String(event) }, 'a round listener threw; the round goes on');
      return true;
    }
  }

  get globalModel(): GlobalModel {
    return this.model;
  }

  get config(): RoundConfig {
    return this.cfg;
  }

  status(): CoordinatorStatus {
    const r = this.round;
    return {
      phase: this.phase,
      paused: this.paused,
      roundId: r?.id ?? this.lastRoundId,
      modelVersion: this.model.version,
      deadline: r && this.phase !== RoundPhase.Idle ? (r.secure?.deadline ?? r.deadline) : null,
      cohort: r ? [...r.cohort] : [],
      delivered: r ? (r.secure ? r.secure.survivors : [...r.delivered.keys()]) : [],
      dropped: r ? [...r.dropped] : [],
      connectedClients: this.pool.size,
      eligibleClients: this.eligible().length,
      ...(this.cfg.privacy.enabled ? { privacy: this.privacy.status() } : {}),
      ...(this.lastSecAgg ? { secagg: this.lastSecAgg } : {}),
    };
  }

  // --- lifecycle ------------------------------------------------------------
  start(): void {
    this.stopped = false;
    this.scheduleStart(0);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.startTimer);
    this.round?.secure?.abort('server stopping');
  }

  pause(): void {
    this.paused = true;
    this.emitStatus();
  }

  resume(): void {
    this.paused = false;
    this.emitStatus();
    this.scheduleStart(0);
  }

  updateConfig(cfg: RoundConfig): void {
    this.cfg = cfg; // takes effect at the next round
    this.privacy.configure(cfg); // DP recomposed; the budget re-evaluated against the new settings
    this.emitStatus();
    this.scheduleStart(0);
  }

  /** Makes an earlier version the global model again (recorded as a new version with that parent). */
  rollback(toVersion: number): GlobalModel {
    if (this.phase !== RoundPhase.Idle)
      throw new Error(`cannot roll back during the ${this.phase} phase; pause first and wait for the round to end`);
    this.model = this.versions.rollback(this.model, toVersion);
    this.log.info({ toVersion, version: this.model.version }, 'rolled back global model');
    this.emit('version', this.model.version);
    this.emitStatus();
    return this.model;
  }

  // --- client events --------------------------------------------------------
  clientReady(): void {
    this.emitStatus();
    this.scheduleStart(0);
  }

  clientDisconnected(id: string): void {
    const r = this.round;
    if (r?.secure && r.cohort.has(id)) {
      r.dropped.add(id);
      r.secure.clientDisconnected(id);
    } else if (r && r.cohort.has(id) && !r.delivered.has(id) && this.phase === RoundPhase.Train) {
      r.dropped.add(id);
      this.log.info({ roundId: r.id, clientId: id }, 'cohort member dropped out');
      this.maybeCloseTrain();
    }
    this.emitStatus();
  }

  /** Validates and records a client's delta. Never throws: bad input gets a reason. */
  submitUpdate(clientId: string, msg: UpdateSubmit, wireBytes: number): Ack {
    const r = this.round;
    const reject = (code: ErrorCode, reason: string): Ack => {
      this.log.warn({ clientId, roundId: msg.roundId, code, reason }, 'update rejected');
      this.emit('rejected', { clientId, code, reason });
      return { ok: false, code, reason };
    };
    if (r?.secure) {
      return reject(
        ErrorCodes.staleRound,
        `round ${r.id} uses secure aggregation: send a masked input, not a plain delta`,
      );
    }
    if (!r || this.phase !== RoundPhase.Train || msg.roundId !== r.id) {
      return reject(
        ErrorCodes.staleRound,
        `round ${msg.roundId} is not accepting updates (current round ${r?.id ?? this.lastRoundId}, phase ${this.phase})`,
      );
    }
    if (!r.cohort.has(clientId)) return reject(ErrorCodes.notSelected, `client is not in the cohort of round ${r.id}`);
    if (r.delivered.has(clientId))
      return reject(ErrorCodes.duplicate, `an update for round ${r.id} was already accepted from this client`);
    if (msg.modelVersion !== r.baseVersion) {
      return reject(
        ErrorCodes.wrongVersion,
        `update is based on v${msg.modelVersion}, round ${r.id} trains v${r.baseVersion}`,
      );
    }
    let delta: Float32Array;
    try {
      delta = float32FromBytes(msg.delta);
    } catch (err) {
      return reject(ErrorCodes.wrongLength, (err as Error).message);
    }
    const check = checkDelta(delta, this.model.layout.totalSize, this.cfg.maxUpdateNorm);
    if (!check.ok) return reject(check.code, check.reason);
    r.delivered.set(clientId, { delta, numExamples: msg.numExamples, meanLoss: msg.meanLoss });
    r.bytesUp += wireBytes;
    this.registry.markDelivered(r.id, clientId, msg.numExamples, msg.meanLoss);
    this.emitStatus();
    this.maybeCloseTrain();
    return { ok: true };
  }

  /** A SecAgg+ message from a client; validated and applied by the round's SecureRound. */
  secureMessage(clientId: string, kind: SecureMessageKind, raw: unknown, wireBytes: number): Ack {
    const r = this.round;
    if (!r?.secure) {
      const reason = `no secure-aggregation round is running (message for round ${(raw as { round?: unknown })?.round ?? '?'})`;
      this.emit('rejected', { clientId, code: ErrorCodes.staleRound, reason });
      return { ok: false, code: ErrorCodes.staleRound, reason };
    }
    if (!r.cohort.has(clientId))
      return { ok: false, code: ErrorCodes.notSelected, reason: `client is not in the cohort of round ${r.id}` };
    const ack = r.secure.handle(clientId, kind, raw);
    if (ack.ok) r.bytesUp += wireBytes;
    else this.emit('rejected', { clientId, code: ack.code, reason: ack.reason });
    return ack;
  }

  noteBytesDown(bytes: number): void {
    if (this.round) this.round.bytesDown += bytes;
  }

  // --- the state machine ----------------------------------------------------
  private eligible() {
    return this.pool.eligible((id) => this.registry.getClient(id)?.removed === 1);
  }

  private scheduleStart(delayMs: number): void {
    clearTimeout(this.startTimer);
    this.startTimer = setTimeout(() => this.tryStartRound(), delayMs);
  }

  private tryStartRound(): void {
    if (this.stopped || this.paused || this.phase !== RoundPhase.Idle) return;
    const eligible = this.eligible();
    if (eligible.length < this.cfg.minClients) return; // a ready/connect event will retry
    const gate = this.privacy.gate();
    if (!gate.ok) {
      // Refuse: one more round would spend more than the budget. Every refused attempt is announced.
      if (gate.newlyExhausted) {
        this.log.warn(gate.reason);
        this.emitStatus();
      }
      this.emit('start-refused', { reason: gate.reason });
      return;
    }
    const dp = gate.dp;
    this.setPhase(RoundPhase.Select);
    const cohort = selectCohort(eligible, this.cfg.cohort);
    const minCohort = Math.max(this.cfg.minSurvivors, this.cfg.secureAggregation.enabled ? 3 : 1);
    if (cohort.length < minCohort) {
      // Poisson sampling can draw too few. Under DP the draw still counts (conservatively) as a step.
      if (dp) this.privacy.recordEmptyDraw(dp);
      this.log.info({ drawn: cohort.length, needed: minCohort }, 'cohort draw too small; drawing again');
      this.setPhase(RoundPhase.Idle);
      this.scheduleStart(Math.max(500, this.cfg.roundIntervalMs));
      return;
    }
    const ids = cohort.map((c) => c.id);
    const id = this.registry.startRound({
      baseVersion: this.model.version,
      sampling: describeSampling(this.cfg.cohort),
      cohort: ids,
      config: this.cfg,
    });
    const now = Date.now();
    const round: ActiveRound = {
      id,
      baseVersion: this.model.version,
      cohort: new Set(ids),
      dropped: new Set(),
      delivered: new Map(),
      startedAt: now,
      deadline: now + this.cfg.trainDeadlineMs,
      bytesUp: 0,
      bytesDown: 0,
      phaseStartedAt: now,
      expectedClients: this.cfg.cohort.mode === 'poisson' ? this.cfg.cohort.rate * eligible.length : ids.length,
      ...(dp ? { dp } : {}),
      clipNorm: this.cfg.secureAggregation.clipNorm,
    };
    const clipper = this.privacy.adaptiveClipper();
    if (clipper) round.clipNorm = clipper.clipNorm;
    if (dp) {
      try {
        round.dpPlan = this.privacy.planRound(dp, round.clipNorm, round.expectedClients);
      } catch (err) {
        this.setPhase(RoundPhase.Aggregate);
        this.round = round;
        this.finish(RoundOutcome.Failed, (err as Error).message);
        return;
      }
    }
    this.round = round;
    this.lastRoundId = id;
    if (this.cfg.secureAggregation.enabled) {
      try {
        round.secure = new SecureRound({
          roundId: id,
          cohort: ids,
          d: this.model.layout.totalSize,
          config: this.cfg,
          pool: this.pool,
          log: this.log,
          clipNorm: round.clipNorm,
          ...(clipper ? { reportUnclipped: true } : {}),
          // Under DP: uniform weights (numExamples stays on the device) and the loss only when it is budgeted.
          ...(dp ? { uniformWeights: true } : {}),
          ...(!dp || round.dpPlan?.lossNoiseStd !== undefined ? { reportLoss: true } : {}),
          ...(this.cfg.aggregation === 'divergence'
            ? { divergenceLayers: this.model.layout.entries.map((e) => e.size) }
            : {}),
          ...(this.onSecureReceive ? { onReceive: this.onSecureReceive } : {}),
          onBytesDown: (b) => (round.bytesDown += b),
          onPhase: (phase) => this.setPhase(phase),
          // Distributed DP: each of the q·N expected clients adds its 1/(q·N) share of every variance.
          ...(round.dpPlan?.client ?? {}),
        });
        this.lastSecAgg = { n: ids.length, ...round.secure.params };
      } catch (err) {
        this.setPhase(RoundPhase.Aggregate);
        this.finish(RoundOutcome.Failed, `secure aggregation cannot run: ${(err as Error).message}`);
        return;
      }
    }
    const msg: RoundStart = {
      roundId: id,
      modelVersion: this.model.version,
      modelHash: this.model.hash,
      layoutHash: this.model.layout.hash,
      training: this.cfg.training,
      deadline: round.secure ? round.secure.deadline : round.deadline,
      ...(round.secure ? { secagg: round.secure.info } : {}),
    };
    const size = JSON.stringify(msg).length;
    for (const c of cohort) {
      c.send(EVENTS.roundStart, msg);
      round.bytesDown += size;
    }
    this.log.info(
      { roundId: id, cohort: ids.length, version: this.model.version, secure: Boolean(round.secure) },
      'round started',
    );
    this.emit('round-started', { roundId: id, cohort: ids });
    if (round.secure) {
      this.setPhase(RoundPhase.AdvertiseKeys);
      const secure = round.secure;
      secure.result.then(
        (res) => this.closeSecure(round, res),
        (err: Error) => {
          if (this.round !== round) return;
          this.setPhase(RoundPhase.Aggregate);
          this.finish(RoundOutcome.Failed, `secure aggregation failed: ${err.message}`);
        },
      );
      return;
    }
    this.setPhase(RoundPhase.Train);
    this.timer = setTimeout(() => this.closeTrain('deadline passed'), this.cfg.trainDeadlineMs);
  }

  private closeSecure(r: ActiveRound, res: SecureRoundResult): void {
    if (this.round !== r) return;
    this.setPhase(RoundPhase.Aggregate);
    for (const id of res.dropped) r.dropped.add(id);
    for (const id of r.cohort) if (!res.survivors.includes(id)) r.dropped.add(id);
    // A noised sum was unmasked: it counts as a step even if the round fails from here on.
    // Distributed DP: the noise actually in the sum depends on how many clients survived.
    if (r.dp && r.dpPlan && r.recordedZ === undefined) {
      r.recordedZ = this.privacy.recordUnmasked(r.dp, r.dpPlan, res.survivors.length);
      this.log.info({ roundId: r.id, survivors: res.survivors.length, z: r.recordedZ }, 'privacy step recorded');
    }
    if (res.survivors.length < this.cfg.minSurvivors) {
      this.finish(
        RoundOutcome.Failed,
        `${res.survivors.length} of ${r.cohort.size} survived; at least ${this.cfg.minSurvivors} needed`,
      );
      return;
    }
    // The server sees only the sum: check its bounds before it can become a version (aggregate-guard.ts).
    const info = r.secure!.info;
    const guard = checkSecureAggregate({
      weightedSum: res.weightedSum,
      weightSum: res.weightSum,
      survivors: res.survivors.length,
      clipNorm: info.clipNorm,
      bits: info.bits,
      deltaRange: coordinateRanges(encodingParamsForRound(info)).delta.hi,
      weightCap: info.weightCap,
      ...(info.clientNoiseStd ? { clientNoiseStd: info.clientNoiseStd } : {}),
    });
    if (!guard.ok) {
      this.finish(RoundOutcome.Failed, `aggregate rejected: ${guard.reason}`);
      return;
    }
    try {
      const plan = r.dpPlan;
      const central = plan?.mode === 'central';
      const meanLoss =
        res.centredLossSum === undefined
          ? NaN
          : this.privacy.meanLoss(res.centredLossSum, plan, res.survivors.length, r.expectedClients);
      // Divergence-aware: S_ℓ·W/A_ℓ per layer, so the averager's ÷W gives S_ℓ/A_ℓ (divergence-weights.ts).
      const weightedSum = res.layerWeightSums
        ? layerNormalizedSum(res.weightedSum, res.layerWeightSums, info.divergenceLayers!, res.weightSum, 0.01).sum
        : res.weightedSum;
      this.commit(
        r,
        { weightedSum, weightSum: res.weightSum, survivors: res.survivors, meanLoss, examples: null },
        performance.now() - res.unmaskMs,
      );
      // Σ(b − ½) arrives centred; central DP: the clipper adds σ_b; distributed: the clients did.
      const u =
        res.centredBitSum === undefined
          ? undefined
          : this.privacy.updateClip(res.centredBitSum, r.expectedClients, central ? plan!.bitNoiseStd! : 0);
      if (u)
        this.log.info(
          { roundId: r.id, unclippedFraction: u.unclippedFraction, from: u.previousClipNorm, to: u.clipNorm },
          'adaptive clip updated',
        );
    } catch (err) {
      this.log.error({ err, roundId: r.id }, 'aggregation failed');
      this.finish(RoundOutcome.Failed, `aggregation failed: ${(err as Error).message}`);
    }
  }

  private maybeCloseTrain(): void {
    const r = this.round;
    if (!r || this.phase !== RoundPhase.Train) return;
    if (r.delivered.size + r.dropped.size >= r.cohort.size)
      this.closeTrain(r.dropped.size ? 'all survivors delivered' : 'all delivered');
  }

  private closeTrain(why: string): void {
    const r = this.round;
    if (!r || this.phase !== RoundPhase.Train) return;
    clearTimeout(this.timer);
    this.setPhase(RoundPhase.Aggregate);
    const survivors = [...r.delivered.keys()];
    for (const id of r.cohort) if (!r.delivered.has(id)) r.dropped.add(id);
    if (survivors.length < this.cfg.minSurvivors) {
      this.finish(
        RoundOutcome.Failed,
        `${survivors.length} of ${r.cohort.size} delivered (${why}); at least ${this.cfg.minSurvivors} needed`,
      );
      return;
    }
    try {
      this.aggregate(r, survivors);
    } catch (err) {
      this.log.error({ err, roundId: r.id }, 'aggregation failed');
      this.finish(RoundOutcome.Failed, `aggregation failed: ${(err as Error).message}`);
    }
  }

  /** Plain mode: the (capped, or robust) weighted sum of the delivered deltas (plain-aggregate.ts). */
  private aggregate(r: ActiveRound, survivors: string[]): void {
    const t0 = performance.now();
    const agg = plainAggregate(
      survivors.map((id) => r.delivered.get(id)!),
      this.model.layout.totalSize,
      this.cfg,
    );
    this.commit(r, { ...agg, survivors }, t0);
  }

  /** Strategy step on the aggregated sum, checkpoint, and one registry transaction. */
  private commit(
    r: ActiveRound,
    agg: {
      weightedSum: Float32Array;
      weightSum: number;
      survivors: string[];
      meanLoss: number;
      examples: number | null;
    },
    /** When aggregation began (plain: summing deltas; secure: unmasking), for the round's aggregate_ms. */
    t0 = performance.now(),
  ): void {
    const { weightedSum, weightSum, survivors } = agg;
    const ctx = { round: r.id, survivors: survivors.length, expectedClients: r.expectedClients };
    // Under DP the average gets N(0, (z·C)²) noise on the sum and the fixed denominator.
    // (Distributed DP: the clients already added the noise; the server keeps the fixed denominator.)
    const averager = this.privacy.averager(r.dp, r.dpPlan);
    const update = averager.average({ weightedSum, weightSum }, ctx);
    const next = this.strategy.step(this.model.weights, update, ctx);
    const epsilon = r.dp
      ? this.privacy.epsilon(r.dp.delta)
      : (this.registry.getVersion(r.baseVersion)?.epsilon ?? null);
    const meanLoss = Number.isFinite(agg.meanLoss) ? agg.meanLoss : null;
    const aggregateMs = performance.now() - t0;
    this.model = this.versions.commitRound(
      r.id,
      this.model,
      next,
      {
        parent: r.baseVersion,
        round_id: r.id,
        participants: r.cohort.size,
        survivors: survivors.length,
        examples: agg.examples ?? 0,
        mean_loss: meanLoss,
        config_hash: configHash(this.cfg),
        epsilon,
        clip_norm: r.secure ? r.clipNorm : null,
        noise_multiplier: r.recordedZ ?? r.dp?.z ?? null,
      },
      {
        survivors: survivors.length,
        dropouts: r.dropped.size,
        meanLoss,
        bytesUp: r.bytesUp,
        bytesDown: r.bytesDown,
        aggregateMs,
      },
      survivors,
    );
    const version = this.model.version;
    this.emit('version', version);
    this.finish(RoundOutcome.Committed, undefined, version, meanLoss);
  }

  private finish(outcome: RoundOutcome, reason?: string, newVersion?: number, meanLoss: number | null = null): void {
    const r = this.round!;
    if (outcome !== RoundOutcome.Committed) {
      this.registry.failRound(r.id, RoundOutcome.Failed, reason ?? 'failed', {
        survivors: r.secure ? r.secure.survivors.length : r.delivered.size,
        dropouts: r.dropped.size,
        bytesUp: r.bytesUp,
        bytesDown: r.bytesDown,
      });
      this.log.warn({ roundId: r.id, reason }, 'round failed; global model unchanged');
    } else {
      this.log.info({ roundId: r.id, newVersion, survivors: r.delivered.size }, 'round committed');
    }
    const end: RoundEnd = {
      roundId: r.id,
      outcome,
      ...(reason ? { reason } : {}),
      ...(newVersion !== undefined ? { newVersion } : {}),
    };
    for (const id of r.cohort) this.pool.get(id)?.send(EVENTS.roundEnd, end);
    const event: RoundEndedEvent = {
      roundId: r.id,
      outcome,
      ...(reason ? { reason } : {}),
      ...(newVersion !== undefined ? { newVersion } : {}),
      survivors: r.secure ? r.secure.survivors.length : r.delivered.size,
      dropouts: r.dropped.size,
      durationMs: Date.now() - r.startedAt,
      meanLoss,
      bytesUp: r.bytesUp,
      bytesDown: r.bytesDown,
    };
    this.setPhase(RoundPhase.Idle); // records the last phase's duration while the round is still known
    this.round = undefined;
    this.emitStatus();
    this.emit('round-ended', event);
    this.scheduleStart(this.cfg.roundIntervalMs);
  }

  private setPhase(phase: RoundPhase): void {
    const prev = this.phase;
    this.phase = phase;
    if (this.round) {
      const now = Date.now();
      this.emit('phase-duration', { phase: prev, ms: now - this.round.phaseStartedAt });
      this.round.phaseStartedAt = now;
    }
    this.emitStatus();
  }

  private emitStatus(): void {
    this.emit('status', this.status());
  }
}
