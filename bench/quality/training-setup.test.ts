import { describe, expect, it } from 'vitest';
import { DEFAULT_MODEL_CONFIG, RECIPE_MODEL_CONFIG } from '../../shared/model/config';
import { TrainingConfigSchema } from '../../shared/protocol/round-config';
import { defaultPolicy } from '../../shared/ssl/augment';
import { recipeRoundTraining } from '../../shared/ssl/recipe';
import { trainingSetup } from './arms';

describe('bench:quality trains what the product serves', () => {
  it("'default' is the product's default encoder with the round config's default training", () => {
    const s = trainingSetup('default');
    const product = TrainingConfigSchema.parse({});
    expect(s.modelConfig).toEqual(DEFAULT_MODEL_CONFIG);
    expect(s.serverModel).toBe('default');
    expect(s.temperature).toBe(product.temperature);
    expect(s.learningRate).toBe(product.learningRate);
    expect(s.schedule(30)).toBeUndefined(); // constant, like the product without training.schedule
    expect(s.policy).toEqual(defaultPolicy(1));
  });

  it("'recipe' is what the server's --model recipe sends (flip on: the bench's data is Fashion-MNIST)", () => {
    const s = trainingSetup('recipe');
    const served = recipeRoundTraining({ flip: true, totalRounds: 30 });
    const sched = s.schedule(30)!;
    expect(s.modelConfig).toEqual(RECIPE_MODEL_CONFIG);
    expect(s.serverModel).toBe('recipe');
    expect({
      learningRate: s.learningRate,
      temperature: s.temperature,
      augmentation: s.policy,
      schedule: { warmupRounds: sched.warmupSteps, totalRounds: sched.totalSteps, finalFraction: sched.finalFraction },
    }).toEqual(served);
  });
});
