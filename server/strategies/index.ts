import { z } from 'zod';
import { DpStrategy } from './dp';
import { FedAdam } from './fedadam';
import { FedAvg } from './fedavg';
import type { Strategy } from './strategy';

export type { AggregateContext, AggregateInput, Strategy } from './strategy';
export { DpStrategy } from './dp';
export { FedAdam } from './fedadam';
export { FedAvg } from './fedavg';

const positive = z.number().positive().finite();

export const DpConfigSchema = z.strictObject({
  clipNorm: positive,
  noiseMultiplier: positive,
});

export const StrategyConfigSchema = z.discriminatedUnion('name', [
  z.strictObject({
    name: z.literal('fedavg'),
    serverLearningRate: positive.default(1),
    dp: DpConfigSchema.optional(),
  }),
  z.strictObject({
    name: z.literal('fedadam'),
    lr: positive.default(1e-2),
    beta1: z.number().min(0).lt(1).default(0.9),
    beta2: z.number().min(0).lt(1).default(0.99),
    tau: positive.default(1e-3),
    dp: DpConfigSchema.optional(),
  }),
]);
export type StrategyConfig = z.input<typeof StrategyConfigSchema>;

/**
 * Builds the server strategy from a (validated) config; `dp` wraps it in
 * DP-FedAvg noise with a fixed denominator. `seed` is for reproducible tests only.
 */
export function createStrategy(config: unknown, opts: { seed?: Uint8Array } = {}): Strategy {
  const cfg = StrategyConfigSchema.parse(config);
  const inner: Strategy =
    cfg.name === 'fedavg'
      ? new FedAvg({ serverLearningRate: cfg.serverLearningRate })
      : new FedAdam({ lr: cfg.lr, beta1: cfg.beta1, beta2: cfg.beta2, tau: cfg.tau });
  if (!cfg.dp) return inner;
  return new DpStrategy(inner, { ...cfg.dp, ...(opts.seed ? { seed: opts.seed } : {}) });
}
