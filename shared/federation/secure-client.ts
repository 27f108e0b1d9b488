import { SecAggClient } from '../secagg/client';
import type { RosterMsg, RoutedSharesMsg, UnmaskRequestMsg } from '../secagg/messages';
import { encodeMaskedVector, type NoiseSource } from '../secagg/masked-vector-layout';
import { clipToNorm } from '../privacy/clip';
import { GaussianStream } from '../privacy/gaussian';
import type { SecAggRoundInfo } from '../protocol/secagg-messages';
import { encodingParamsForRound, layoutForRound } from '../protocol/round-layout';
import type { LocalRoundResult } from './local-round';
import { layerDivergenceWeights, scaleByLayer } from './divergence-weights';

/**
 * Clip to L2 ≤ C and encode the round's masked-vector layout (shared/secagg/masked-vector-layout.ts):
 * the delta (× the capped example weight in plain secure mode, uniform weight 1 under DP),
 * the centred "not clipped" bit and the clipped loss when the round asks for them, and under
 * distributed DP this client's share of the Gaussian noise on every coordinate.
 * Divergence-aware rounds: each layer's delta is first scaled by this client's a_ℓ (computed
 * against `global`), and clipped AFTER scaling, so the clip C still bounds the contribution.
 */
export function encodeForSecAgg(
  result: LocalRoundResult,
  info: SecAggRoundInfo,
  noise: NoiseSource = (out, std) => new GaussianStream().fill(out, std),
  global?: Float32Array,
): { x: Uint32Array; norm: number; clipped: boolean; clamped: number; layerWeights?: Float64Array } {
  let delta = result.delta;
  let layerWeights: Float64Array | undefined;
  if (info.divergenceLayers) {
    if (!global) throw new Error('divergence-aware round: the global weights are needed to weight the layers');
    layerWeights = layerDivergenceWeights(global, delta, info.divergenceLayers);
    delta = scaleByLayer(delta, layerWeights, info.divergenceLayers);
  }
  const { clipped, norm, wasClipped } = clipToNorm(delta, info.clipNorm);
  const layout = layoutForRound(info, result.delta.length);
  const weight = info.uniformWeights ? 1 : Math.min(result.numExamples, info.weightCap) / info.weightCap;
  const { x, clamped } = encodeMaskedVector(
    layout,
    {
      delta: clipped,
      weight,
      unclipped: wasClipped ? 0 : 1,
      meanLoss: result.meanLoss,
      ...(layout.layers ? { layerWeights } : {}),
    },
    encodingParamsForRound(info),
    undefined,
    noise,
  );
  return { x, norm, clipped: wasClipped, clamped, ...(layerWeights ? { layerWeights } : {}) };
}

/**
 * The client's state for one secure round: keys are advertised at once, shares
 * when the roster arrives, and the masked input once both the routed shares and
 * the local training result are in.
 */
export class SecureClientRound {
  readonly sa: SecAggClient;
  private routed = false;
  private trained?: LocalRoundResult;
  private global?: Float32Array;
  private maskedSent = false;

  /** `d`: the model's parameter count; the vector length follows from the round's layout. */
  constructor(
    readonly roundId: number,
    readonly clientId: string,
    readonly info: SecAggRoundInfo,
    d: number,
  ) {
    this.sa = new SecAggClient({
      id: clientId,
      round: roundId,
      sessionId: info.sessionId,
      threshold: info.threshold,
      degree: info.degree,
      vectorLength: layoutForRound(info, d).length,
      ...(info.cohortSize !== undefined &&
      info.dropoutRate !== undefined &&
      info.corruptFraction !== undefined &&
      info.failureTarget !== undefined
        ? {
            announced: {
              n: info.cohortSize,
              dropoutRate: info.dropoutRate,
              corruptFraction: info.corruptFraction,
              failureTarget: info.failureTarget,
            },
          }
        : {}),
    });
  }

  advertise() {
    return this.sa.advertise();
  }

  shareKeys(roster: RosterMsg) {
    return this.sa.shareKeys(roster);
  }

  receiveShares(routed: RoutedSharesMsg): void {
    this.sa.receiveShares(routed);
    this.routed = true;
  }

  /** `global`: the round's global weights (divergence-aware rounds weight layers against them). */
  setTrained(result: LocalRoundResult, global?: Float32Array): void {
    this.trained = result;
    this.global = global;
  }

  /** The masked-input message when both prerequisites are met (once), else undefined. */
  async maybeMaskedInput(): Promise<
    | {
        msg: Awaited<ReturnType<SecAggClient['maskedInput']>>;
        result: LocalRoundResult;
        clipped: boolean;
        clamped: number;
      }
    | undefined
  > {
    if (this.maskedSent || !this.routed || !this.trained) return undefined;
    // Set before the await: routed shares and the training result may both arrive while masking runs.
    this.maskedSent = true;
    const trained = this.trained;
    const { x, clipped, clamped } = encodeForSecAgg(trained, this.info, undefined, this.global);
    return { msg: await this.sa.maskedInput(x), result: trained, clipped, clamped };
  }

  unmask(req: UnmaskRequestMsg) {
    return this.sa.unmask(req);
  }
}
