import { RoundPhase } from '../../../shared/protocol/phases';
import { EVENTS, type Ack } from '../../../shared/protocol/messages';
import { SECAGG_EVENTS, type SecAggRoundInfo } from '../../../shared/protocol/secagg-messages';
import { SecAggServer } from '../../../shared/secagg/server';
import { Phase, type Result } from '../../../shared/secagg/messages';
import { layoutForRound } from '../../../shared/protocol/round-layout';
import { roundStartMessage, PacedSender } from '../wire-out';
import { deadlineMs, transition, type Transition } from './phase-table';
import { RoundFailure, type ReceiveHook, type Round, type RoundContext, type RoundInput, type RoundSum } from './round';
import { readSecureMessage } from './secure-inbox';
import { decodeRoundSum } from './secure-sum';
import { reconstructorFor, unmaskerFor } from './unmask-routing';
import { secureRoundInfo, type SecureRoundFeatures } from './secure-setup';

export type { ReceiveHook, SecureMessageKind } from './round';

export interface SecureRoundOptions extends RoundContext, SecureRoundFeatures {
  onReceive?: ReceiveHook;
}

/**
 * One SecAgg+ round on the wire: AdvertiseKeys → ShareKeys → MaskedInput → Unmask, each closed when every
 * expected client has answered or at its deadline (both from the phase table). Its phase is the SecAggServer's:
 * this class keeps none of its own. The server relays encrypted shares and sums masked inputs; `result`
 * resolves with the decoded sum, or rejects with a RoundFailure.
 */
export class SecureRound implements Round {
  readonly kind = 'secure';
  readonly id: number;
  readonly cohort: ReadonlySet<string>;
  readonly info: SecAggRoundInfo;
  /** The chosen degree, threshold and (when derived) the predicted failure probability, for the console. */
  readonly params: { k: number; t: number; predictedFailure: number | null };
  readonly result: Promise<RoundSum>;
  deadline = 0;
  private server?: SecAggServer;
  private readonly expected = new Set<string>();
  private readonly answered = new Set<string>();
  private readonly gone = new Set<string>();
  private readonly d: number;
  private timer?: NodeJS.Timeout;
  private resolve!: (r: RoundSum) => void;
  private reject!: (e: Error) => void;

  constructor(private readonly opts: SecureRoundOptions) {
    this.sender = new PacedSender(opts.pool, (bytes) => opts.onBytesDown?.(bytes));
    this.id = opts.roundId;
    this.cohort = new Set(opts.cohort);
    this.d = opts.model.layout.totalSize;
    ({ info: this.info, params: this.params } = secureRoundInfo(
      opts.cohort.length,
      opts.config.secureAggregation,
      opts,
    ));
    this.result = new Promise((res, rej) => {
      this.resolve = res;
      this.reject = rej;
    });
    void this.result.catch(() => undefined); // the scheduler handles the rejection
  }

  /** The SecAggServer's phase: Select before start, Aggregate once unmasked, Idle once failed. */
  get phase(): RoundPhase {
    const p = this.server?.phase;
    if (p === undefined) return RoundPhase.Select;
    if (p === Phase.Done) return RoundPhase.Aggregate;
    if (p === Phase.Failed) return RoundPhase.Idle;
    return p;
  }

  get survivors(): string[] {
    return this.server?.survivors ?? [];
  }

  get dropped(): ReadonlySet<string> {
    return this.gone;
  }

  /** Select → AdvertiseKeys: the SecAggServer starts in AdvertiseKeys; round:start announces the parameters. */
  start(): void {
    const t = transition(this.phase, 'start-secure');
    const layout = layoutForRound(this.info, this.d);
    const { roundId, cohort, config, model } = this.opts;
    this.server = new SecAggServer({
      round: roundId,
      sessionId: this.info.sessionId,
      clients: cohort,
      k: this.info.degree,
      threshold: this.info.threshold,
      vectorLength: layout.length,
    });
    this.checkPhase(t);
    for (const id of cohort) this.expected.add(id);
    this.arm(t);
    const msg = roundStartMessage(roundId, model, config.training, this.deadline, this.info);
    this.sender.sendToEach(cohort, EVENTS.roundStart, msg); // paced like the phases' messages (n = 1000)
    this.opts.onPhase?.(t.from, t.to);
  }

  /** Validates and applies one client message; never throws. */
  handle(clientId: string, input: RoundInput): Ack {
    if (input.type === 'update')
      return {
        ok: false,
        code: 'stale_round',
        reason: `round ${this.id} uses secure aggregation: send a masked input, not a plain delta`,
      };
    if (!this.cohort.has(clientId))
      return { ok: false, code: 'not_selected', reason: `client is not in the cohort of round ${this.id}` };
    const s = this.server;
    if (!s) return { ok: false, code: 'wrong_phase', reason: `round ${this.id} has not started` };
    const read = readSecureMessage(input.raw, {
      kind: input.type,
      phase: s.unmasking ? 'closed' : this.phase,
      roundId: this.id,
      sessionId: this.info.sessionId,
      clientId,
      expected: this.expected.has(clientId),
      answered: this.answered.has(clientId),
      degree: s.degree,
      vectorLength: s.vectorLength,
    });
    if (!read.ok) return read;
    const msg = read.msg;
    this.opts.onReceive?.(clientId, input.type, msg);
    let r: Result;
    switch (msg.type) {
      case 'advertise':
        r = s.onAdvertise(clientId, msg);
        break;
      case 'shareKeys':
        r = s.onShareKeys(clientId, msg);
        break;
      case 'maskedInput':
        r = s.onMaskedInput(clientId, msg);
        break;
      case 'unmask':
        r = s.onUnmask(clientId, msg);
        break;
    }
    if (!r.ok) {
      this.opts.log.warn(
        { clientId, kind: input.type, code: r.code, reason: r.reason },
        'secure aggregation message rejected',
      );
      return { ok: false, code: r.code, reason: r.reason };
    }
    this.answered.add(clientId);
    this.maybeAdvance();
    return { ok: true };
  }

