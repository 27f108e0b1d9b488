import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { RoundOutcome, RoundPhase } from '../../shared/protocol/phases';
import { type RoundConfig } from '../../shared/protocol/round-config';
import { trainingForRound } from '../../shared/federation/round-learning-rate';
import { type Ack, type UpdateSubmit } from '../../shared/protocol/messages';
import type { CoordinatorStatus } from '../../shared/protocol/admin';
import type { Strategy } from '../strategies/strategy';
import type { Registry } from '../registry/registry';
import type { GlobalModel } from '../model/global-model';
import { ClientPool } from './client-pool';
import { selectCohort } from './sampling';
import { PrivacyPolicy } from './privacy-policy';
import { VersionStore } from './version-store';
import { recordRoundEnd, settleRound, type SettleDeps } from './settle-round';
import { RoundRun, minCohortSize, openRun, redrawDelayMs } from './round-run';
import { roundEndMessage, sendRoundEnd } from './wire-out';
import { transition, type RoundEvent } from './rounds/phase-table';
import { launchRound } from './rounds/create-round';
import { SecureRound } from './rounds/secure-round';
import { noRoundAck, type ReceiveHook, type RoundInput, type RoundSum, type SecureMessageKind } from './rounds/round';
export type { CoordinatorStatus } from '../../shared/protocol/admin';
export type { RoundEndedEvent } from './rounds/round';

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
 * Schedules rounds: waits for enough eligible clients and the privacy budget, draws a cohort, starts a
 * PlainRound or SecureRound (rounds/), routes client messages to it, and hands its sum on (settle-round.ts:
 * PrivacyPolicy, strategy, VersionStore). Phases move only through the phase table (rounds/phase-table.ts);
 * a round that fails, at any phase, leaves the global model untouched.
 */
export class RoundCoordinator extends EventEmitter {
  readonly pool: ClientPool;
  private readonly registry: Registry;
  /** Budget gate, DP wrapper, adaptive clipper and per-round noise plan. */
  private readonly privacy: PrivacyPolicy;
  /** Checkpoints, optimiser state, registry rows, rollback and retention. */
  readonly versions: VersionStore;
  private readonly log: Logger;
  private cfg: RoundConfig;
  private model: GlobalModel;
  /** The scheduler's phase (Idle or Select) while no round object holds one. */
  private ownPhase = RoundPhase.Idle;
  private paused = false;
  private stopped = false;
  private rollingBack = false;
  private startDeferred = false;
  private active?: RoundRun;
  private lastRoundId = 0;
  private startTimer?: NodeJS.Timeout;
  private readonly onSecureReceive: ReceiveHook | undefined;
  private lastSecAgg?: CoordinatorStatus['secagg'];
  /** Who a round's sum is handed to (settle-round.ts). */
  private readonly owners: Omit<SettleDeps, 'config'>;

  constructor(opts: CoordinatorOptions) {
    super();
    const { registry, strategy } = opts;
    ({ registry: this.registry, config: this.cfg, model: this.model, onSecureReceive: this.onSecureReceive } = opts);
    this.privacy = new PrivacyPolicy(registry, strategy, this.cfg);
    // The optimiser state (FedAdam's moments) that produced the current version survives restarts.
    this.versions = new VersionStore(registry, strategy);
    this.versions.restoreStrategy(this.model.version);
    this.log = opts.log.child({ component: 'coordinator' });
    this.pool = opts.pool ?? new ClientPool();
    this.owners = { registry, strategy, privacy: this.privacy, versions: this.versions, log: this.log };
  }

  /**
   * A listener (metrics, console, evaluation) that throws must not stop a transition half-way (rounds would stop
   * being scheduled): its error is logged. Committed state is already in SQLite by then.
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

  /** One phase at a time: the running round's, else the scheduler's own. */
  get phase(): RoundPhase {
    return this.active?.round?.phase ?? this.ownPhase;
  }

