import type { Ack } from '../../../shared/protocol/messages';
import { RoundPhase } from '../../../shared/protocol/phases';
import { parseWire, type MessageOf } from '../../../shared/protocol/wire';
import { unpackBinary, UnpackError } from '../../../shared/protocol/binary-pack';
import { precheckSecureMessage, secureMessageLimits, type PrecheckContext } from '../../security/message-limits';
import type { SecureMessageKind } from './round';

/** The phase in which each SecAgg+ message kind is accepted. */
export const PHASE_OF: Record<SecureMessageKind, RoundPhase> = {
  advertise: RoundPhase.AdvertiseKeys,
  shareKeys: RoundPhase.ShareKeys,
  maskedInput: RoundPhase.MaskedInput,
  unmask: RoundPhase.Unmask,
};

export type SecureMessage = MessageOf<SecureMessageKind>;

/**
 * Turns one raw SecAgg+ payload into a typed message, or a rejection. Cheap checks come first (phase, header,
 * sender, from the JSON header alone) and the binary part is decoded only within this kind's size budget.
 */
export function readSecureMessage(
  raw: unknown,
  c: Omit<PrecheckContext, 'expectedPhase'> & { degree: number; vectorLength: number },
): { ok: true; msg: SecureMessage } | Extract<Ack, { ok: false }> {
  const { degree, vectorLength, ...context } = c;
  const early = precheckSecureMessage(raw, { ...context, expectedPhase: PHASE_OF[c.kind] });
  if (early && !early.ok) return early;
  let unpacked: unknown;
  try {
    unpacked = unpackBinary(raw, secureMessageLimits(c.kind, degree, vectorLength));
  } catch (err) {
    return {
      ok: false,
      code: err instanceof UnpackError && err.code === 'too_large' ? 'too_large' : 'invalid_message',
      reason: (err as Error).message,
    };
  }
  // The one wire union decides; the event named the kind, so a payload naming another type is refused.
  const parsed = parseWire(c.kind, unpacked);
  if (!parsed.ok) return { ok: false, code: 'invalid_message', reason: parsed.reason };
  return { ok: true, msg: parsed.msg };
}
