import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Conv2DBackpropInput,
  getKernel,
  type Conv2DBackpropInputAttrs,
  type NamedAttrMap,
} from '@tensorflow/tfjs-core';
import {
  conv2DBackpropInputWasm,
  registerWasmConv2DBackpropInput,
  restoreNativeWasmConv2DBackpropInput,
} from './wasm-conv2d-backprop-input';
import { scatterColumnsAdd } from './im2col';
import { setColumnChunkLimit } from './wasm-kernel-utils';
import { initWasmBackendForNode } from './wasm-node';
import { CONV_GRADIENT_CONFIGS, randomValues, relError, seededUniform, sizeOf, type Shape4 } from './kernel-test-utils';

/** Uniform values in [-1, 1) from a seed. */
const seededValues = (size: number, seed: number): Float32Array => randomValues(size, seededUniform(seed));

/** dL/dx for L = sum(conv2d(x, f) · r) on the given backend, through tf.grad. */
async function inputGrad(
  backend: 'cpu' | 'wasm',
  xShape: Shape4,
  fShape: Shape4,
  strides: number | [number, number],
  pad: 'same' | 'valid' | number,
  seed: number,
): Promise<Float32Array> {
  expect(await tf.setBackend(backend)).toBe(true);
  return tf.tidy(() => {
    const x = tf.tensor4d(seededValues(sizeOf(xShape), seed), xShape);
    const f = tf.tensor4d(seededValues(sizeOf(fShape), seed + 1), fShape);
    const outShape = tf.conv2d(x, f, strides, pad).shape;
    const r = tf.tensor(seededValues(sizeOf(outShape), seed + 2), outShape);
    return tf
      .grad((xx: tf.Tensor) =>
        tf
          .conv2d(xx as tf.Tensor4D, f, strides, pad)
          .mul(r)
          .sum(),
      )(x)
      .dataSync() as Float32Array;
  });
}

beforeAll(async () => {
  await initWasmBackendForNode();
});

afterAll(async () => {
  setColumnChunkLimit(null);
  await tf.setBackend('wasm');
});

