import { describe, expect, it } from 'vitest';
import { createRng } from '../data/rng';
import { GaussianStream } from '../privacy/gaussian';
import {
  CLAMP_SIGMAS,
  coordinateRanges,
  decodeMaskedSum,
  encodeMaskedVector,
  maskedVectorLayout,
  scalarSensitivities,
  type EncodingParams,
  type LayoutSpec,
} from './masked-vector-layout';
import { seededUniformSource } from './quantize';

const seed = (b: number) => new Uint8Array(32).fill(b);

/** Sums client vectors modulo 2^32, as the unmasked SecAgg sum is. */
function modSum(xs: Uint32Array[]): Uint32Array {
  const out = new Uint32Array(xs[0]!.length);
  for (const x of xs) for (let i = 0; i < x.length; i++) out[i] = out[i]! + x[i]!;
  return out;
}

describe('masked-vector layout', () => {
  it('places weight, bit and loss after the delta, in that order, only when asked', () => {
    expect(maskedVectorLayout({ d: 5, weight: true, bit: true, loss: true })).toMatchObject({
      length: 8,
      weightIndex: 5,
      bitIndex: 6,
      lossIndex: 7,
    });
    expect(maskedVectorLayout({ d: 5, weight: false, bit: true, loss: false })).toMatchObject({
      length: 6,
      weightIndex: -1,
      bitIndex: 5,
      lossIndex: -1,
    });
    expect(maskedVectorLayout({ d: 5, weight: false, bit: false, loss: false }).length).toBe(5);
  });

  const specs: LayoutSpec[] = [
    { d: 40, weight: true, bit: true, loss: true },
    { d: 40, weight: false, bit: true, loss: true },
    { d: 40, weight: true, bit: false, loss: false },
    { d: 40, weight: false, bit: false, loss: true },
  ];
  for (const spec of specs) {
    it(`encode and decode are a pair: Σ of ${JSON.stringify(spec)} decodes within the quantization bound`, () => {
      const layout = maskedVectorLayout(spec);
      const p: EncodingParams = { clipNorm: 2, bits: 20, lossMax: 10 };
      const rng = createRng(7);
      const n = 9;
      const xs: Uint32Array[] = [];
      const want = { sum: new Float64Array(spec.d), w: 0, bit: 0, loss: 0 };
      for (let c = 0; c < n; c++) {
        const delta = new Float32Array(spec.d);
        for (let i = 0; i < spec.d; i++) delta[i] = 0.3 * rng.normal();
        const weight = spec.weight ? rng.uniform() : 1;
        const unclipped = (c % 3 === 0 ? 0 : 1) as 0 | 1;
        // Losses outside [0, lossMax] are clipped before they are summed.
        const meanLoss = c === 0 ? -3 : c === 1 ? 25 : 10 * rng.uniform();
        xs.push(
          encodeMaskedVector(layout, { delta, weight, unclipped, meanLoss }, p, seededUniformSource(seed(c + 1))).x,
        );
        for (let i = 0; i < spec.d; i++) want.sum[i]! += weight * delta[i]!;
        want.w += weight;
        want.bit += unclipped - 0.5;
        want.loss += Math.min(10, Math.max(0, meanLoss)) - 5;
      }
      const dec = decodeMaskedSum(layout, modSum(xs), n, p);
      const r = coordinateRanges(p);
      const step = (r.delta.hi - r.delta.lo) / (2 ** 20 - 1);
      for (let i = 0; i < spec.d; i++)
        expect(Math.abs(dec.weightedSum[i]! - want.sum[i]!)).toBeLessThan(n * step + 1e-5);
      if (spec.weight) expect(Math.abs(dec.weightSum - want.w)).toBeLessThan(n / (2 ** 20 - 1));
      else expect(dec.weightSum).toBe(n);
      if (spec.bit) expect(Math.abs(dec.centredBitSum! - want.bit)).toBeLessThan(n / (2 ** 20 - 1));
      else expect(dec.centredBitSum).toBeUndefined();
      if (spec.loss) expect(Math.abs(dec.centredLossSum! - want.loss)).toBeLessThan((n * 10) / (2 ** 20 - 1));
      else expect(dec.centredLossSum).toBeUndefined();
    });
  }

  it('the bit is centred: one client moves the decoded bit sum by exactly ±½ (sensitivity ½), the loss by at most lossMax/2', () => {
    const layout = maskedVectorLayout({ d: 3, weight: false, bit: true, loss: true });
    const p: EncodingParams = { clipNorm: 1, bits: 24, lossMax: 8 };
    const one = (unclipped: 0 | 1, meanLoss: number) =>
      decodeMaskedSum(
        layout,
        encodeMaskedVector(
          layout,
          { delta: new Float32Array(3), weight: 1, unclipped, meanLoss },
          p,
          seededUniformSource(seed(9)),
        ).x,
        1,
        p,
      );
    const L = 2 ** 24 - 1;
    expect(one(1, 0).centredBitSum).toBeCloseTo(0.5, 6);
    expect(one(0, 0).centredBitSum).toBeCloseTo(-0.5, 6);
    expect(Math.abs(one(0, 0).centredLossSum! + 4)).toBeLessThan(8 / L);
    expect(Math.abs(one(0, 100).centredLossSum! - 4)).toBeLessThan(8 / L);
    expect(scalarSensitivities(p)).toEqual({ bit: 0.5, loss: 4 });
  });

  it('refuses a weight other than 1 when the layout has no weight coordinate (DP: uniform weights)', () => {
    const layout = maskedVectorLayout({ d: 2, weight: false, bit: false, loss: false });
    expect(() =>
      encodeMaskedVector(layout, { delta: new Float32Array(2), weight: 0.1 }, { clipNorm: 1, bits: 16, lossMax: 1 }),
    ).toThrow(/uniform weights/);
  });

  it('with client noise, ranges widen by 5σ so that clamping stays below 1e-6 even at |v| = C', () => {
    const C = 1;
    const sigma = (2 * C) / Math.sqrt(10); // z = 2 spread over m = 10 clients
    const p: EncodingParams = { clipNorm: C, bits: 16, lossMax: 1, deltaNoiseStd: sigma };
    expect(coordinateRanges(p).delta.hi).toBeCloseTo(C + CLAMP_SIGMAS * sigma, 12);
    const d = 200_000;
    const layout = maskedVectorLayout({ d, weight: false, bit: false, loss: false });
    // Worst case for clamping: every coordinate sits at the edge of the clip range.
    const delta = new Float32Array(d).fill(C);
    const g = new GaussianStream(seed(3));
    const { clamped } = encodeMaskedVector(layout, { delta, weight: 1 }, p, seededUniformSource(seed(4)), (out, std) =>
      g.fill(out, std),
    );
    // P[N(0,1) > 5] = 2.9e-7 per coordinate: 0.06 expected clamps here.
    expect(clamped).toBeLessThanOrEqual(2);
  });
});
