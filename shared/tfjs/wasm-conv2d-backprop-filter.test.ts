import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  Conv2DBackpropFilter,
  getKernel,
  unregisterKernel,
  type Conv2DBackpropFilterAttrs,
  type NamedAttrMap,
} from '@tensorflow/tfjs-core';
import {
  conv2DBackpropFilterWasm,
  registerWasmConv2DBackpropFilter,
  setColumnChunkLimit,
  setRowLayoutMinChannels,
} from './wasm-conv2d-backprop-filter';
import { initWasmBackendForNode } from './wasm-node';
import { CONV_GRADIENT_CONFIGS, randomValues, relError, seededUniform, sizeOf, type Shape4 } from './kernel-test-utils';

type Pad = Conv2DBackpropFilterAttrs['pad'];
const rng = seededUniform;

async function onBackend<T>(name: 'cpu' | 'wasm', f: () => T): Promise<T> {
  expect(await tf.setBackend(name)).toBe(true);
  return f();
}

/**
 * dL/dfilter for L = sum(conv2d(x, f) * r), through tf.grad, so the backend's
 * registered Conv2DBackpropFilter kernel does the work.
 */
function filterGrad(
  xVals: Float32Array,
  xShape: Shape4,
  fVals: Float32Array,
  fShape: Shape4,
  strides: number | [number, number],
  pad: 'same' | 'valid' | number,
  rSeed: number,
): Float32Array {
  return tf.tidy(() => {
    const x = tf.tensor4d(xVals, xShape);
    const f = tf.tensor4d(fVals, fShape);
    const outShape = tf.conv2d(x, f, strides, pad).shape;
    const r = tf.tensor(randomValues(sizeOf(outShape), rng(rSeed)), outShape);
    const g = tf.grad((ff: tf.Tensor) =>
      tf
        .conv2d(x, ff as tf.Tensor4D, strides, pad)
        .mul(r)
        .sum(),
    )(f);
    return g.dataSync() as Float32Array;
  });
}

/** Runs the kernel itself (no gradient plumbing), for attrs tf.conv2d cannot express. */
function runBackpropFilter(
  xVals: Float32Array,
  xShape: Shape4,
  dyVals: Float32Array,
  dyShape: Shape4,
  attrs: Conv2DBackpropFilterAttrs,
): Float32Array {
  return tf.tidy(() => {
    const x = tf.tensor4d(xVals, xShape);
    const dy = tf.tensor4d(dyVals, dyShape);
    const out = tf.engine().runKernel(Conv2DBackpropFilter, { x, dy }, attrs as unknown as NamedAttrMap) as tf.Tensor;
    expect(out.shape).toEqual(attrs.filterShape);
    return out.dataSync() as Float32Array;
  });
}

beforeAll(async () => {
  await initWasmBackendForNode();
});

describe('registration', () => {
  it('is idempotent and is what makes the wasm conv2d gradient work', async () => {
    registerWasmConv2DBackpropFilter();
    const first = getKernel(Conv2DBackpropFilter, 'wasm');
    expect(first?.kernelFunc).toBe(conv2DBackpropFilterWasm);
    registerWasmConv2DBackpropFilter(); // would throw/warn on a duplicate registerKernel
    expect(getKernel(Conv2DBackpropFilter, 'wasm')).toBe(first);

    await tf.setBackend('wasm');
    const grad = () =>
      tf.tidy(() =>
        tf
          .grad((f: tf.Tensor) => tf.conv2d(tf.ones([1, 4, 4, 1]) as tf.Tensor4D, f as tf.Tensor4D, 1, 'valid').sum())(
            tf.ones([2, 2, 1, 1]),
          )
          .dataSync(),
      );
    unregisterKernel(Conv2DBackpropFilter, 'wasm');
    try {
      expect(grad).toThrow(/not registered/);
    } finally {
      registerWasmConv2DBackpropFilter();
    }
    // Each filter tap sees a 3x3 window of ones.
    expect(Array.from(grad())).toEqual([9, 9, 9, 9]);
  });

  it('initWasmBackendForNode leaves tfjs on the wasm backend', async () => {
    await initWasmBackendForNode();
    expect(tf.getBackend()).toBe('wasm');
  });
});

