/** The masked-vector layout and encoding parameters a round's SecAggRoundInfo implies (client and server agree by construction). */
import { maskedVectorLayout, type EncodingParams, type MaskedVectorLayout } from '../secagg/masked-vector-layout';
import type { SecAggRoundInfo } from './secagg-messages';

export function layoutForRound(info: SecAggRoundInfo, d: number): MaskedVectorLayout {
  return maskedVectorLayout({
    d,
    weight: !info.uniformWeights,
    bit: Boolean(info.reportUnclipped),
    loss: info.lossMax !== undefined,
    // Under DP (uniform weights) the a_ℓ sums are not sent: the fixed denominator needs no data-dependent sum.
    layers: info.divergenceLayers && !info.uniformWeights ? info.divergenceLayers.length : 0,
  });
}

export function encodingParamsForRound(info: SecAggRoundInfo): EncodingParams {
  return {
    clipNorm: info.clipNorm,
    bits: info.bits,
    // No loss coordinate without lossMax; any positive value keeps the (unused) range valid.
    lossMax: info.lossMax ?? 1,
    ...(info.clientNoiseStd ? { deltaNoiseStd: info.clientNoiseStd } : {}),
    ...(info.bitNoiseStd ? { bitNoiseStd: info.bitNoiseStd } : {}),
    ...(info.lossNoiseStd ? { lossNoiseStd: info.lossNoiseStd } : {}),
  };
}
