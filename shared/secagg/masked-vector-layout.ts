/**
 * The one definition of what a SecAgg+ masked vector holds, used by the client to
 * encode and by the server to decode (pure; no I/O):
 *
 *   [ Δ_0 … Δ_{d−1} | weight? | bit? | loss? | a_1 … a_L? ]
 *
 * - Δ: the clipped delta (× weight in plain secure mode), plus the client's share of
 *   the Gaussian noise under distributed DP.
 * - weight ∈ [0, 1]: min(examples, cap)/cap. Only in plain secure mode: under DP every
 *   client has weight 1 (uniform), so nothing unnoised about its data travels and the
 *   server's Σw is the survivor count it already knows.
 * - bit: adaptive clipping's "not clipped" bit, CENTRED as b − ½ ∈ {−½, ½} (as in
 *   TF Privacy; Andrew et al. 2021), so one client moves Σ(b − ½) by at most ½, the
 *   sensitivity the noise split z_Δ = (z⁻² − (2σ_b)⁻²)^−½ assumes.
 * - loss: the client's mean local loss clipped to [0, lossMax], centred as ℓ − lossMax/2,
 *   so the server sees only the sum (sensitivity lossMax/2).
 * - a_ℓ ∈ [0, 1] (× weight): divergence-aware aggregation's per-layer weights
 *   (shared/federation/divergence-weights.ts); the server sees only Σ w·a_ℓ per layer.
 *
 * Every coordinate class is quantized stochastically (unbiased) onto its own range
 * [lo, hi] with L = 2^bits − 1 levels; a sum of n words stays exact while n·L < 2^32 and
 * decodes as Σ = words·step + n·lo. Under distributed DP the ranges are widened by
 * CLAMP_SIGMAS client-noise standard deviations so that clamping (which would change the
 * mechanism) happens with probability < 1e-6 per coordinate: a value |v| ≤ C plus
 * N(0, σ²) leaves [−C − 5σ, C + 5σ] with probability P[|N(0,1)| > 5] = 5.7e-7.
 */
import { assertNoOverflow, cryptoUniformSource, type UniformSource } from './quantize';

/** Client-noise std devs added to each range under distributed DP; P[|N(0,1)| > 5] = 5.73e-7 < 1e-6. */
export const CLAMP_SIGMAS = 5;

export interface LayoutSpec {
  /** Number of delta coordinates. */
  d: number;
  /** Example-weight coordinate (plain secure mode only). */
  weight: boolean;
  /** Adaptive clipping's centred bit. */
  bit: boolean;
  /** Mean-loss coordinate. */
  loss: boolean;
  /** Per-layer divergence-weight coordinates (0 or absent: none). */
  layers?: number;
}

export interface MaskedVectorLayout extends LayoutSpec {
  length: number;
  /** Indices of the scalar coordinates, −1 when absent. */
  weightIndex: number;
  bitIndex: number;
  lossIndex: number;
  /** First per-layer weight coordinate, −1 when absent. */
  layersIndex: number;
}

export function maskedVectorLayout(spec: LayoutSpec): MaskedVectorLayout {
  if (!Number.isSafeInteger(spec.d) || spec.d < 0) throw new Error(`layout: bad d ${spec.d}`);
  let i = spec.d;
  const weightIndex = spec.weight ? i++ : -1;
  const bitIndex = spec.bit ? i++ : -1;
  const lossIndex = spec.loss ? i++ : -1;
  const layers = spec.layers ?? 0;
  if (!Number.isSafeInteger(layers) || layers < 0) throw new Error(`layout: bad layer count ${layers}`);
  const layersIndex = layers > 0 ? i : -1;
  i += layers;
  return { ...spec, length: i, weightIndex, bitIndex, lossIndex, layersIndex };
}

export interface EncodingParams {
  /** L2 clip C of the delta. */
  clipNorm: number;
  bits: number;
  /** Upper end of the loss clip range [0, lossMax]. */
  lossMax: number;
  /** Distributed DP: per-client Gaussian noise std on each class of coordinate (0 = none). */
  deltaNoiseStd?: number;
  bitNoiseStd?: number;
  lossNoiseStd?: number;
}

interface Range {
  lo: number;
  hi: number;
}

