/**
 * Divergence-aware aggregation that secure aggregation can carry (pure math, no I/O).
 *
 * L-DAWA (Rehman et al., "L-DAWA: Layer-wise Divergence Aware Weight Aggregation in
 * Federated Self-Supervised Visual Representation Learning", ICCV 2023, Eq. 3–4) weights
 * each client's layer ℓ by the cosine between its local weights and the global weights,
 * θ_g,ℓ ← Σ_k a_k,ℓ θ_k,ℓ / Σ_k a_k,ℓ with a_k,ℓ = cos(θ_k,ℓ, θ_g,ℓ). The server there sees
 * every a_k,ℓ; under SecAgg it must not. So each client computes its own a_k,ℓ, multiplies
 * its layer delta by it BEFORE clipping (the clip still bounds the sensitivity by C), and
 * sends the a_k,ℓ as extra masked coordinates. After unmasking the server has only
 * S_ℓ = Σ_k w_k a_k,ℓ Δ_k,ℓ and A_ℓ = Σ_k w_k a_k,ℓ and takes S_ℓ / A_ℓ per layer, which
 * is the weighted mean of deltas (Σ a·(θ_g + Δ)/Σ a = θ_g + Σ a·Δ/Σ a).
 */

/** Weights are clamped to [0, 1]: a negative cosine (a layer turned away) gets no say, and ≤ 1 keeps ‖a⊙Δ‖ ≤ ‖Δ‖. */
export function clampWeight(c: number): number {
  return c > 1 ? 1 : c > 0 ? c : 0;
}

/** Checks that the layer sizes partition a vector of length d. */
export function assertLayerSizes(layerSizes: readonly number[], d: number): void {
  let total = 0;
  for (const s of layerSizes) {
    if (!Number.isSafeInteger(s) || s < 1) throw new Error(`divergence: bad layer size ${s}`);
    total += s;
  }
  if (total !== d) throw new Error(`divergence: layer sizes sum to ${total}, the vector has ${d} values`);
}

/**
 * a_ℓ = clamp(cos(θ_g,ℓ + Δ_ℓ, θ_g,ℓ), 0, 1) per layer (L-DAWA's angular divergence).
 * A layer whose global or local weights are all zero (e.g. biases at init) has no
 * direction to compare: it gets weight 1, i.e. plain averaging for that layer.
 */
export function layerDivergenceWeights(
  global: Float32Array,
  delta: Float32Array,
  layerSizes: readonly number[],
): Float64Array {
  if (global.length !== delta.length)
    throw new Error(`divergence: global has ${global.length} values, delta ${delta.length}`);
  assertLayerSizes(layerSizes, global.length);
  const out = new Float64Array(layerSizes.length);
  let o = 0;
  layerSizes.forEach((size, l) => {
    let dot = 0;
    let gg = 0;
    let ll = 0;
    for (let i = o; i < o + size; i++) {
      const g = global[i]!;
      const v = g + delta[i]!;
      dot += g * v;
      gg += g * g;
      ll += v * v;
    }
    o += size;
    const c = gg > 0 && ll > 0 ? dot / Math.sqrt(gg * ll) : 1;
    if (!Number.isFinite(c)) throw new Error(`divergence: layer ${l} has a non-finite cosine`);
    out[l] = clampWeight(c);
  });
  return out;
}

/** Δ'_ℓ = a_ℓ · Δ_ℓ (a new array; the caller clips it afterwards). */
export function scaleByLayer(
  delta: Float32Array,
  weights: ArrayLike<number>,
  layerSizes: readonly number[],
): Float32Array {
  assertLayerSizes(layerSizes, delta.length);
  if (weights.length !== layerSizes.length)
    throw new Error(`divergence: ${weights.length} weights for ${layerSizes.length} layers`);
  const out = new Float32Array(delta.length);
  let o = 0;
  layerSizes.forEach((size, l) => {
    const a = weights[l]!;
    for (let i = o; i < o + size; i++) out[i] = a * delta[i]!;
    o += size;
  });
  return out;
}

/** Layers whose weight sum A_ℓ is below this are left unchanged (0/0: every client turned away). */
export const MIN_LAYER_WEIGHT_SUM = 1e-3;

/**
 * Turns the unmasked sums into an equivalent FedAvg numerator: per layer
 * S_ℓ · W / A_ℓ, so that the usual "divide by W" (and any server optimizer after it)
 * yields S_ℓ / A_ℓ. Throws when a weight sum is impossible (outside [0, W + slack]),
 * which only a client sending a weight outside [0, 1] can cause.
 */
export function layerNormalizedSum(
  weightedSum: Float32Array,
  layerWeightSums: ArrayLike<number>,
  layerSizes: readonly number[],
  weightSum: number,
  /** Quantization (and noise) slack allowed on each A_ℓ. */
  slack = 1e-6,
): { sum: Float32Array; skippedLayers: number } {
  assertLayerSizes(layerSizes, weightedSum.length);
  if (layerWeightSums.length !== layerSizes.length)
    throw new Error(`divergence: ${layerWeightSums.length} weight sums for ${layerSizes.length} layers`);
  if (!(weightSum > 0)) throw new Error(`divergence: weight sum must be positive, got ${weightSum}`);
  const out = new Float32Array(weightedSum.length);
  let o = 0;
  let skippedLayers = 0;
  layerSizes.forEach((size, l) => {
    const A = layerWeightSums[l]!;
    if (!Number.isFinite(A) || A < -slack || A > weightSum + slack)
      throw new Error(`divergence: layer ${l} weight sum ${A} is outside [0, ${weightSum}]`);
    if (A < MIN_LAYER_WEIGHT_SUM) skippedLayers++;
    else {
      const f = weightSum / A;
      for (let i = o; i < o + size; i++) out[i] = weightedSum[i]! * f;
    }
    o += size;
  });
  return { sum: out, skippedLayers };
}
