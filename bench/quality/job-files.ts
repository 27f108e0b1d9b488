/**
 * bench:quality's file names. A saved job is reused only when its name matches the settings it was run with, so
 * each arm's tag names exactly the settings its result depends on, and names stay what they were for the jobs
 * saved before a setting existed (those ran at the setting's default).
 */
import { SIMCLR_RECIPE } from '../../shared/ssl/recipe';
import type { ArmName, JobOptions, ModelChoice } from './arms';

/** The settings a job's result depends on, as the CLI gives them. */
export type JobFileSettings = Pick<
  JobOptions,
  | 'budget'
  | 'labels'
  | 'lowLabels'
  | 'clients'
  | 'localSteps'
  | 'clientBatch'
  | 'dropout'
  | 'curveProbes'
  | 'centralBatch'
  | 'dpNoiseMultiplier'
> & { model: ModelChoice };

export interface JobFiles {
  /** The tag of one arm's jobs and curve. */
  tagOf(arm: ArmName): string;
  /** The summary of one invocation. */
  summary: string;
}

/** Whether a centralized batch differs from the recipe's, and so names jobs of its own. */
export function centralBatchOfItsOwn(batch: number | undefined): batch is number {
  return batch !== undefined && batch !== SIMCLR_RECIPE.batchSize;
}

export function jobFiles(s: JobFileSettings): JobFiles {
  // The default's tags carry no model name, so the jobs saved before --model existed still match.
  const m = s.model === 'default' ? '' : `-m${s.model}`;
  const fedTag = `b${s.budget}-l${s.labels}-${s.lowLabels}-c${s.clients}x${s.localSteps}x${s.clientBatch}-d${s.dropout}-z${s.dpNoiseMultiplier}-p${s.curveProbes}${m}`;
  // Raw pixels and random init do no training: their results depend on the probe settings only. Centralized
  // and supervised jobs do not depend on the federation's settings, so tuning those reuses them.
  const probeTag = `l${s.labels}-${s.lowLabels}`;
  const centralTag = `b${s.budget}-${probeTag}-p${s.curveProbes}${m}`;
  const cb = centralBatchOfItsOwn(s.centralBatch) ? `-cb${s.centralBatch}` : '';
  return {
    tagOf: (arm) =>
      // Raw pixels are the same whatever the model.
      arm === 'raw'
        ? probeTag
        : arm === 'random'
          ? probeTag + m
          : arm === 'central'
            ? centralTag + cb
            : arm === 'supervised'
              ? centralTag
              : fedTag,
    // A centralized batch of its own gets a summary of its own, so it does not replace the recipe's.
    summary: `summary-${fedTag}${cb}.json`,
  };
}
