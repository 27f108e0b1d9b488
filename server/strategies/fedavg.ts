import type { AggregateContext, AggregateInput, Strategy } from './strategy';

/** Weighted mean of the survivors' deltas: Σ wᵢΔᵢ / Σ wᵢ. */
export function weightedMean(input: AggregateInput): Float32Array {
  const { weightedSum, weightSum } = input;
  if (!(weightSum > 0) || !Number.isFinite(weightSum))
    throw new Error(`fedavg: weight sum must be positive, got ${weightSum}`);
  const out = new Float32Array(weightedSum.length);
  for (let i = 0; i < out.length; i++) out[i] = weightedSum[i]! / weightSum;
  return out;
}

/** global + lr·update, checking the shapes agree. */
export function sgdStep(global: Float32Array, update: Float32Array, lr: number): Float32Array {
  if (global.length !== update.length)
    throw new Error(`strategy: update has ${update.length} values, global model has ${global.length}`);
  const out = new Float32Array(global.length);
  for (let i = 0; i < out.length; i++) out[i] = global[i]! + lr * update[i]!;
  return out;
}

export interface FedAvgOptions {
  /** Server learning rate η_s: x ← x + η_s·Δ̄ (1 = plain FedAvg). */
  serverLearningRate?: number;
}

/** FedAvg (McMahan et al. 2017) with a server learning rate. Stateless. */
export class FedAvg implements Strategy {
  readonly name = 'fedavg';
  readonly serverLearningRate: number;

  constructor(opts: FedAvgOptions = {}) {
    const { serverLearningRate = 1 } = opts;
    if (!(serverLearningRate > 0) || !Number.isFinite(serverLearningRate)) {
      throw new Error(`fedavg: serverLearningRate must be positive, got ${serverLearningRate}`);
    }
    this.serverLearningRate = serverLearningRate;
  }

  average(input: AggregateInput, _ctx: AggregateContext): Float32Array {
    return weightedMean(input);
  }

  step(global: Float32Array, update: Float32Array, _ctx: AggregateContext): Float32Array {
    return sgdStep(global, update, this.serverLearningRate);
  }

  saveState(): Record<string, Float32Array | number> {
    return {};
  }

  loadState(_state: Record<string, Float32Array | number>): void {}
}
