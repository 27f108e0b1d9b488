import * as tf from '@tensorflow/tfjs';
import { type ModelConfig, DEFAULT_MODEL_CONFIG, ModelConfigSchema, finalSide, representationDim } from './config';
import { GroupNormalization } from './group-norm';

/** The two trainable parts of a SimCLR model. The encoder's output is the representation. */
export interface SimclrModel {
  config: ModelConfig;
  encoder: tf.Sequential;
  head: tf.Sequential;
}

/**
 * Builds the CNN encoder and MLP projection head. Layer names are fixed so the
 * flattened weight layout is stable across processes and browsers.
 */
export function createSimclrModel(config: ModelConfig = DEFAULT_MODEL_CONFIG, seed?: number): SimclrModel {
  const cfg = ModelConfigSchema.parse(config);
  // tfjs treats a seed of 0 as "no seed", so offset every layer's seed to stay non-zero.
  const init = (i: number) => tf.initializers.heNormal(seed === undefined ? {} : { seed: seed * 1000 + i + 1 });
  const encoder = tf.sequential({ name: 'encoder' });
  const grouped = cfg.norm === 'group';
  cfg.convFilters.forEach((filters, i) => {
    encoder.add(
      tf.layers.conv2d({
        name: `enc_conv${i + 1}`,
        ...(i === 0 ? { inputShape: cfg.inputShape } : {}),
        filters,
        kernelSize: cfg.kernelSize,
        strides: cfg.convStrides[i]!,
        padding: 'same',
        // GroupNorm's shift makes a conv bias redundant.
        activation: grouped ? 'linear' : 'relu',
        useBias: !grouped,
        kernelInitializer: init(i),
      }),
    );
    if (grouped) {
      encoder.add(new GroupNormalization({ name: `enc_gn${i + 1}`, groups: cfg.groups ?? 8 }));
      encoder.add(tf.layers.reLU({ name: `enc_relu${i + 1}` }));
    }
  });
  const grid = cfg.poolGrid ?? 1;
  if (grid === 1) {
    encoder.add(tf.layers.globalAveragePooling2d({ name: 'enc_gap' }));
  } else {
    const cell = finalSide(cfg) / grid;
    encoder.add(tf.layers.averagePooling2d({ name: 'enc_pool', poolSize: cell, strides: cell, padding: 'valid' }));
    encoder.add(tf.layers.flatten({ name: 'enc_flat' }));
  }

  const head = tf.sequential({ name: 'head' });
  const repDim = representationDim(cfg);
  cfg.headUnits.forEach((units, i) => {
    const last = i === cfg.headUnits.length - 1;
    head.add(
      tf.layers.dense({
        name: `head_dense${i + 1}`,
        ...(i === 0 ? { inputShape: [repDim] } : {}),
        units,
        activation: last ? 'linear' : 'relu',
        kernelInitializer: init(100 + i),
      }),
    );
  });
  return { config: cfg, encoder, head };
}

/** Representation h = encoder(x). */
export function encode(model: SimclrModel, x: tf.Tensor4D): tf.Tensor2D {
  return model.encoder.apply(x, { training: true }) as tf.Tensor2D;
}

/** Projection z = head(encoder(x)), the input of the contrastive loss. */
export function project(model: SimclrModel, x: tf.Tensor4D): tf.Tensor2D {
  return model.head.apply(encode(model, x)) as tf.Tensor2D;
}

export function disposeSimclrModel(model: SimclrModel): void {
  model.encoder.dispose();
  model.head.dispose();
}

export function countParameters(model: SimclrModel): number {
  return model.encoder.countParams() + model.head.countParams();
}
