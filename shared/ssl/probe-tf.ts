/**
 * The probe objective of probe-protocol.ts computed with tfjs matrix products (WASM/
 * XNNPACK in Node is many times faster than the plain-JS loops). Same J and ∇J, in
 * float32; the L-BFGS driver stays in probe-protocol.ts.
 */
import * as tf from '@tensorflow/tfjs';
import type { LossGrad } from './probe-protocol';

export function tfLossGrad(
  x: Float32Array,
  y: Uint8Array,
  dim: number,
  classes: number,
  C: number,
): LossGrad & { dispose(): void } {
  const n = y.length;
  const X = tf.tensor2d(x, [n, dim]);
  const Y = tf.tidy(() => tf.oneHot(tf.tensor1d(y, 'int32'), classes).toFloat());
  const wSize = dim * classes;
  const f = (params: Float64Array, grad: Float64Array): number => {
    const [loss, gW, gb] = tf.tidy(() => {
      const W = tf.tensor2d(Float32Array.from(params.subarray(0, wSize)), [dim, classes]);
      const b = tf.tensor1d(Float32Array.from(params.subarray(wSize)));
      const logits = tf.add(tf.matMul(X, W), b);
      const logp = tf.logSoftmax(logits);
      const ce = tf.neg(tf.sum(tf.mul(Y, logp)));
      const reg = tf.div(tf.sum(tf.square(W)), 2 * C);
      const diff = tf.sub(tf.exp(logp), Y); // p − onehot
      const gw = tf.div(tf.add(tf.matMul(X, diff, true, false), tf.div(W, C)), n);
      const gbias = tf.div(tf.sum(diff, 0), n);
      return [tf.div(tf.add(ce, reg), n), gw, gbias];
    });
    const l = loss.dataSync()[0]!;
    grad.set(gW.dataSync(), 0);
    grad.set(gb.dataSync(), wSize);
    tf.dispose([loss, gW, gb]);
    return l;
  };
  return Object.assign(f, { dispose: () => tf.dispose([X, Y]) });
}

/** Runs `fn` with a tfjs objective factory and disposes every objective it made afterwards. */
export function withTfObjective<T>(fn: (make: typeof tfLossGrad) => T): T {
  const made: { dispose(): void }[] = [];
  try {
    return fn((...args) => {
      const f = tfLossGrad(...args);
      made.push(f);
      return f;
    });
  } finally {
    for (const f of made) f.dispose();
  }
}
