import type { SecAggRoundInfo } from '../../../shared/protocol/secagg-messages';
import { coordinateRanges, decodeMaskedSum, type DecodedSum } from '../../../shared/secagg/masked-vector-layout';
import { encodingParamsForRound, layoutForRound } from '../../../shared/protocol/round-layout';
import type { SecureAggregate } from '../aggregate-guard';

/**
 * Pure helpers between the unmasked Σx (mod 2^32) and what the server may check and use, both through the
 * round's masked-vector layout (shared/secagg/masked-vector-layout.ts), the one definition clients encode with.
 */

/** Decodes the unmasked sum of `survivors` masked vectors of a round announced with `info`, for a d-word model. */
export function decodeRoundSum(info: SecAggRoundInfo, d: number, sum: Uint32Array, survivors: number): DecodedSum {
  return decodeMaskedSum(layoutForRound(info, d), sum, survivors, encodingParamsForRound(info));
}

/** The bounds the aggregate guard checks a decoded sum against (aggregate-guard.ts). */
export function guardInput(
  info: SecAggRoundInfo,
  sum: { weightedSum: Float32Array; weightSum: number },
  survivors: number,
): SecureAggregate {
  return {
    weightedSum: sum.weightedSum,
    weightSum: sum.weightSum,
    survivors,
    clipNorm: info.clipNorm,
    bits: info.bits,
    deltaRange: coordinateRanges(encodingParamsForRound(info)).delta.hi,
    weightCap: info.weightCap,
    ...(info.clientNoiseStd ? { clientNoiseStd: info.clientNoiseStd } : {}),
  };
}
