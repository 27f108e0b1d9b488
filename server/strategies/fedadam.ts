import { weightedMean } from './fedavg';
import type { AggregateContext, AggregateInput, Strategy } from './strategy';

export interface FedAdamOptions {
  /** Server learning rate η. */
  lr?: number;
  beta1?: number;
  beta2?: number;
  /** τ: adaptivity / stability constant in the denominator. */
  tau?: number;
}

/**
 * FedAdam (Reddi et al. 2021, "Adaptive Federated Optimization", Alg. 2): the
 * averaged delta Δ is a pseudo-gradient (pointing downhill), so
 *   m ← β1 m + (1−β1)Δ,  v ← β2 v + (1−β2)Δ²,  x ← x + η·m/(√v + τ).
 * No bias correction, as in the paper. m starts at 0 and v at τ², the paper's
 * v₋₁ ≥ τ² (Flower starts v at 0; the difference is β2ᵗτ², negligible).
 */
export class FedAdam implements Strategy {
  readonly name = 'fedadam';
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly tau: number;
  private m: Float32Array | null = null;
  private v: Float32Array | null = null;
  private t = 0;

  constructor(opts: FedAdamOptions = {}) {
    const { lr = 1e-2, beta1 = 0.9, beta2 = 0.99, tau = 1e-3 } = opts;
    if (!(lr > 0) || !Number.isFinite(lr)) throw new Error(`fedadam: lr must be positive, got ${lr}`);
    if (!(beta1 >= 0 && beta1 < 1)) throw new Error(`fedadam: beta1 must be in [0, 1), got ${beta1}`);
    if (!(beta2 >= 0 && beta2 < 1)) throw new Error(`fedadam: beta2 must be in [0, 1), got ${beta2}`);
    if (!(tau > 0) || !Number.isFinite(tau)) throw new Error(`fedadam: tau must be positive, got ${tau}`);
    this.lr = lr;
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.tau = tau;
  }

  /** Server steps taken so far. */
  get steps(): number {
    return this.t;
  }

  average(input: AggregateInput, _ctx: AggregateContext): Float32Array {
    return weightedMean(input);
  }

  step(global: Float32Array, update: Float32Array, _ctx: AggregateContext): Float32Array {
    const n = global.length;
    if (update.length !== n) throw new Error(`fedadam: update has ${update.length} values, global model has ${n}`);
    if (this.m === null || this.v === null) {
      this.m = new Float32Array(n);
      this.v = new Float32Array(n).fill(this.tau * this.tau);
    } else if (this.m.length !== n) {
      throw new Error(`fedadam: optimiser state has ${this.m.length} values, global model has ${n}`);
    }
    const { m, v, lr, beta1, beta2, tau } = this;
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const d = update[i]!;
      const mi = beta1 * m[i]! + (1 - beta1) * d;
      const vi = beta2 * v[i]! + (1 - beta2) * d * d;
      m[i] = mi;
      v[i] = vi;
      out[i] = global[i]! + (lr * mi) / (Math.sqrt(vi) + tau);
    }
    this.t++;
    return out;
  }

  saveState(): Record<string, Float32Array | number> {
    const state: Record<string, Float32Array | number> = { t: this.t };
    if (this.m && this.v) {
      state.m = Float32Array.from(this.m);
      state.v = Float32Array.from(this.v);
    }
    return state;
  }

  loadState(state: Record<string, Float32Array | number>): void {
    const { t, m, v } = state;
    if (typeof t !== 'number' || !Number.isInteger(t) || t < 0)
      throw new Error(`fedadam: state.t must be a non-negative integer, got ${String(t)}`);
    if (m === undefined && v === undefined) {
      this.m = null;
      this.v = null;
    } else {
      if (!(m instanceof Float32Array) || !(v instanceof Float32Array))
        throw new Error('fedadam: state.m and state.v must both be Float32Arrays');
      if (m.length !== v.length) throw new Error(`fedadam: state.m has ${m.length} values but state.v has ${v.length}`);
      this.m = Float32Array.from(m);
      this.v = Float32Array.from(v);
    }
    this.t = t;
  }
}
