/**
 * Stochastic fixed-point quantization into Z_2^32 for secure aggregation.
 *
 * Representation (offset binary): a coordinate v ∈ [−C, C] maps to
 *   u = (v + C) / step ∈ [0, L],  L = 2^b − 1,  step = 2C / L,
 * rounded stochastically to floor(u) or floor(u)+1 with P(up) = frac(u), so
 * E[q] = u (unbiased up to the 2^−32 resolution of the uniform words).
 * Each client's word is ≤ L, so a sum of n words is < 2^32 (exact, no modular
 * wrap) iff n·L < 2^32; decoding subtracts the n·C offset.
 *
 * The example-count weight w ∈ [0, 1] travels as one extra last coordinate,
 * quantized on its own scale [0, 1] (step 1/L). Deltas are multiplied by w
 * before quantizing, so the decoded sum is Σ w_i·δ_i and Σ w_i.
 *
 * Error bound: each client's rounding error is < 1 unit, so per coordinate
 *   |decoded − true| < n·step   (deltas),   |decoded − true| < n/L   (weight),
 * plus float32 rounding of the returned Float32Array (≤ 2^−24 relative).
 *
 * Coordinates outside [−C, C] are clamped (a no-op after L2 clipping to C,
 * which is the caller's job, see shared/privacy).
 */
import { chachaWords } from './prg';
import { randomBytes } from './encoding';

export interface QuantConfig {
  /** L2 clip norm C: every coordinate lies in [−C, C]. */
  clipNorm: number;
  /** Bits per client word b (1..32): values in [0, 2^b − 1]. */
  bits: number;
}

/** Returns `count` uniform 32-bit words. */
export type UniformSource = (count: number) => Uint32Array;

const TWO32 = 4294967296;

/** CSPRNG stream: ChaCha20 keystream under a fresh key from crypto.getRandomValues. */
export function cryptoUniformSource(): UniformSource {
  return seededUniformSource(randomBytes(32));
}

/** Deterministic stream for tests: ChaCha20 keystream under `seed32`, advancing the nonce per call. */
export function seededUniformSource(seed32: Uint8Array): UniformSource {
  const key = seed32.slice();
  let call = 0;
  return (count: number) => {
    const nonce = new Uint8Array(12);
    new DataView(nonce.buffer).setUint32(0, call++, true);
    return chachaWords(key, count, nonce);
  };
}

function checkBits(bits: number): void {
  if (!Number.isInteger(bits) || bits < 1 || bits > 32)
    throw new Error(`quantize: bits must be an integer in [1, 32], got ${bits}`);
}

function levels(bits: number): number {
  checkBits(bits);
  return 2 ** bits - 1;
}

/** Quantization step 2C / (2^b − 1) for the delta coordinates. */
export function quantStep(cfg: QuantConfig): number {
  if (!(cfg.clipNorm > 0) || !Number.isFinite(cfg.clipNorm))
    throw new Error(`quantize: clipNorm must be a positive number, got ${cfg.clipNorm}`);
  return (2 * cfg.clipNorm) / levels(cfg.bits);
}

/** Largest n with n·(2^b − 1) < 2^32. */
export function maxClientsFor(bits: number): number {
  return Math.floor((TWO32 - 1) / levels(bits));
}

/** Largest b with n·(2^b − 1) < 2^32 (0 if even b = 1 overflows). */
export function maxBitsFor(n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new Error(`quantize: n must be a positive integer, got ${n}`);
  let b = 0;
  while (b < 32 && n * (2 ** (b + 1) - 1) < TWO32) b++;
  return b;
}

/** Throws if a sum of n words of `bits` bits could wrap modulo 2^32. */
export function assertNoOverflow(n: number, bits: number): void {
  const L = levels(bits);
  if (!Number.isInteger(n) || n < 1) throw new Error(`quantize: n must be a positive integer, got ${n}`);
  if (n * L >= TWO32) {
    throw new Error(
      `quantize: overflow: n=${n} clients × (2^${bits} − 1 = ${L}) = ${n * L} ≥ 2^32 = ${TWO32}; ` +
        `use bits ≤ ${maxBitsFor(n)} or at most ${maxClientsFor(bits)} clients`,
    );
  }
}

/** Stochastic rounding of u ∈ [0, L] given a uniform word r. */
function roundStochastic(u: number, r: number, L: number): number {
  const f = Math.floor(u);
  const q = r < (u - f) * TWO32 ? f + 1 : f;
  return q > L ? L : q < 0 ? 0 : q;
}

/**
 * Quantizes w·delta (clamped to [−C, C]) and the weight w ∈ [0, 1] into a
 * Uint32Array of length d + 1 (weight last).
 */
export function encodeWeightedUpdate(
  delta: Float32Array,
  weight: number,
  cfg: QuantConfig,
  rng: UniformSource = cryptoUniformSource(),
): Uint32Array {
  if (!(weight >= 0 && weight <= 1)) throw new Error(`quantize: weight must be in [0, 1], got ${weight}`);
  const C = cfg.clipNorm;
  const step = quantStep(cfg);
  const L = levels(cfg.bits);
  const d = delta.length;
  const r = rng(d + 1);
  if (r.length < d + 1) throw new Error('quantize: uniform source returned too few words');
  const out = new Uint32Array(d + 1);
  for (let i = 0; i < d; i++) {
    let v = weight * delta[i]!;
    if (v !== v) throw new Error(`quantize: delta[${i}] is NaN`);
    if (v > C) v = C;
    else if (v < -C) v = -C;
    out[i] = roundStochastic((v + C) / step, r[i]!, L);
  }
  out[d] = roundStochastic(weight * L, r[d]!, L);
  return out;
}

/**
 * Decodes the modular sum of n encoded updates: weightedSum ≈ Σ w_i·δ_i,
 * weightSum ≈ Σ w_i (see the error bound above).
 */
export function decodeSum(
  sum: Uint32Array,
  n: number,
  cfg: QuantConfig,
): { weightedSum: Float32Array; weightSum: number } {
  assertNoOverflow(n, cfg.bits);
  if (sum.length < 1) throw new Error('decodeSum: empty sum');
  const step = quantStep(cfg);
  const L = levels(cfg.bits);
  const d = sum.length - 1;
  const offset = n * cfg.clipNorm;
  const weightedSum = new Float32Array(d);
  for (let i = 0; i < d; i++) weightedSum[i] = sum[i]! * step - offset;
  return { weightedSum, weightSum: sum[d]! / L };
}
