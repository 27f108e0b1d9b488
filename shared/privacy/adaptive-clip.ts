/**
 * Adaptive clipping (Andrew, Thakkar, McMahan, Ramaswamy 2021, "Differentially
 * Private Learning with Adaptive Clipping"). The clip norm C tracks the
 * γ-quantile of client update norms by geometric updates driven by a noised
 * count of clients that were NOT clipped:
 *   b_i = 1 if ‖Δ_i‖ ≤ C,   b̄ = (Σ (b_i − ½) + N(0, σ_b²)) / m + ½,   C ← C·exp(−η(b̄ − γ)).
 * If most updates are clipped, b̄ < γ and C grows; if few are, C shrinks.
 *
 * The bit is CENTRED before it is summed (clients send b − ½, see
 * shared/secagg/masked-vector-layout.ts), as in TF Privacy: adding or removing one
 * client then moves the sum by at most ½, the sensitivity behind the noise split
 * z_Δ = (z⁻² − (2σ_b)⁻²)^(−1/2). An uncentred bit has sensitivity 1 and would need
 * (z⁻² − σ_b⁻²)^(−1/2); with z = 0.8, m = 10, σ_b = 0.5, q = 0.05, T = 500 the
 * uncentred bit under the centred formula reports ε ≈ 13 for a true ε ≈ 53.
 * (Opacus and Flower send the bit uncentred with the centred formula.)
 */
import { GaussianStream } from './gaussian';

/** The bit a client reports (it travels centred, as b − ½): 1 when its update was NOT clipped (norm ≤ C). */
export function unclippedBit(norm: number, clipNorm: number): 0 | 1 {
  if (Number.isNaN(norm)) throw new Error('adaptive-clip: update norm is NaN');
  return norm <= clipNorm ? 1 : 0;
}

/** Paper's default bit-noise std: σ_b = m/20 for an expected cohort of m clients. */
export function defaultBitNoiseStd(expectedClients: number): number {
  return expectedClients / 20;
}

/**
 * Noise multiplier left for the deltas when the bit sum shares the privacy
 * budget of a total multiplier z (paper, Thm. 1): z_Δ = (z⁻² − (2σ_b)⁻²)^(−1/2).
 */
export function effectiveNoiseMultiplier(z: number, bitNoiseStd: number): number {
  if (!(z > 0) || !Number.isFinite(z))
    throw new Error(`adaptive-clip: noise multiplier must be positive and finite, got ${z}`);
  if (!(bitNoiseStd > 0)) throw new Error(`adaptive-clip: bit noise std must be positive, got ${bitNoiseStd}`);
  const inner = z ** -2 - (2 * bitNoiseStd) ** -2;
  if (!(inner > 0)) {
    throw new Error(
      `adaptive-clip: bit noise σ_b=${bitNoiseStd} is too small for noise multiplier z=${z} ` +
        `(the bit alone would spend the whole budget): need z < 2σ_b = ${2 * bitNoiseStd} ` +
        `so that z_Δ = (z⁻² − (2σ_b)⁻²)^(−1/2) is positive; use more expected clients or a larger σ_b`,
    );
  }
  return inner ** -0.5;
}

/** The geometric update C·exp(−η(b̄ − γ)). */
export function updateClipNorm(
  clipNorm: number,
  unclippedFraction: number,
  targetQuantile: number,
  learningRate: number,
): number {
  return clipNorm * Math.exp(-learningRate * (unclippedFraction - targetQuantile));
}

export interface AdaptiveClipOptions {
  initialClipNorm: number;
  /** γ: target fraction of clients left unclipped (default 0.5, the median). */
  targetQuantile?: number;
  /** η: geometric learning rate (default 0.2). */
  learningRate?: number;
  /** σ_b; default m/20 for the round's expected cohort m. */
  bitNoiseStd?: number;
  /** 32-byte seed for the bit noise (tests only; default: fresh CSPRNG). */
  seed?: Uint8Array;
}

export interface ClipUpdate {
  /** The noised fraction b̄ of unclipped clients. */
  unclippedFraction: number;
  previousClipNorm: number;
  clipNorm: number;
  bitNoiseStd: number;
}

