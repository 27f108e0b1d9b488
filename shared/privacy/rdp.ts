/**
 * Rényi-DP accountant for the Poisson-subsampled Gaussian mechanism
 * (Mironov, Talwar, Zhang 2019, "Rényi Differential Privacy of the Sampled
 * Gaussian Mechanism"), computed the way Opacus / TF Privacy do it:
 *  - integer orders: the exact binomial expansion of A_α;
 *  - fractional orders: the two-series expansion, keeping each term's sign
 *    (exact; dp_accounting sums absolute values instead, an upper bound);
 *  - (ε, δ) by the improved conversion (Balle et al. 2020 / Canonne et al.).
 */
import { z } from 'zod';
import { logAdd, logErfc, signedLogAdd, SIGNED_ZERO, type SignedLog } from './log-math';

/** Opacus' default orders: 1.1, 1.2, …, 10.9, then 12 … 63. */
export const DEFAULT_RDP_ORDERS: readonly number[] = Object.freeze([
  ...Array.from({ length: 99 }, (_, i) => 1 + (i + 1) / 10),
  ...Array.from({ length: 52 }, (_, i) => 12 + i),
]);

function checkParams(q: number, sigma: number): void {
  if (!(q >= 0 && q <= 1)) throw new Error(`rdp: sampling rate q must be in [0, 1], got ${q}`);
  if (!(sigma >= 0) || !Number.isFinite(sigma))
    throw new Error(`rdp: noise multiplier must be finite and >= 0, got ${sigma}`);
}

/** log A_α for integer α: log Σ_i C(α,i) q^i (1-q)^(α-i) exp((i²-i)/(2σ²)). */
function logAInt(q: number, sigma: number, alpha: number): number {
  const logQ = Math.log(q);
  const log1mQ = Math.log1p(-q);
  let logA = -Infinity;
  let logBinom = 0; // log C(α, 0)
  for (let i = 0; i <= alpha; i++) {
    if (i > 0) logBinom += Math.log((alpha - i + 1) / i);
    const s = logBinom + i * logQ + (alpha - i) * log1mQ + (i * i - i) / (2 * sigma * sigma);
    logA = logAdd(logA, s);
  }
  return logA;
}

/**
 * log A_α for fractional α via the two series (Mironov et al. 2019, §3.3),
 * with generalised binomial coefficients whose sign alternates once i > α.
 */
function logAFrac(q: number, sigma: number, alpha: number, terms: FractionalTerms): number {
  let a0: SignedLog = SIGNED_ZERO;
  let a1: SignedLog = SIGNED_ZERO;
  const z0 = sigma * sigma * Math.log(1 / q - 1) + 0.5;
  const logQ = Math.log(q);
  const log1mQ = Math.log1p(-q);
  const sqrt2Sigma = Math.SQRT2 * sigma;
  const twoSigma2 = 2 * sigma * sigma;
  let logAbsBinom = 0; // log |C(α, 0)|
  let binomSign: -1 | 1 = 1;
  // Terms decay only polynomially in some regimes; this cap is far beyond any
  // realistic (q, σ, α) and turns a pathological input into an error, not a hang.
  const maxTerms = 10_000_000;
  for (let i = 0; ; i++) {
    if (i > 0) {
      const factor = (alpha - i + 1) / i; // C(α,i) = C(α,i-1)·(α-i+1)/i
      logAbsBinom += Math.log(Math.abs(factor));
      if (factor < 0) binomSign = binomSign === 1 ? -1 : 1;
    }
    const j = alpha - i;
    const logT0 = logAbsBinom + i * logQ + j * log1mQ;
    const logT1 = logAbsBinom + j * logQ + i * log1mQ;
    const logE0 = Math.log(0.5) + logErfc((i - z0) / sqrt2Sigma);
    const logE1 = Math.log(0.5) + logErfc((z0 - j) / sqrt2Sigma);
    const logS0 = logT0 + (i * i - i) / twoSigma2 + logE0;
    const logS1 = logT1 + (j * j - j) / twoSigma2 + logE1;
    const sign = terms === 'signed' ? binomSign : 1;
    a0 = signedLogAdd(a0, sign, logS0);
    a1 = signedLogAdd(a1, sign, logS1);
    if (Math.max(logS0, logS1) < -30) break;
    if (i > maxTerms) throw new Error(`rdp: fractional-order series did not converge (q=${q}, σ=${sigma}, α=${alpha})`);
  }
  // A_α is a positive quantity; a non-positive total means lost precision.
  if (a0.sign < 0 || a1.sign < 0) {
    const total = signedLogAdd(a0, a1.sign === 0 ? 1 : a1.sign, a1.log);
    if (total.sign <= 0) throw new Error(`rdp: A_α lost precision (q=${q}, σ=${sigma}, α=${alpha})`);
    return total.log;
  }
  return logAdd(a0.log, a1.log);
}

