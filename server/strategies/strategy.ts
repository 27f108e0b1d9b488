/**
 * Server-side aggregation strategies, pluggable as in Flower. The server only
 * ever sees the SUM of the clients' weighted deltas (secure aggregation), so a
 * strategy works from that sum:
 *   1. `average` turns Σ wᵢ·Δᵢ and Σ wᵢ into one update (FedAvg: a weighted mean;
 *      the DP wrapper: noise + a fixed denominator);
 *   2. `step` applies it to the global weights (FedAvg: server learning rate;
 *      FedAdam: adaptive server optimiser).
 */
export interface AggregateContext {
  round: number;
  /** Clients whose inputs are in the sum. */
  survivors: number;
  /** Expected cohort size (q·N under Poisson sampling, or K). */
  expectedClients: number;
}

export interface AggregateInput {
  /** Σᵢ wᵢ·Δᵢ over the survivors, as float. */
  weightedSum: Float32Array;
  /** Σᵢ wᵢ over the survivors. */
  weightSum: number;
}

export interface Strategy {
  readonly name: string;
  average(input: AggregateInput, ctx: AggregateContext): Float32Array;
  step(global: Float32Array, update: Float32Array, ctx: AggregateContext): Float32Array;
  /** Optimiser state, for checkpoints (empty for stateless strategies). */
  saveState(): Record<string, Float32Array | number>;
  loadState(state: Record<string, Float32Array | number>): void;
}
