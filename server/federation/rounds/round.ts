import type { Logger } from 'pino';
import type { RoundPhase, RoundOutcome } from '../../../shared/protocol/phases';
import type { Ack, UpdateSubmit } from '../../../shared/protocol/messages';
import type { RoundConfig } from '../../../shared/protocol/round-config';
import type { SecAggRoundInfo } from '../../../shared/protocol/secagg-messages';
import type { SecAggClientType } from '../../../shared/protocol/wire';
import type { ClientPool } from '../client-pool';

/** The SecAgg+ messages a client sends: the wire union's own list. */
export type SecureMessageKind = SecAggClientType;

/** One client message for the running round: a plain delta (already schema-checked) or a raw SecAgg+ payload. */
export type RoundInput = { type: 'update'; msg: UpdateSubmit } | { type: SecureMessageKind; raw: unknown };

/** Everything the server received in a secure round, for the privacy tests' hook. */
export type ReceiveHook = (clientId: string, kind: SecureMessageKind, payload: unknown) => void;

/** What a round hands on once its clients are done: the sum the server may see, never one client's update. */
export type RoundSum = {
  weightedSum: Float32Array;
  weightSum: number;
  survivors: string[];
  /** performance.now() when aggregation began (plain: summing deltas; secure: unmasking), for aggregate_ms. */
  startedAt: number;
} & (
  | { kind: 'plain'; meanLoss: number; examples: number }
  | {
      kind: 'secure';
      info: SecAggRoundInfo;
      /** Adaptive clipping: Σ (b − ½) over survivors (+ the clients' noise under distributed DP). */
      centredBitSum?: number;
      /** Σ (clip(loss) − lossMax/2) over survivors (+ the clients' noise under distributed DP). */
      centredLossSum?: number;
      /** Divergence-aware rounds outside DP: Σ w·a_ℓ per layer. */
      layerWeightSums?: Float64Array;
    }
);

/** A round ended without a sum; `message` is the reason recorded in the registry and sent to the cohort. */
export class RoundFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RoundFailure';
  }
}

/** The global model a round trains: what round:start announces and what updates must match. */
export interface RoundModel {
  version: number;
  hash: string;
  /** entries: the per-layer sizes, for divergence-aware rounds. */
  layout: { hash: string; totalSize: number; entries: readonly { size: number }[] };
}

/** What every round is given by the scheduler. */
export interface RoundContext {
  roundId: number;
  cohort: string[];
  /** The global model the round trains (its version, hash and layout go into round:start). */
  model: RoundModel;
  config: RoundConfig;
  pool: ClientPool;
  log: Logger;
  /** Each phase change (from the phase table), for status and phase-duration metrics. */
  onPhase?: (from: RoundPhase, to: RoundPhase) => void;
  /** Bytes sent to clients (for round statistics). */
  onBytesDown?: (bytes: number) => void;
}

/**
 * One federated round, plain or secure. The scheduler calls `start` once, routes every client
 * message to `handle` and every departure to `clientDisconnected`; `result` settles once: with
 * the sum, or rejected with a RoundFailure. Phases move only through the phase table.
 */
export interface Round {
  readonly kind: 'plain' | 'secure';
  readonly id: number;
  readonly cohort: ReadonlySet<string>;
  readonly phase: RoundPhase;
  /** When the current phase ends (ms since the epoch); 0 before start. */
  readonly deadline: number;
  /** Clients whose contribution is in (plain: delivered deltas; secure: masked inputs). */
  readonly survivors: string[];
  /** Cohort members that left or missed a deadline. */
  readonly dropped: ReadonlySet<string>;
  readonly result: Promise<RoundSum>;
  start(): void;
  /** Validates and applies one message; never throws: bad input gets a reason. */
  handle(clientId: string, input: RoundInput): Ack;
  clientDisconnected(clientId: string): void;
  /** Ends the round early (server stopping); `result` rejects. */
  abort(reason: string): void;
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

/** The round id a SecAgg+ payload claims, for a rejection's reason (read without trusting the payload). */
export function claimedRound(raw: unknown): string {
  const p = raw !== null && typeof raw === 'object' && 'p' in raw ? raw.p : raw;
  return p !== null && typeof p === 'object' && 'round' in p && typeof p.round === 'number' ? String(p.round) : '?';
}

/** The answer to a message when no round is running. */
export function noRoundAck(input: RoundInput, lastRoundId: number, phase: RoundPhase): Ack {
  const reason =
    input.type === 'update'
      ? `round ${input.msg.roundId} is not accepting updates (current round ${lastRoundId}, phase ${phase})`
      : `no secure-aggregation round is running (message for round ${claimedRound(input.raw)})`;
  return { ok: false, code: 'stale_round', reason };
}
