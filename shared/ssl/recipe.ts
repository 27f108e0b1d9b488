/**
 * The SimCLR recipe that bench:quality selected for 28×28 grayscale data (see the
 * README's bench:quality section for the measurements behind each choice).
 */
import { type AugmentationPolicy, AugmentationPolicySchema } from './augment-policy';
import type { WarmupCosine } from './lr-schedule';
import { roundSchedule } from '../federation/round-learning-rate';

/**
 * Grayscale policy: the default crop/affine/blur/noise plus brightness/contrast jitter
 * (clothes and digits vary in exposure and ink), and a horizontal flip only where the
 * classes are mirror-symmetric (clothes yes, digits no: a flipped 2 is not a 2).
 */
export function grayscaleRecipePolicy(opts: { flip: boolean }): AugmentationPolicy {
  return AugmentationPolicySchema.parse({
    crop: { scale: [0.35, 1] },
    flip: { enabled: opts.flip, p: 0.5 },
    colorJitter: { enabled: true, brightness: 0.4, contrast: 0.4, saturation: 0, p: 0.8 },
  });
}

/** Mirror symmetry of each bundled dataset's classes. */
export const FLIP_VALID: Record<'mnist' | 'fashion-mnist', boolean> = { mnist: false, 'fashion-mnist': true };

export interface SimclrRecipe {
  temperature: number;
  peakLearningRate: number;
  /** Fraction of all steps spent warming up linearly. */
  warmupFraction: number;
  finalLrFraction: number;
  batchSize: number;
}

export const SIMCLR_RECIPE: SimclrRecipe = {
  temperature: 0.2,
  peakLearningRate: 2e-3,
  warmupFraction: 0.05,
  finalLrFraction: 0.05,
  batchSize: 256,
};

/** The recipe's warm-up + cosine schedule over `totalSteps` (optimizer steps centrally, rounds in federation). */
export function recipeSchedule(totalSteps: number, recipe: SimclrRecipe = SIMCLR_RECIPE): WarmupCosine {
  return {
    peak: recipe.peakLearningRate,
    totalSteps,
    warmupSteps: Math.round(recipe.warmupFraction * totalSteps),
    finalFraction: recipe.finalLrFraction,
  };
}

/**
 * Rounds the recipe's federated schedule spans by default: what bench:quality's federated arms run at the
 * 256,000-image budget with the round config's default 10 local steps × batch 32 (10 clients, 7 of them
 * uploading each round: 114 rounds; see the README). A deployment that plans more or fewer rounds sets
 * training.schedule.totalRounds.
 */
export const RECIPE_PLANNED_ROUNDS = 114;

/**
 * The round config's training settings for the recipe encoder: τ, peak learning rate, augmentations, and the
 * warm-up + cosine schedule over `totalRounds` that bench:quality's federated arms use. The flip is the
 * operator's call: the server cannot know whether the clients' images are mirror-symmetric.
 */
export function recipeRoundTraining(
  opts: { flip: boolean; totalRounds: number },
  recipe: SimclrRecipe = SIMCLR_RECIPE,
) {
  const s = recipeSchedule(opts.totalRounds, recipe);
  return {
    learningRate: s.peak,
    temperature: recipe.temperature,
    augmentation: grayscaleRecipePolicy({ flip: opts.flip }),
    schedule: roundSchedule(s),
  };
}
