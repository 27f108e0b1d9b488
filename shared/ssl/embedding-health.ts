/**
 * Embedding health and drift: cheap, label-free signals that a self-supervised
 * encoder is learning (or collapsing). Pure math on row-major n × d Float32Arrays;
 * runs in the browser and in Node.
 */

export interface EmbeddingHealthOptions {
  /**
   * Collapse when meanStd·√d falls below this. An isotropic embedding on the
   * unit sphere has per-dimension std ≈ 1/√d, so the ratio is ≈ 1 when healthy
   * and → 0 when every image maps to the same direction (SimSiam's diagnostic).
   */
  minStdRatio: number;
  /** Collapse when the effective rank of the covariance falls below this. */
  minEffectiveRank: number;
}

export const DEFAULT_HEALTH_OPTIONS: EmbeddingHealthOptions = { minStdRatio: 0.05, minEffectiveRank: 1.5 };

export interface EmbeddingHealth {
  /** Per-dimension std of the L2-normalised embeddings, averaged over dimensions. */
  meanStd: number;
  /** meanStd·√d: ≈ 1 for an isotropic embedding, 0 for a collapsed one. */
  stdRatio: number;
  /** exp(entropy of the normalised eigenvalue spectrum of the covariance), in [1, d] (0 if all variance is gone). */
  effectiveRank: number;
  collapsed: boolean;
  n: number;
  d: number;
}

function checkShape(x: Float32Array, n: number, d: number, what: string): void {
  if (!Number.isInteger(n) || !Number.isInteger(d) || n < 1 || d < 1)
    throw new Error(`${what}: n and d must be positive integers`);
  if (x.length !== n * d) throw new Error(`${what}: expected ${n}×${d} = ${n * d} values, got ${x.length}`);
}

/** Row-wise L2 normalisation (float64 for stable sums). Zero rows stay zero. */
export function l2NormalizeRows(x: Float32Array, n: number, d: number): Float64Array {
  checkShape(x, n, d, 'l2NormalizeRows');
  const out = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += x[i * d + j]! ** 2;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let j = 0; j < d; j++) out[i * d + j] = x[i * d + j]! * inv;
  }
  return out;
}

/** Population covariance (d × d, row-major) of the rows of z. */
export function covariance(z: Float64Array, n: number, d: number): Float64Array {
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j]! += z[i * d + j]! / n;
  const c = new Float64Array(d * d);
  const row = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) row[j] = z[i * d + j]! - mean[j]!;
    for (let a = 0; a < d; a++) {
      const ra = row[a]!;
      if (ra === 0) continue;
      for (let b = a; b < d; b++) c[a * d + b]! += ra * row[b]!;
    }
  }
  for (let a = 0; a < d; a++) {
    for (let b = a; b < d; b++) {
      const v = c[a * d + b]! / n;
      c[a * d + b] = v;
      c[b * d + a] = v;
    }
  }
  return c;
}

/**
 * Eigenvalues of a symmetric d × d matrix by cyclic Jacobi rotations
 * (accurate and simple; O(d³) per sweep is fine for d ≤ 128). Input is not modified.
 */
export function symmetricEigenvalues(matrix: Float64Array, d: number, maxSweeps = 50): Float64Array {
  if (matrix.length !== d * d) throw new Error(`symmetricEigenvalues: expected ${d * d} values, got ${matrix.length}`);
  const a = Float64Array.from(matrix);
  let scale = 0;
  for (let i = 0; i < d * d; i++) scale += a[i]! ** 2;
  const tol = 1e-22 * Math.max(scale, Number.MIN_VALUE);
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let off = 0;
    for (let p = 0; p < d; p++) for (let q = p + 1; q < d; q++) off += a[p * d + q]! ** 2;
    if (off <= tol) break;
    for (let p = 0; p < d - 1; p++) {
      for (let q = p + 1; q < d; q++) {
        const apq = a[p * d + q]!;
        if (Math.abs(apq) < 1e-300) continue;
        const app = a[p * d + p]!;
        const aqq = a[q * d + q]!;
        // Rotation angle that zeroes a[p][q] (Golub & Van Loan, sym.schur2).
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < d; k++) {
          const akp = a[k * d + p]!;
          const akq = a[k * d + q]!;
          a[k * d + p] = c * akp - s * akq;
          a[k * d + q] = s * akp + c * akq;
        }
        for (let k = 0; k < d; k++) {
          const apk = a[p * d + k]!;
          const aqk = a[q * d + k]!;
          a[p * d + k] = c * apk - s * aqk;
          a[q * d + k] = s * apk + c * aqk;
        }
      }
    }
  }
  const eig = new Float64Array(d);
  for (let i = 0; i < d; i++) eig[i] = a[i * d + i]!;
  return eig;
}

/** exp(Shannon entropy) of the eigenvalue distribution (Roy & Vetterli 2007). Negative round-off is clamped to 0. */
export function effectiveRankOf(eigenvalues: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < eigenvalues.length; i++) sum += Math.max(0, eigenvalues[i]!);
  if (!(sum > 1e-12)) return 0;
  let h = 0;
  for (let i = 0; i < eigenvalues.length; i++) {
    const p = Math.max(0, eigenvalues[i]!) / sum;
    if (p > 0) h -= p * Math.log(p);
  }
  return Math.exp(h);
}

/** Health of n embeddings of dimension d (row-major). */
export function embeddingHealth(
  embeddings: Float32Array,
  n: number,
  d: number,
  options: Partial<EmbeddingHealthOptions> = {},
): EmbeddingHealth {
  checkShape(embeddings, n, d, 'embeddingHealth');
  const opts = { ...DEFAULT_HEALTH_OPTIONS, ...options };
  const z = l2NormalizeRows(embeddings, n, d);
  const cov = covariance(z, n, d);
  let stdSum = 0;
  for (let j = 0; j < d; j++) stdSum += Math.sqrt(Math.max(0, cov[j * d + j]!));
  const meanStd = stdSum / d;
  const stdRatio = meanStd * Math.sqrt(d);
  const effectiveRank = effectiveRankOf(symmetricEigenvalues(cov, d));
  return {
    meanStd,
    stdRatio,
    effectiveRank,
    n,
    d,
    collapsed: stdRatio < opts.minStdRatio || effectiveRank < opts.minEffectiveRank,
  };
}

/**
 * Drift between two versions' embeddings of the same n images: the mean cosine
 * distance 1 − cos(aᵢ, bᵢ), in [0, 2]. 0 means each image keeps its direction.
 * Chosen over 1 − linear CKA because it is per-image and cheap to explain; note it
 * is not rotation-invariant (a pure rotation of the embedding space counts as drift).
 */
export function embeddingDrift(a: Float32Array, b: Float32Array, n: number, d: number): number {
  checkShape(a, n, d, 'embeddingDrift');
  checkShape(b, n, d, 'embeddingDrift');
  const za = l2NormalizeRows(a, n, d);
  const zb = l2NormalizeRows(b, n, d);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    let dot = 0;
    for (let j = 0; j < d; j++) dot += za[i * d + j]! * zb[i * d + j]!;
    sum += 1 - dot;
  }
  return Math.max(0, sum / n); // round-off can make identical embeddings read as -1e-16
}
