/**
 * Small seeded PRNG for reproducible data splits and shuffles.
 *
 * NOT cryptographically secure: never use it for keys, masks or DP noise.
 * The generator is mulberry32 (32-bit state, period 2^32), seeded through a
 * splitmix-style hash so that nearby seeds (1, 2, 3...) give unrelated streams.
 */

export interface Rng {
  /** Uniform float in [0, 1). */
  uniform(): number;
  /** Uniform integer in [0, n), n a positive integer <= 2^32. */
  int(n: number): number;
  /** Standard normal N(0, 1) (Box–Muller, spare value cached). */
  normal(): number;
  /** Gamma(shape, 1) variate. */
  gamma(shape: number): number;
  /** log of a Gamma(shape, 1) variate; stays finite for tiny shapes where gamma() underflows to 0. */
  gammaLog(shape: number): number;
  /** Dirichlet(alphas) sample; sums to 1 even for very small alphas. */
  dirichlet(alphas: ArrayLike<number>): number[];
  /** In-place Fisher–Yates shuffle; returns the same array. */
  shuffle<T>(arr: T[]): T[];
}

/** Mixes an integer seed (any JS number) into a well-spread 32-bit state. */
export function hashSeed(seed: number): number {
  if (!Number.isFinite(seed)) throw new Error(`rng: seed must be a finite number, got ${seed}`);
  // Fold the float into 32 bits so non-integer / large seeds still differ.
  let h = (Math.trunc(seed) ^ Math.trunc(seed / 0x100000000)) >>> 0;
  h = (h + 0x9e3779b9) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** Derives a child seed so independent sub-streams (e.g. per dataset) don't share draws. */
export function deriveSeed(seed: number, salt: number | string): number {
  let s = typeof salt === 'number' ? salt : 0;
  if (typeof salt === 'string') {
    for (let i = 0; i < salt.length; i++) s = Math.imul(s ^ salt.charCodeAt(i), 0x01000193) >>> 0;
  }
  return hashSeed(hashSeed(seed) ^ hashSeed(s));
}

export function createRng(seed: number): Rng {
  let state = hashSeed(seed);
  let spareNormal: number | null = null;

  const uniform = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };

  const int = (n: number): number => {
    if (!Number.isInteger(n) || n <= 0 || n > 4294967296) {
      throw new Error(`rng.int: n must be a positive integer <= 2^32, got ${n}`);
    }
    return Math.floor(uniform() * n);
  };

  const normal = (): number => {
    if (spareNormal !== null) {
      const v = spareNormal;
      spareNormal = null;
      return v;
    }
    const u1 = 1 - uniform(); // (0, 1]: log stays finite
    const u2 = uniform();
    const r = Math.sqrt(-2 * Math.log(u1));
    spareNormal = r * Math.sin(2 * Math.PI * u2);
    return r * Math.cos(2 * Math.PI * u2);
  };

  // Marsaglia–Tsang for shape >= 1, returned in log space.
  const gammaLogAtLeastOne = (shape: number): number => {
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number;
      let v: number;
      do {
        x = normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = 1 - uniform();
      if (u < 1 - 0.0331 * x * x * x * x) return Math.log(d * v);
      if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return Math.log(d * v);
    }
  };

  const gammaLog = (shape: number): number => {
    if (!(shape > 0) || !Number.isFinite(shape)) {
      throw new Error(`rng.gamma: shape must be a positive finite number, got ${shape}`);
    }
    if (shape >= 1) return gammaLogAtLeastOne(shape);
    // Boost: Gamma(a) = Gamma(a + 1) * U^(1/a). Kept in log space because
    // U^(1/a) underflows to 0 for small a (e.g. a = 0.01).
    const g = gammaLogAtLeastOne(shape + 1);
    const u = 1 - uniform();
    return g + Math.log(u) / shape;
  };

  const gamma = (shape: number): number => Math.exp(gammaLog(shape));

  const dirichlet = (alphas: ArrayLike<number>): number[] => {
    const k = alphas.length;
    if (k === 0) throw new Error('rng.dirichlet: need at least one alpha');
    const logs = new Array<number>(k);
    let max = -Infinity;
    for (let i = 0; i < k; i++) {
      const l = gammaLog(alphas[i] as number);
      logs[i] = l;
      if (l > max) max = l;
    }
    // Normalise with the max subtracted (log-sum-exp) so tiny alphas don't give 0/0.
    let sum = 0;
    const out = new Array<number>(k);
    for (let i = 0; i < k; i++) {
      const e = Math.exp((logs[i] as number) - max);
      out[i] = e;
      sum += e;
    }
    for (let i = 0; i < k; i++) out[i] = (out[i] as number) / sum;
    return out;
  };

  const shuffle = <T>(arr: T[]): T[] => {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = int(i + 1);
      const tmp = arr[i] as T;
      arr[i] = arr[j] as T;
      arr[j] = tmp;
    }
    return arr;
  };

  return { uniform, int, normal, gamma, gammaLog, dirichlet, shuffle };
}