  status(): CoordinatorStatus {
    return {
      phase: this.phase,
      paused: this.paused,
      roundId: this.active?.plan.id ?? this.lastRoundId,
      modelVersion: this.model.version,
      ...(this.active?.view(this.phase) ?? { deadline: null, cohort: [], delivered: [], dropped: [] }),
      connectedClients: this.pool.size,
      eligibleClients: this.eligible().length,
      ...(this.cfg.privacy.enabled ? { privacy: this.privacy.status() } : {}),
      ...(this.lastSecAgg ? { secagg: this.lastSecAgg } : {}),
    };
  }

  start(): void {
    this.stopped = false;
    this.scheduleStart(0);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.startTimer);
    this.active?.round?.abort('server stopping');
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
  async rollback(toVersion: number): Promise<GlobalModel> {
    if (this.phase !== RoundPhase.Idle)
      throw new Error(`cannot roll back during the ${this.phase} phase; pause first and wait for the round to end`);
    if (this.rollingBack) throw new Error('another rollback is in progress');
    this.rollingBack = true; // no round starts on the old model while the files are written
    try {
      this.model = await this.versions.rollback(this.model, toVersion);
    } finally {
      this.rollingBack = false;
      if (this.startDeferred) this.scheduleStart(0);
      this.startDeferred = false;
    }
    this.log.info({ toVersion, version: this.model.version }, 'rolled back global model');
    this.emit('version', this.model.version);
    this.emitStatus();
    return this.model;
  }

  clientReady(): void {
    this.emitStatus();
    this.scheduleStart(0);
  }

  clientDisconnected(id: string): void {
    this.active?.round?.clientDisconnected(id);
    this.emitStatus();
  }

  /** A plain-mode delta (schema-checked by the transport). Never throws: bad input gets a reason. */
  submitUpdate(clientId: string, msg: UpdateSubmit, wireBytes: number): Ack {
    return this.deliver(clientId, { type: 'update', msg }, wireBytes);
  }

  /** A SecAgg+ message; validated and applied by the round's SecureRound. */
  secureMessage(clientId: string, kind: SecureMessageKind, raw: unknown, wireBytes: number): Ack {
    return this.deliver(clientId, { type: kind, raw }, wireBytes);
  }

  noteBytesDown(bytes: number): void {
    if (this.active) this.active.bytesDown += bytes;
  }

  private deliver(clientId: string, input: RoundInput, wireBytes: number): Ack {
    const a = this.active;
    const ack = a?.round ? a.round.handle(clientId, input) : noRoundAck(input, this.lastRoundId, this.phase);
    if (ack.ok) {
      a!.bytesUp += wireBytes;
      if (input.type === 'update') this.emitStatus();
      return ack;
    }
    if (input.type === 'update')
      this.log.warn({ clientId, roundId: input.msg.roundId, code: ack.code, reason: ack.reason }, 'update rejected');
    this.emit('rejected', { clientId, code: ack.code, reason: ack.reason });
    return ack;
  }

  private eligible() {
    // One query for the whole pool, not one per client: status() runs on every connect, ready and disconnect.
    const removed = this.registry.removedClients(this.pool.all().map((c) => c.id));
    return this.pool.eligible((id) => removed.has(id));
  }

  private scheduleStart(delayMs: number): void {
    clearTimeout(this.startTimer);
    this.startTimer = setTimeout(() => this.tryStartRound(), delayMs);
  }

