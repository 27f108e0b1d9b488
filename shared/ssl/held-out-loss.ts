import * as tf from '@tensorflow/tfjs';
import { type SimclrModel, project } from '../model/encoder';
import { type AugmentationPolicy, makeRng, twoViews } from './augment';
import { ntXentLoss } from './ntxent';

/** Fixed augmentation seeds, so two versions of a model are scored on exactly the same views. */
export const HELD_OUT_SEEDS: readonly number[] = [1000, 1001, 1002, 1003];

/**
 * The SimCLR objective on a fixed batch of held-out images, averaged over fixed augmentation seeds.
 * Deterministic for given weights, so "did training lower the objective?" has no sampling noise:
 * a random init scores about ln(2N − 1); a working trainer lowers it within a few dozen steps.
 */
export function heldOutLoss(
  model: SimclrModel,
  images: tf.Tensor4D,
  policy: AugmentationPolicy,
  temperature: number,
  seeds: readonly number[] = HELD_OUT_SEEDS,
): number {
  if (images.shape[0] < 2) throw new Error('the held-out loss needs at least 2 images');
  let sum = 0;
  for (const seed of seeds) {
    sum += tf.tidy(() => {
      const [a, b] = twoViews(images, policy, { rng: makeRng(seed) });
      return ntXentLoss(project(model, a), project(model, b), temperature).dataSync()[0]!;
    });
  }
  return sum / seeds.length;
}