/** Quantization ranges of each coordinate class (shared by encode and decode). */
export function coordinateRanges(p: EncodingParams): { delta: Range; weight: Range; bit: Range; loss: Range } {
  const pad = (s: number | undefined) => CLAMP_SIGMAS * (s ?? 0);
  if (!(p.clipNorm > 0) || !Number.isFinite(p.clipNorm))
    throw new Error(`layout: clipNorm must be positive, got ${p.clipNorm}`);
  if (!(p.lossMax > 0) || !Number.isFinite(p.lossMax))
    throw new Error(`layout: lossMax must be positive, got ${p.lossMax}`);
  const dr = p.clipNorm + pad(p.deltaNoiseStd);
  const br = 0.5 + pad(p.bitNoiseStd);
  const lr = p.lossMax / 2 + pad(p.lossNoiseStd);
  return { delta: { lo: -dr, hi: dr }, weight: { lo: 0, hi: 1 }, bit: { lo: -br, hi: br }, loss: { lo: -lr, hi: lr } };
}

/** What a client contributes (before noise). */
export interface ClientContribution {
  /** The clipped delta (L2 ≤ C). */
  delta: Float32Array;
  /** [0, 1]; multiplies the delta. Must be 1 when the layout has no weight coordinate. */
  weight: number;
  /** 1 when the update was NOT clipped. */
  unclipped?: 0 | 1;
  meanLoss?: number;
  /** Per-layer divergence weights in [0, 1] (× weight on the wire), when the layout has them. */
  layerWeights?: ArrayLike<number>;
}

/** Gaussian noise source: fills `out` with N(0, std²) draws. */
export type NoiseSource = (out: Float64Array, std: number) => void;

export interface EncodeResult {
  x: Uint32Array;
  /** Coordinates that fell outside their range and were clamped (expected 0). */
  clamped: number;
}

const TWO32 = 4294967296;

function levels(bits: number): number {
  if (!Number.isInteger(bits) || bits < 1 || bits > 32)
    throw new Error(`layout: bits must be an integer in [1, 32], got ${bits}`);
  return 2 ** bits - 1;
}

/** Clips a loss into [0, lossMax] (NaN → refuse: it would poison the sum). */
export function clipLoss(loss: number, lossMax: number): number {
  if (Number.isNaN(loss)) throw new Error('layout: mean loss is NaN');
  return loss < 0 ? 0 : loss > lossMax ? lossMax : loss;
}

/**
 * Encodes one client's contribution. `noise` is required when any noise std is set.
 * Returns the words and how many coordinates were clamped.
 */
export function encodeMaskedVector(
  layout: MaskedVectorLayout,
  c: ClientContribution,
  p: EncodingParams,
  rng: UniformSource = cryptoUniformSource(),
  noise?: NoiseSource,
): EncodeResult {
  if (c.delta.length !== layout.d)
    throw new Error(`layout: delta has ${c.delta.length} values, layout expects ${layout.d}`);
  if (!(c.weight >= 0 && c.weight <= 1)) throw new Error(`layout: weight must be in [0, 1], got ${c.weight}`);
  if (!layout.weight && c.weight !== 1)
    throw new Error('layout: without a weight coordinate (DP: uniform weights) the weight must be 1');
  if (layout.bit && c.unclipped === undefined)
    throw new Error('layout: the layout has a bit coordinate but no bit was given');
  if (layout.loss && c.meanLoss === undefined)
    throw new Error('layout: the layout has a loss coordinate but no loss was given');
  const nLayers = layout.layers ?? 0;
  if (nLayers > 0 && c.layerWeights?.length !== nLayers)
    throw new Error(`layout: the layout has ${nLayers} layer weights, ${c.layerWeights?.length ?? 0} were given`);
  const L = levels(p.bits);
  const ranges = coordinateRanges(p);
  const values = new Float64Array(layout.length);
  for (let i = 0; i < layout.d; i++) {
    const v = c.weight * c.delta[i]!;
    if (v !== v) throw new Error(`layout: delta[${i}] is NaN`);
    values[i] = v;
  }
  if (layout.weight) values[layout.weightIndex] = c.weight;
  if (layout.bit) values[layout.bitIndex] = c.unclipped! - 0.5;
  if (layout.loss) values[layout.lossIndex] = clipLoss(c.meanLoss!, p.lossMax) - p.lossMax / 2;
  for (let l = 0; l < nLayers; l++) {
    const a = c.layerWeights![l]!;
    if (!(a >= 0 && a <= 1)) throw new Error(`layout: layer weight ${l} must be in [0, 1], got ${a}`);
    values[layout.layersIndex + l] = c.weight * a;
  }
  const addNoise = (from: number, to: number, std: number | undefined) => {
    if (!std || to <= from) return;
    if (!noise) throw new Error('layout: a noise std is set but no noise source was given');
    const n = new Float64Array(to - from);
    noise(n, std);
    for (let i = from; i < to; i++) values[i] = values[i]! + n[i - from]!;
  };
  addNoise(0, layout.d, p.deltaNoiseStd);
  if (layout.bit) addNoise(layout.bitIndex, layout.bitIndex + 1, p.bitNoiseStd);
  if (layout.loss) addNoise(layout.lossIndex, layout.lossIndex + 1, p.lossNoiseStd);
  const rangeOf = (i: number): Range =>
    i < layout.d
      ? ranges.delta
      : i === layout.weightIndex || (nLayers > 0 && i >= layout.layersIndex)
        ? ranges.weight
        : i === layout.bitIndex
          ? ranges.bit
          : ranges.loss;
  const r = rng(layout.length);
  if (r.length < layout.length) throw new Error('layout: uniform source returned too few words');
  const x = new Uint32Array(layout.length);
  let clamped = 0;
  for (let i = 0; i < layout.length; i++) {
    const { lo, hi } = i < layout.d ? ranges.delta : rangeOf(i);
    const step = (hi - lo) / L;
    let u = (values[i]! - lo) / step;
    if (u < 0) {
      u = 0;
      clamped++;
    } else if (u > L) {
      u = L;
      clamped++;
    }
    const f = Math.floor(u);
    // Stochastic rounding: up with probability frac(u), so E[q] = u.
    const q = r[i]! < (u - f) * TWO32 ? f + 1 : f;
    x[i] = q > L ? L : q;
  }
  return { x, clamped };
}