/** Server-side state of adaptive clipping: one clip norm, updated once per round. */
export class AdaptiveClipper {
  private c: number;
  readonly targetQuantile: number;
  readonly learningRate: number;
  private readonly bitNoiseStdOverride: number | undefined;
  private readonly noise: GaussianStream;

  constructor(opts: AdaptiveClipOptions) {
    const { initialClipNorm, targetQuantile = 0.5, learningRate = 0.2, bitNoiseStd, seed } = opts;
    if (!(initialClipNorm > 0) || !Number.isFinite(initialClipNorm))
      throw new Error(`adaptive-clip: initial clip norm must be positive, got ${initialClipNorm}`);
    if (!(targetQuantile >= 0 && targetQuantile <= 1))
      throw new Error(`adaptive-clip: target quantile must be in [0, 1], got ${targetQuantile}`);
    if (!(learningRate > 0)) throw new Error(`adaptive-clip: learning rate must be positive, got ${learningRate}`);
    if (bitNoiseStd !== undefined && !(bitNoiseStd >= 0))
      throw new Error(`adaptive-clip: bit noise std must be >= 0, got ${bitNoiseStd}`);
    this.c = initialClipNorm;
    this.targetQuantile = targetQuantile;
    this.learningRate = learningRate;
    this.bitNoiseStdOverride = bitNoiseStd;
    this.noise = new GaussianStream(seed);
  }

  get clipNorm(): number {
    return this.c;
  }

  bitNoiseStd(expectedClients: number): number {
    return this.bitNoiseStdOverride ?? defaultBitNoiseStd(expectedClients);
  }

  /**
   * Applies one round: `centredBitSum` is the (securely aggregated) Σ (b_i − ½),
   * `expectedClients` the fixed denominator m (not the survivor count). `bitNoiseStd`
   * is the noise this call adds: σ_b under central DP, 0 without DP or when the
   * clients already added it (distributed DP). It is decided per round, so turning DP
   * on later takes effect at once.
   */
  update(
    centredBitSum: number,
    expectedClients: number,
    bitNoiseStd: number = this.bitNoiseStd(expectedClients),
  ): ClipUpdate {
    if (!(expectedClients > 0))
      throw new Error(`adaptive-clip: expected clients must be positive, got ${expectedClients}`);
    if (!Number.isFinite(centredBitSum))
      throw new Error(`adaptive-clip: centred bit sum must be finite, got ${centredBitSum}`);
    if (!(bitNoiseStd >= 0)) throw new Error(`adaptive-clip: bit noise std must be >= 0, got ${bitNoiseStd}`);
    const unclippedFraction =
      (centredBitSum + (bitNoiseStd > 0 ? bitNoiseStd * this.noise.next() : 0)) / expectedClients + 0.5;
    const previousClipNorm = this.c;
    this.c = updateClipNorm(this.c, unclippedFraction, this.targetQuantile, this.learningRate);
    return { unclippedFraction, previousClipNorm, clipNorm: this.c, bitNoiseStd };
  }

  toJSON(): { clipNorm: number; targetQuantile: number; learningRate: number; bitNoiseStd: number | null } {
    return {
      clipNorm: this.c,
      targetQuantile: this.targetQuantile,
      learningRate: this.learningRate,
      bitNoiseStd: this.bitNoiseStdOverride ?? null,
    };
  }

  /** Restores the clip norm from a checkpoint (noise is freshly seeded). */
  static fromJSON(json: {
    clipNorm: number;
    targetQuantile: number;
    learningRate: number;
    bitNoiseStd: number | null;
  }): AdaptiveClipper {
    return new AdaptiveClipper({
      initialClipNorm: json.clipNorm,
      targetQuantile: json.targetQuantile,
      learningRate: json.learningRate,
      // A stored 0 is the pre-fix "DP was off" setting; σ_b is now chosen per round instead.
      ...(json.bitNoiseStd === null || json.bitNoiseStd === 0 ? {} : { bitNoiseStd: json.bitNoiseStd }),
    });
  }
}
