import { inThreadUnmasker, type Unmasker } from '../../../shared/secagg/server';
import { planCost } from '../../../shared/secagg/unmask-plan';
import { inThreadReconstructor, type Reconstructor } from '../../../shared/secagg/reconstruct-jobs';
import { sharedUnmaskPool } from '../unmask-pool';

// Where a secure round's unmasking runs: on this thread when it is small, on the worker pool when it is not.

/** Above this much PRG output (words) the unmask runs on the worker pool; below it, a worker round trip costs more than it saves. */
const PARALLEL_UNMASK_WORDS = 4_000_000;

export const unmaskerFor: Unmasker = (sumOfY, plan) =>
  planCost(plan) * sumOfY.length >= PARALLEL_UNMASK_WORDS
    ? sharedUnmaskPool().unmask(sumOfY, plan)
    : inThreadUnmasker(sumOfY, plan);

/** Reconstruction with large thresholds is ~6 ms per secret at t = 107: many of them go to the pool too. */
const PARALLEL_RECONSTRUCT_JOBS = 64;

export const reconstructorFor: Reconstructor = (jobs) =>
  jobs.length >= PARALLEL_RECONSTRUCT_JOBS ? sharedUnmaskPool().reconstruct(jobs) : inThreadReconstructor(jobs);
