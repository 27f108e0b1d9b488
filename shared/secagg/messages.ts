/**
 * The SecAgg+ library's non-wire vocabulary: phase and progress states, typed rejections and failures.
 * The messages themselves are zod schemas in shared/protocol/secagg-messages.ts (members of the one wire
 * union, shared/protocol/wire.ts); their inferred types are re-exported here under their usual names.
 * Binary fields are typed arrays; every message carries round + sessionId so replays are refused.
 */
import type { ErrorCode } from '../protocol/messages';
import { RoundOutcome, RoundPhase } from '../protocol/phases';
import type { MessageOf, SecAggType } from '../protocol/wire';

export type {
  AdvertiseMsg,
  EncryptedShare,
  MaskedInputMsg,
  MsgHeader,
  OwnedShare,
  RosterEntry,
  RosterMsg,
  RoutedSharesMsg,
  ShareKeysMsg,
  UnmaskMsg,
  UnmaskRequestMsg,
} from '../protocol/secagg-messages';

/**
 * Server-side phases, in order. The four protocol phases are the round's own wire phases (RoundPhase, spelled
 * once in shared/protocol/phases.ts); Done and Failed are terminal states of this library only.
 */
export const Phase = {
  AdvertiseKeys: RoundPhase.AdvertiseKeys,
  ShareKeys: RoundPhase.ShareKeys,
  MaskedInput: RoundPhase.MaskedInput,
  Unmask: RoundPhase.Unmask,
  Done: 'done',
  Failed: RoundOutcome.Failed,
} as const;
export type Phase = (typeof Phase)[keyof typeof Phase];

/**
 * A client's progress through one round: what it has done so far, not a round phase (those are RoundPhase).
 * Each state allows exactly one next call of SecAggClient.
 */
export const ClientPhase = {
  Init: 'init',
  Advertised: 'keys-advertised',
  SharedKeys: 'shares-sent',
  ReceivedShares: 'shares-received',
  Masked: 'input-sent',
  Done: Phase.Done,
  Failed: Phase.Failed,
} as const;
export type ClientPhase = (typeof ClientPhase)[keyof typeof ClientPhase];

/** The SecAgg+ members of the wire union. */
export type SecAggMessage = MessageOf<SecAggType>;

/** The SecAgg+ subset of the one wire vocabulary (shared/protocol/messages.ts). */
export type RejectCode = Extract<
  ErrorCode,
  | 'wrong_phase'
  | 'unknown_client'
  | 'wrong_session'
  | 'stale_round'
  | 'sender_mismatch'
  | 'duplicate'
  | 'malformed'
  | 'bad_key'
  | 'not_neighbour'
  | 'missing_share'
  | 'bad_length'
  | 'not_eligible'
  | 'both_shares'
  | 'too_few'
  | 'decrypt_failed'
  | 'bad_params'
>;

export interface Rejection {
  ok: false;
  code: RejectCode;
  reason: string;
}

export type Result<T = void> = (T extends void ? { ok: true } : { ok: true; value: T }) | Rejection;

export function reject(code: RejectCode, reason: string): Rejection {
  return { ok: false, code, reason };
}

/** Thrown by SecAggClient (and by coordinator misuse of the server) with a machine-readable code. */
export class SecAggError extends Error {
  constructor(
    readonly code: RejectCode,
    message: string,
  ) {
    super(`secagg [${code}]: ${message}`);
    this.name = 'SecAggError';
  }
}

export type FailCode = 'too_few_survivors' | 'reconstruction_failed';

/** The round cannot complete; the caller keeps the previous global model. */
export class RoundFailed extends Error {
  constructor(
    readonly code: FailCode,
    message: string,
  ) {
    super(`secagg round failed [${code}]: ${message}`);
    this.name = 'RoundFailed';
  }
}