export interface DecodedSum {
  /** Σ wᵢ·Δᵢ (+ noise). */
  weightedSum: Float32Array;
  /** Σ wᵢ; the survivor count n under uniform weights (no weight coordinate). */
  weightSum: number;
  /** Σ (bᵢ − ½) (+ noise), centred; undefined without a bit coordinate. */
  centredBitSum?: number;
  /** Σ (ℓᵢ − lossMax/2) (+ noise), centred; undefined without a loss coordinate. */
  centredLossSum?: number;
  /** Σ wᵢ·a_ℓ,ᵢ per layer; undefined without layer coordinates. */
  layerWeightSums?: Float64Array;
}

/** Decodes the (unmasked, modular) sum of n survivors' vectors. */
export function decodeMaskedSum(
  layout: MaskedVectorLayout,
  sum: Uint32Array,
  n: number,
  p: EncodingParams,
): DecodedSum {
  if (sum.length !== layout.length)
    throw new Error(`layout: sum has ${sum.length} words, layout expects ${layout.length}`);
  assertNoOverflow(n, p.bits);
  const L = levels(p.bits);
  const ranges = coordinateRanges(p);
  const dec = (w: number, { lo, hi }: Range) => w * ((hi - lo) / L) + n * lo;
  const weightedSum = new Float32Array(layout.d);
  const dstep = (ranges.delta.hi - ranges.delta.lo) / L;
  const doff = n * ranges.delta.lo;
  for (let i = 0; i < layout.d; i++) weightedSum[i] = sum[i]! * dstep + doff;
  const nLayers = layout.layers ?? 0;
  return {
    weightedSum,
    weightSum: layout.weight ? dec(sum[layout.weightIndex]!, ranges.weight) : n,
    ...(layout.bit ? { centredBitSum: dec(sum[layout.bitIndex]!, ranges.bit) } : {}),
    ...(layout.loss ? { centredLossSum: dec(sum[layout.lossIndex]!, ranges.loss) } : {}),
    ...(nLayers > 0
      ? {
          layerWeightSums: Float64Array.from({ length: nLayers }, (_, l) =>
            dec(sum[layout.layersIndex + l]!, ranges.weight),
          ),
        }
      : {}),
  };
}

/** Largest change one client can make to each scalar sum (add/remove adjacency). */
export function scalarSensitivities(p: Pick<EncodingParams, 'lossMax'>): { bit: number; loss: number } {
  return { bit: 0.5, loss: p.lossMax / 2 };
}

/** Restores a mean from a centred sum Σ (vᵢ − centre) (+ noise): sum/denominator + centre. */
export function meanFromCentred(centredSum: number, denominator: number, centre: number): number {
  if (!(denominator > 0)) throw new Error(`layout: denominator must be positive, got ${denominator}`);
  return centredSum / denominator + centre;
}
