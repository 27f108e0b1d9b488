import * as tf from '@tensorflow/tfjs';
import { initWasmBackendForNode } from '../tfjs/wasm-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AugmentationPolicySchema,
  augmentBatch,
  defaultPolicy,
  gaussianKernel1d,
  parsePolicy,
  sampleTransforms,
  twoViews,
  type AugmentationPolicy,
  type AugmentationPolicyInput,
} from './augment';

/** Structured test images: a bright off-centre square plus a gradient, per image shifted. */
function makeBatch(n: number, h: number, w: number, c: number, identical = false): tf.Tensor4D {
  const v = new Float32Array(n * h * w * c);
  for (let i = 0; i < n; i++) {
    const shift = identical ? 0 : i % 5;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const inSquare = y >= h / 4 + shift && y < h / 2 + shift && x >= w / 5 && x < (2 * w) / 3;
        for (let ch = 0; ch < c; ch++) {
          const base = inSquare ? 0.9 : (0.4 * x) / w;
          v[((i * h + y) * w + x) * c + ch] = Math.min(1, base * (1 - 0.2 * ch) + 0.05 * ch);
        }
      }
    }
  }
  return tf.tensor4d(v, [n, h, w, c]);
}

/** All stages off, then the given overrides. */
function only(overrides: AugmentationPolicyInput): AugmentationPolicy {
  const off = {
    crop: { enabled: false },
    affine: { enabled: false },
    flip: { enabled: false },
    colorJitter: { enabled: false },
    grayscale: { enabled: false },
    blur: { enabled: false },
    noise: { enabled: false },
  };
  return parsePolicy({ ...off, ...overrides });
}

const maxAbsDiff = (a: tf.Tensor, b: tf.Tensor): number =>
  tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] ?? NaN);
const meanAbsDiff = (a: tf.Tensor, b: tf.Tensor): number =>
  tf.tidy(() => tf.mean(tf.abs(tf.sub(a, b))).dataSync()[0] ?? NaN);

