import { RoundPhase, type RoundOutcome } from '../../shared/protocol/phases';
import type { RoundConfig } from '../../shared/protocol/round-config';
import type { Registry } from '../registry/registry';
import type { DpRoundPlan } from './dp-round';
import { describeSampling } from './sampling';
import type { PrivacyPolicy, RoundDp } from './privacy-policy';
import type { Round, RoundEndedEvent } from './rounds/round';

/** What the scheduler decided for a round before it started. */
export interface RoundPlan {
  id: number;
  baseVersion: number;
  cohortSize: number;
  /** DP-FedAvg's fixed denominator: q·N under Poisson sampling, K for a fixed cohort. */
  expectedClients: number;
  /** The clip clients use this round (adaptive clipping moves it between rounds). */
  clipNorm: number;
  /** Set when the round runs under differential privacy (with the DP wrapper it started with). */
  dp?: RoundDp;
  /** Under DP: how z is split between the delta, the clip bit and the loss, and who adds the noise. */
  dpPlan?: DpRoundPlan;
}

/** The smallest cohort a round can run with: minSurvivors, and 3 for SecAgg+ (Shamir threshold ≥ 2). */
export function minCohortSize(cfg: RoundConfig): number {
  return Math.max(cfg.minSurvivors, cfg.secureAggregation.enabled ? 3 : 1);
}

/** DP-FedAvg's fixed denominator for a draw of `drawn` from `eligible` clients: q·N (Poisson) or K (fixed). */
export function expectedClients(cohort: RoundConfig['cohort'], eligible: number, drawn: number): number {
  return cohort.mode === 'poisson' ? cohort.rate * eligible : drawn;
}

/** Waiting after a cohort draw too small to run: at least 500 ms, so an empty pool is not polled in a loop. */
export function redrawDelayMs(cfg: RoundConfig): number {
  return Math.max(500, cfg.roundIntervalMs);
}

/**
 * Registers the drawn cohort's round and plans it: its clip (adaptive clipping's current C), its fixed
 * denominator and, under DP, its noise split. `failure` says why the noise cannot be split (the round then
 * fails before it trains).
 */
export function openRun(a: {
  registry: Registry;
  privacy: PrivacyPolicy;
  cfg: RoundConfig;
  baseVersion: number;
  cohort: string[];
  eligible: number;
  dp: RoundDp | undefined;
}): { run: RoundRun; adaptiveClip: boolean; failure?: string } {
  const { cfg, cohort, dp } = a;
  const sampling = describeSampling(cfg.cohort);
  const id = a.registry.startRound({ baseVersion: a.baseVersion, sampling, cohort, config: cfg });
  const clipper = a.privacy.adaptiveClipper();
  const plan: RoundPlan = {
    id,
    baseVersion: a.baseVersion,
    cohortSize: cohort.length,
    expectedClients: expectedClients(cfg.cohort, a.eligible, cohort.length),
    clipNorm: clipper?.clipNorm ?? cfg.secureAggregation.clipNorm,
    ...(dp ? { dp } : {}),
  };
  const run = new RoundRun(plan, cohort);
  try {
    if (dp) plan.dpPlan = a.privacy.planRound(dp, plan.clipNorm, plan.expectedClients);
    return { run, adaptiveClip: clipper !== undefined };
  } catch (err) {
    return { run, adaptiveClip: clipper !== undefined, failure: (err as Error).message };
  }
}

/** The scheduler's bookkeeping for the round in flight (the round object owns its phase). */
export class RoundRun {
  round?: Round;
  readonly startedAt = Date.now();
  private phaseStartedAt = this.startedAt;
  bytesUp = 0;
  bytesDown = 0;

  constructor(
    readonly plan: RoundPlan,
    readonly cohort: string[],
  ) {}

  get survivors(): number {
    return this.round?.survivors.length ?? 0;
  }

  get dropouts(): number {
    return this.round?.dropped.size ?? 0;
  }

  /** Ms since the last phase change, restarting the clock (phase-duration metrics). */
  lap(): number {
    const now = Date.now();
    const ms = now - this.phaseStartedAt;
    this.phaseStartedAt = now;
    return ms;
  }

  /** The round's part of the coordinator's status. */
  view(phase: RoundPhase): { deadline: number | null; cohort: string[]; delivered: string[]; dropped: string[] } {
    const r = this.round;
    return {
      deadline: r?.deadline && phase !== RoundPhase.Idle ? r.deadline : null,
      cohort: [...this.cohort],
      delivered: r?.survivors ?? [],
      dropped: r ? [...r.dropped] : [],
    };
  }

  traffic(): { dropouts: number; bytesUp: number; bytesDown: number } {
    return { dropouts: this.dropouts, bytesUp: this.bytesUp, bytesDown: this.bytesDown };
  }

  ended(outcome: RoundOutcome, reason?: string, newVersion?: number, meanLoss: number | null = null): RoundEndedEvent {
    return {
      roundId: this.plan.id,
      outcome,
      ...(reason ? { reason } : {}),
      ...(newVersion !== undefined ? { newVersion } : {}),
      survivors: this.survivors,
      dropouts: this.dropouts,
      durationMs: Date.now() - this.startedAt,
      meanLoss,
      bytesUp: this.bytesUp,
      bytesDown: this.bytesDown,
    };
  }
}
