import { describe, expect, it } from 'vitest';
import { layerDivergenceWeights, layerNormalizedSum, MIN_LAYER_WEIGHT_SUM, scaleByLayer } from './divergence-weights';
import { encodeForSecAgg } from './secure-client';
import { decodeMaskedSum } from '../secagg/masked-vector-layout';
import { encodingParamsForRound, layoutForRound } from '../protocol/round-layout';
import { l2Norm } from '../privacy/clip';
import { createRng } from '../data/rng';
import type { SecAggRoundInfo } from '../protocol/secagg-messages';
import { RoundConfigSchema } from '../protocol/round-config';

const f32 = (...v: number[]) => Float32Array.from(v);

describe('layer divergence weights (L-DAWA cosine, per layer)', () => {
  it('is the cosine between local and global weights of each layer, clamped to [0, 1]', () => {
    // Layer 0: global (1,0), local (1,1) → cos 45° = 1/√2. Layer 1: local = global → 1.
    // Layer 2: global (1,0,0), local (−1,0,0) → cos −1 → 0. Layer 3: global all zero → 1 (no direction).
    const global = f32(1, 0, 2, 3, 1, 0, 0, 0, 0);
    const delta = f32(0, 1, 0, 0, -2, 0, 0, 0.5, 0.5);
    const a = layerDivergenceWeights(global, delta, [2, 2, 3, 2]);
    expect(a[0]).toBeCloseTo(Math.SQRT1_2, 12);
    expect(a[1]).toBe(1);
    expect(a[2]).toBe(0);
    expect(a[3]).toBe(1);
  });

  it('refuses layer sizes that do not partition the vector', () => {
    expect(() => layerDivergenceWeights(f32(1, 2, 3), f32(0, 0, 0), [2])).toThrow(/sum to 2/);
    expect(() => layerDivergenceWeights(f32(1, 2), f32(0, 0), [0, 2])).toThrow(/bad layer size/);
  });

  it('scales each layer by its weight', () => {
    expect([...scaleByLayer(f32(1, 2, 3, 4), [0.5, 2], [1, 3])]).toEqual([0.5, 4, 6, 8]);
  });

  it('S_ℓ·W/A_ℓ divided by W is the per-layer a-weighted mean; impossible sums are refused', () => {
    const sizes = [2, 1];
    const clients = [
      { w: 1, a: [0.5, 1], d: [2, 4, 6] },
      { w: 0.5, a: [1, 0.25], d: [-2, 0, 2] },
    ];
    const S = new Float32Array(3);
    const A = [0, 0];
    let W = 0;
    for (const c of clients) {
      W += c.w;
      const scaled = scaleByLayer(f32(...c.d), c.a, sizes);
      for (let i = 0; i < 3; i++) S[i]! += c.w * scaled[i]!;
      c.a.forEach((a, l) => (A[l]! += c.w * a));
    }
    const { sum, skippedLayers } = layerNormalizedSum(S, A, sizes, W);
    expect(skippedLayers).toBe(0);
    // Layer 0: (1·0.5·[2,4] + 0.5·1·[−2,0]) / (0.5 + 0.5) = [0, 2]; layer 1: (1·1·6 + 0.5·0.25·2) / 1.125.
    expect(sum[0]! / W).toBeCloseTo(0, 6);
    expect(sum[1]! / W).toBeCloseTo(2, 6);
    expect(sum[2]! / W).toBeCloseTo(6.25 / 1.125, 5);
    expect(() => layerNormalizedSum(S, [0.5, 2], sizes, W)).toThrow(/outside/);
    expect(() => layerNormalizedSum(S, [-0.5, 1], sizes, W)).toThrow(/outside/);
    const skipped = layerNormalizedSum(S, [MIN_LAYER_WEIGHT_SUM / 2, 1], sizes, W);
    expect(skipped.skippedLayers).toBe(1);
    expect([...skipped.sum.subarray(0, 2)]).toEqual([0, 0]);
  });
});

