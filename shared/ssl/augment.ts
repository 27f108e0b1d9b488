/**
 * Batched SimCLR augmentations as plain tfjs ops (cpu, wasm, webgpu).
 *
 * Order per view: one projective warp (random resized crop + rotation + translation
 * + optional horizontal flip) → colour jitter → grayscale → Gaussian blur → noise → clip.
 * Every image draws its own parameters. Scalar parameters come from a small seeded
 * JS PRNG (cheap: a few numbers per image); the per-pixel noise field comes from
 * tf.randomNormal with a seed taken from the same stream, so a seed reproduces a view.
 * Nothing here is differentiable on purpose: augmentation sits outside the tape.
 */
import * as tf from '@tensorflow/tfjs';
import { type AugmentationPolicy } from './augment-policy';
import { createRng } from '../data/rng';

export * from './augment-policy';
export type Rng = () => number;

/** Seeded uniforms for augmentation parameters (the project's small non-crypto PRNG). */
export function makeRng(seed: number): Rng {
  const r = createRng(seed);
  return () => r.uniform();
}

const uniform = (rng: Rng, lo: number, hi: number): number => lo + (hi - lo) * rng();

/**
 * Per-image 8-parameter projective matrices (tf.image.transform convention: they map
 * OUTPUT pixel (x, y) to INPUT pixel coordinates). Built as
 *   in = R(θ)·diag(f·sx, sy)·(out − c) + c + d
 * with c the image centre, (sx, sy) the crop size relative to the image, f = ±1 for
 * the flip and d = crop offset + translation. Exactly the identity when nothing is drawn.
 */
export function sampleTransforms(
  n: number,
  height: number,
  width: number,
  policy: AugmentationPolicy,
  rng: Rng,
): Float32Array {
  const out = new Float32Array(n * 8);
  const cx = (width - 1) / 2;
  const cy = (height - 1) / 2;
  const { crop, affine, flip } = policy;
  for (let i = 0; i < n; i++) {
    let sx = 1;
    let sy = 1;
    let dx = 0;
    let dy = 0;
    if (crop.enabled) {
      const area = uniform(rng, crop.scale[0], crop.scale[1]);
      const logRatio = uniform(rng, Math.log(crop.ratio[0]), Math.log(crop.ratio[1]));
      const ratio = Math.exp(logRatio);
      // torchvision retries when the box overflows; clamping keeps this branch-free
      // (slightly biases extreme ratios at large scales towards full-width crops).
      sx = Math.min(1, Math.sqrt(area * ratio));
      sy = Math.min(1, Math.sqrt(area / ratio));
      // Centre offset that keeps the crop inside the image.
      dx = (uniform(rng, -1, 1) * ((1 - sx) * width)) / 2;
      dy = (uniform(rng, -1, 1) * ((1 - sy) * height)) / 2;
    }
    let theta = 0;
    if (affine.enabled) {
      theta = (uniform(rng, -1, 1) * affine.maxRotationDeg * Math.PI) / 180;
      dx += uniform(rng, -1, 1) * affine.maxTranslate * width;
      dy += uniform(rng, -1, 1) * affine.maxTranslate * height;
    }
    const f = flip.enabled && rng() < flip.p ? -1 : 1;
    const cos = Math.cos(theta);
    const sin = Math.sin(theta);
    const a00 = cos * sx * f;
    const a01 = -sin * sy;
    const a10 = sin * sx * f;
    const a11 = cos * sy;
    const o = i * 8;
    out[o] = a00;
    out[o + 1] = a01;
    out[o + 2] = cx + dx - a00 * cx - a01 * cy;
    out[o + 3] = a10;
    out[o + 4] = a11;
    out[o + 5] = cy + dy - a10 * cx - a11 * cy;
    // out[o + 6], out[o + 7] stay 0: affine, no perspective.
  }
  return out;
}

/** Normalised 1-D Gaussian taps of length k (odd). */
export function gaussianKernel1d(sigma: number, k: number): Float32Array {
  const r = (k - 1) / 2;
  const taps = new Float32Array(k);
  let sum = 0;
  for (let i = 0; i < k; i++) {
    const d = i - r;
    const v = Math.exp(-(d * d) / (2 * sigma * sigma));
    taps[i] = v;
    sum += v;
  }
  for (let i = 0; i < k; i++) taps[i] = (taps[i] ?? 0) / sum;
  return taps;
}

