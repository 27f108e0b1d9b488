import type { RoundConfig } from '../../shared/protocol/round-config';
import { clipL2, robustCombine } from './robust-aggregate';

/** One accepted plain-mode update. */
export interface PlainUpdate {
  delta: Float32Array;
  numExamples: number;
  meanLoss: number;
}

export interface PlainAggregate {
  weightedSum: Float32Array;
  weightSum: number;
  meanLoss: number;
  examples: number;
}

/**
 * Plain mode: the example-weighted sum of the delivered deltas, each claimed example count capped at weightCap as
 * on the secure path; or a robust combination (robust-aggregate.ts), counted as one average over the survivors.
 */
export function plainAggregate(
  updates: readonly PlainUpdate[],
  d: number,
  cfg: Pick<RoundConfig, 'secureAggregation' | 'robustAggregation'>,
): PlainAggregate {
  const cap = cfg.secureAggregation.weightCap;
  const robust = cfg.robustAggregation;
  let weightedSum: Float32Array = new Float32Array(d);
  let weightSum = 0;
  let lossSum = 0;
  let examples = 0;
  for (const u of updates) {
    const w = Math.min(u.numExamples, cap);
    if (robust.method === 'mean') for (let i = 0; i < d; i++) weightedSum[i]! += w * u.delta[i]!;
    weightSum += w;
    examples += u.numExamples;
    lossSum += u.meanLoss;
  }
  if (robust.method !== 'mean') {
    const deltas = updates.map((u) => (robust.normBound ? clipL2(u.delta, robust.normBound) : u.delta));
    weightedSum = robustCombine(deltas, robust.method, robust.trimFraction);
    for (let i = 0; i < d; i++) weightedSum[i]! *= updates.length;
    weightSum = updates.length;
  }
  return { weightedSum, weightSum, meanLoss: lossSum / updates.length, examples };
}