/**
 * How fractional-order series terms are summed: 'signed' is exact (Opacus);
 * 'absolute' sums |terms|, an upper bound (dp_accounting's unit-test values).
 */
export type FractionalTerms = 'signed' | 'absolute';

/** RDP of one step of the sampled Gaussian mechanism at order α. */
function rdpOneStep(q: number, sigma: number, alpha: number, terms: FractionalTerms): number {
  if (q === 0) return 0;
  if (sigma === 0) return Infinity;
  if (q === 1) return alpha / (2 * sigma * sigma);
  if (alpha === Infinity) return Infinity;
  const logA = Number.isInteger(alpha) ? logAInt(q, sigma, alpha) : logAFrac(q, sigma, alpha, terms);
  return logA / (alpha - 1);
}

/**
 * RDP (one entry per order) of `steps` compositions of the Poisson-subsampled
 * Gaussian mechanism with rate q and noise multiplier σ.
 */
export function computeRdp(
  q: number,
  noiseMultiplier: number,
  steps: number,
  orders: readonly number[] = DEFAULT_RDP_ORDERS,
  fractionalTerms: FractionalTerms = 'signed',
): number[] {
  checkParams(q, noiseMultiplier);
  if (!(steps >= 0) || !Number.isFinite(steps)) throw new Error(`rdp: steps must be finite and >= 0, got ${steps}`);
  for (const a of orders) if (!(a > 1)) throw new Error(`rdp: orders must be > 1, got ${a}`);
  return orders.map((a) => {
    const r = rdpOneStep(q, noiseMultiplier, a, fractionalTerms);
    return steps === 0 ? 0 : r * steps; // 0 steps costs nothing, even at σ = 0
  });
}

export interface EpsilonResult {
  epsilon: number;
  /** The order that attains ε (NaN when every order gives ∞). */
  bestOrder: number;
}

/**
 * Improved RDP → (ε, δ) conversion:
 *   ε = min_α  rdp(α) + log1p(-1/α) - (log δ + log α)/(α - 1),  clamped at 0.
 */
export function rdpToEpsilon(orders: readonly number[], rdp: readonly number[], delta: number): EpsilonResult {
  if (orders.length !== rdp.length)
    throw new Error(`rdpToEpsilon: ${orders.length} orders but ${rdp.length} RDP values`);
  if (!(delta > 0 && delta < 1)) throw new Error(`rdpToEpsilon: delta must be in (0, 1), got ${delta}`);
  let best = Infinity;
  let bestOrder = NaN;
  const logDelta = Math.log(delta);
  for (let k = 0; k < orders.length; k++) {
    const a = orders[k]!;
    const r = rdp[k]!;
    if (!(a > 1) || Number.isNaN(r)) continue;
    const eps = r + Math.log1p(-1 / a) - (logDelta + Math.log(a)) / (a - 1);
    if (eps < best) {
      best = eps;
      bestOrder = a;
    }
  }
  return { epsilon: Math.max(0, best), bestOrder };
}

/** Classic conversion ε = min_α rdp(α) - log δ / (α - 1) (Mironov 2017); looser, kept for comparison. */
export function rdpToEpsilonClassic(orders: readonly number[], rdp: readonly number[], delta: number): EpsilonResult {
  if (orders.length !== rdp.length)
    throw new Error(`rdpToEpsilonClassic: ${orders.length} orders but ${rdp.length} RDP values`);
  if (!(delta > 0 && delta < 1)) throw new Error(`rdpToEpsilonClassic: delta must be in (0, 1), got ${delta}`);
  let best = Infinity;
  let bestOrder = NaN;
  for (let k = 0; k < orders.length; k++) {
    const a = orders[k]!;
    const eps = rdp[k]! - Math.log(delta) / (a - 1);
    if (eps < best) {
      best = eps;
      bestOrder = a;
    }
  }
  return { epsilon: Math.max(0, best), bestOrder };
}

