import { AdaptiveClipper } from '../../shared/privacy/adaptive-clip';
import { GaussianStream } from '../../shared/privacy/gaussian';
import { meanFromCentred } from '../../shared/secagg/masked-vector-layout';
import type { CoordinatorStatus } from '../../shared/protocol/admin';
import type { RoundConfig } from '../../shared/protocol/round-config';
import type { Registry } from '../registry/registry';
import { DpStrategy } from '../strategies/dp';
import type { Strategy } from '../strategies/strategy';
import { planDpRound, realisedNoiseMultiplier, type DpRoundPlan } from './dp-round';
import { PrivacyBudget } from './privacy-budget';

/** The DP parameters one round runs under (absent when DP is off). */
export interface RoundDp {
  q: number;
  z: number;
  clipNorm: number;
  delta: number;
  mode: 'central' | 'distributed';
  /** The DP wrapper composed when DP was switched on; the round keeps it even if the config changes. */
  strategy: DpStrategy;
}

export type BudgetGate = { ok: true; dp?: RoundDp } | { ok: false; reason: string; newlyExhausted: boolean };

/**
 * Owns everything privacy decides per round: the budget gate (RDP accountant), the DP wrapper (composed once per
 * privacy config), the adaptive clipper and the per-round noise plan. The coordinator asks; it does no DP math.
 */
export class PrivacyPolicy {
  private readonly budget: PrivacyBudget;
  private exhausted?: string;
  private clipper?: AdaptiveClipper;
  private dpStrategy?: DpStrategy;
  private cfg!: RoundConfig;

  constructor(
    private readonly registry: Registry,
    private readonly strategy: Strategy,
    cfg: RoundConfig,
  ) {
    this.budget = new PrivacyBudget(registry);
    this.configure(cfg);
  }

  /** A new round config: DP is (re)composed, and the budget is re-evaluated against the new settings. */
  configure(cfg: RoundConfig): void {
    this.cfg = cfg;
    const pv = cfg.privacy;
    if (!pv.enabled) this.dpStrategy = undefined;
    else
      this.dpStrategy ??= new DpStrategy(this.strategy, {
        clipNorm: cfg.secureAggregation.clipNorm,
        noiseMultiplier: pv.noiseMultiplier,
      });
    this.exhausted = undefined;
  }

  /** Whether one more round fits the budget; under DP, the round's parameters. */
  gate(): BudgetGate {
    const pv = this.cfg.privacy;
    if (!pv.enabled || this.cfg.cohort.mode !== 'poisson') return { ok: true };
    const delta = this.budget.delta(pv);
    const q = this.cfg.cohort.rate;
    if (this.exhausted) return { ok: false, reason: this.exhausted, newlyExhausted: false };
    const next = this.budget.epsilonAfterNext(q, pv.noiseMultiplier, delta);
    if (next.epsilon > pv.targetEpsilon) {
      this.exhausted =
        `privacy budget reached: one more round would bring ε to ${next.epsilon.toFixed(3)} > target ${pv.targetEpsilon} ` +
        `(δ = ${delta.toExponential(2)}, q = ${q}, z = ${pv.noiseMultiplier})`;
      return { ok: false, reason: this.exhausted, newlyExhausted: true };
    }
    if (!this.dpStrategy) throw new Error('DP is on but no DP wrapper was composed');
    return {
      ok: true,
      dp: {
        q,
        z: pv.noiseMultiplier,
        clipNorm: this.cfg.secureAggregation.clipNorm,
        delta,
        mode: pv.mode,
        strategy: this.dpStrategy,
      },
    };
  }

  /** Poisson sampling drew too few clients: the draw still counts (conservatively) as a step. */
  recordEmptyDraw(dp: RoundDp): void {
    this.budget.record(dp.q, dp.z);
  }

