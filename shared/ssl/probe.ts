import * as tf from '@tensorflow/tfjs';

export interface ProbeOptions {
  epochs: number;
  learningRate: number;
  l2: number;
}

export const DEFAULT_PROBE_OPTIONS: ProbeOptions = { epochs: 200, learningRate: 0.05, l2: 1e-4 };

export interface ProbeResult {
  trainAccuracy: number;
  testAccuracy: number;
}

export interface FeatureSet {
  features: Float32Array; // count × dim, row-major
  labels: Uint8Array;
  dim: number;
}

/** Runs a frozen encoder over uint8 images (NHWC) in batches; returns count × dim features. */
export async function extractFeatures(
  encoder: tf.LayersModel,
  images: Uint8Array,
  count: number,
  shape: readonly [number, number, number],
  batchSize = 256,
): Promise<{ features: Float32Array; dim: number }> {
  const per = shape[0] * shape[1] * shape[2];
  if (images.length !== count * per)
    throw new Error(`extractFeatures: ${images.length} bytes for ${count} images of ${shape.join('x')}`);
  let dim = 0;
  let out = new Float32Array(0);
  for (let start = 0; start < count; start += batchSize) {
    const n = Math.min(batchSize, count - start);
    const feats = tf.tidy(() => {
      const x = tf
        .tensor4d(images.subarray(start * per, (start + n) * per), [n, ...shape], 'int32')
        .toFloat()
        .div(255);
      return encoder.predict(x) as tf.Tensor2D;
    });
    if (start === 0) {
      dim = feats.shape[1];
      out = new Float32Array(count * dim);
    }
    out.set((await feats.data()) as Float32Array, start * dim);
    feats.dispose();
  }
  return { features: out, dim };
}

/**
 * Multinomial logistic regression on frozen features (standardised with the
 * training split's statistics), full-batch Adam. Returns top-1 accuracies.
 */
export async function linearProbe(
  train: FeatureSet,
  test: FeatureSet,
  numClasses: number,
  options: Partial<ProbeOptions> = {},
): Promise<ProbeResult> {
  const opts = { ...DEFAULT_PROBE_OPTIONS, ...options };
  if (train.dim !== test.dim) throw new Error(`linearProbe: feature dims differ (${train.dim} vs ${test.dim})`);
  const nTrain = train.labels.length;
  const nTest = test.labels.length;
  if (nTrain === 0 || nTest === 0) throw new Error('linearProbe: empty train or test set');
  const d = train.dim;

  // tidy frees the zero initialisers; variables survive it.
  const [w, b] = tf.tidy(() => [tf.variable(tf.zeros([d, numClasses])), tf.variable(tf.zeros([numClasses]))]);
  const optimizer = tf.train.adam(opts.learningRate);
  try {
    const [xTrain, yTrain, xTest, mean, std] = tf.tidy(() => {
      const xt = tf.tensor2d(train.features, [nTrain, d]);
      const { mean: m, variance } = tf.moments(xt, 0);
      const s = tf.sqrt(tf.add(variance, 1e-6));
      return [
        tf.div(tf.sub(xt, m), s),
        tf.oneHot(tf.tensor1d(train.labels, 'int32'), numClasses).toFloat(),
        tf.div(tf.sub(tf.tensor2d(test.features, [nTest, d]), m), s),
        m,
        s,
      ] as const;
    });
    mean.dispose();
    std.dispose();
    for (let epoch = 0; epoch < opts.epochs; epoch++) {
      optimizer.minimize(() =>
        tf.tidy(() => {
          const logits = tf.add(tf.matMul(xTrain, w), b);
          const ce = tf.losses.softmaxCrossEntropy(yTrain, logits);
          return tf.add(ce, tf.mul(opts.l2, tf.sum(tf.square(w)))) as tf.Scalar;
        }),
      );
    }
    const accuracy = async (x: tf.Tensor2D, labels: Uint8Array) => {
      const predT = tf.tidy(() => tf.argMax(tf.add(tf.matMul(x, w), b), 1));
      const pred = await predT.data();
      predT.dispose();
      let hit = 0;
      for (let i = 0; i < labels.length; i++) if (pred[i] === labels[i]) hit++;
      return hit / labels.length;
    };
    const result = {
      trainAccuracy: await accuracy(xTrain, train.labels),
      testAccuracy: await accuracy(xTest, test.labels),
    };
    tf.dispose([xTrain, yTrain, xTest]);
    return result;
  } finally {
    optimizer.dispose();
    w.dispose();
    b.dispose();
  }
}
