import type { Logger } from 'pino';
import { RoundOutcome } from '../../shared/protocol/phases';
import type { RoundConfig } from '../../shared/protocol/round-config';
import type { Registry } from '../registry/registry';
import type { Strategy } from '../strategies/strategy';
import { type GlobalModel, configHash } from '../model/global-model';
import { checkSecureAggregate } from './aggregate-guard';
import type { PrivacyPolicy } from './privacy-policy';
import type { RoundPlan, RoundRun } from './round-run';
import type { RoundSum } from './rounds/round';
import { guardInput } from './rounds/secure-sum';
import { layerNormalizedSum } from '../../shared/federation/divergence-weights';
import type { VersionStore } from './version-store';

export interface SettleDeps {
  registry: Registry;
  strategy: Strategy;
  privacy: PrivacyPolicy;
  versions: VersionStore;
  config: RoundConfig;
  log: Logger;
}

/** What the round's bookkeeping adds to the registry row. */
export type RoundTraffic = ReturnType<RoundRun['traffic']>;

export type Settled = { ok: true; model: GlobalModel; meanLoss: number | null } | { ok: false; reason: string };

/**
 * Hands a round's sum on: the privacy step (as soon as a noised sum was unmasked, even if the round then fails),
 * the survivor threshold, the aggregate guard, the averaging step (DP noise), the strategy step, one checkpoint +
 * registry transaction in the VersionStore, and the adaptive clip. Never throws: a failure is a reason.
 */
export async function settleRound(
  deps: SettleDeps,
  plan: RoundPlan,
  model: GlobalModel,
  sum: RoundSum,
  traffic: RoundTraffic,
): Promise<Settled> {
  const { privacy, config, log } = deps;
  const n = sum.survivors.length;
  let recordedZ: number | undefined;
  if (sum.kind === 'secure' && plan.dp && plan.dpPlan) {
    // Distributed DP: the noise actually in the sum depends on how many clients survived.
    recordedZ = privacy.recordUnmasked(plan.dp, plan.dpPlan, n);
    log.info({ roundId: plan.id, survivors: n, z: recordedZ }, 'privacy step recorded');
  }
  if (sum.kind === 'secure') {
    if (n < config.minSurvivors)
      return { ok: false, reason: `${n} of ${plan.cohortSize} survived; at least ${config.minSurvivors} needed` };
    // The server sees only the sum: check its bounds before it can become a version (aggregate-guard.ts).
    const guard = checkSecureAggregate(guardInput(sum.info, sum, n));
    if (!guard.ok) return { ok: false, reason: `aggregate rejected: ${guard.reason}` };
  }
  try {
    const dpPlan = plan.dpPlan;
    const meanLoss =
      sum.kind === 'plain'
        ? sum.meanLoss
        : sum.centredLossSum === undefined
          ? NaN
          : privacy.meanLoss(sum.centredLossSum, dpPlan, n, plan.expectedClients);
    const next = await commit(deps, plan, model, layerNormalized(sum), traffic, meanLoss, recordedZ);
    // Σ(b − ½) arrives centred; central DP: the clipper adds σ_b; distributed: the clients did.
    const u =
      sum.kind !== 'secure' || sum.centredBitSum === undefined
        ? undefined
        : privacy.updateClip(
            sum.centredBitSum,
            plan.expectedClients,
            dpPlan?.mode === 'central' ? dpPlan.bitNoiseStd! : 0,
          );
    if (u)
      log.info(
        { roundId: plan.id, unclippedFraction: u.unclippedFraction, from: u.previousClipNorm, to: u.clipNorm },
        'adaptive clip updated',
      );
    return next;
  } catch (err) {
    log.error({ err, roundId: plan.id }, 'aggregation failed');
    return { ok: false, reason: `aggregation failed: ${(err as Error).message}` };
  }
}

/**
 * Divergence-aware rounds: S_ℓ·W/A_ℓ per layer, so the averager's ÷W gives S_ℓ/A_ℓ (divergence-weights.ts). Throws
 * (failing the round) when a layer's weight sum is outside what the survivors could have sent.
 */
function layerNormalized(sum: RoundSum): RoundSum {
  if (sum.kind !== 'secure' || !sum.layerWeightSums || !sum.info.divergenceLayers) return sum;
  const layers = sum.info.divergenceLayers;
  return {
    ...sum,
    weightedSum: layerNormalizedSum(sum.weightedSum, sum.layerWeightSums, layers, sum.weightSum, 0.01).sum,
  };
}

/** Strategy step on the aggregated sum, then checkpoint + optimiser state + registry rows in one commit. */
async function commit(
  deps: SettleDeps,
  plan: RoundPlan,
  model: GlobalModel,
  sum: RoundSum,
  traffic: RoundTraffic,
  loss: number,
  recordedZ: number | undefined,
): Promise<Settled> {
  const { registry, strategy, privacy, versions, config } = deps;
  const survivors = sum.survivors;
  const ctx = { round: plan.id, survivors: survivors.length, expectedClients: plan.expectedClients };
  // Under DP the average gets N(0, (z·C)²) noise on the sum and the fixed denominator.
  // (Distributed DP: the clients already added the noise; the server keeps the fixed denominator.)
  const update = privacy.averager(plan.dp, plan.dpPlan).average(sum, ctx);
  const next = strategy.step(model.weights, update, ctx);
  const epsilon = plan.dp ? privacy.epsilon(plan.dp.delta) : (registry.getVersion(plan.baseVersion)?.epsilon ?? null);
  const meanLoss = Number.isFinite(loss) ? loss : null;
  // The files are written off the event loop; the round stays in Aggregate (no rollback, no new round) until its
  // version is committed. A failed write fails the round and keeps the old version.
  const committing = versions.commitRoundAsync(
    plan.id,
    model,
    next,
    {
      parent: plan.baseVersion,
      round_id: plan.id,
      participants: plan.cohortSize,
      survivors: survivors.length,
      examples: sum.kind === 'plain' ? sum.examples : 0,
      mean_loss: meanLoss,
      config_hash: configHash(config),
      epsilon,
      clip_norm: sum.kind === 'secure' ? plan.clipNorm : null,
      noise_multiplier: recordedZ ?? plan.dp?.z ?? null,
    },
    { survivors: survivors.length, meanLoss, aggregateMs: performance.now() - sum.startedAt, ...traffic },
    survivors,
  );
  try {
    return { ok: true, model: await committing, meanLoss };
  } catch (err) {
    return { ok: false, reason: `commit failed: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/** Records how a round ended: a failed round's row and reason (the model is unchanged), or a log line. */
export function recordRoundEnd(
  deps: Pick<SettleDeps, 'registry' | 'log'>,
  run: RoundRun,
  outcome: RoundOutcome,
  reason?: string,
  newVersion?: number,
): void {
  const id = run.plan.id;
  if (outcome === RoundOutcome.Committed) {
    deps.log.info({ roundId: id, newVersion, survivors: run.survivors }, 'round committed');
    return;
  }
  const stats = { survivors: run.survivors, dropouts: run.dropouts, bytesUp: run.bytesUp, bytesDown: run.bytesDown };
  deps.registry.failRound(id, RoundOutcome.Failed, reason ?? 'failed', stats);
  deps.log.warn({ roundId: id, reason }, 'round failed; global model unchanged');
}
