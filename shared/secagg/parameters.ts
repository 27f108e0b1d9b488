/**
 * Dropout-aware SecAgg+ parameters (Bell, Bonawitz, Gascón, Lepoint, Raykova 2020,
 * "Secure Single-Server Aggregation with (Poly)Logarithmic Overhead", §3–4): choose the
 * neighbour degree k and the Shamir threshold t from the cohort size n, the expected
 * dropout rate δ, the tolerated corrupt fraction γ and a per-round failure target η.
 *
 * Derivation (our k-regular random Harary graph; each client drops independently with
 * probability δ and is corrupt independently with probability γ; the graph is a random
 * relabelling, so a fixed client's k neighbours are a uniform sample):
 *
 *  1. Either-or rule: t > k/2, so honest neighbours, who each reveal at most one of a
 *     client's two shares, can never give t shares of both. We take the smallest such
 *     t = ⌊k/2⌋ + 1, which maximises dropout tolerance.
 *  2. Correctness: the server reconstructs a client's self seed (it survived) or mask
 *     key (it dropped) from its surviving neighbours, so the round completes iff every
 *     cohort member keeps ≥ t surviving neighbours. Surviving neighbours ~ Bin(k, 1 − δ),
 *     so one client fails with p_drop = P[Bin(k, δ) ≥ k − t + 1], and by the union bound
 *     P[round fails] ≤ n·p_drop. (Bell et al. Lemma 4.4 uses the same bound.)
 *  3. Security against γn corrupt clients colluding with an honest-but-curious server:
 *     they must not hold t shares of an honest client's other secret, so its corrupt
 *     neighbours must number < t: p_corrupt = P[Bin(k, γ) ≥ t], union bound n·p_corrupt.
 *  4. k is the smallest even degree with n·p_drop ≤ η and n·p_corrupt ≤ η. If none below
 *     n − 1 exists, the graph is complete (k = n − 1, neighbours are exactly the other
 *     clients, the binomials are exact) and the predicted failure is reported as is.
 *
 * The union bound is tight when n·p is small (the events are rare and nearly disjoint)
 * and pessimistic for the complete graph, where the clients' events coincide.
 * A malicious server that also lies about dropouts and colludes with c corrupt
 * neighbours needs c ≥ 2t − k; that case is outside this (honest-but-curious) model.
 */

export interface SecAggParamsInput {
  /** Cohort size n (≥ 3). */
  n: number;
  /** δ: expected fraction of the cohort that drops out during a round (default 0.3). */
  dropoutRate?: number;
  /** γ: fraction of clients that may be corrupt and collude with the server (default 0.1). */
  corruptFraction?: number;
  /** η: tolerated per-round failure probability, for correctness and for security (default 1e-6). */
  failureTarget?: number;
  /** Upper bound on k (masking cost grows linearly in k); default n − 1. */
  maxDegree?: number;
}

export interface SecAggParams {
  k: number;
  t: number;
  /** Union bound on P[some client keeps < t surviving neighbours]. */
  predictedFailure: number;
  /** Union bound on P[some honest client has ≥ t corrupt neighbours]. */
  predictedCorruption: number;
  /** Whether both bounds meet the target. */
  meetsTarget: boolean;
}

export const SECAGG_PARAM_DEFAULTS = { dropoutRate: 0.3, corruptFraction: 0.1, failureTarget: 1e-6 } as const;

/** Largest degree the server builds (Shamir x-coordinates are one byte; even, for the ring). */
export const MAX_DEGREE = 254;

/** ln C(k, i), exact enough for k ≤ 10^6 (sum of logs is fine at our sizes; k ≤ 255). */
function logChoose(k: number, i: number): number {
  let s = 0;
  for (let j = 1; j <= i; j++) s += Math.log((k - i + j) / j);
  return s;
}

/** P[Bin(k, p) ≥ m], summed in log space (no underflow for tiny tails). */
export function binomialTail(k: number, p: number, m: number): number {
  if (m <= 0) return 1;
  if (m > k) return 0;
  if (p <= 0) return 0;
  if (p >= 1) return 1;
  const lp = Math.log(p);
  const lq = Math.log1p(-p);
  let s = 0;
  for (let i = m; i <= k; i++) s += Math.exp(logChoose(k, i) + i * lp + (k - i) * lq);
  return Math.min(1, s);
}

