/**
 * One DP round releases several noised sums at once: the delta sum (L2 sensitivity C,
 * noise std σ_Δ = z_Δ·C) and scalar sums such as adaptive clipping's centred bit
 * (sensitivity ½, noise σ_b) or the centred loss (sensitivity lossMax/2, noise σ_ℓ).
 *
 * Scaling each block j by 1/σ_j turns the release into a single Gaussian mechanism with
 * unit noise and L2 sensitivity √(Σ_j (s_j/σ_j)²), so its noise multiplier is
 *   z = (Σ_j (s_j/σ_j)²)^(−1/2)            (Mironov 2017, Prop. 3 / Cor. 3: RDP of the
 * Gaussian mechanism depends only on sensitivity/σ; Andrew et al. 2021, Thm. 1 for the
 * bit, whose (2σ_b)⁻² term is (s_b/σ_b)² with s_b = ½ — true only for a centred bit).
 * The accountant records this z (sampled Gaussian mechanism, Mironov et al. 2019).
 */

export interface SideQuery {
  /** Largest change one client makes to this sum (add/remove adjacency). */
  sensitivity: number;
  /** Std of the Gaussian noise on this sum. */
  std: number;
}

function ratioSq(q: SideQuery): number {
  if (!(q.sensitivity >= 0) || !(q.std > 0))
    throw new Error(`noise split: a side query needs sensitivity ≥ 0 and std > 0, got ${q.sensitivity}/${q.std}`);
  return (q.sensitivity / q.std) ** 2;
}

/** The multiplier of the combined release: (z_Δ⁻² + Σ (s_j/σ_j)²)^(−1/2). */
export function combinedNoiseMultiplier(deltaMultiplier: number, sides: readonly SideQuery[] = []): number {
  if (!(deltaMultiplier > 0))
    throw new Error(`noise split: delta noise multiplier must be positive, got ${deltaMultiplier}`);
  return (deltaMultiplier ** -2 + sides.reduce((a, q) => a + ratioSq(q), 0)) ** -0.5;
}

/** What is left for the delta when the side queries share a total multiplier z: (z⁻² − Σ (s_j/σ_j)²)^(−1/2). */
export function deltaNoiseMultiplierFor(z: number, sides: readonly SideQuery[] = []): number {
  if (!(z > 0) || !Number.isFinite(z))
    throw new Error(`noise split: noise multiplier must be positive and finite, got ${z}`);
  const used = sides.reduce((a, q) => a + ratioSq(q), 0);
  const inner = z ** -2 - used;
  if (!(inner > 0)) {
    throw new Error(
      `noise split: the side queries (Σ (s/σ)² = ${used.toPrecision(4)}) would spend the whole budget of z=${z} ` +
        `(need Σ (s/σ)² < z⁻² = ${(z ** -2).toPrecision(4)}); use more expected clients or more side-query noise`,
    );
  }
  return inner ** -0.5;
}
