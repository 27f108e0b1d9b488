import { randomInt } from 'node:crypto';
import type { Cohort } from '../../shared/protocol/round-config';

/**
 * Cohort selection. Fixed size K draws K distinct clients uniformly; Poisson
 * includes each eligible client independently with probability q (the sampling
 * a DP accountant for the sampled Gaussian mechanism assumes).
 */
export function selectCohort<T>(eligible: T[], cohort: Cohort, uniform: () => number = cryptoUniform): T[] {
  if (cohort.mode === 'fixed') {
    const pool = [...eligible];
    const k = Math.min(cohort.size, pool.length);
    for (let i = 0; i < k; i++) {
      const j = i + Math.floor(uniform() * (pool.length - i));
      [pool[i], pool[j]] = [pool[j]!, pool[i]!];
    }
    return pool.slice(0, k);
  }
  return eligible.filter(() => uniform() < cohort.rate);
}

export function cryptoUniform(): number {
  return randomInt(0, 2 ** 48 - 1) / 2 ** 48;
}

export function describeSampling(cohort: Cohort): string {
  return cohort.mode === 'fixed' ? `fixed:${cohort.size}` : `poisson:${cohort.rate}`;
}