/** ε after `steps` rounds at (q, z). */
export function computeEpsilon(
  q: number,
  noiseMultiplier: number,
  steps: number,
  delta: number,
  orders: readonly number[] = DEFAULT_RDP_ORDERS,
): EpsilonResult {
  return rdpToEpsilon(orders, computeRdp(q, noiseMultiplier, steps, orders), delta);
}

const HistoryEntrySchema = z.object({
  q: z.number().min(0).max(1),
  noiseMultiplier: z.number().min(0),
  steps: z.number().int().min(0),
});
const AccountantJsonSchema = z.object({
  orders: z.array(z.number().gt(1)).min(1),
  history: z.array(HistoryEntrySchema),
});
export type RdpAccountantJson = z.infer<typeof AccountantJsonSchema> & { rdp: (number | null)[] };

/**
 * Running RDP total over a sequence of (possibly heterogeneous) steps: RDP
 * composes additively per order, so the state is one vector plus a history.
 */
export class RdpAccountant {
  readonly orders: readonly number[];
  private readonly rdp: number[];
  private readonly history: { q: number; noiseMultiplier: number; steps: number }[] = [];
  // Per-step RDP vectors by (q, z): rounds usually repeat the same parameters.
  private readonly cache = new Map<string, number[]>();

  constructor(orders: readonly number[] = DEFAULT_RDP_ORDERS) {
    if (orders.length === 0) throw new Error('RdpAccountant: at least one order is required');
    for (const a of orders) if (!(a > 1)) throw new Error(`RdpAccountant: orders must be > 1, got ${a}`);
    this.orders = Object.freeze([...orders]);
    this.rdp = new Array<number>(orders.length).fill(0);
  }

  private perStep(q: number, z: number): number[] {
    const key = `${q}|${z}`;
    let r = this.cache.get(key);
    if (!r) {
      r = computeRdp(q, z, 1, this.orders);
      if (this.cache.size >= 64) this.cache.clear(); // bound memory if z varies every round
      this.cache.set(key, r);
    }
    return r;
  }

  /** Records `steps` rounds of the sampled Gaussian mechanism at (q, z). */
  step(q: number, noiseMultiplier: number, steps = 1): void {
    if (!Number.isInteger(steps) || steps < 0)
      throw new Error(`RdpAccountant.step: steps must be a non-negative integer, got ${steps}`);
    if (steps === 0) return;
    const r = this.perStep(q, noiseMultiplier);
    for (let k = 0; k < this.rdp.length; k++) this.rdp[k] = this.rdp[k]! + steps * r[k]!;
    const last = this.history[this.history.length - 1];
    if (last && last.q === q && last.noiseMultiplier === noiseMultiplier) last.steps += steps;
    else this.history.push({ q, noiseMultiplier, steps });
  }

  /** Total steps recorded so far. */
  get steps(): number {
    return this.history.reduce((s, h) => s + h.steps, 0);
  }

  /** Copy of the accumulated RDP vector (aligned with `orders`). */
  rdpTotal(): number[] {
    return [...this.rdp];
  }

  epsilon(delta: number): EpsilonResult {
    return rdpToEpsilon(this.orders, this.rdp, delta);
  }

  /** ε if `extraSteps` more rounds at (q, z) were run; does not change the state. */
  epsilonAfter(q: number, noiseMultiplier: number, extraSteps: number, delta: number): EpsilonResult {
    if (!Number.isInteger(extraSteps) || extraSteps < 0) {
      throw new Error(`RdpAccountant.epsilonAfter: extraSteps must be a non-negative integer, got ${extraSteps}`);
    }
    if (extraSteps === 0) return this.epsilon(delta);
    const r = this.perStep(q, noiseMultiplier);
    return rdpToEpsilon(
      this.orders,
      this.rdp.map((v, k) => v + extraSteps * r[k]!),
      delta,
    );
  }

  toJSON(): RdpAccountantJson {
    return {
      orders: [...this.orders],
      history: this.history.map((h) => ({ ...h })),
      // Informational (JSON has no Infinity: null stands for it); fromJSON recomputes from history.
      rdp: this.rdp.map((v) => (Number.isFinite(v) ? v : null)),
    };
  }