describe('wasm Conv2DBackpropFilter matches cpu (tf.grad of conv2d wrt the filter)', () => {
  const cases: { batch: number; size: [number, number]; cin: number; kernel: [number, number]; cout: number }[] = [
    { batch: 1, size: [7, 7], cin: 1, kernel: [3, 3], cout: 4 },
    { batch: 5, size: [7, 7], cin: 3, kernel: [3, 3], cout: 4 },
    { batch: 1, size: [28, 28], cin: 8, kernel: [3, 3], cout: 5 },
    { batch: 5, size: [28, 28], cin: 1, kernel: [3, 3], cout: 8 },
    { batch: 5, size: [9, 7], cin: 8, kernel: [5, 5], cout: 3 },
    { batch: 1, size: [7, 7], cin: 3, kernel: [1, 1], cout: 2 },
    { batch: 5, size: [7, 10], cin: 3, kernel: [2, 3], cout: 6 },
  ];
  const configs = CONV_GRADIENT_CONFIGS;
  // Both gather layouts (transposed for narrow inputs, row for wide ones) on every case.
  for (const layout of ['transposed', 'row'] as const) {
    let seed = 1;
    for (const c of cases) {
      for (const cfg of configs) {
        const name = `${layout}: x [${c.batch},${c.size.join(',')},${c.cin}] f ${c.kernel.join('x')}x${c.cin}x${c.cout} stride ${JSON.stringify(cfg.strides)} pad ${cfg.pad}`;
        const caseSeed = seed++;
        it(name, async () => {
          const next = rng(caseSeed * 7919);
          const xShape: Shape4 = [c.batch, c.size[0], c.size[1], c.cin];
          const fShape: Shape4 = [c.kernel[0], c.kernel[1], c.cin, c.cout];
          const xVals = randomValues(sizeOf(xShape), next);
          const fVals = randomValues(sizeOf(fShape), next);
          const args = [xVals, xShape, fVals, fShape, cfg.strides, cfg.pad, caseSeed] as const;
          const expected = await onBackend('cpu', () => filterGrad(...args));
          setRowLayoutMinChannels(layout === 'row' ? 1 : Number.POSITIVE_INFINITY);
          try {
            const actual = await onBackend('wasm', () => filterGrad(...args));
            expect(relError(actual, expected)).toBeLessThan(1e-4);
          } finally {
            setRowLayoutMinChannels(null);
          }
        });
      }
    }
  }

  it('a wide layer (64 channels) takes the row path by default and matches cpu', async () => {
    const next = rng(4242);
    const xShape: Shape4 = [3, 14, 14, 64];
    const fShape: Shape4 = [3, 3, 64, 16];
    const args = [
      randomValues(sizeOf(xShape), next),
      xShape,
      randomValues(sizeOf(fShape), next),
      fShape,
      2,
      'same',
      99,
    ] as const;
    const expected = await onBackend('cpu', () => filterGrad(...args));
    const actual = await onBackend('wasm', () => filterGrad(...args));
    expect(relError(actual, expected)).toBeLessThan(1e-4);
  });
});

describe('wasm Conv2DBackpropFilter kernel attrs beyond tf.conv2d defaults', () => {
  const xShape: Shape4 = [3, 11, 9, 4];
  const next = rng(42);
  const xVals = randomValues(sizeOf(xShape), next);

  async function compare(
    attrs: Conv2DBackpropFilterAttrs,
    x: Float32Array,
    xs: Shape4,
    dyShape: Shape4,
  ): Promise<void> {
    const dyVals = randomValues(sizeOf(dyShape), next);
    const expected = await onBackend('cpu', () => runBackpropFilter(x, xs, dyVals, dyShape, attrs));
    const actual = await onBackend('wasm', () => runBackpropFilter(x, xs, dyVals, dyShape, attrs));
    expect(relError(actual, expected)).toBeLessThan(1e-4);
  }

  it('explicit asymmetric padding', async () => {
    const pad: Pad = [
      [0, 0],
      [2, 0],
      [1, 3],
      [0, 0],
    ];
    // out = floor((in + padBefore + padAfter - k) / stride) + 1
    const dyShape: Shape4 = [3, Math.floor((11 + 2 - 3) / 2) + 1, Math.floor((9 + 4 - 3) / 1) + 1, 5];
    await compare({ strides: [2, 1], pad, dataFormat: 'NHWC', filterShape: [3, 3, 4, 5] }, xVals, xShape, dyShape);
  });

  it('numeric pad with dimRoundingMode ceil (last window runs past the padding)', async () => {
    // ceil((11 + 2 - 3) / 3) + 1 = 5 rows: the last one reads row 13 of a 13-row padded input
    const dyShape: Shape4 = [3, 5, 4, 2];
    await compare(
      { strides: 3, pad: 1, dataFormat: 'NHWC', dimRoundingMode: 'ceil', filterShape: [3, 3, 4, 2] },
      xVals,
      xShape,
      dyShape,
    );
  });

  it('NCHW data format', async () => {
    const nchwShape: Shape4 = [3, 4, 11, 9];
    const x = await onBackend('cpu', () =>
      tf.tidy(() => tf.tensor4d(xVals, xShape).transpose([0, 3, 1, 2]).dataSync() as Float32Array),
    );
    await compare(
      { strides: 2, pad: 'same', dataFormat: 'NCHW', filterShape: [3, 3, 4, 6] },
      x,
      nchwShape,
      [3, 6, 6, 5],
    );
  });

  it('gives the same result when the batch is split into column chunks', async () => {
    const attrs: Conv2DBackpropFilterAttrs = { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 4, 5] };
    const dyShape: Shape4 = [3, 11, 9, 5];
    const dyVals = randomValues(sizeOf(dyShape), next);
    await tf.setBackend('wasm');
    const whole = runBackpropFilter(xVals, xShape, dyVals, dyShape, attrs);
    setColumnChunkLimit(11 * 9 * 36); // exactly one image per chunk
    try {
      for (const minChannels of [Number.POSITIVE_INFINITY, 1]) {
        setRowLayoutMinChannels(minChannels); // transposed, then row layout
        const chunked = runBackpropFilter(xVals, xShape, dyVals, dyShape, attrs);
        expect(relError(chunked, whole)).toBeLessThan(1e-5);
      }
    } finally {
      setColumnChunkLimit(null);
      setRowLayoutMinChannels(null);
    }
    expect(() => setColumnChunkLimit(0)).toThrow();
  });
});