  clientDisconnected(id: string): void {
    if (!this.cohort.has(id)) return;
    this.gone.add(id);
    this.maybeAdvance();
  }

  /** Ends the round early (server stopping); the result rejects. */
  abort(reason: string): void {
    this.fail(new Error(reason));
  }

  /** Whether the round still takes messages and phase changes (started, not unmasking, not settled). */
  private get open(): boolean {
    const s = this.server;
    return s !== undefined && !s.unmasking && s.phase !== Phase.Done && s.phase !== Phase.Failed;
  }

  private maybeAdvance(): void {
    if (this.open && [...this.expected].every((id) => this.answered.has(id) || this.gone.has(id)))
      this.advance('all expected clients answered');
  }

  private arm(t: Transition): void {
    clearTimeout(this.timer);
    const ms = deadlineMs(t, this.opts.config)!;
    this.deadline = Date.now() + ms;
    this.timer = setTimeout(() => this.advance('deadline passed'), ms);
  }

  /** The table and the SecAggServer must agree on where a transition leads. */
  private checkPhase(t: Transition): void {
    if (this.phase !== t.to) throw new Error(`SecAggServer is in ${this.phase}, the phase table says ${t.to}`);
  }

  private readonly sender: PacedSender;

  private send(id: string, event: string, payload: object | (() => object | undefined)): void {
    this.sender.send(id, event, payload);
  }

  /** Closes the current phase (the SecAggServer enforces the threshold at each step) and opens the next. */
  private advance(why: string): void {
    if (!this.open) return;
    const s = this.server!;
    const from = this.phase;
    try {
      const t = transition(this.phase, 'close');
      this.opts.log.debug({ roundId: this.id, phase: t.from, why }, 'secure aggregation phase closes');
      this.answered.clear();
      this.expected.clear();
      switch (t.from) {
        case RoundPhase.AdvertiseKeys:
          s.closeAdvertise();
          for (const id of s.advertised) {
            // Built in the sender's turn (O(k) each); a roster asked for after ShareKeys closed is not sent.
            this.send(id, SECAGG_EVENTS.roster, () => {
              const roster = s.rosterFor(id);
              return roster.ok ? roster.value : undefined;
            });
            this.expected.add(id);
          }
          break;
        case RoundPhase.ShareKeys:
          s.closeShareKeys();
          for (const id of s.sharedKeys) {
            this.send(id, SECAGG_EVENTS.routedShares, () => {
              const routed = s.routedSharesFor(id);
              return routed.ok ? routed.value : undefined;
            });
            this.expected.add(id);
          }
          break;
        case RoundPhase.MaskedInput: {
          const req = s.unmaskRequest();
          for (const id of req.survivors) {
            this.send(id, SECAGG_EVENTS.unmaskRequest, req);
            this.expected.add(id);
          }
          break;
        }
        default:
          clearTimeout(this.timer);
          void this.finish(t);
          return;
      }
      this.checkPhase(t);
      this.arm(t);
      this.opts.onPhase?.(t.from, t.to);
      // Clients that already left will not answer; the next phase may be complete at once.
      this.maybeAdvance();
    } catch (err) {
      this.fail(err as Error, from);
    }
  }

  /** Unmask → Aggregate: reconstruct, remove the masks and decode through the round's layout. */
  private async finish(t: Transition): Promise<void> {
    const startedAt = performance.now();
    try {
      const out = await this.server!.finish(unmaskerFor, reconstructorFor);
      const dec = decodeRoundSum(this.info, this.d, out.sum, out.survivors.length);
      this.checkPhase(t);
      for (const id of this.cohort) if (!out.survivors.includes(id)) this.gone.add(id);
      this.opts.onPhase?.(t.from, t.to);
      this.resolve({ kind: 'secure', ...dec, survivors: out.survivors, startedAt, info: this.info });
    } catch (err) {
      this.fail(err as Error, this.server!.phase === Phase.Done ? RoundPhase.Aggregate : t.from);
    }
  }

  /** Any active phase → Idle (the SecAggServer may have failed itself, so `from` is the phase the failure began in). */
  private fail(err: Error, from: RoundPhase = this.phase): void {
    clearTimeout(this.timer);
    this.server?.abort();
    if (this.phase !== from) this.opts.onPhase?.(from, transition(from, 'fail').to);
    this.reject(new RoundFailure(`secure aggregation failed: ${err.message}`));
  }
}