describe('scatterColumnsAdd (col2im)', () => {
  it('adds every tap once: all-ones columns count the windows covering each pixel', () => {
    const g = {
      inHeight: 3,
      inWidth: 3,
      inChannels: 1,
      outHeight: 3,
      outWidth: 3,
      filterHeight: 3,
      filterWidth: 3,
      strideHeight: 1,
      strideWidth: 1,
      padTop: 1,
      padLeft: 1,
    };
    const dx = new Float32Array(9);
    scatterColumnsAdd(new Float32Array(9 * 9).fill(1), g, dx, 0, 1);
    expect(Array.from(dx)).toEqual([4, 6, 4, 6, 9, 6, 4, 6, 4]);
  });

  it('writes only its batch chunk and refuses short buffers', () => {
    const g = {
      inHeight: 2,
      inWidth: 2,
      inChannels: 2,
      outHeight: 1,
      outWidth: 1,
      filterHeight: 2,
      filterWidth: 2,
      strideHeight: 2,
      strideWidth: 2,
      padTop: 0,
      padLeft: 0,
    };
    const dx = new Float32Array(3 * 8);
    scatterColumnsAdd(
      Float32Array.from({ length: 8 }, (_, i) => i + 1),
      g,
      dx,
      1,
      1,
    );
    expect(Array.from(dx.subarray(0, 8))).toEqual(new Array(8).fill(0));
    expect(Array.from(dx.subarray(8, 16))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(Array.from(dx.subarray(16))).toEqual(new Array(8).fill(0));
    expect(() => scatterColumnsAdd(new Float32Array(7), g, dx, 0, 1)).toThrow(/cols too small/);
    expect(() => scatterColumnsAdd(new Float32Array(8), g, dx, 3, 1)).toThrow(/dx too small/);
  });
});

describe('registration', () => {
  it('replaces the native kernel once and keeps its setup', () => {
    registerWasmConv2DBackpropInput();
    const first = getKernel(Conv2DBackpropInput, 'wasm');
    expect(first?.kernelFunc).toBe(conv2DBackpropInputWasm);
    expect(typeof first?.setupFunc).toBe('function');
    registerWasmConv2DBackpropInput();
    expect(getKernel(Conv2DBackpropInput, 'wasm')).toBe(first);
  });
});

describe('wasm Conv2DBackpropInput matches cpu (tf.grad of conv2d wrt the input)', () => {
  const cases: { batch: number; size: [number, number]; cin: number; kernel: [number, number]; cout: number }[] = [
    { batch: 1, size: [7, 7], cin: 1, kernel: [3, 3], cout: 4 },
    { batch: 5, size: [7, 7], cin: 3, kernel: [3, 3], cout: 4 },
    { batch: 2, size: [28, 28], cin: 8, kernel: [3, 3], cout: 5 },
    { batch: 3, size: [9, 7], cin: 8, kernel: [5, 5], cout: 3 },
    { batch: 1, size: [7, 7], cin: 3, kernel: [1, 1], cout: 2 },
    { batch: 4, size: [7, 10], cin: 3, kernel: [2, 3], cout: 6 },
  ];
  const configs = CONV_GRADIENT_CONFIGS;
  let seed = 100;
  for (const c of cases) {
    for (const cfg of configs) {
      const s = (seed += 3);
      it(`batch ${c.batch}, ${c.size.join('x')}x${c.cin}, kernel ${c.kernel.join('x')}→${c.cout}, strides ${String(cfg.strides)}, pad ${cfg.pad}`, async () => {
        const xShape: Shape4 = [c.batch, c.size[0], c.size[1], c.cin];
        const fShape: Shape4 = [c.kernel[0], c.kernel[1], c.cin, c.cout];
        const want = await inputGrad('cpu', xShape, fShape, cfg.strides, cfg.pad, s);
        const got = await inputGrad('wasm', xShape, fShape, cfg.strides, cfg.pad, s);
        expect(relError(got, want)).toBeLessThan(1e-4);
      });
    }
  }

  it('splits a large batch into column chunks with the same result', async () => {
    const xShape: Shape4 = [6, 12, 12, 4];
    const fShape: Shape4 = [3, 3, 4, 5];
    const want = await inputGrad('cpu', xShape, fShape, 2, 'same', 7);
    setColumnChunkLimit(36 * 36 + 1); // one image (36 rows × 36 taps) per chunk
    try {
      expect(relError(await inputGrad('wasm', xShape, fShape, 2, 'same', 7), want)).toBeLessThan(1e-4);
    } finally {
      setColumnChunkLimit(null);
    }
  });

  it('leaves no tensors or wasm buffers behind', async () => {
    await tf.setBackend('wasm');
    const dataIds = () => (tf.backend() as unknown as { numDataIds(): number }).numDataIds();
    const grad = () => inputGrad('wasm', [4, 14, 14, 8], [3, 3, 8, 16], 2, 'same', 9);
    await grad();
    const before = { ...tf.memory(), dataIds: dataIds() };
    for (let i = 0; i < 3; i++) await grad();
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(tf.memory().numBytes).toBe(before.numBytes);
    expect(dataIds()).toBe(before.dataIds);
  });
});

describe('fallback to the native kernel', () => {
  it('NCHW input still works (native path) and matches the NHWC result', async () => {
    await tf.setBackend('wasm');
    const dyShape: Shape4 = [2, 4, 4, 3];
    const attrs = {
      inputShape: [2, 8, 8, 2],
      strides: 2,
      pad: 'same',
      dataFormat: 'NHWC',
    } as unknown as Conv2DBackpropInputAttrs;
    const nhwc = tf.tidy(() => {
      const dy = tf.tensor4d(seededValues(sizeOf(dyShape), 3), dyShape);
      const f = tf.tensor4d(seededValues(3 * 3 * 2 * 3, 4), [3, 3, 2, 3]);
      const out = tf
        .engine()
        .runKernel(Conv2DBackpropInput, { dy, filter: f }, attrs as unknown as NamedAttrMap) as tf.Tensor;
      return out.dataSync() as Float32Array;
    });
    const nchw = tf.tidy(() => {
      const dy = tf.tensor4d(seededValues(sizeOf(dyShape), 3), dyShape).transpose([0, 3, 1, 2]);
      const f = tf.tensor4d(seededValues(3 * 3 * 2 * 3, 4), [3, 3, 2, 3]);
      const a = { ...attrs, inputShape: [2, 2, 8, 8], dataFormat: 'NCHW' };
      const out = tf
        .engine()
        .runKernel(Conv2DBackpropInput, { dy, filter: f }, a as unknown as NamedAttrMap) as tf.Tensor;
      return out.transpose([0, 2, 3, 1]).dataSync() as Float32Array;
    });
    expect(relError(nchw, nhwc)).toBeLessThan(1e-5);
  });

  it('restoring the native kernel gives the same gradient', async () => {
    const args: [Shape4, Shape4, number, 'same', number] = [[2, 10, 10, 4], [3, 3, 4, 6], 2, 'same', 21];
    const ours = await inputGrad('wasm', ...args);
    restoreNativeWasmConv2DBackpropInput();
    try {
      expect(getKernel(Conv2DBackpropInput, 'wasm')?.kernelFunc).not.toBe(conv2DBackpropInputWasm);
      expect(relError(await inputGrad('wasm', ...args), ours)).toBeLessThan(1e-5);
    } finally {
      registerWasmConv2DBackpropInput();
    }
    expect(getKernel(Conv2DBackpropInput, 'wasm')?.kernelFunc).toBe(conv2DBackpropInputWasm);
  });
});
