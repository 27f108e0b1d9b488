/**
 * Linear warm-up then cosine decay (Goyal et al. 2017 warm-up; Loshchilov & Hutter
 * 2017 cosine, no restarts), as SimCLR uses. Step t counts from 0.
 */
export interface WarmupCosine {
  peak: number;
  totalSteps: number;
  warmupSteps: number;
  /** Final learning rate as a fraction of the peak. */
  finalFraction: number;
}

export function warmupCosineLr(t: number, s: WarmupCosine): number {
  if (!(s.totalSteps >= 1) || s.warmupSteps < 0 || s.warmupSteps > s.totalSteps)
    throw new Error('warmupCosineLr: need 0 ≤ warmupSteps ≤ totalSteps, totalSteps ≥ 1');
  const step = Math.min(Math.max(t, 0), s.totalSteps - 1);
  if (step < s.warmupSteps) return (s.peak * (step + 1)) / s.warmupSteps;
  const span = Math.max(1, s.totalSteps - s.warmupSteps - 1);
  const progress = Math.min(1, (step - s.warmupSteps) / span);
  const floor = s.peak * s.finalFraction;
  return floor + (s.peak - floor) * 0.5 * (1 + Math.cos(Math.PI * progress));
}
