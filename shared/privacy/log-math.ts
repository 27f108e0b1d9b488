/**
 * Log-space arithmetic for the RDP accountant. The sampled-Gaussian series
 * mixes terms spanning hundreds of orders of magnitude, some with negative
 * signs, so everything is carried as (sign, log|x|).
 */

/** log(e^a + e^b), exact for -Infinity operands. */
export function logAdd(a: number, b: number): number {
  const hi = Math.max(a, b);
  const lo = Math.min(a, b);
  if (lo === -Infinity) return hi;
  return hi + Math.log1p(Math.exp(lo - hi));
}

/** log(e^a - e^b) for a >= b; -Infinity when equal. */
export function logSub(a: number, b: number): number {
  if (a < b) throw new Error(`logSub: result would be negative (log ${a} - log ${b})`);
  if (b === -Infinity) return a;
  if (a === b) return -Infinity;
  // log(e^a - e^b) = a + log(1 - e^(b-a)); -expm1 keeps precision when b ≈ a.
  return a + Math.log(-Math.expm1(b - a));
}

/** A signed number stored as sign·exp(log). sign 0 means exactly zero. */
export interface SignedLog {
  sign: -1 | 0 | 1;
  log: number;
}

export const SIGNED_ZERO: SignedLog = { sign: 0, log: -Infinity };

/** Adds sign·exp(log) to acc (returns a new value). */
export function signedLogAdd(acc: SignedLog, sign: -1 | 1, log: number): SignedLog {
  if (log === -Infinity) return acc;
  if (acc.sign === 0) return { sign, log };
  if (acc.sign === sign) return { sign, log: logAdd(acc.log, log) };
  // Opposite signs: the larger magnitude keeps its sign.
  if (acc.log === log) return SIGNED_ZERO;
  return acc.log > log ? { sign: acc.sign, log: logSub(acc.log, log) } : { sign, log: logSub(log, acc.log) };
}

const LOG_SQRT_PI = 0.5 * Math.log(Math.PI);
const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/** erf(x) by its Maclaurin series; accurate (≈1e-15 abs) for |x| ≤ 2. */
function erfSeries(x: number): number {
  // erf(x) = 2/√π Σ (-1)^n x^(2n+1) / (n! (2n+1))
  const x2 = x * x;
  let term = x; // (-1)^n x^(2n+1) / n!
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= -x2 / n;
    const add = term / (2 * n + 1);
    sum += add;
    if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
  }
  return TWO_OVER_SQRT_PI * sum;
}

/**
 * log(√π · e^{x²} · erfc(x)) for x ≥ 1.5, from the continued fraction
 * erfc(x) = e^{-x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))),
 * evaluated with the modified Lentz method.
 */
function logScaledErfcCf(x: number): number {
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let n = 1; n < 5000; n++) {
    const a = n / 2;
    d = x + a * d;
    if (d === 0) d = tiny;
    c = x + a / c;
    if (c === 0) c = tiny;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return -Math.log(f);
}

/** erfc(x) for x ≥ 0 (no underflow protection; use logErfc for large x). */
function erfcNonNeg(x: number): number {
  if (x < 1.5) return 1 - erfSeries(x);
  return Math.exp(-x * x - LOG_SQRT_PI + logScaledErfcCf(x));
}

/** log(erfc(x)) for any real x, accurate in the far tails (no underflow). */
export function logErfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x === Infinity) return -Infinity;
  if (x === -Infinity) return Math.LN2;
  if (x < 0) return Math.log(2 - erfcNonNeg(-x)); // erfc(x) = 2 - erfc(-x) ∈ (1, 2)
  if (x < 1.5) return Math.log(1 - erfSeries(x));
  return -x * x - LOG_SQRT_PI + logScaledErfcCf(x);
}

/** erfc(x) for any real x (underflows to 0 past x ≈ 26.5). */
export function erfc(x: number): number {
  return Math.exp(logErfc(x));
}