describe('divergence weights through the masked-vector layout', () => {
  const d = 40;
  const sizes = [10, 25, 5];
  const info = (over: Partial<SecAggRoundInfo> = {}): SecAggRoundInfo => ({
    sessionId: 'session-0001',
    threshold: 2,
    degree: 2,
    clipNorm: 1,
    bits: 24,
    weightCap: 100,
    lossMax: 20,
    divergenceLayers: sizes,
    ...over,
  });
  const rng = createRng(7);
  const global = Float32Array.from({ length: d }, () => rng.normal());
  const results = [0.2, 1.5, 3].map((scale, k) => ({
    delta: Float32Array.from({ length: d }, () => scale * rng.normal()),
    meanLoss: 4,
    steps: 1,
    numExamples: 30 + 30 * k,
  }));

  it('adds one [0,1] coordinate per layer, none under DP (uniform weights)', () => {
    expect(layoutForRound(info(), d).length).toBe(d + 1 + 1 + sizes.length);
    expect(layoutForRound(info({ uniformWeights: true }), d).length).toBe(d + 1);
    expect(layoutForRound(info({ divergenceLayers: undefined }), d).length).toBe(d + 2);
  });

  it('the decoded sum gives Σ w·a_ℓ per layer and the per-layer weighted mean of clipped, scaled deltas', () => {
    const i = info();
    const layout = layoutForRound(i, d);
    const sum = new Uint32Array(layout.length);
    const expectedS = new Float64Array(d);
    const expectedA = new Float64Array(sizes.length);
    let W = 0;
    for (const r of results) {
      const enc = encodeForSecAgg(r, i, undefined, global);
      expect(enc.clamped).toBe(0);
      for (let j = 0; j < sum.length; j++) sum[j] = (sum[j]! + enc.x[j]!) >>> 0;
      const w = r.numExamples / i.weightCap;
      W += w;
      const a = layerDivergenceWeights(global, r.delta, sizes);
      expect([...enc.layerWeights!]).toEqual([...a]);
      // Clip AFTER scaling: the scaled delta is clipped to C, so sensitivity stays C.
      const scaled = scaleByLayer(r.delta, a, sizes);
      const norm = l2Norm(scaled);
      const f = norm > i.clipNorm ? i.clipNorm / norm : 1;
      for (let j = 0; j < d; j++) expectedS[j]! += w * f * scaled[j]!;
      a.forEach((v, l) => (expectedA[l]! += w * v));
    }
    const dec = decodeMaskedSum(layout, sum, results.length, encodingParamsForRound(i));
    const L = 2 ** 24 - 1;
    for (let l = 0; l < sizes.length; l++)
      expect(Math.abs(dec.layerWeightSums![l]! - expectedA[l]!)).toBeLessThanOrEqual(results.length / L + 1e-9);
    expect(dec.weightSum).toBeCloseTo(W, 5);
    const step = (2 * i.clipNorm) / L;
    for (let j = 0; j < d; j++)
      expect(Math.abs(dec.weightedSum[j]! - expectedS[j]!)).toBeLessThanOrEqual(results.length * step + 1e-6);
    // The weights really differ between these clients, so the result is not FedAvg's.
    const a0 = layerDivergenceWeights(global, results[0]!.delta, sizes);
    const a2 = layerDivergenceWeights(global, results[2]!.delta, sizes);
    expect(Math.max(...a0.map((v, l) => v - a2[l]!))).toBeGreaterThan(0.1);
  });

  it('needs the global weights in a divergence-aware round', () => {
    expect(() => encodeForSecAgg(results[0]!, info())).toThrow(/global weights/);
  });
});

describe("round config switch 'aggregation'", () => {
  it("defaults to 'fedavg' and refuses 'divergence' without secure aggregation", () => {
    expect(RoundConfigSchema.parse({}).aggregation).toBe('fedavg');
    expect(RoundConfigSchema.parse({ aggregation: 'divergence' }).aggregation).toBe('divergence');
    const bad = RoundConfigSchema.safeParse({
      aggregation: 'divergence',
      secureAggregation: { enabled: false },
      minClients: 2,
    });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues.map((i) => i.path.join('.'))).toEqual(['aggregation']);
  });
});
