import { describe, expect, it } from 'vitest';
import { RoundConfigSchema } from '../../shared/protocol/round-config';
import { plainAggregate } from './plain-aggregate';

const cfg = (method: 'mean' | 'median') =>
  RoundConfigSchema.parse({ secureAggregation: { enabled: false, weightCap: 100 }, robustAggregation: { method } });
const u = (delta: number[], numExamples: number, meanLoss = 1) => ({
  delta: Float32Array.from(delta),
  numExamples,
  meanLoss,
});

describe('plainAggregate', () => {
  it('weights each delta by its example count, capped at weightCap', () => {
    const agg = plainAggregate([u([1, 0], 50, 2), u([0, 1], 10_000_000, 4)], 2, cfg('mean'));
    expect(Array.from(agg.weightedSum)).toEqual([50, 100]);
    expect(agg.weightSum).toBe(150);
    expect(agg.meanLoss).toBe(3);
    expect(agg.examples).toBe(10_000_050);
  });

  it('median: one outlier cannot move the result, which counts as one average over the survivors', () => {
    const agg = plainAggregate([u([1], 1), u([2], 1), u([1e6], 1)], 1, cfg('median'));
    expect(agg.weightSum).toBe(3);
    expect(agg.weightedSum[0]! / agg.weightSum).toBe(2);
  });
});
