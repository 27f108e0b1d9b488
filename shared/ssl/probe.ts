import * as tf from '@tensorflow/tfjs';

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
