import { inThreadUnmasker, type Unmasker } from '../../../shared/secagg/server';
import { planCost } from '../../../shared/secagg/unmask-plan';
import { inThreadReconstructor, type Reconstructor } from '../../../shared/secagg/reconstruct-jobs';
import { sharedUnmaskPool } from '../unmask-pool';

// Where a secure round's unmasking runs: on this thread when it is small, on the worker pool when it is not.

/** Above this much PRG output (words) the unmask runs on the worker pool; below it, a worker round trip costs more than it saves. */
const PARALLEL_UNMASK_WORDS = 4_000_000;

/**
 * Each dropped client costs one X25519 agreement per surviving neighbour: 1–2 ms each in pure JS on this thread
 * (bench:load profile: 900 of them held the event loop 1.7 s with the tiny model, whose PRG output stays under the
 * word threshold). The pool's workers use OpenSSL.
 */
const PARALLEL_UNMASK_AGREEMENTS = 24;

export const unmaskerFor: Unmasker = (sumOfY, plan) =>
  planCost(plan) * sumOfY.length >= PARALLEL_UNMASK_WORDS ||
  planCost(plan) - plan.selfSeeds.length >= PARALLEL_UNMASK_AGREEMENTS
    ? sharedUnmaskPool().unmask(sumOfY, plan)
    : inThreadUnmasker(sumOfY, plan);

/** Reconstruction with large thresholds is ~6 ms per secret at t = 107: many of them go to the pool too. */
const PARALLEL_RECONSTRUCT_JOBS = 64;

/** In-thread reconstruction cost, in ms: ~6 ms per secret at t = 107, growing as t² (Lagrange over t shares). */
const reconstructMs = (jobs: Parameters<Reconstructor>[0]) =>
  jobs.reduce((a, j) => a + 6 * (j.threshold / 107) ** 2, 0);

export const reconstructorFor: Reconstructor = (jobs) =>
  jobs.length >= PARALLEL_RECONSTRUCT_JOBS || reconstructMs(jobs) >= 40
    ? sharedUnmaskPool().reconstruct(jobs)
    : inThreadReconstructor(jobs);