// ---------------------------------------------------------------------------
// Tensor stages (each called inside the tidy of augmentBatch)
// ---------------------------------------------------------------------------

/**
 * tf.image.transform with one matrix per image. The cpu kernel in tfjs 4.22 returns
 * from inside its batch loop, so only image 0 is warped and the rest come back as the
 * fill value; on cpu we therefore warp image by image. wasm and webgpu handle batches.
 */
function warp(x: tf.Tensor4D, mats: Float32Array): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  if (tf.getBackend() !== 'cpu' || n === 1) {
    return tf.image.transform(x, tf.tensor2d(mats, [n, 8]), 'bilinear', 'constant', 0);
  }
  const parts: tf.Tensor4D[] = [];
  for (let i = 0; i < n; i++) {
    const xi = tf.slice(x, [i, 0, 0, 0], [1, h, w, c]);
    const m = tf.tensor2d(mats.subarray(i * 8, i * 8 + 8), [1, 8]);
    parts.push(tf.image.transform(xi, m, 'bilinear', 'constant', 0));
  }
  return tf.concat(parts, 0);
}

const LUMA = [0.299, 0.587, 0.114] as const;

/** ITU-R 601 luma, [N,H,W,1]; for non-RGB inputs the channel mean. */
function toGray(x: tf.Tensor4D): tf.Tensor4D {
  const c = x.shape[3];
  if (c === 3) return tf.sum(tf.mul(x, tf.tensor1d(LUMA as unknown as number[])), -1, true);
  if (c === 1) return x;
  return tf.mean(x, -1, true);
}

/** [N,1,1,1] column of per-image factors. */
const perImage = (v: Float32Array): tf.Tensor4D => tf.tensor4d(v, [v.length, 1, 1, 1]);

function colorJitter(x: tf.Tensor4D, policy: AugmentationPolicy, rng: Rng): tf.Tensor4D {
  const { brightness, contrast, saturation, p } = policy.colorJitter;
  const n = x.shape[0];
  const bf = new Float32Array(n).fill(1);
  const cf = new Float32Array(n).fill(1);
  const sf = new Float32Array(n).fill(1);
  // Factor 1 leaves an image bit-exact, so skipped images need no separate mask.
  for (let i = 0; i < n; i++) {
    if (rng() >= p) continue;
    bf[i] = uniform(rng, Math.max(0, 1 - brightness), 1 + brightness);
    cf[i] = uniform(rng, Math.max(0, 1 - contrast), 1 + contrast);
    sf[i] = uniform(rng, Math.max(0, 1 - saturation), 1 + saturation);
  }
  // Fixed order brightness → contrast → saturation (torchvision permutes; we don't),
  // clipping after each step as torchvision's blends do.
  let y = tf.clipByValue(tf.mul<tf.Tensor4D>(x, perImage(bf)), 0, 1);
  const c = perImage(cf);
  const mean = tf.mean(toGray(y), [1, 2, 3], true);
  y = tf.clipByValue(tf.add<tf.Tensor4D>(tf.mul(y, c), tf.mul(mean, tf.sub(1, c))), 0, 1);
  if (x.shape[3] === 3) {
    const s = perImage(sf);
    y = tf.clipByValue(tf.add<tf.Tensor4D>(tf.mul(y, s), tf.mul(toGray(y), tf.sub(1, s))), 0, 1);
  }
  return y;
}

function randomGrayscale(x: tf.Tensor4D, policy: AugmentationPolicy, rng: Rng): tf.Tensor4D {
  const n = x.shape[0];
  const m = new Float32Array(n);
  for (let i = 0; i < n; i++) m[i] = rng() < policy.grayscale.p ? 1 : 0;
  const mask = perImage(m);
  return tf.add(tf.mul(x, tf.sub(1, mask)), tf.mul(toGray(x), mask));
}

/**
 * Separable Gaussian blur with a per-image sigma. The batch is folded into the
 * channel axis ([N,H,W,C] → [1,H,W,N·C]) so one depthwise conv per axis applies every
 * image's own kernel; images that skip the blur get a delta kernel (exact copy).
 * Reflect padding avoids darkening the borders.
 */
