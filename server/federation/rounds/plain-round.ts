import { RoundPhase } from '../../../shared/protocol/phases';
import { ErrorCodes, type Ack, type ErrorCode, type UpdateSubmit } from '../../../shared/protocol/messages';
import { float32FromBytes } from '../../../shared/protocol/binary';
import { checkDelta } from '../validate-update';
import { plainAggregate, type PlainUpdate } from '../plain-aggregate';
import { roundStartMessage, sendRoundStart } from '../wire-out';
import { deadlineMs, transition, type RoundEvent, type Transition } from './phase-table';
import { RoundFailure, noRoundAck, type Round, type RoundContext, type RoundInput, type RoundSum } from './round';

export interface PlainRoundOptions extends RoundContext {
  /** An update was accepted (the registry records who delivered). */
  onDelivered?: (clientId: string, update: PlainUpdate) => void;
}

/**
 * A plain-mode round: Select → Train → Aggregate. Clients upload their deltas in the clear;
 * Train closes when every cohort member delivered or left, or at the train deadline, and the
 * round resolves with the (capped or robust) weighted sum when at least `minSurvivors` delivered.
 */
export class PlainRound implements Round {
  readonly kind = 'plain';
  readonly id: number;
  readonly cohort: ReadonlySet<string>;
  readonly result: Promise<RoundSum>;
  deadline = 0;
  private current = RoundPhase.Select;
  private readonly delivered = new Map<string, PlainUpdate>();
  private readonly gone = new Set<string>();
  private timer?: NodeJS.Timeout;
  private resolve!: (s: RoundSum) => void;
  private reject!: (e: Error) => void;

  constructor(private readonly opts: PlainRoundOptions) {
    this.id = opts.roundId;
    this.cohort = new Set(opts.cohort);
    this.result = new Promise((res, rej) => {
      this.resolve = res;
      this.reject = rej;
    });
    void this.result.catch(() => undefined); // the scheduler handles the rejection
  }

  get phase(): RoundPhase {
    return this.current;
  }

  get survivors(): string[] {
    return [...this.delivered.keys()];
  }

  get dropped(): ReadonlySet<string> {
    return this.gone;
  }

  /** Select → Train: round:start to the cohort, with the train deadline from the table. */
  start(): void {
    const t = transition(this.current, 'start-plain');
    const ms = deadlineMs(t, this.opts.config)!;
    this.deadline = Date.now() + ms;
    const { model, config, pool } = this.opts;
    const msg = roundStartMessage(this.id, model, config.training, this.deadline);
    const bytes = sendRoundStart(pool, this.opts.cohort, msg); // sent whether or not anyone counts bytes
    this.opts.onBytesDown?.(bytes);
    this.timer = setTimeout(() => this.close('deadline passed'), ms);
    this.apply(t);
  }

  handle(clientId: string, input: RoundInput): Ack {
    return input.type === 'update' ? this.submit(clientId, input.msg) : noRoundAck(input, this.id, this.phase);
  }

  private submit(clientId: string, msg: UpdateSubmit): Ack {
    const reject = (code: ErrorCode, reason: string): Ack => ({ ok: false, code, reason });
    if (this.current !== RoundPhase.Train || msg.roundId !== this.id) {
      return reject(
        ErrorCodes.staleRound,
        `round ${msg.roundId} is not accepting updates (current round ${this.id}, phase ${this.current})`,
      );
    }
    if (!this.cohort.has(clientId))
      return reject(ErrorCodes.notSelected, `client is not in the cohort of round ${this.id}`);
    if (this.delivered.has(clientId))
      return reject(ErrorCodes.duplicate, `an update for round ${this.id} was already accepted from this client`);
    const base = this.opts.model.version;
    if (msg.modelVersion !== base)
      return reject(
        ErrorCodes.wrongVersion,
        `update is based on v${msg.modelVersion}, round ${this.id} trains v${base}`,
      );
    let delta: Float32Array;
    try {
      delta = float32FromBytes(msg.delta);
    } catch (err) {
      return reject(ErrorCodes.wrongLength, (err as Error).message);
    }
    const check = checkDelta(delta, this.opts.model.layout.totalSize, this.opts.config.maxUpdateNorm);
    if (!check.ok) return reject(check.code, check.reason);
    const update = { delta, numExamples: msg.numExamples, meanLoss: msg.meanLoss };
    this.delivered.set(clientId, update);
    this.opts.onDelivered?.(clientId, update);
    this.maybeClose();
    return { ok: true };
  }

  clientDisconnected(clientId: string): void {
    if (this.current !== RoundPhase.Train || !this.cohort.has(clientId) || this.delivered.has(clientId)) return;
    this.gone.add(clientId);
    this.opts.log.info({ roundId: this.id, clientId }, 'cohort member dropped out');
    this.maybeClose();
  }

  abort(reason: string): void {
    if (this.current === RoundPhase.Idle) return;
    this.step('fail');
    clearTimeout(this.timer);
    this.reject(new RoundFailure(reason));
  }

  private maybeClose(): void {
    if (this.delivered.size + this.gone.size >= this.cohort.size)
      this.close(this.gone.size ? 'all survivors delivered' : 'all delivered');
  }

  /** Train → Aggregate: the sum of what was delivered, or a failure when too few delivered. */
  private close(why: string): void {
    if (this.current !== RoundPhase.Train) return;
    clearTimeout(this.timer);
    this.step('close');
    for (const id of this.cohort) if (!this.delivered.has(id)) this.gone.add(id);
    const survivors = this.survivors;
    const { minSurvivors } = this.opts.config;
    if (survivors.length < minSurvivors) {
      this.reject(
        new RoundFailure(
          `${survivors.length} of ${this.cohort.size} delivered (${why}); at least ${minSurvivors} needed`,
        ),
      );
      return;
    }
    const startedAt = performance.now();
    try {
      const updates = survivors.map((id) => this.delivered.get(id)!);
      const agg = plainAggregate(updates, this.opts.model.layout.totalSize, this.opts.config);
      this.resolve({ kind: 'plain', ...agg, survivors, startedAt });
    } catch (err) {
      this.opts.log.error({ err, roundId: this.id }, 'aggregation failed');
      this.reject(new RoundFailure(`aggregation failed: ${(err as Error).message}`));
    }
  }

  private step(event: RoundEvent): void {
    this.apply(transition(this.current, event));
  }

  private apply(t: Transition): void {
    this.current = t.to;
    this.opts.onPhase?.(t.from, t.to);
  }
}
