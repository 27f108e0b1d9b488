import { z } from 'zod';
import { FedAdam } from './fedadam';
import { FedAvg } from './fedavg';
import type { Strategy } from './strategy';

export type { AggregateContext, AggregateInput, Strategy } from './strategy';
export { DpStrategy } from './dp';
export { FedAdam } from './fedadam';
export { FedAvg } from './fedavg';

const positive = z.number().positive().finite();

export const StrategyConfigSchema = z.discriminatedUnion('name', [
  z.strictObject({
    name: z.literal('fedavg'),
    serverLearningRate: positive.default(1),
  }),
  z.strictObject({
    name: z.literal('fedadam'),
    lr: positive.default(1e-2),
    beta1: z.number().min(0).lt(1).default(0.9),
    beta2: z.number().min(0).lt(1).default(0.99),
    tau: positive.default(1e-3),
  }),
]);
export type StrategyConfig = z.input<typeof StrategyConfigSchema>;

/**
 * Builds the server optimiser from a (validated) config. DP is not a strategy option: the coordinator wraps
 * whatever this returns in one DpStrategy when privacy is on, so noise is added once and always accounted.
 */
export function createStrategy(config: unknown): Strategy {
  const cfg = StrategyConfigSchema.parse(config);
  return cfg.name === 'fedavg'
    ? new FedAvg({ serverLearningRate: cfg.serverLearningRate })
    : new FedAdam({ lr: cfg.lr, beta1: cfg.beta1, beta2: cfg.beta2, tau: cfg.tau });
}