/** conv2d x2 + global average pooling + dense, with deterministic weights. */
function buildNet(): tf.LayersModel {
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({
        inputShape: [28, 28, 1],
        filters: 8,
        kernelSize: 3,
        strides: 2,
        padding: 'same',
        activation: 'relu',
      }),
      tf.layers.conv2d({ filters: 16, kernelSize: 3, padding: 'valid', activation: 'relu' }),
      tf.layers.globalAveragePooling2d({}),
      tf.layers.dense({ units: 10 }),
    ],
  });
  const next = rng(2024);
  model.setWeights(
    model.getWeights().map((w) =>
      tf.tensor(
        randomValues(w.size, next).map((v) => v * 0.5),
        w.shape,
      ),
    ),
  );
  return model;
}

describe('small conv net on wasm', () => {
  const input = randomValues(6 * 28 * 28, rng(99)).map((v) => (v + 1) / 2); // images in [0,1]
  const labels = [0, 3, 5, 7, 9, 1];

  function lossOf(model: tf.LayersModel): () => tf.Scalar {
    return () => {
      const x = tf.tensor4d(input, [6, 28, 28, 1]);
      const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 10);
      return tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar;
    };
  }

  function weightGrads(model: tf.LayersModel): Float32Array[] {
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const { value, grads } = tf.variableGrads(lossOf(model), vars);
    const out = vars.map((v) => {
      const g = grads[v.name];
      if (g == null) throw new Error(`no gradient for ${v.name}`);
      return g.dataSync() as Float32Array;
    });
    tf.dispose([value, ...Object.values(grads)]);
    return out;
  }

  it('gradient wrt every trainable weight matches cpu', async () => {
    await tf.setBackend('cpu');
    const model = buildNet(); // variables move to whichever backend is active
    const expected = weightGrads(model);
    await tf.setBackend('wasm');
    const actual = weightGrads(model);
    expect(actual.length).toBe(6); // 2 conv kernels + biases, dense kernel + bias
    actual.forEach((a, i) => expect(relError(a, expected[i] as Float32Array)).toBeLessThan(1e-4));
    model.dispose();
  });

  it('one Adam step runs on wasm and changes the weights', async () => {
    await tf.setBackend('wasm');
    const model = buildNet();
    const before = model.getWeights().map((w) => w.dataSync().slice());
    const optimizer = tf.train.adam(1e-2);
    const loss = optimizer.minimize(lossOf(model), true);
    expect(loss).not.toBeNull();
    expect(Number.isFinite(loss?.dataSync()[0])).toBe(true);
    const after = model.getWeights().map((w) => w.dataSync());
    after.forEach((w, i) => {
      expect(w.every(Number.isFinite)).toBe(true);
      expect(relError(w, before[i] as Float32Array)).toBeGreaterThan(1e-4); // Adam moved it
    });
    loss?.dispose();
    optimizer.dispose();
    model.dispose();
  });

  it('does not leak tensors or wasm buffers across 20 gradient computations', async () => {
    await tf.setBackend('wasm');
    const model = buildNet();
    const backend = tf.engine().backend;
    weightGrads(model); // warm-up: lets lazily created state settle
    const tensors = tf.memory().numTensors;
    const dataIds = backend.numDataIds();
    for (let i = 0; i < 20; i++) {
      weightGrads(model);
      expect(tf.memory().numTensors).toBe(tensors);
      expect(backend.numDataIds()).toBe(dataIds); // catches kernel-internal leaks numTensors cannot see
    }
    model.dispose();
  });
});
