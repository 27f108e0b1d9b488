/**
 * Plain message objects exchanged in one SecAgg+ round, the phase enums and
 * the typed rejection / failure values. Binary fields are typed arrays; the
 * transport (socket.io) carries them as binary attachments, never as JSON
 * number arrays. Every message carries round + sessionId so that replays
 * from another round or session are rejected.
 */
import type { ErrorCode } from '../protocol/messages';
import { RoundPhase } from '../protocol/phases';

/**
 * Server-side phases, in order. The four protocol phases are the round's own wire phases (RoundPhase, spelled
 * once in shared/protocol/phases.ts); Failed and Done are terminal states of this library only.
 */
export const Phase = {
  AdvertiseKeys: RoundPhase.AdvertiseKeys,
  ShareKeys: RoundPhase.ShareKeys,
  MaskedInput: RoundPhase.MaskedInput,
  Unmask: RoundPhase.Unmask,
  Done: 'done',
  Failed: 'failed',
} as const;
export type Phase = (typeof Phase)[keyof typeof Phase];

/** Client-side progress through one round. */
export enum ClientPhase {
  Init = 'init',
  Advertised = 'advertised',
  SharedKeys = 'sharedKeys',
  ReceivedShares = 'receivedShares',
  Masked = 'masked',
  Done = 'done',
  Failed = 'failed',
}

export interface MsgHeader {
  round: number;
  sessionId: string;
}

/** Phase 1, client → server: two X25519 public keys and a commitment to the self-mask seed. */
export interface AdvertiseMsg extends MsgHeader {
  type: 'advertise';
  from: string;
  /** Public key for agreeing the share-encryption keys. */
  cPk: Uint8Array;
  /** Public key for agreeing the pairwise mask seeds. */
  sPk: Uint8Array;
  /** SHA-256 commitment to the self-mask seed (see keys.selfSeedCommitment). */
  selfSeedCommit: Uint8Array;
}

export interface RosterEntry {
  id: string;
  cPk: Uint8Array;
  sPk: Uint8Array;
}

/** Server → client after AdvertiseKeys: the client's neighbours that advertised. */
export interface RosterMsg extends MsgHeader {
  type: 'roster';
  to: string;
  neighbours: RosterEntry[];
}

/** One encrypted share bundle u → v; from/to are in clear for routing and bound as AEAD associated data. */
export interface EncryptedShare {
  from: string;
  to: string;
  /** 12-byte random ChaCha20-Poly1305 nonce. */
  nonce: Uint8Array;
  /** Ciphertext with the 16-byte Poly1305 tag appended. */
  ciphertext: Uint8Array;
}

/** Phase 2, client → server: one encrypted share bundle per neighbour. */
export interface ShareKeysMsg extends MsgHeader {
  type: 'shareKeys';
  from: string;
  shares: EncryptedShare[];
}

/** Server → client after ShareKeys: the bundles addressed to this client. */
export interface RoutedSharesMsg extends MsgHeader {
  type: 'routedShares';
  to: string;
  shares: EncryptedShare[];
}

/** Phase 3, client → server: the masked, quantized update. */
export interface MaskedInputMsg extends MsgHeader {
  type: 'maskedInput';
  from: string;
  y: Uint32Array;
}

/** Server → surviving clients: who survived (masked input received) and who dropped (shared keys, no input). */
export interface UnmaskRequestMsg extends MsgHeader {
  type: 'unmaskRequest';
  survivors: string[];
  dropped: string[];
}

export interface OwnedShare {
  /** Client whose secret this is a share of. */
  owner: string;
  /** Shamir share (secret length + 1 byte x-coordinate). */
  share: Uint8Array;
}

/** Phase 4, client → server: self-seed shares of survivors, mask-key shares of dropped clients. */
export interface UnmaskMsg extends MsgHeader {
  type: 'unmask';
  from: string;
  selfSeedShares: OwnedShare[];
  maskKeyShares: OwnedShare[];
}

export type SecAggMessage =
  AdvertiseMsg | RosterMsg | ShareKeysMsg | RoutedSharesMsg | MaskedInputMsg | UnmaskRequestMsg | UnmaskMsg;

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
