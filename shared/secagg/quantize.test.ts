import { describe, expect, it } from 'vitest';
import {
  assertNoOverflow,
  cryptoUniformSource,
  decodeSum,
  encodeWeightedUpdate,
  maxBitsFor,
  maxClientsFor,
  quantStep,
  seededUniformSource,
  type QuantConfig,
} from './quantize';

const seed = (b: number) => new Uint8Array(32).fill(b);

function randomDelta(d: number, C: number, rng: () => number): Float32Array {
  const v = new Float32Array(d);
  for (let i = 0; i < d; i++) v[i] = (rng() * 2 - 1) * C;
  return v;
}

function lcg(s: number) {
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
}

describe('overflow check', () => {
  it('refuses a config that could overflow and names the numbers', () => {
    // 2 × (2^32 − 1) ≥ 2^32; 65538 × (2^16 − 1) = 4295032830 ≥ 2^32.
    expect(() => assertNoOverflow(2, 32)).toThrow(/n=2.*2\^32 − 1 = 4294967295.*8589934590 ≥ 2\^32 = 4294967296/);
    expect(() => assertNoOverflow(65538, 16)).toThrow(/n=65538.*65535.*4295032830 ≥ 2\^32/);
    expect(() => assertNoOverflow(65537, 16)).not.toThrow();
    expect(() => assertNoOverflow(1000, 22)).not.toThrow();
    expect(() => assertNoOverflow(1025, 22)).toThrow(/overflow/);
  });

  it('maxClientsFor and maxBitsFor agree with the check', () => {
    for (const bits of [8, 16, 20, 24, 31]) {
      const n = maxClientsFor(bits);
      expect(() => assertNoOverflow(n, bits)).not.toThrow();
      expect(() => assertNoOverflow(n + 1, bits)).toThrow();
    }
    for (const n of [1, 10, 100, 1000, 100000]) {
      const b = maxBitsFor(n);
      expect(() => assertNoOverflow(n, b)).not.toThrow();
      if (b < 32) expect(() => assertNoOverflow(n, b + 1)).toThrow();
    }
    expect(maxBitsFor(1000)).toBe(22);
  });

  it('decodeSum refuses an n that could have overflowed', () => {
    expect(() => decodeSum(new Uint32Array(3), 300, { clipNorm: 1, bits: 24 })).toThrow(/n=300/);
  });
});

describe('stochastic quantization', () => {
  const cfg: QuantConfig = { clipNorm: 0.5, bits: 12 };

  it('encodes w·delta and w into d+1 words within [0, 2^b − 1]', () => {
    const d = 1000;
    const delta = randomDelta(d, cfg.clipNorm, lcg(1));
    const q = encodeWeightedUpdate(delta, 0.7, cfg, seededUniformSource(seed(1)));
    expect(q).toBeInstanceOf(Uint32Array);
    expect(q.length).toBe(d + 1);
    expect(Math.max(...q)).toBeLessThanOrEqual(4095);
    const dec = decodeSum(q, 1, cfg);
    const step = quantStep(cfg);
    for (let i = 0; i < d; i++) expect(Math.abs(dec.weightedSum[i]! - 0.7 * delta[i]!)).toBeLessThan(step + 1e-6);
    expect(Math.abs(dec.weightSum - 0.7)).toBeLessThan(1 / 4095);
  });

  it('is unbiased: the mean of many roundings converges to the value', () => {
    const v = new Float32Array(4000).fill(0.123456);
    const coarse: QuantConfig = { clipNorm: 1, bits: 4 }; // step = 2/15 ≈ 0.133
    const rng = seededUniformSource(seed(2));
    let sum = 0;
    const reps = 50;
    for (let r = 0; r < reps; r++) {
      const q = encodeWeightedUpdate(v, 1, coarse, rng);
      const dec = decodeSum(q, 1, coarse);
      for (let i = 0; i < v.length; i++) sum += dec.weightedSum[i]!;
    }
    const mean = sum / (reps * v.length);
    // Nearest-rounding would give 0.1333; per-sample sd ≤ step/2, 200k samples → sd of mean ≈ 1.5e-4.
    expect(Math.abs(mean - 0.123456)).toBeLessThan(1e-3);
  });

  it('sum of n clients decodes within n·step per coordinate (and n/L for the weight)', () => {
    const n = 20;
    const d = 5000;
    const c: QuantConfig = { clipNorm: 1, bits: 16 };
    const step = quantStep(c);
    const gen = lcg(7);
    const rng = cryptoUniformSource();
    const sum = new Uint32Array(d + 1);
    const truth = new Float64Array(d);
    let wTrue = 0;
    for (let u = 0; u < n; u++) {
      const w = gen();
      const delta = randomDelta(d, 1.5, gen); // some coordinates beyond C: clamped
      const q = encodeWeightedUpdate(delta, w, c, rng);
      for (let i = 0; i <= d; i++) sum[i] = sum[i]! + q[i]!;
      for (let i = 0; i < d; i++) truth[i] = truth[i]! + Math.max(-1, Math.min(1, w * delta[i]!));
      wTrue += w;
    }
    const dec = decodeSum(sum, n, c);
    let maxErr = 0;
    for (let i = 0; i < d; i++)
      maxErr = Math.max(maxErr, Math.abs(dec.weightedSum[i]! - truth[i]!) - Math.abs(truth[i]!) * 2 ** -23);
    expect(maxErr).toBeLessThanOrEqual(n * step);
    expect(maxErr).toBeGreaterThan(0);
    expect(Math.abs(dec.weightSum - wTrue)).toBeLessThanOrEqual(n / 65535);
  });

  it('uses the injected uniform source (deterministic) and rejects bad input', () => {
    const delta = randomDelta(100, 0.5, lcg(3));
    const a = encodeWeightedUpdate(delta, 1, cfg, seededUniformSource(seed(5)));
    const b = encodeWeightedUpdate(delta, 1, cfg, seededUniformSource(seed(5)));
    const c = encodeWeightedUpdate(delta, 1, cfg, seededUniformSource(seed(6)));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(() => encodeWeightedUpdate(new Float32Array([NaN]), 1, cfg)).toThrow(/NaN/);
    expect(() => encodeWeightedUpdate(delta, 1.5, cfg)).toThrow(/weight/);
  });
});
