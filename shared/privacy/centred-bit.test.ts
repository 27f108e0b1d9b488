import { describe, expect, it } from 'vitest';
import { computeEpsilon } from './rdp';
import { effectiveNoiseMultiplier, defaultBitNoiseStd } from './adaptive-clip';
import { combinedNoiseMultiplier, deltaNoiseMultiplierFor } from './noise-split';
import { encodeForSecAgg } from '../federation/secure-client';
import { decodeMaskedSum } from '../secagg/masked-vector-layout';
import { encodingParamsForRound, layoutForRound } from '../protocol/round-layout';
import type { SecAggRoundInfo } from '../protocol/secagg-messages';

const info: SecAggRoundInfo = {
  sessionId: 'session-xyz',
  threshold: 2,
  degree: 2,
  clipNorm: 1,
  bits: 24,
  weightCap: 100,
  reportUnclipped: true,
  uniformWeights: true,
};

/** What one client contributes to the server's decoded bit sum, through the real client encoder and server decoder. */
function bitContribution(clipped: boolean): number {
  const d = 4;
  const delta = new Float32Array(d).fill(clipped ? 10 : 0.01); // norm 20 > C = 1, or 0.02 ≤ C
  const { x } = encodeForSecAgg({ delta, meanLoss: 1, steps: 1, numExamples: 50 }, info);
  return decodeMaskedSum(layoutForRound(info, d), x, 1, encodingParamsForRound(info)).centredBitSum!;
}

describe('adaptive clipping: the centred bit (finding 2)', () => {
  it('derives the bit sensitivity from the encoder and checks ε (z = 0.8, m = 10, σ_b = 0.5, q = 0.05, T = 500) against the centred formula to 1e-6', () => {
    // Add/remove adjacency: a client changes the bit sum by its own contribution; an absent one contributes 0.
    const sensitivity = Math.max(Math.abs(bitContribution(false)), Math.abs(bitContribution(true)));
    expect(sensitivity).toBeCloseTo(0.5, 6);
    // Centred: an unclipped client adds +½, a clipped one −½ (so b̄ = Σ/m + ½ is unbiased).
    expect(bitContribution(false)).toBeCloseTo(0.5, 6);
    expect(bitContribution(true)).toBeCloseTo(-0.5, 6);
    const [z, m, q, T, delta] = [0.8, 10, 0.05, 500, 1e-5];
    const sigmaB = defaultBitNoiseStd(m);
    expect(sigmaB).toBe(0.5);
    // What the server uses for the delta, and what it records for the accountant (z).
    const zDelta = effectiveNoiseMultiplier(z, sigmaB);
    expect(zDelta).toBeCloseTo(deltaNoiseMultiplierFor(z, [{ sensitivity: 0.5, std: sigmaB }]), 12);
    const reported = computeEpsilon(q, z, T, delta).epsilon;
    // The true multiplier of the joint release with the DERIVED bit sensitivity (Mironov 2017: Gaussian RDP depends on s/σ only).
    const zTrue = combinedNoiseMultiplier(zDelta, [{ sensitivity, std: sigmaB }]);
    const truth = computeEpsilon(q, zTrue, T, delta).epsilon;
    expect(Math.abs(truth - reported)).toBeLessThan(1e-6);
    // The uncentred bit (sensitivity 1) would have been ≈ 52.8, not the reported ≈ 13.3.
    expect(reported).toBeCloseTo(13.335, 2);
    expect(
      computeEpsilon(q, combinedNoiseMultiplier(zDelta, [{ sensitivity: 1, std: sigmaB }]), T, delta).epsilon,
    ).toBeCloseTo(52.84, 1);
  });
});
