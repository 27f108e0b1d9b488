import { describe, expect, it } from 'vitest';
import { TrainingConfigSchema } from '../protocol/round-config';
import { trainingForRound } from './round-learning-rate';

describe('trainingForRound', () => {
  const scheduled = TrainingConfigSchema.parse({
    learningRate: 2e-3,
    schedule: { warmupRounds: 2, totalRounds: 12, finalFraction: 0.05 },
  });

  it('warms up linearly, decays by cosine to the floor and stays there', () => {
    const lr = (v: number) => trainingForRound(scheduled, v).learningRate;
    expect(lr(0)).toBeCloseTo(1e-3, 12); // (0 + 1) / 2 of the peak
    expect(lr(1)).toBeCloseTo(2e-3, 12);
    expect(lr(2)).toBeCloseTo(2e-3, 12); // the cosine starts at the peak
    // Half-way through the decay (rounds 2 … 11, span 9): the mean of peak and floor.
    expect(
      trainingForRound({ ...scheduled, schedule: { ...scheduled.schedule!, totalRounds: 13 } }, 7).learningRate,
    ).toBeCloseTo((2e-3 + 1e-4) / 2, 12);
    expect(lr(11)).toBeCloseTo(1e-4, 12);
    expect(lr(500)).toBeCloseTo(1e-4, 12);
    for (let v = 2; v < 11; v++) expect(lr(v + 1)).toBeLessThan(lr(v));
  });

  it('sends the round its rate, not the schedule', () => {
    const sent = trainingForRound(scheduled, 5);
    expect(sent.schedule).toBeUndefined();
    expect(sent.temperature).toBe(scheduled.temperature);
    expect(sent.localSteps).toBe(scheduled.localSteps);
  });

  it('leaves an unscheduled config as it is', () => {
    const plain = TrainingConfigSchema.parse({ learningRate: 3e-3 });
    expect(trainingForRound(plain, 40)).toEqual(plain);
  });

  it('refuses a warm-up longer than the schedule', () => {
    const r = TrainingConfigSchema.safeParse({ schedule: { warmupRounds: 5, totalRounds: 3 } });
    expect(r.success).toBe(false);
  });
});