function gaussianBlur(x: tf.Tensor4D, policy: AugmentationPolicy, rng: Rng): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const { sigma, p } = policy.blur;
  // Reflect padding needs pad < side; shrink the kernel for tiny images.
  const r = Math.min((policy.blur.kernelSize - 1) / 2, h - 1, w - 1);
  if (r < 1) return x;
  const k = 2 * r + 1;
  const taps = new Float32Array(k * n * c); // layout [k, N·C]
  for (let i = 0; i < n; i++) {
    const kern = rng() < p ? gaussianKernel1d(uniform(rng, sigma[0], sigma[1]), k) : null;
    for (let t = 0; t < k; t++) {
      const v = kern ? (kern[t] ?? 0) : t === r ? 1 : 0;
      for (let ch = 0; ch < c; ch++) taps[t * n * c + i * c + ch] = v;
    }
  }
  const folded = tf.reshape<tf.Rank.R4>(tf.transpose(x, [1, 2, 0, 3]), [1, h, w, n * c]);
  const padded = tf.mirrorPad(
    folded,
    [
      [0, 0],
      [r, r],
      [r, r],
      [0, 0],
    ],
    'reflect',
  );
  const kx = tf.tensor4d(taps, [1, k, n * c, 1]);
  const ky = tf.tensor4d(taps, [k, 1, n * c, 1]);
  const blurred = tf.depthwiseConv2d(tf.depthwiseConv2d(padded, kx, 1, 'valid'), ky, 1, 'valid');
  return tf.transpose(tf.reshape(blurred, [h, w, n, c]), [2, 0, 1, 3]);
}

function gaussianNoise(x: tf.Tensor4D, policy: AugmentationPolicy, rng: Rng): tf.Tensor4D {
  const n = x.shape[0];
  const m = new Float32Array(n);
  for (let i = 0; i < n; i++) m[i] = rng() < policy.noise.p ? 1 : 0;
  const seed = Math.floor(rng() * 2 ** 31);
  const noise = tf.randomNormal(x.shape, 0, policy.noise.std, 'float32', seed);
  return tf.add(x, tf.mul(noise, perImage(m)));
}

// ---------------------------------------------------------------------------
// Public entry points
// ---------------------------------------------------------------------------

export interface AugmentOptions {
  /** Seeds a private PRNG, making the result reproducible. Ignored when `rng` is given. */
  seed?: number;
  /** Uniform [0,1) source for all parameters; defaults to Math.random. */
  rng?: Rng;
}

function resolveRng(opts: AugmentOptions): Rng {
  if (opts.rng) return opts.rng;
  if (opts.seed !== undefined) return makeRng(opts.seed);
  return Math.random;
}

/**
 * One augmented view of a NHWC float32 batch in [0,1]. Same shape out, clipped to
 * [0,1], every image with its own random parameters. The result is a new tensor the
 * caller owns; intermediates are released.
 */
export function augmentBatch(x: tf.Tensor4D, policy: AugmentationPolicy, opts: AugmentOptions = {}): tf.Tensor4D {
  if (x.rank !== 4) throw new Error(`augmentBatch: expected NHWC rank-4 input, got rank ${x.rank}`);
  if (x.dtype !== 'float32') throw new Error(`augmentBatch: expected float32, got ${x.dtype}`);
  const rng = resolveRng(opts);
  const [n, h, w, c] = x.shape;
  return tf.tidy(() => {
    let y: tf.Tensor4D = x;
    if (policy.crop.enabled || policy.affine.enabled || policy.flip.enabled) {
      y = warp(y, sampleTransforms(n, h, w, policy, rng));
    }
    if (policy.colorJitter.enabled) y = colorJitter(y, policy, rng);
    if (policy.grayscale.enabled && c === 3) y = randomGrayscale(y, policy, rng);
    if (policy.blur.enabled) y = gaussianBlur(y, policy, rng);
    if (policy.noise.enabled && policy.noise.std > 0) y = gaussianNoise(y, policy, rng);
    return tf.clipByValue(y, 0, 1);
  });
}

/** Two independent views of the same batch (the SimCLR positive pair). */
export function twoViews(
  x: tf.Tensor4D,
  policy: AugmentationPolicy,
  opts: AugmentOptions = {},
): [tf.Tensor4D, tf.Tensor4D] {
  // One stream for both views so a seed still yields two different views.
  const rng = resolveRng(opts);
  const a = augmentBatch(x, policy, { rng });
  const b = augmentBatch(x, policy, { rng });
  return [a, b];
}
