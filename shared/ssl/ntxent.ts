import * as tf from '@tensorflow/tfjs';

/**
 * SimCLR NT-Xent loss (Chen et al. 2020). z1[i] and z2[i] are the two views of
 * image i. The 2N anchors each treat their partner as the positive and the other
 * 2N−2 embeddings as negatives; cosine similarity over temperature τ; mean over 2N.
 */
export function ntXentLoss(z1: tf.Tensor2D, z2: tf.Tensor2D, temperature = 0.5): tf.Scalar {
  if (z1.shape[0] !== z2.shape[0] || z1.shape[1] !== z2.shape[1]) {
    throw new Error(`ntXentLoss: view shapes differ: [${z1.shape}] vs [${z2.shape}]`);
  }
  if (!(temperature > 0)) throw new Error(`ntXentLoss: temperature must be > 0, got ${temperature}`);
  return tf.tidy(() => {
    const n = z1.shape[0];
    const z = tf.concat([z1, z2], 0);
    // Normalise with an epsilon so a zero vector cannot produce NaN.
    const zn = tf.div(z, tf.sqrt(tf.add(tf.sum(tf.square(z), 1, true), 1e-12)));
    const sim = tf.div(tf.matMul(zn, zn, false, true), temperature);
    // Exclude self-similarity: a large negative on the diagonal vanishes in logsumexp.
    const masked = tf.sub(sim, tf.mul(tf.eye(2 * n), 1e9));
    const [a, b] = tf.split(zn, 2, 0) as [tf.Tensor2D, tf.Tensor2D];
    const pos = tf.div(tf.sum(tf.mul(a, b), 1), temperature); // positives, same for both halves
    const lse = tf.logSumExp(masked, 1);
    return tf.mean(tf.sub(lse, tf.concat([pos, pos], 0))) as tf.Scalar;
  });
}
