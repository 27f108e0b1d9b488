import * as tf from '@tensorflow/tfjs';

export interface GroupNormArgs {
  groups: number;
  epsilon?: number;
  name?: string;
}

/**
 * Group normalization (Wu & He 2018, eq. 1–3) over NHWC feature maps: each image's
 * channels are split into G groups, normalised by that group's own mean and variance,
 * then scaled and shifted per channel. Unlike BatchNorm it keeps no running
 * statistics, so federated averaging only ever averages learnable weights (Hsieh et
 * al. 2020 show BatchNorm statistics break under non-IID clients).
 */
export class GroupNormalization extends tf.layers.Layer {
  static readonly className = 'FedsslGroupNormalization';
  readonly groups: number;
  readonly epsilon: number;
  private gamma?: tf.LayerVariable;
  private beta?: tf.LayerVariable;

  constructor(args: GroupNormArgs) {
    super(args.name ? { name: args.name } : {});
    if (!Number.isInteger(args.groups) || args.groups < 1)
      throw new Error(`GroupNormalization: groups must be a positive integer, got ${args.groups}`);
    this.groups = args.groups;
    this.epsilon = args.epsilon ?? 1e-5;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const channels = shape[shape.length - 1];
    if (typeof channels !== 'number' || channels % this.groups !== 0) {
      throw new Error(`GroupNormalization: ${String(channels)} channels are not divisible into ${this.groups} groups`);
    }
    this.gamma = this.addWeight('gamma', [channels], 'float32', tf.initializers.ones());
    this.beta = this.addWeight('beta', [channels], 'float32', tf.initializers.zeros());
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      const [n, h, w, c] = x.shape;
      const g = this.groups;
      // [N, H·W, G, C/G]: the statistics of one group are over axes 1 and 3.
      const grouped = tf.reshape(x, [n, h * w, g, c / g]);
      const { mean, variance } = tf.moments(grouped, [1, 3], true);
      const normed = tf.mul(tf.sub(grouped, mean), tf.rsqrt(tf.add(variance, this.epsilon)));
      const back = tf.reshape(normed, [n, h, w, c]);
      return tf.add(tf.mul(back, this.gamma!.read()), this.beta!.read());
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), groups: this.groups, epsilon: this.epsilon };
  }
}
tf.serialization.registerClass(GroupNormalization);
