import { randomBytes } from 'node:crypto';
import type { RoundConfig } from '../../../shared/protocol/round-config';
import type { SecAggRoundInfo } from '../../../shared/protocol/secagg-messages';
import { assertNoOverflow, maxBitsFor } from '../../../shared/secagg/quantize';
import { defaultThreshold, effectiveDegree } from '../../../shared/secagg/graph';
import { MAX_DEGREE, chooseSecAggParams, type SecAggParams } from '../../../shared/secagg/parameters';

/** What a secure round announces beyond k, t and the quantization: its clip, noise and extra coordinates. */
export interface SecureRoundFeatures {
  /** This round's clip (adaptive clipping moves it); default secureAggregation.clipNorm. */
  clipNorm?: number;
  /** Distributed DP: noise std each client adds before masking, on the delta, the bit and the loss. */
  clientNoiseStd?: number;
  clientBitNoiseStd?: number;
  clientLossNoiseStd?: number;
  /** Adaptive clipping: clients append a masked, centred "not clipped" bit. */
  reportUnclipped?: boolean;
  /** DP: uniform weights, no weight coordinate. */
  uniformWeights?: boolean;
  /** Clients put their clipped mean loss in the masked vector. */
  reportLoss?: boolean;
  /** Divergence-aware aggregation: the model's per-layer sizes (shared/federation/divergence-weights.ts). */
  divergenceLayers?: number[];
}

/**
 * k and t for a cohort: the admin's degree if set (t = ⌊k/2⌋ + 1), else derived from the
 * configured dropout rate, corrupt fraction and failure target (shared/secagg/parameters.ts).
 */
export function rosterParamsFor(
  n: number,
  sa: RoundConfig['secureAggregation'],
): { k: number; t: number; derived?: SecAggParams } {
  if (sa.degree !== undefined) {
    const k = effectiveDegree(n, sa.degree);
    return { k, t: defaultThreshold(k) };
  }
  const derived = chooseSecAggParams({
    n,
    dropoutRate: sa.dropoutRate,
    corruptFraction: sa.corruptFraction,
    failureTarget: sa.failureTarget,
    maxDegree: MAX_DEGREE,
  });
  return { k: derived.k, t: derived.t, derived };
}

/** Picks and checks the fixed-point width for n clients; throws naming the numbers if it could overflow. */
export function quantBitsFor(n: number, configured?: number): number {
  const bits = configured ?? Math.min(24, maxBitsFor(n));
  assertNoOverflow(n, bits);
  return bits;
}

/**
 * The round's SecAgg+ parameters as announced in round:start, with a fresh session id, and the chosen
 * degree, threshold and (when derived) predicted failure probability for the console.
 */
export function secureRoundInfo(
  n: number,
  sa: RoundConfig['secureAggregation'],
  f: SecureRoundFeatures,
): { info: SecAggRoundInfo; params: { k: number; t: number; predictedFailure: number | null } } {
  const { k, t, derived } = rosterParamsFor(n, sa);
  const info: SecAggRoundInfo = {
    sessionId: randomBytes(12).toString('base64url'),
    threshold: t,
    degree: k,
    clipNorm: f.clipNorm ?? sa.clipNorm,
    bits: quantBitsFor(n, sa.bits),
    weightCap: sa.weightCap,
    ...(f.clientNoiseStd ? { clientNoiseStd: f.clientNoiseStd } : {}),
    ...(f.clientBitNoiseStd ? { bitNoiseStd: f.clientBitNoiseStd } : {}),
    ...(f.clientLossNoiseStd ? { lossNoiseStd: f.clientLossNoiseStd } : {}),
    ...(f.reportUnclipped ? { reportUnclipped: true } : {}),
    ...(f.uniformWeights ? { uniformWeights: true } : {}),
    ...(f.reportLoss ? { lossMax: sa.lossMax } : {}),
    ...(f.divergenceLayers ? { divergenceLayers: f.divergenceLayers } : {}),
    // Announce what k and t were derived from, so clients can check them (absent for a hand-set degree).
    ...(derived
      ? {
          cohortSize: n,
          dropoutRate: sa.dropoutRate,
          corruptFraction: sa.corruptFraction,
          failureTarget: sa.failureTarget,
        }
      : {}),
  };
  return { info, params: { k, t, predictedFailure: derived?.predictedFailure ?? null } };
}
