/**
 * Robust aggregation for plain mode, where the server sees every update: each delta is
 * first clipped to an L2 bound, then combined coordinate-wise by a trimmed mean (drop the
 * ⌊β·n⌋ largest and smallest values) or the median (Yin et al. 2018, "Byzantine-robust
 * distributed learning", coordinate-wise median and trimmed mean). Weights are ignored: a
 * hostile client could claim any example count. Secure aggregation cannot use this (the
 * server only sees the sum); there, only the aggregate checks of aggregate-guard apply.
 */
export type RobustMethod = 'trimmed-mean' | 'median';

export function clipL2(delta: Float32Array, bound: number): Float32Array {
  let sq = 0;
  for (let i = 0; i < delta.length; i++) sq += delta[i]! * delta[i]!;
  const norm = Math.sqrt(sq);
  if (norm <= bound) return delta;
  const s = bound / norm;
  const out = new Float32Array(delta.length);
  for (let i = 0; i < delta.length; i++) out[i] = delta[i]! * s;
  return out;
}

/** Coordinate-wise robust combination of n equally weighted deltas. */
export function robustCombine(deltas: Float32Array[], method: RobustMethod, trimFraction = 0.1): Float32Array {
  const n = deltas.length;
  if (n === 0) throw new Error('robust aggregation needs at least one update');
  const d = deltas[0]!.length;
  const trim = method === 'median' ? 0 : Math.floor(trimFraction * n);
  if (method === 'trimmed-mean' && n - 2 * trim < 1)
    throw new Error(`trimming ${trim} from each side of ${n} updates leaves none`);
  const out = new Float32Array(d);
  const col = new Float64Array(n);
  for (let i = 0; i < d; i++) {
    for (let k = 0; k < n; k++) col[k] = deltas[k]![i]!;
    col.sort();
    if (method === 'median') {
      out[i] = n % 2 ? col[(n - 1) / 2]! : (col[n / 2 - 1]! + col[n / 2]!) / 2;
    } else {
      let s = 0;
      for (let k = trim; k < n - trim; k++) s += col[k]!;
      out[i] = s / (n - 2 * trim);
    }
  }
  return out;
}
