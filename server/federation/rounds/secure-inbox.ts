import type { z } from 'zod';
import type { Ack } from '../../../shared/protocol/messages';
import { RoundPhase } from '../../../shared/protocol/phases';
import {
  AdvertiseWireSchema,
  MaskedInputWireSchema,
  ShareKeysWireSchema,
  UnmaskWireSchema,
} from '../../../shared/protocol/secagg-messages';
import { unpackBinary, UnpackError } from '../../../shared/protocol/binary-pack';
import { formatIssues } from '../../../shared/protocol/issues';
import { precheckSecureMessage, secureMessageLimits, type PrecheckContext } from '../../security/message-limits';
import type { SecureMessageKind } from './round';

const SCHEMAS = {
  advertise: AdvertiseWireSchema,
  shareKeys: ShareKeysWireSchema,
  maskedInput: MaskedInputWireSchema,
  unmask: UnmaskWireSchema,
} satisfies Record<SecureMessageKind, z.ZodType>;

/** The phase in which each SecAgg+ message kind is accepted. */
export const PHASE_OF: Record<SecureMessageKind, RoundPhase> = {
  advertise: RoundPhase.AdvertiseKeys,
  shareKeys: RoundPhase.ShareKeys,
  maskedInput: RoundPhase.MaskedInput,
  unmask: RoundPhase.Unmask,
};

export type SecureMessage = z.infer<(typeof SCHEMAS)[SecureMessageKind]>;

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
  const parsed = SCHEMAS[c.kind].safeParse(unpacked);
  if (!parsed.success) return { ok: false, code: 'invalid_message', reason: formatIssues(parsed.error) };
  return { ok: true, msg: parsed.data };
}
