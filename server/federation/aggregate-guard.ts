/**
 * Checks on a decoded secure-aggregation sum before it may become a model version.
 *
 * Under SecAgg the server never sees an individual update, so these aggregate bounds are
 * all it can enforce: each honest client contributes a weight w ∈ [1/cap, 1] (its example
 * count capped at weightCap, over weightCap) and a weighted delta with ‖w·δ‖ ≤ w·C. Hence
 *   n/cap ≤ Σw ≤ n   and   ‖Σ w·δ‖ ≤ Σw·C,
 * up to quantization (< n/L on Σw, < n·step per coordinate, so < n·step·√d in L2) and,
 * with distributed DP, the clients' noise (std σ√n per coordinate of the sum; its norm stays
 * below σ√n·(√d + 8) except with probability < e^−32, by Gaussian concentration of the norm).
 * A client that masks an out-of-range vector or tampers with its weight word breaks one of
 * them; the round then fails and the model is unchanged.
 */
export interface SecureAggregate {
  weightedSum: Float32Array;
  weightSum: number;
  survivors: number;
  clipNorm: number;
  bits: number;
  /** Half-width of the delta coordinates' quantization range: C, or C + 5σ under distributed DP. */
  deltaRange: number;
  weightCap: number;
  /** Distributed DP: std of the noise each client added before masking. */
  clientNoiseStd?: number;
}

export type GuardResult = { ok: true; norm: number } | { ok: false; reason: string };

export function checkSecureAggregate(a: SecureAggregate): GuardResult {
  const n = a.survivors;
  const L = 2 ** a.bits - 1;
  const step = (2 * a.deltaRange) / L;
  const d = a.weightedSum.length;
  const wTol = n / L;
  if (!Number.isFinite(a.weightSum) || a.weightSum > n + wTol) {
    return {
      ok: false,
      reason: `weight sum ${a.weightSum.toPrecision(6)} exceeds ${n} survivors × weight 1 (a client sent a weight above its cap)`,
    };
  }
  if (a.weightSum < n / a.weightCap - wTol) {
    return {
      ok: false,
      reason: `weight sum ${a.weightSum.toPrecision(6)} is below ${n} survivors × minimum weight 1/${a.weightCap} (a weight word was tampered with)`,
    };
  }
  let sq = 0;
  for (let i = 0; i < d; i++) {
    const v = a.weightedSum[i]!;
    if (!Number.isFinite(v)) return { ok: false, reason: `aggregate coordinate ${i} is ${v}` };
    sq += v * v;
  }
  const norm = Math.sqrt(sq);
  const noise = a.clientNoiseStd ? a.clientNoiseStd * Math.sqrt(n) * (Math.sqrt(d) + 8) : 0;
  const bound = a.weightSum * a.clipNorm + n * step * Math.sqrt(d) + noise;
  if (norm > bound) {
    return {
      ok: false,
      reason: `aggregate norm ‖Σ w·δ‖ = ${norm.toPrecision(4)} exceeds Σw·C = ${(a.weightSum * a.clipNorm).toPrecision(4)} (+ quantization/noise slack, bound ${bound.toPrecision(4)}): a client sent an update outside the clip`,
    };
  }
  return { ok: true, norm };
}
