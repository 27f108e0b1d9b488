import type { RoundSchedule, TrainingConfig } from '../protocol/round-config';
import { warmupCosineLr, type WarmupCosine } from '../ssl/lr-schedule';

/** A warm-up + cosine schedule counted in rounds, as training.schedule carries it (learningRate holds the peak). */
export function roundSchedule(s: WarmupCosine): RoundSchedule {
  return { warmupRounds: s.warmupSteps, totalRounds: s.totalSteps, finalFraction: s.finalFraction };
}

/**
 * The training settings a round sends: with a schedule, learningRate becomes the rate for the round that
 * starts from global version `version` (0-based, so v0's round warms up first), and the schedule itself
 * stays on the server. Without one, the settings go out unchanged.
 */
export function trainingForRound(training: TrainingConfig, version: number): TrainingConfig {
  const { schedule, ...sent } = training;
  if (!schedule) return training;
  const learningRate = warmupCosineLr(version, {
    peak: training.learningRate,
    totalSteps: schedule.totalRounds,
    warmupSteps: schedule.warmupRounds,
    finalFraction: schedule.finalFraction,
  });
  return { ...sent, learningRate };
}