/** The smallest threshold with t > k/2 (and ≥ 2, the Shamir library's minimum). */
export function thresholdFor(k: number): number {
  return Math.max(2, Math.floor(k / 2) + 1);
}

/** Both union bounds for a given (n, k, t). */
export function predictFailure(
  n: number,
  k: number,
  t: number,
  dropoutRate: number,
  corruptFraction: number,
): { predictedFailure: number; predictedCorruption: number } {
  return {
    predictedFailure: Math.min(1, n * binomialTail(k, dropoutRate, k - t + 1)),
    predictedCorruption: Math.min(1, n * binomialTail(k, corruptFraction, t)),
  };
}

function checkRate(name: string, v: number, hi: number): void {
  if (!(v >= 0 && v < hi)) throw new Error(`secagg parameters: ${name} must be in [0, ${hi}), got ${v}`);
}

/** Chooses (k, t) as derived above. Pure and deterministic. */
export function chooseSecAggParams(input: SecAggParamsInput): SecAggParams {
  const { n } = input;
  const delta = input.dropoutRate ?? SECAGG_PARAM_DEFAULTS.dropoutRate;
  const gamma = input.corruptFraction ?? SECAGG_PARAM_DEFAULTS.corruptFraction;
  const eta = input.failureTarget ?? SECAGG_PARAM_DEFAULTS.failureTarget;
  if (!Number.isInteger(n) || n < 3) throw new Error(`secagg parameters: n must be an integer ≥ 3, got ${n}`);
  checkRate('dropoutRate', delta, 1);
  checkRate('corruptFraction', gamma, 0.5);
  if (!(eta > 0 && eta < 1)) throw new Error(`secagg parameters: failureTarget must be in (0, 1), got ${eta}`);
  const kMax = Math.min(n - 1, input.maxDegree ?? n - 1);
  const result = (k: number): SecAggParams => {
    const t = thresholdFor(k);
    const p = predictFailure(n, k, t, delta, gamma);
    return { k, t, ...p, meetsTarget: p.predictedFailure <= eta && p.predictedCorruption <= eta };
  };
  // Non-complete Harary graphs need an even degree.
  for (let k = 2; k < kMax; k += 2) {
    const r = result(k);
    if (r.meetsTarget) return r;
  }
  return result(kMax % 2 === 0 || kMax === n - 1 ? kMax : kMax - 1);
}

export interface RosterCheck {
  ok: boolean;
  reason?: string;
}

/**
 * The client's view of a roster (item 7 of the review): refuse t ≤ k/2 (the either-or rule
 * no longer protects), t > k (the round can never complete), and a degree below what the
 * announced dropout rate, corrupt fraction and failure target need for n clients.
 */
export function checkRosterParams(p: {
  k: number;
  t: number;
  announced?: { n: number; dropoutRate: number; corruptFraction: number; failureTarget: number };
}): RosterCheck {
  const { k, t, announced } = p;
  if (!Number.isInteger(k) || !Number.isInteger(t))
    return { ok: false, reason: `non-integer parameters k=${k}, t=${t}` };
  if (2 * t <= k)
    return {
      ok: false,
      reason: `threshold t=${t} ≤ k/2 (k=${k}): a server could collect both shares of a client from honest neighbours`,
    };
  if (t > k) return { ok: false, reason: `threshold t=${t} > degree k=${k}: no client can ever be reconstructed` };
  if (!announced) return { ok: true };
  const { n, dropoutRate, corruptFraction, failureTarget } = announced;
  if (!Number.isInteger(n) || n < 3)
    return { ok: false, reason: `announced cohort of ${n} is too small for secure aggregation` };
  if (k > n - 1) return { ok: false, reason: `degree k=${k} exceeds the announced cohort of ${n}` };
  // Same cap as the server, which also bounds the client's work for any announced n.
  const need = chooseSecAggParams({ n, dropoutRate, corruptFraction, failureTarget, maxDegree: MAX_DEGREE });
  if (k < need.k) {
    return {
      ok: false,
      reason: `degree k=${k} is below the k=${need.k} that n=${n}, dropout rate ${dropoutRate}, corrupt fraction ${corruptFraction} and failure target ${failureTarget} need`,
    };
  }
  return { ok: true };
}
