import { SecAggClient } from '../secagg/client';
import { encodeWeightedUpdate } from '../secagg/quantize';
import type { RosterMsg, RoutedSharesMsg, UnmaskRequestMsg } from '../secagg/messages';
import { clipToNorm } from '../privacy/clip';
import { addGaussianNoise } from '../privacy/gaussian';
import type { SecAggRoundInfo } from '../protocol/secagg-messages';
import type { LocalRoundResult } from './local-round';

/** Turns ArrayBuffers (browser attachments) into Uint8Arrays, recursively. */
export function reviveBinary<T>(value: T): T {
  if (value instanceof ArrayBuffer) return new Uint8Array(value) as T;
  if (ArrayBuffer.isView(value) || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(reviveBinary) as T;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, reviveBinary(v)])) as T;
}

/**
 * Clip to L2 ≤ C, weight by capped example count, quantize into Z_2^32 (weight as the
 * last coordinate). Under distributed DP, Gaussian noise is added to w·clip(Δ) first.
 */
export function encodeForSecAgg(result: LocalRoundResult, info: SecAggRoundInfo): { x: Uint32Array; norm: number; clipped: boolean } {
  const { clipped, norm, wasClipped } = clipToNorm(result.delta, info.clipNorm);
  const weight = Math.min(result.numExamples, info.weightCap) / info.weightCap;
  const cfg = { clipNorm: info.clipNorm, bits: info.bits };
  /** One [0,1] value on the weight scale (a 1-word encoding). */
  const scalar = (v: number) => encodeWeightedUpdate(new Float32Array(0), v, cfg)[0]!;
  let x: Uint32Array;
  if (!info.clientNoiseStd) x = encodeWeightedUpdate(clipped, weight, cfg);
  else {
    const noised = addGaussianNoise(clipped.map((v) => v * weight), info.clientNoiseStd);
    // Already weighted: encode at weight 1, then put the real weight in the last coordinate.
    x = encodeWeightedUpdate(noised, 1, cfg);
    x[x.length - 1] = scalar(weight);
  }
  if (info.reportUnclipped) {
    const withBit = new Uint32Array(x.length + 1);
    withBit.set(x);
    withBit[x.length] = scalar(wasClipped ? 0 : 1);
    x = withBit;
  }
  return { x, norm, clipped: wasClipped };
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
  private maskedSent = false;

  constructor(readonly roundId: number, readonly clientId: string, readonly info: SecAggRoundInfo, vectorLength: number) {
    this.sa = new SecAggClient({ id: clientId, round: roundId, sessionId: info.sessionId, threshold: info.threshold, vectorLength });
  }

  advertise() {
    return this.sa.advertise();
  }

  shareKeys(roster: RosterMsg) {
    return this.sa.shareKeys(reviveBinary(roster));
  }

  receiveShares(routed: RoutedSharesMsg): void {
    this.sa.receiveShares(reviveBinary(routed));
    this.routed = true;
  }

  setTrained(result: LocalRoundResult): void {
    this.trained = result;
  }

  /** The masked-input message when both prerequisites are met (once), else undefined. */
  maybeMaskedInput(): { msg: ReturnType<SecAggClient['maskedInput']>; result: LocalRoundResult; clipped: boolean } | undefined {
    if (this.maskedSent || !this.routed || !this.trained) return undefined;
    this.maskedSent = true;
    const { x, clipped } = encodeForSecAgg(this.trained, this.info);
    return { msg: this.sa.maskedInput(x), result: this.trained, clipped };
  }

  unmask(req: UnmaskRequestMsg) {
    return this.sa.unmask(reviveBinary(req));
  }
}
