/**
 * Bounds on the work one SecAgg+ message may cost the server, derived from the
 * model size and the cohort's graph degree, and the cheap checks (phase, header,
 * sender) that run before any binary field is decoded.
 */
import type { Ack } from '../../shared/protocol/messages';
import type { UnpackLimits } from '../../shared/protocol/binary-pack';

export type SecureKind = 'advertise' | 'shareKeys' | 'maskedInput' | 'unmask';

/** Largest share ciphertext SecAggServer accepts, plus its 12-byte nonce. */
const MAX_SHARE_CIPHERTEXT = 4096;
const NONCE_BYTES = 12;
/** A Shamir share is 33 bytes; leave room without allowing bulk. */
const MAX_SHAMIR_SHARE = 64;

/** Per-kind limits: a message can only reference as many bytes as an honest one of its kind needs. */
export function secureMessageLimits(kind: SecureKind, degree: number, vectorLength: number): UnpackLimits {
  const base = { maxDepth: 6 };
  switch (kind) {
    case 'advertise':
      return { ...base, maxPlaceholders: 3, maxBytes: 3 * 32, maxNodes: 32 };
    case 'shareKeys':
      return {
        ...base,
        maxPlaceholders: 2 * degree,
        maxBytes: degree * (NONCE_BYTES + MAX_SHARE_CIPHERTEXT),
        maxNodes: 32 + 8 * degree,
      };
    case 'maskedInput':
      return { ...base, maxPlaceholders: 1, maxBytes: 4 * vectorLength, maxNodes: 32 };
    case 'unmask':
      return {
        ...base,
        maxPlaceholders: 2 * degree,
        maxBytes: 2 * degree * MAX_SHAMIR_SHARE,
        maxNodes: 32 + 8 * degree,
      };
  }
}

export interface PrecheckContext {
  kind: SecureKind;
  /** The round's current phase, or 'closed'. */
  phase: string;
  expectedPhase: string;
  roundId: number;
  sessionId: string;
  clientId: string;
  /** The sender is expected to answer in this phase. */
  expected: boolean;
  /** The sender already answered in this phase. */
  answered: boolean;
}

/**
 * Refuses a message from its JSON header alone, before its binary part is touched.
 * Same codes and order as SecAggServer (round, session, phase, sender, eligibility, duplicate).
 */
export function precheckSecureMessage(raw: unknown, c: PrecheckContext): Ack | undefined {
  const p = raw !== null && typeof raw === 'object' ? (raw as { p?: unknown }).p : undefined;
  if (p === null || typeof p !== 'object' || Array.isArray(p))
    return { ok: false, code: 'invalid_message', reason: 'expected a packed message {p, b}' };
  const h = p as { type?: unknown; round?: unknown; sessionId?: unknown; from?: unknown };
  if (h.type !== c.kind)
    return {
      ok: false,
      code: 'invalid_message',
      reason: `expected a ${c.kind} message, got ${typeof h.type === 'string' ? h.type.slice(0, 32) : typeof h.type}`,
    };
  if (typeof h.round !== 'number' || typeof h.sessionId !== 'string' || typeof h.from !== 'string') {
    return {
      ok: false,
      code: 'invalid_message',
      reason: 'message header needs round (number), sessionId and from (strings)',
    };
  }
  if (h.round !== c.roundId) {
    return {
      ok: false,
      code: 'stale_round',
      reason: `message for round ${h.round}, this is round ${c.roundId}${h.round < c.roundId ? ' (replay of an earlier round)' : ''}`,
    };
  }
  if (h.sessionId !== c.sessionId)
    return { ok: false, code: 'wrong_session', reason: 'message for another session of this round' };
  if (c.phase !== c.expectedPhase)
    return {
      ok: false,
      code: 'wrong_phase',
      reason: `${c.kind} is not accepted in the ${c.phase} phase of round ${c.roundId}`,
    };
  if (h.from !== c.clientId)
    return {
      ok: false,
      code: 'sender_mismatch',
      reason: `message from ${c.clientId} claims to be from ${h.from.slice(0, 64)}`,
    };
  if (c.answered) return { ok: false, code: 'duplicate', reason: `${c.clientId} already sent its ${c.kind} message` };
  if (!c.expected)
    return {
      ok: false,
      code: 'not_eligible',
      reason: `${c.clientId} is not expected to send ${c.kind} now (dropped in an earlier phase)`,
    };
  return undefined;
}
