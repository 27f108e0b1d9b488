import { GaussianStream } from '../../shared/privacy/gaussian';
import type { AggregateContext, AggregateInput, Strategy } from './strategy';

export interface DpOptions {
  /** C: the L2 bound every client clipped its delta to (the per-client sensitivity). */
  clipNorm: number;
  /** z: noise std on the sum is z·C. */
  noiseMultiplier: number;
  /** 32-byte key for reproducible noise (tests/simulations only); default: fresh CSPRNG key per round. */
  seed?: Uint8Array;
}

const CALLS_KEY = 'dp.calls';

/**
 * DP-FedAvg (McMahan et al. 2018) around any server optimiser:
 *   average = (Σ wᵢΔᵢ + N(0, (z·C)²·I)) / m,   m = expected cohort size.
 * The denominator is FIXED: dividing by the survivor count would make the
 * output's scale depend on who participated, which the accountant does not
 * cover. Weights must be ≤ 1 (e.g. 1 per client) so one client moves the sum
 * by at most C.
 */
export class DpStrategy implements Strategy {
  readonly name: string;
  private c: number;
  private z: number;
  private readonly seed: Uint8Array | undefined;
  // Counts noise draws so a seeded run never reuses a (round, draw) nonce,
  // even when a round number is retried; saved with the state for restarts.
  private calls = 0;

  constructor(
    readonly inner: Strategy,
    opts: DpOptions,
  ) {
    const { clipNorm, noiseMultiplier, seed } = opts;
    if (seed !== undefined && seed.length !== 32) throw new Error(`dp: seed must be 32 bytes, got ${seed.length}`);
    this.c = DpStrategy.checkClipNorm(clipNorm);
    this.z = DpStrategy.checkNoiseMultiplier(noiseMultiplier);
    this.seed = seed ? Uint8Array.from(seed) : undefined;
    this.name = `dp-${inner.name}`;
  }

  private static checkClipNorm(c: number): number {
    if (!(c > 0) || !Number.isFinite(c)) throw new Error(`dp: clipNorm must be positive and finite, got ${c}`);
    return c;
  }

  private static checkNoiseMultiplier(z: number): number {
    if (!(z >= 0) || !Number.isFinite(z)) throw new Error(`dp: noiseMultiplier must be finite and >= 0, got ${z}`);
    return z;
  }

  get noiseMultiplier(): number {
    return this.z;
  }

  /**
   * The C and z of one round (adaptive clipping moves C; the noise split and distributed DP change the
   * server's share of z). The wrapper itself is built once, when DP is switched on.
   */
  forRound(p: { clipNorm: number; noiseMultiplier: number }): this {
    this.c = DpStrategy.checkClipNorm(p.clipNorm);
    this.z = DpStrategy.checkNoiseMultiplier(p.noiseMultiplier);
    return this;
  }

  get clipNorm(): number {
    return this.c;
  }

  /** For adaptive clipping: the C clients were told to use this round. */
  setClipNorm(c: number): void {
    this.c = DpStrategy.checkClipNorm(c);
  }

  /** Std of the noise added to the SUM: z·C. */
  get noiseStd(): number {
    return this.z * this.c;
  }

  /** Std of the noise in the averaged update: z·C / m. */
  averageNoiseStd(expectedClients: number): number {
    return this.noiseStd / expectedClients;
  }

  private noiseStream(round: number): GaussianStream {
    const call = this.calls++;
    if (!this.seed) return new GaussianStream();
    const nonce = new Uint8Array(12);
    const view = new DataView(nonce.buffer);
    view.setUint32(0, round >>> 0, true);
    view.setUint32(4, Math.floor(round / 2 ** 32) >>> 0, true);
    view.setUint32(8, call >>> 0, true);
    return new GaussianStream(this.seed, nonce);
  }

  average(input: AggregateInput, ctx: AggregateContext): Float32Array {
    const { weightedSum, weightSum } = input;
    const m = ctx.expectedClients;
    if (!(m > 0) || !Number.isFinite(m)) throw new Error(`dp: expectedClients must be positive, got ${m}`);
    if (!Number.isInteger(ctx.round) || ctx.round < 0)
      throw new Error(`dp: round must be a non-negative integer, got ${ctx.round}`);
    if (weightSum > ctx.survivors * (1 + 1e-9)) {
      throw new Error(
        `dp: weight sum ${weightSum} exceeds the survivor count ${ctx.survivors}; ` +
          'client weights must be <= 1 for the noise to cover one client (sensitivity C)',
      );
    }
    const n = weightedSum.length;
    const noise = new Float64Array(n);
    this.noiseStream(ctx.round).fill(noise, this.noiseStd);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = (weightedSum[i]! + noise[i]!) / m;
    return out;
  }

  step(global: Float32Array, update: Float32Array, ctx: AggregateContext): Float32Array {
    return this.inner.step(global, update, ctx);
  }

  saveState(): Record<string, Float32Array | number> {
    const state = this.inner.saveState();
    if (CALLS_KEY in state) throw new Error(`dp: inner strategy state already uses the key ${CALLS_KEY}`);
    return { ...state, [CALLS_KEY]: this.calls };
  }

  loadState(state: Record<string, Float32Array | number>): void {
    const { [CALLS_KEY]: calls, ...rest } = state;
    if (calls !== undefined) {
      if (typeof calls !== 'number' || !Number.isInteger(calls) || calls < 0)
        throw new Error(`dp: state.${CALLS_KEY} must be a non-negative integer`);
      this.calls = calls;
    }
    this.inner.loadState(rest);
  }
}