  /** Rebuilds from `toJSON` output; the RDP vector is recomputed from the history, the source of truth. */
  static fromJSON(json: unknown): RdpAccountant {
    const parsed = AccountantJsonSchema.parse(json);
    const acc = new RdpAccountant(parsed.orders);
    for (const h of parsed.history) acc.step(h.q, h.noiseMultiplier, h.steps);
    return acc;
  }
}

export interface SolveNoiseOptions {
  targetEpsilon: number;
  q: number;
  steps: number;
  delta: number;
  orders?: readonly number[];
  /** Relative width of the final bisection bracket (default 1e-6). */
  tolerance?: number;
}

export interface SolveNoiseResult extends EpsilonResult {
  noiseMultiplier: number;
}

/**
 * Smallest noise multiplier (to `tolerance`, relative) whose ε after `steps`
 * rounds is ≤ targetEpsilon. The returned z always satisfies the target.
 */
export function solveNoiseMultiplier(opts: SolveNoiseOptions): SolveNoiseResult {
  const { targetEpsilon, q, steps, delta, orders = DEFAULT_RDP_ORDERS, tolerance = 1e-6 } = opts;
  if (!(targetEpsilon > 0) || !Number.isFinite(targetEpsilon))
    throw new Error(`solveNoiseMultiplier: targetEpsilon must be a positive number, got ${targetEpsilon}`);
  if (!Number.isInteger(steps) || steps < 1)
    throw new Error(`solveNoiseMultiplier: steps must be a positive integer, got ${steps}`);
  const eps = (z: number) => computeEpsilon(q, z, steps, delta, orders);
  if (q === 0) return { noiseMultiplier: 0, ...eps(0) };
  // ε(z) decreases in z: find an upper end of the bracket by doubling.
  let lo = 0;
  let hi = 1;
  let hiEps = eps(hi);
  while (hiEps.epsilon > targetEpsilon) {
    lo = hi;
    hi *= 2;
    if (hi > 1e6) throw new Error(`solveNoiseMultiplier: no noise multiplier below 1e6 reaches ε = ${targetEpsilon}`);
    hiEps = eps(hi);
  }
  while (hi - lo > tolerance * hi) {
    const mid = (lo + hi) / 2;
    const m = eps(mid);
    if (m.epsilon <= targetEpsilon) {
      hi = mid;
      hiEps = m;
    } else {
      lo = mid;
    }
  }
  return { noiseMultiplier: hi, ...hiEps };
}

export interface SolveStepsOptions {
  targetEpsilon: number;
  q: number;
  noiseMultiplier: number;
  delta: number;
  orders?: readonly number[];
}

export interface SolveStepsResult extends EpsilonResult {
  /** Largest number of rounds with ε ≤ target (0 if even one round exceeds it; Infinity if q = 0). */
  steps: number;
}

/**
 * Largest number of rounds at (q, z) with ε ≤ targetEpsilon. RDP is linear in
 * steps, so per order the bound solves in closed form; the best order wins,
 * then the answer is checked against the accountant itself.
 */
export function solveMaxSteps(opts: SolveStepsOptions): SolveStepsResult {
  const { targetEpsilon, q, noiseMultiplier, delta, orders = DEFAULT_RDP_ORDERS } = opts;
  if (!(targetEpsilon > 0) || !Number.isFinite(targetEpsilon))
    throw new Error(`solveMaxSteps: targetEpsilon must be a positive number, got ${targetEpsilon}`);
  if (!(delta > 0 && delta < 1)) throw new Error(`solveMaxSteps: delta must be in (0, 1), got ${delta}`);
  const perStep = computeRdp(q, noiseMultiplier, 1, orders);
  const at = (steps: number) =>
    rdpToEpsilon(
      orders,
      perStep.map((r) => r * steps),
      delta,
    );
  if (perStep.every((r) => r === 0)) return { steps: Infinity, ...at(0) };
  let best = 0;
  for (let k = 0; k < orders.length; k++) {
    const a = orders[k]!;
    const r = perStep[k]!;
    if (!(r > 0) || !Number.isFinite(r)) continue;
    const offset = Math.log1p(-1 / a) - (Math.log(delta) + Math.log(a)) / (a - 1);
    const t = Math.floor((targetEpsilon - offset) / r);
    if (t > best) best = t;
  }
  // Guard against rounding in the closed form.
  while (best > 0 && at(best).epsilon > targetEpsilon) best--;
  while (at(best + 1).epsilon <= targetEpsilon) best++;
  return { steps: best, ...at(best) };
}
