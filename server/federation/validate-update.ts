import { ErrorCodes, type ErrorCode } from '../../shared/protocol/messages';

export type UpdateCheck = { ok: true; norm: number } | { ok: false; code: ErrorCode; reason: string };

/** Shape, finiteness and plausibility checks for a plain (unmasked) float delta. */
export function checkDelta(delta: Float32Array, expectedLength: number, maxNorm: number): UpdateCheck {
  if (delta.length !== expectedLength) {
    return {
      ok: false,
      code: ErrorCodes.wrongLength,
      reason: `delta has ${delta.length} values, the model has ${expectedLength}`,
    };
  }
  let sq = 0;
  for (let i = 0; i < delta.length; i++) {
    const v = delta[i]!;
    if (!Number.isFinite(v)) return { ok: false, code: ErrorCodes.nonFinite, reason: `delta[${i}] is ${v}` };
    sq += v * v;
  }
  const norm = Math.sqrt(sq);
  if (norm > maxNorm) {
    return {
      ok: false,
      code: ErrorCodes.normTooLarge,
      reason: `delta L2 norm ${norm.toPrecision(4)} exceeds the sanity bound ${maxNorm}`,
    };
  }
  return { ok: true, norm };
}
