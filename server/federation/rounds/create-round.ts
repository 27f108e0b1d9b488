import type { PlainUpdate } from '../plain-aggregate';
import type { RoundPlan, RoundRun } from '../round-run';
import { PlainRound } from './plain-round';
import type { ReceiveHook, Round, RoundContext } from './round';
import { SecureRound } from './secure-round';

/**
 * The round the config asks for: SecureRound when secure aggregation is on, else PlainRound. Under DP clients use
 * uniform weights (numExamples stays on the device) and report their loss only when it is budgeted; distributed DP
 * gives each of the q·N expected clients its 1/(q·N) share of every variance. Throws when SecAgg+ cannot run.
 */
export function createRound(
  ctx: RoundContext,
  plan: RoundPlan,
  extras: {
    adaptiveClip: boolean;
    onReceive?: ReceiveHook | undefined;
    onDelivered?: (clientId: string, update: PlainUpdate) => void;
  },
): Round {
  if (!ctx.config.secureAggregation.enabled)
    return new PlainRound({ ...ctx, ...(extras.onDelivered ? { onDelivered: extras.onDelivered } : {}) });
  const dp = plan.dp;
  return new SecureRound({
    ...ctx,
    clipNorm: plan.clipNorm,
    ...(extras.adaptiveClip ? { reportUnclipped: true } : {}),
    ...(dp ? { uniformWeights: true } : {}),
    ...(!dp || plan.dpPlan?.lossNoiseStd !== undefined ? { reportLoss: true } : {}),
    ...(ctx.config.aggregation === 'divergence'
      ? { divergenceLayers: ctx.model.layout.entries.map((e) => e.size) }
      : {}),
    ...(extras.onReceive ? { onReceive: extras.onReceive } : {}),
    ...(plan.dpPlan?.client ?? {}),
  });
}

/**
 * Creates the run's round and starts it (round:start goes out). Returns why it could not, after aborting a
 * half-started round; the scheduler then fails the round from Select through the phase table.
 */
export function launchRound(
  run: RoundRun,
  ctx: RoundContext,
  extras: Parameters<typeof createRound>[2],
): Round | string {
  try {
    const round = createRound(ctx, run.plan, extras);
    run.round = round; // before start: its first phase change already reports this round's status
    round.start();
    return round;
  } catch (err) {
    const why = (err as Error).message;
    run.round?.abort(why);
    return ctx.config.secureAggregation.enabled ? `secure aggregation cannot run: ${why}` : why;
  }
}