  private tryStartRound(): void {
    if (this.rollingBack) this.startDeferred = true;
    if (this.stopped || this.paused || this.rollingBack || this.phase !== RoundPhase.Idle) return;
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
    this.fire('draw');
    const cohort = selectCohort(eligible, this.cfg.cohort);
    const minCohort = minCohortSize(this.cfg);
    if (cohort.length < minCohort) {
      // Poisson sampling can draw too few. Under DP the draw still counts (conservatively) as a step.
      if (gate.dp) this.privacy.recordEmptyDraw(gate.dp);
      this.log.info({ drawn: cohort.length, needed: minCohort }, 'cohort draw too small; drawing again');
      this.fire('too-few');
      this.scheduleStart(redrawDelayMs(this.cfg));
      return;
    }
    const ids = cohort.map((c) => c.id);
    const base = { registry: this.registry, privacy: this.privacy, cfg: this.cfg, baseVersion: this.model.version };
    const opened = openRun({ ...base, cohort: ids, eligible: eligible.length, dp: gate.dp });
    const { run: active, adaptiveClip, failure } = opened;
    const id = active.plan.id;
    this.active = active;
    this.lastRoundId = id;
    if (failure !== undefined) return this.finish(RoundOutcome.Failed, failure); // never trained: Select → Idle
    // The round trains with its own learning rate when the config schedules one.
    const config = { ...this.cfg, training: trainingForRound(this.cfg.training, this.model.version) };
    const ctx = { roundId: id, cohort: ids, model: this.model, config, pool: this.pool, log: this.log };
    const round = launchRound(
      active,
      { ...ctx, onPhase: (from) => this.onPhase(from), onBytesDown: (b) => (active.bytesDown += b) },
      {
        adaptiveClip,
        onReceive: this.onSecureReceive,
        onDelivered: (clientId, u) => this.registry.markDelivered(id, clientId, u.numExamples, u.meanLoss),
      },
    );
    if (typeof round === 'string') return this.finish(RoundOutcome.Failed, round);
    if (round instanceof SecureRound) this.lastSecAgg = { n: ids.length, ...round.params };
    this.log.info({ roundId: id, cohort: ids.length, version: this.model.version, kind: round.kind }, 'round started');
    this.emit('round-started', { roundId: id, cohort: ids });
    const ended = (err: Error) => this.active === active && this.finish(RoundOutcome.Failed, err.message);
    round.result
      .then((sum) => this.settle(active, sum), ended)
      .catch((err: unknown) => this.log.error({ err, roundId: id }, 'ending the round failed'));
  }

  /** Hands the round's sum on (privacy step, guard, strategy, VersionStore) and ends the round. */
  private async settle(a: RoundRun, sum: RoundSum): Promise<void> {
    if (this.active !== a) return;
    const out = await settleRound({ ...this.owners, config: this.cfg }, a.plan, this.model, sum, a.traffic());
    if (this.active !== a) return;
    if (!out.ok) return this.finish(RoundOutcome.Failed, out.reason);
    this.model = out.model;
    this.emit('version', out.model.version);
    this.finish(RoundOutcome.Committed, undefined, out.model.version, out.meanLoss);
  }

  /** Ends the round through the table (`commit` from Aggregate, `fail` from any active phase), then reschedules. */
  private finish(outcome: RoundOutcome, reason?: string, newVersion?: number, meanLoss: number | null = null): void {
    const a = this.active!;
    recordRoundEnd(this.owners, a, outcome, reason, newVersion);
    sendRoundEnd(this.pool, a.cohort, roundEndMessage(a.plan.id, outcome, reason, newVersion));
    const event = a.ended(outcome, reason, newVersion, meanLoss);
    // The scheduler takes the phase back from the round: a round that failed itself is Idle already,
    // otherwise the table takes it there (`commit` from Aggregate, `fail` from any active phase).
    this.ownPhase = this.phase;
    delete a.round;
    if (this.ownPhase !== RoundPhase.Idle) this.fire(outcome === RoundOutcome.Committed ? 'commit' : 'fail');
    this.active = undefined;
    this.emitStatus();
    this.emit('round-ended', event);
    this.scheduleStart(this.cfg.roundIntervalMs);
  }

  /** A scheduler-side transition: starting to select, a draw too small, or the end of a round. */
  private fire(event: RoundEvent): void {
    const t = transition(this.phase, event);
    this.ownPhase = t.to;
    this.onPhase(t.from);
  }

  /** Every transition: the finished phase's duration (metrics) and a status push. */
  private onPhase(from: RoundPhase): void {
    if (this.active) this.emit('phase-duration', { phase: from, ms: this.active.lap() });
    this.emitStatus();
  }

  private emitStatus(): void {
    this.emit('status', this.status());
  }
}