  /** A noised sum was unmasked: one step at the multiplier the survivors actually produced. */
  recordUnmasked(dp: RoundDp, plan: DpRoundPlan, survivors: number): number {
    const z = realisedNoiseMultiplier(plan, survivors);
    this.budget.record(dp.q, z);
    return z;
  }

  /** The adaptive clipper when enabled (its C survives restarts in the registry). */
  adaptiveClipper(): AdaptiveClipper | undefined {
    const sa = this.cfg.secureAggregation;
    if (!sa.enabled || !sa.adaptiveClip.enabled) return undefined;
    if (!this.clipper) {
      const stored = this.registry.getSetting('adaptive_clip');
      this.clipper = stored
        ? AdaptiveClipper.fromJSON(JSON.parse(stored))
        : new AdaptiveClipper({
            // σ_b is decided per round (0 without DP, m/20 with it), so DP can be turned on later.
            initialClipNorm: sa.clipNorm,
            targetQuantile: sa.adaptiveClip.targetQuantile,
            learningRate: sa.adaptiveClip.learningRate,
          });
    }
    return this.clipper;
  }

  /** How z is split between the delta, the clip bit and the loss this round (throws when it cannot be). */
  planRound(dp: RoundDp, clipNorm: number, expectedClients: number): DpRoundPlan {
    dp.clipNorm = clipNorm;
    const clipper = this.adaptiveClipper();
    return planDpRound({
      z: dp.z,
      mode: dp.mode,
      clipNorm,
      expectedClients,
      ...(clipper ? { bitNoiseStd: clipper.bitNoiseStd(expectedClients) } : {}),
      ...(this.cfg.privacy.reportLoss ? { lossMax: this.cfg.secureAggregation.lossMax } : {}),
    });
  }

  /** The averaging step of a round: the DP wrapper set to this round's C and server-side z, or the plain strategy. */
  averager(dp: RoundDp | undefined, plan: DpRoundPlan | undefined): Strategy {
    if (!dp) return this.strategy;
    if (!plan) throw new Error('a DP round has no noise plan');
    return dp.strategy.forRound({
      clipNorm: dp.clipNorm,
      noiseMultiplier: plan.mode === 'distributed' ? 0 : plan.deltaMultiplier,
    });
  }

  /** Moves C from the round's centred "not clipped" sum; persisted so C survives restarts. */
  updateClip(
    centredBitSum: number,
    expectedClients: number,
    serverBitNoiseStd: number,
  ): ReturnType<AdaptiveClipper['update']> | undefined {
    const clipper = this.adaptiveClipper();
    if (!clipper) return undefined;
    const u = clipper.update(centredBitSum, expectedClients, serverBitNoiseStd);
    this.registry.setSetting('adaptive_clip', JSON.stringify(clipper.toJSON()));
    return u;
  }

  /**
   * The round's mean loss from its centred masked sum. Plain secure mode: the exact mean of the clipped losses.
   * DP: only when budgeted, noised (by the server in central mode) and over the fixed denominator, like the deltas.
   */
  meanLoss(centredLossSum: number, plan: DpRoundPlan | undefined, survivors: number, expectedClients: number): number {
    const half = this.cfg.secureAggregation.lossMax / 2;
    if (!plan) return meanFromCentred(centredLossSum, survivors, half);
    if (plan.lossNoiseStd === undefined) return NaN;
    const noise = plan.mode === 'central' ? plan.lossNoiseStd * new GaussianStream().next() : 0;
    return meanFromCentred(centredLossSum + noise, expectedClients, half);
  }

  epsilon(delta: number): number {
    return this.budget.epsilon(delta);
  }

  status(): NonNullable<CoordinatorStatus['privacy']> {
    const delta = this.budget.delta(this.cfg.privacy);
    return {
      epsilon: this.budget.epsilon(delta),
      target: this.cfg.privacy.targetEpsilon,
      delta,
      steps: this.budget.steps,
      ...(this.exhausted ? { exhausted: this.exhausted } : {}),
    };
  }
}
