/**
 * L2 clipping of a client's model delta: bounds each client's contribution
 * (the sensitivity) so Gaussian noise of std z·C gives client-level DP.
 */

/** Euclidean norm, accumulated in float64 and scaled to avoid overflow/underflow. */
export function l2Norm(v: ArrayLike<number>): number {
  let maxAbs = 0;
  for (let i = 0; i < v.length; i++) {
    const a = Math.abs(v[i]!);
    if (a > maxAbs || Number.isNaN(a)) maxAbs = a;
  }
  if (maxAbs === 0 || !Number.isFinite(maxAbs)) return maxAbs; // 0, Infinity or NaN
  let sum = 0;
  for (let i = 0; i < v.length; i++) {
    const s = v[i]! / maxAbs;
    sum += s * s;
  }
  return maxAbs * Math.sqrt(sum);
}

export interface ClipResult {
  clipped: Float32Array;
  /** Norm of the input (before clipping). */
  norm: number;
  wasClipped: boolean;
}

/**
 * Returns a copy of v scaled to L2 norm C if its norm exceeds C, unchanged
 * otherwise. Non-finite input throws: a NaN/Infinity delta would poison the
 * secure sum and silently break the sensitivity bound.
 */
export function clipToNorm(v: ArrayLike<number>, clipNorm: number): ClipResult {
  if (!(clipNorm > 0) || !Number.isFinite(clipNorm)) {
    throw new Error(`clipToNorm: clip norm must be a positive finite number, got ${clipNorm}`);
  }
  const norm = l2Norm(v);
  if (!Number.isFinite(norm)) {
    let bad = 0;
    while (bad < v.length && Number.isFinite(v[bad]!)) bad++;
    throw new Error(`clipToNorm: update contains a non-finite value (${v[bad]} at index ${bad}); refusing to clip`);
  }
  const clipped = Float32Array.from(v);
  if (norm <= clipNorm) return { clipped, norm, wasClipped: false };
  let scale = clipNorm / norm;
  for (let i = 0; i < clipped.length; i++) clipped[i] = clipped[i]! * scale;
  // float32 rounding can leave the result a hair above C; nudge it under so
  // the sensitivity bound holds exactly as stored.
  for (let tries = 0; tries < 4 && l2Norm(clipped) > clipNorm; tries++) {
    scale = 1 - 2 ** -23;
    for (let i = 0; i < clipped.length; i++) clipped[i] = clipped[i]! * scale;
  }
  return { clipped, norm, wasClipped: true };
}