function expectInUnitRange(t: tf.Tensor): void {
  const v = t.dataSync();
  let lo = Infinity;
  let hi = -Infinity;
  for (const x of v) {
    expect(Number.isFinite(x)).toBe(true);
    lo = Math.min(lo, x);
    hi = Math.max(hi, x);
  }
  expect(lo).toBeGreaterThanOrEqual(0);
  expect(hi).toBeLessThanOrEqual(1);
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

describe('policy', () => {
  it('schema defaults equal defaultPolicy(1); 3 channels add colour ops', () => {
    expect(parsePolicy({})).toEqual(defaultPolicy(1));
    const g = defaultPolicy(1);
    expect([g.crop.enabled, g.affine.enabled, g.noise.enabled, g.blur.enabled]).toEqual([true, true, true, true]);
    expect([g.colorJitter.enabled, g.grayscale.enabled, g.flip.enabled]).toEqual([false, false, false]);
    const rgb = defaultPolicy(3);
    expect(rgb.colorJitter.enabled).toBe(true);
    expect(rgb.grayscale.enabled).toBe(true);
    expect(rgb.crop).toEqual(g.crop);
    expect(() => defaultPolicy(0)).toThrow(/channels/);
  });

  it('fills nested defaults for partial input', () => {
    const p = parsePolicy({ noise: { std: 0.2 } });
    expect(p.noise).toEqual({ enabled: true, std: 0.2, p: 0.5 });
    expect(p.crop.scale).toEqual([0.5, 1]);
  });

  it.each([
    ['negative noise std', { noise: { std: -0.1 } }, /noise\.std/],
    ['crop scale above 1', { crop: { scale: [0.5, 1.5] } }, /crop\.scale/],
    ['crop scale min > max', { crop: { scale: [0.9, 0.5] } }, /min <= max/],
    ['zero crop scale', { crop: { scale: [0, 1] } }, /crop\.scale/],
    ['probability above 1', { blur: { p: 1.5 } }, /blur\.p/],
    ['even kernel', { blur: { kernelSize: 4 } }, /odd/],
    ['unknown key (typo)', { nosie: {} }, /nosie/],
    ['wrong type', { affine: { maxRotationDeg: '15' } }, /affine\.maxRotationDeg/],
    ['not an object', 42, /Invalid augmentation policy/],
  ])('rejects %s', (_name, input, msg) => {
    expect(() => parsePolicy(input)).toThrow(msg);
    expect(AugmentationPolicySchema.safeParse(input).success).toBe(false);
  });
});

describe('pure helpers', () => {
  it('gaussianKernel1d is normalised, symmetric and peaked', () => {
    const k = gaussianKernel1d(1, 5);
    expect(k.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    expect(k[0]).toBeCloseTo(k[4] ?? NaN, 7);
    expect(k[2]).toBeGreaterThan(k[1] ?? Infinity);
  });

  it('sampleTransforms builds identity, scale and flip matrices', () => {
    const rng = () => 0.5; // centre of every range: no offsets, no rotation
    const id = sampleTransforms(1, 28, 28, only({}), rng);
    expect(Array.from(id, (v) => v + 0)).toEqual([1, 0, 0, 0, 1, 0, 0, 0]);
    const half = sampleTransforms(1, 28, 28, only({ crop: { scale: [0.25, 0.25], ratio: [1, 1] } }), rng);
    // Output (x,y) samples input 0.5·(x − 13.5) + 13.5: a centred half-size crop.
    expect(Array.from(half, (v) => v + 0)).toEqual([0.5, 0, 6.75, 0, 0.5, 6.75, 0, 0]);
    const flipped = sampleTransforms(1, 10, 20, only({ flip: { enabled: true, p: 1 } }), () => 0.3);
    expect(Array.from(flipped, (v) => v + 0)).toEqual([-1, 0, 19, 0, 1, 0, 0, 0]);
  });
});

describe('augmentBatch (cpu)', () => {
  it.each([
    [4, 28, 28, 1],
    [3, 32, 32, 3],
    [2, 16, 20, 1],
    [1, 28, 28, 3],
  ] as const)('keeps shape [%i,%i,%i,%i], values finite in [0,1]', (n, h, w, c) => {
    const x = makeBatch(n, h, w, c);
    const y = augmentBatch(x, defaultPolicy(c), { seed: 1 });
    expect(y.shape).toEqual([n, h, w, c]);
    expect(y.dtype).toBe('float32');
    expectInUnitRange(y);
    tf.dispose([x, y]);
  });

  it('stays in [0,1] under strong noise and jitter', () => {
    const x = makeBatch(8, 16, 16, 3);
    const p = parsePolicy({
      ...defaultPolicy(3),
      noise: { enabled: true, std: 2, p: 1 },
      colorJitter: { enabled: true, brightness: 3, contrast: 3, saturation: 3, p: 1 },
    });
    const y = augmentBatch(x, p, { seed: 3 });
    expectInUnitRange(y);
    tf.dispose([x, y]);
  });

  it('two views of the same batch differ', () => {
    for (const c of [1, 3]) {
      const x = makeBatch(16, 28, 28, c);
      const [a, b] = twoViews(x, defaultPolicy(c), { seed: 7 });
      expect(meanAbsDiff(a, b)).toBeGreaterThan(0.02);
      expect(meanAbsDiff(a, x)).toBeGreaterThan(0.02);
      tf.dispose([x, a, b]);
    }
  });

  it('each image in a batch gets its own parameters', () => {
    for (const c of [1, 3]) {
      const n = 8;
      const x = makeBatch(n, 28, 28, c, true); // n identical images
      const y = augmentBatch(x, defaultPolicy(c), { seed: 11 });
      const views = tf.unstack(y);
      for (let i = 0; i < n; i++) {
        // Non-blank: the cpu warp workaround must not leave images 1..n-1 at the fill value.
        expect(tf.tidy(() => tf.mean(views[i]!).dataSync()[0])).toBeGreaterThan(0.05);
        for (let j = i + 1; j < n; j++) expect(meanAbsDiff(views[i]!, views[j]!)).toBeGreaterThan(0.005);
      }
      tf.dispose([x, y, ...views]);
    }
  });

  it('geometry-only views of identical images differ too (per-image warp)', () => {
    const x = makeBatch(6, 28, 28, 1, true);
    const y = augmentBatch(x, only({ crop: {}, affine: {} }), { seed: 5 });
    const views = tf.unstack(y);
    for (let i = 1; i < views.length; i++) expect(meanAbsDiff(views[0]!, views[i]!)).toBeGreaterThan(0.005);
    tf.dispose([x, y, ...views]);
  });

  it('everything disabled is the identity', () => {
    for (const c of [1, 3]) {
      const x = makeBatch(5, 28, 28, c);
      const y = augmentBatch(x, only({}), { seed: 2 });
      expect(y).not.toBe(x); // caller may dispose the result without losing the input
      expect(maxAbsDiff(x, y)).toBeLessThan(1e-6);
      tf.dispose([x, y]);
    }
  });

  it('0° rotation, zero translation and crop scale [1,1] is the identity', () => {
    const x = makeBatch(5, 28, 28, 1);
    const policies = [
      only({ affine: { enabled: true, maxRotationDeg: 0, maxTranslate: 0 } }),
      only({ crop: { enabled: true, scale: [1, 1], ratio: [1, 1] } }),
      only({
        crop: { enabled: true, scale: [1, 1], ratio: [1, 1] },
        affine: { enabled: true, maxRotationDeg: 0, maxTranslate: 0 },
      }),
      only({ blur: { enabled: true, p: 0 }, noise: { enabled: true, p: 0 } }),
    ];
    for (const p of policies) {
      const y = augmentBatch(x, p, { seed: 9 });
      expect(maxAbsDiff(x, y)).toBeLessThan(1e-6);
      y.dispose();
    }
    x.dispose();
  });

  it('flip with p=1 mirrors every image exactly', () => {
    const x = makeBatch(4, 12, 17, 3);
    const y = augmentBatch(x, only({ flip: { enabled: true, p: 1 } }), { seed: 1 });
    const ref = tf.reverse(x, 2);
    expect(maxAbsDiff(y, ref)).toBeLessThan(1e-6);
    tf.dispose([x, y, ref]);
  });

  it('rotation moves content and leaves fill 0 in the corners', () => {
    const x = tf.ones([2, 20, 20, 1]) as tf.Tensor4D;
    const y = augmentBatch(x, only({ affine: { maxRotationDeg: 45, maxTranslate: 0 } }), { seed: 4 });
    const v = y.dataSync();
    // Corner pixel (0,0) of each image falls outside the input for rotations of a few degrees.
    const corners = [v[0], v[400]];
    expect(corners.some((c) => (c ?? 1) < 0.5)).toBe(true);
    expect(v[210]).toBeCloseTo(1, 5); // centre survives any rotation
    tf.dispose([x, y]);
  });

  it('blur keeps a constant image constant and smooths a checkerboard', () => {
    const flat = tf.fill([3, 10, 10, 2], 0.5) as tf.Tensor4D;
    const blurOnly = only({ blur: { enabled: true, p: 1, sigma: [1, 1.2] } });
    const yf = augmentBatch(flat, blurOnly, { seed: 1 });
    expect(maxAbsDiff(yf, flat)).toBeLessThan(1e-5);
    const cb = tf.tidy(() => {
      const r = tf.range(0, 10).reshape([10, 1]);
      const c = tf.range(0, 10).reshape([1, 10]);
      return tf.mod(tf.add(r, c), 2).reshape([1, 10, 10, 1]).tile([3, 1, 1, 1]) as tf.Tensor4D;
    });
    const yc = augmentBatch(cb, blurOnly, { seed: 1 });
    const spread = (t: tf.Tensor) => tf.tidy(() => tf.moments(t).variance.dataSync()[0] ?? NaN);
    expect(spread(yc)).toBeLessThan(spread(cb) * 0.2);
    tf.dispose([flat, yf, cb, yc]);
  });

  it('noise with p=1 has the configured std; p=0 adds none', () => {
    const x = tf.fill([4, 28, 28, 1], 0.5) as tf.Tensor4D;
    const y = augmentBatch(x, only({ noise: { enabled: true, std: 0.1, p: 1 } }), { seed: 8 });
    const std = tf.tidy(() => Math.sqrt(tf.moments(tf.sub(y, x)).variance.dataSync()[0] ?? NaN));
    expect(std).toBeGreaterThan(0.09);
    expect(std).toBeLessThan(0.11);
    tf.dispose([x, y]);
  });

  it('grayscale with p=1 makes all channels equal; colour jitter changes colour', () => {
    const x = makeBatch(3, 8, 8, 3);
    const g = augmentBatch(x, only({ grayscale: { enabled: true, p: 1 } }), { seed: 1 });
    const [r, gg, b] = tf.split(g, 3, 3);
    expect(maxAbsDiff(r!, gg!)).toBeLessThan(1e-6);
    expect(maxAbsDiff(r!, b!)).toBeLessThan(1e-6);
    const j = augmentBatch(x, only({ colorJitter: { enabled: true, p: 1 } }), { seed: 1 });
    expect(meanAbsDiff(j, x)).toBeGreaterThan(0.01);
    tf.dispose([x, g, r!, gg!, b!, j]);
  });

  it('a seed reproduces a view; different seeds do not', () => {
    const x = makeBatch(4, 28, 28, 1);
    const a = augmentBatch(x, defaultPolicy(1), { seed: 42 });
    const b = augmentBatch(x, defaultPolicy(1), { seed: 42 });
    const c = augmentBatch(x, defaultPolicy(1), { seed: 43 });
    expect(maxAbsDiff(a, b)).toBe(0);
    expect(meanAbsDiff(a, c)).toBeGreaterThan(0.01);
    tf.dispose([x, a, b, c]);
  });

  it('does not leak tensors over 20 calls', () => {
    for (const c of [1, 3]) {
      const x = makeBatch(8, 28, 28, c);
      const policy = parsePolicy({ ...defaultPolicy(c), flip: { enabled: true } });
      // Warm-up call: first use of a kernel may allocate backend state.
      augmentBatch(x, policy).dispose();
      const before = tf.memory().numTensors;
      for (let i = 0; i < 20; i++) {
        augmentBatch(x, policy).dispose();
        tf.dispose(twoViews(x, policy));
      }
      expect(tf.memory().numTensors).toBe(before);
      x.dispose();
    }
  });

  it('rejects non-4D and non-float32 input', () => {
    const bad = tf.zeros([28, 28, 1]);
    expect(() => augmentBatch(bad as unknown as tf.Tensor4D, defaultPolicy(1))).toThrow(/rank-4/);
    const ints = tf.zeros([1, 4, 4, 1], 'int32') as tf.Tensor4D;
    expect(() => augmentBatch(ints, defaultPolicy(1))).toThrow(/float32/);
    tf.dispose([bad, ints]);
  });
});

describe('wasm backend', () => {
  // WASM is the main training backend: if it cannot start, these tests fail (they are not skipped).
  beforeAll(async () => {
    await initWasmBackendForNode();
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('matches the cpu backend for the same seed and does not leak', async () => {
    expect(tf.getBackend()).toBe('wasm');
    for (const c of [1, 3]) {
      const policy = parsePolicy({ ...defaultPolicy(c), flip: { enabled: true } });
      const x = makeBatch(6, 28, 28, c);
      const onWasm = augmentBatch(x, policy, { seed: 123 });
      expect(onWasm.shape).toEqual([6, 28, 28, c]);
      expectInUnitRange(onWasm);
      const wasmVals = onWasm.dataSync().slice();

      const before = tf.memory().numTensors;
      for (let i = 0; i < 20; i++) augmentBatch(x, policy).dispose();
      expect(tf.memory().numTensors).toBe(before);

      await tf.setBackend('cpu');
      const xc = makeBatch(6, 28, 28, c);
      const onCpu = augmentBatch(xc, policy, { seed: 123 });
      // Same JS-side parameters and noise → same images up to float rounding.
      const ref = tf.tensor4d(wasmVals, onCpu.shape);
      expect(maxAbsDiff(onCpu, ref)).toBeLessThan(1e-4);
      tf.dispose([xc, onCpu, ref]);
      await tf.setBackend('wasm');
      tf.dispose([x, onWasm]);
    }
  });
  // Timing (cpu vs wasm, [128,28,28,1]) lives in `npm run bench:micro`.
});
