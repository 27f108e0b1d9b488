import { describe, expect, it } from 'vitest';
import { COMPACT_MODEL_CONFIG, DEFAULT_MODEL_CONFIG } from '../../shared/model/config';
import { TrainingConfigSchema } from '../../shared/protocol/round-config';
import { defaultPolicy } from '../../shared/ssl/augment';
import { recipeRoundTraining } from '../../shared/ssl/recipe';
import { federationDefaults, trainingSetup } from './arms';

describe('bench:quality trains what the product serves', () => {
  it("'compact' is the compact encoder with the round config's default training", () => {
    const s = trainingSetup('compact');
    const product = TrainingConfigSchema.parse({});
    expect(s.modelConfig).toEqual(COMPACT_MODEL_CONFIG);
    expect(s.serverModel).toBe('compact');
    expect(s.temperature).toBe(product.temperature);
    expect(s.learningRate).toBe(product.learningRate);
    expect(s.schedule(30)).toBeUndefined(); // constant, like the product without training.schedule
    expect(s.policy).toEqual(defaultPolicy(1));
  });

  it("'default' is what the server's --model default sends (flip on: the bench's data is Fashion-MNIST)", () => {
    const s = trainingSetup('default');
    const served = recipeRoundTraining({ flip: true, totalRounds: 30 });
    const sched = s.schedule(30)!;
    expect(s.modelConfig).toEqual(DEFAULT_MODEL_CONFIG);
    expect(s.serverModel).toBe('default');
    expect({
      learningRate: s.learningRate,
      temperature: s.temperature,
      augmentation: s.policy,
      schedule: { warmupRounds: sched.warmupSteps, totalRounds: sched.totalSteps, finalFraction: sched.finalFraction },
    }).toEqual(served);
  });

  it("a full run's federated arms train with the round config's default local steps and batch", () => {
    const product = TrainingConfigSchema.parse({});
    expect(federationDefaults(false)).toEqual({ localSteps: product.localSteps, clientBatch: product.batchSize });
    // The README's full-budget federated rows were measured at these.
    expect(federationDefaults(false)).toEqual({ localSteps: 10, clientBatch: 32 });
  });
});
