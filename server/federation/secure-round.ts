import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { RoundPhase } from '../../shared/protocol/phases';
import type { Ack } from '../../shared/protocol/messages';
import type { RoundConfig } from '../../shared/protocol/round-config';
import {
  AdvertiseWireSchema,
  MaskedInputWireSchema,
  SECAGG_EVENTS,
  ShareKeysWireSchema,
  UnmaskWireSchema,
  type SecAggRoundInfo,
} from '../../shared/protocol/secagg-messages';
import { SecAggServer, inThreadUnmasker, type Unmasker } from '../../shared/secagg/server';
import { planCost } from '../../shared/secagg/unmask-plan';
import { inThreadReconstructor, type Reconstructor } from '../../shared/secagg/reconstruct-jobs';
import { sharedUnmaskPool } from './unmask-pool';
import { packBinary, unpackBinary, UnpackError } from '../../shared/protocol/binary-pack';
import { precheckSecureMessage, secureMessageLimits } from '../security/message-limits';
import { RoundFailed, type Result } from '../../shared/secagg/messages';
import { assertNoOverflow, maxBitsFor } from '../../shared/secagg/quantize';
import { defaultThreshold, effectiveDegree } from '../../shared/secagg/graph';
import { MAX_DEGREE, chooseSecAggParams, type SecAggParams } from '../../shared/secagg/parameters';
import { decodeMaskedSum } from '../../shared/secagg/masked-vector-layout';
import { encodingParamsForRound, layoutForRound } from '../../shared/protocol/round-layout';
import type { ClientPool } from './client-pool';
import { formatIssues } from '../../shared/protocol/issues';

export type SecureMessageKind = 'advertise' | 'shareKeys' | 'maskedInput' | 'unmask';

export interface SecureRoundResult {
  weightedSum: Float32Array;
  weightSum: number;
  survivors: string[];
  dropped: string[];
  /** Server time to reconstruct seeds, remove masks and dequantize. */
  unmaskMs: number;
  /** Adaptive clipping: Σ (b − ½) over survivors (+ the clients' noise under distributed DP). */
  centredBitSum?: number;
  /** Σ (clip(loss) − lossMax/2) over survivors (+ the clients' noise under distributed DP). */
  centredLossSum?: number;
  /** Divergence-aware rounds outside DP: Σ w·a_ℓ per layer. */
  layerWeightSums?: Float64Array;
}

/** Everything the server received in a round, for the privacy tests' hook. */
export type ReceiveHook = (clientId: string, kind: SecureMessageKind, payload: unknown) => void;

const SCHEMAS = {
  advertise: AdvertiseWireSchema,
  shareKeys: ShareKeysWireSchema,
  maskedInput: MaskedInputWireSchema,
  unmask: UnmaskWireSchema,
} satisfies Record<SecureMessageKind, z.ZodType>;

const PHASE_OF: Record<SecureMessageKind, RoundPhase> = {
  advertise: RoundPhase.AdvertiseKeys,
  shareKeys: RoundPhase.ShareKeys,
  maskedInput: RoundPhase.MaskedInput,
  unmask: RoundPhase.Unmask,
};

/**
 * k and t for a cohort: the admin's degree if set (t = ⌊k/2⌋ + 1), else derived from the
 * configured dropout rate, corrupt fraction and failure target (shared/secagg/parameters.ts).
 */
export function rosterParamsFor(
  n: number,
  sa: RoundConfig['secureAggregation'],
): { k: number; t: number; derived?: SecAggParams } {
  if (sa.degree !== undefined) {
    const k = effectiveDegree(n, sa.degree);
    return { k, t: defaultThreshold(k) };
  }
  const derived = chooseSecAggParams({
    n,
    dropoutRate: sa.dropoutRate,
    corruptFraction: sa.corruptFraction,
    failureTarget: sa.failureTarget,
    maxDegree: MAX_DEGREE,
  });
  return { k: derived.k, t: derived.t, derived };
}

/** Above this much PRG output (words) the unmask runs on the worker pool; below it, a worker round trip costs more than it saves. */
const PARALLEL_UNMASK_WORDS = 4_000_000;

const unmaskerFor: Unmasker = (sumOfY, plan) =>
  planCost(plan) * sumOfY.length >= PARALLEL_UNMASK_WORDS
    ? sharedUnmaskPool().unmask(sumOfY, plan)
    : inThreadUnmasker(sumOfY, plan);

/** Reconstruction with large thresholds is ~6 ms per secret at t = 107: many of them go to the pool too. */
const PARALLEL_RECONSTRUCT_JOBS = 64;

const reconstructorFor: Reconstructor = (jobs) =>
  jobs.length >= PARALLEL_RECONSTRUCT_JOBS ? sharedUnmaskPool().reconstruct(jobs) : inThreadReconstructor(jobs);

/** Picks and checks the fixed-point width for n clients; throws naming the numbers if it could overflow. */
export function quantBitsFor(n: number, configured?: number): number {
  const bits = configured ?? Math.min(24, maxBitsFor(n));
  assertNoOverflow(n, bits);
  return bits;
}

/**
 * One SecAgg+ round on the wire: AdvertiseKeys → ShareKeys → MaskedInput → Unmask,
 * each closed when every expected client has answered or at its deadline.
 * The server relays encrypted shares and sums masked inputs; `result` resolves
 * with the decoded sum, or rejects with RoundFailed.
 */
export class SecureRound {
  readonly info: SecAggRoundInfo;
  readonly result: Promise<SecureRoundResult>;
  phase = RoundPhase.AdvertiseKeys;
  deadline = 0;
  private readonly server: SecAggServer;
  private readonly expected = new Set<string>();
  private readonly answered = new Set<string>();
  private readonly gone = new Set<string>();
  /** The chosen degree, threshold and (when derived) the predicted failure probability, for the console. */
  readonly params: { k: number; t: number; predictedFailure: number | null };
  private readonly layout: ReturnType<typeof layoutForRound>;
  private timer?: NodeJS.Timeout;
  private resolve!: (r: SecureRoundResult) => void;
  private reject!: (e: Error) => void;
  private closed = false;

  constructor(
    private readonly opts: {
      roundId: number;
      cohort: string[];
      /** Model parameter count; the masked vector adds the layout's scalar coordinates. */
      d: number;
      config: RoundConfig;
      pool: ClientPool;
      log: Logger;
      onReceive?: ReceiveHook;
      /** Bytes sent to clients (for round statistics). */
      onBytesDown?: (bytes: number) => void;
      onPhase?: (phase: RoundPhase) => void;
      /** Distributed DP: noise std each client adds before masking, on the delta, the bit and the loss. */
      clientNoiseStd?: number;
      clientBitNoiseStd?: number;
      clientLossNoiseStd?: number;
      /** This round's clip (adaptive clipping moves it); default secureAggregation.clipNorm. */
      clipNorm?: number;
      /** Adaptive clipping: clients append a masked, centred "not clipped" bit. */
      reportUnclipped?: boolean;
      /** DP: uniform weights, no weight coordinate. */
      uniformWeights?: boolean;
      /** Clients put their clipped mean loss in the masked vector. */
      reportLoss?: boolean;
      /** Divergence-aware aggregation: the model's per-layer sizes. */
      divergenceLayers?: number[];
    },
  ) {
    const sa = opts.config.secureAggregation;
    const n = opts.cohort.length;
    const { k, t, derived } = rosterParamsFor(n, sa);
    this.params = { k, t, predictedFailure: derived?.predictedFailure ?? null };
    const bits = quantBitsFor(n, sa.bits);
    const sessionId = randomBytes(12).toString('base64url');
    this.info = {
      sessionId,
      threshold: t,
      degree: k,
      clipNorm: opts.clipNorm ?? sa.clipNorm,
      bits,
      weightCap: sa.weightCap,
      ...(opts.clientNoiseStd ? { clientNoiseStd: opts.clientNoiseStd } : {}),
      ...(opts.clientBitNoiseStd ? { bitNoiseStd: opts.clientBitNoiseStd } : {}),
      ...(opts.clientLossNoiseStd ? { lossNoiseStd: opts.clientLossNoiseStd } : {}),
      ...(opts.reportUnclipped ? { reportUnclipped: true } : {}),
      ...(opts.uniformWeights ? { uniformWeights: true } : {}),
      ...(opts.reportLoss ? { lossMax: sa.lossMax } : {}),
      ...(opts.divergenceLayers ? { divergenceLayers: opts.divergenceLayers } : {}),
      // Announce what k and t were derived from, so clients can check them (absent for a hand-set degree).
      ...(derived
        ? {
            cohortSize: n,
            dropoutRate: sa.dropoutRate,
            corruptFraction: sa.corruptFraction,
            failureTarget: sa.failureTarget,
          }
        : {}),
    };
    this.layout = layoutForRound(this.info, opts.d);
    this.server = new SecAggServer({
      round: opts.roundId,
      sessionId,
      clients: opts.cohort,
      k,
      threshold: t,
      vectorLength: this.layout.length,
    });
    this.result = new Promise((res, rej) => {
      this.resolve = res;
      this.reject = rej;
    });
    void this.result.catch(() => undefined); // the coordinator handles the rejection
    for (const id of opts.cohort) this.expected.add(id);
    this.arm(opts.config.phaseDeadlineMs);
  }

  /**
   * Validates and applies one client message; never throws. Cheap checks come first (phase,
   * header, sender) and the binary part is decoded only within this kind's size budget.
   */
  handle(clientId: string, kind: SecureMessageKind, raw: unknown): Ack {
    const early = precheckSecureMessage(raw, {
      kind,
      phase: this.closed ? 'closed' : this.phase,
      expectedPhase: PHASE_OF[kind],
      roundId: this.opts.roundId,
      sessionId: this.info.sessionId,
      clientId,
      expected: this.expected.has(clientId),
      answered: this.answered.has(clientId),
    });
    if (early) return early;
    let unpacked: unknown;
    try {
      unpacked = unpackBinary(raw, secureMessageLimits(kind, this.server.degree, this.layout.length));
    } catch (err) {
      return {
        ok: false,
        code: err instanceof UnpackError && err.code === 'too_large' ? 'too_large' : 'invalid_message',
        reason: (err as Error).message,
      };
    }
    const parsed = SCHEMAS[kind].safeParse(unpacked);
    if (!parsed.success) {
      return { ok: false, code: 'invalid_message', reason: formatIssues(parsed.error) };
    }
    this.opts.onReceive?.(clientId, kind, parsed.data);
    if (this.closed || this.phase !== PHASE_OF[kind]) {
      return {
        ok: false,
        code: 'wrong_phase',
        reason: `${kind} is not accepted in the ${this.closed ? 'closed' : this.phase} phase of round ${this.opts.roundId}`,
      };
    }
    const msg = parsed.data;
    let r: Result;
    switch (msg.type) {
      case 'advertise':
        r = this.server.onAdvertise(clientId, msg);
        break;
      case 'shareKeys':
        r = this.server.onShareKeys(clientId, msg);
        break;
      case 'maskedInput':
        r = this.server.onMaskedInput(clientId, msg);
        break;
      case 'unmask':
        r = this.server.onUnmask(clientId, msg);
        break;
    }
    if (!r.ok) {
      this.opts.log.warn({ clientId, kind, code: r.code, reason: r.reason }, 'secure aggregation message rejected');
      return { ok: false, code: r.code, reason: r.reason };
    }
    this.answered.add(clientId);
    this.maybeAdvance();
    return { ok: true };
  }

  clientDisconnected(id: string): void {
    this.gone.add(id);
    this.maybeAdvance();
  }

  /** Ends the round early (server stopping); the result rejects. */
  abort(reason: string): void {
    this.fail(new RoundFailed('too_few_survivors', reason));
  }

  private waitingFor(): string[] {
    return [...this.expected].filter((id) => !this.answered.has(id) && !this.gone.has(id));
  }

  private maybeAdvance(): void {
    if (!this.closed && this.waitingFor().length === 0) this.advance('all expected clients answered');
  }

  private arm(ms: number): void {
    clearTimeout(this.timer);
    this.deadline = Date.now() + ms;
    this.timer = setTimeout(() => this.advance('deadline passed'), ms);
  }

  private send(id: string, event: string, payload: unknown): void {
    const packed = packBinary(payload);
    this.opts.pool.get(id)?.send(event, packed);
    this.opts.onBytesDown?.(packed.b.byteLength + JSON.stringify(packed.p).length);
  }

  /** Moves to the next phase; the SecAggServer enforces the threshold at each step. */
  private advance(why: string): void {
    if (this.closed) return;
    const s = this.server;
    const { config, log, roundId } = this.opts;
    try {
      log.debug({ roundId, phase: this.phase, why }, 'secure aggregation phase closes');
      this.answered.clear();
      this.expected.clear();
      switch (this.phase) {
        case RoundPhase.AdvertiseKeys: {
          s.closeAdvertise();
          for (const id of s.advertised) {
            const roster = s.rosterFor(id);
            if (roster.ok) this.send(id, SECAGG_EVENTS.roster, roster.value);
            this.expected.add(id);
          }
          this.phase = RoundPhase.ShareKeys;
          this.arm(config.phaseDeadlineMs);
          break;
        }
        case RoundPhase.ShareKeys: {
          s.closeShareKeys();
          for (const id of s.sharedKeys) {
            const routed = s.routedSharesFor(id);
            if (routed.ok) this.send(id, SECAGG_EVENTS.routedShares, routed.value);
            this.expected.add(id);
          }
          this.phase = RoundPhase.MaskedInput;
          this.arm(config.trainDeadlineMs);
          break;
        }
        case RoundPhase.MaskedInput: {
          const req = s.unmaskRequest();
          for (const id of req.survivors) {
            this.send(id, SECAGG_EVENTS.unmaskRequest, req);
            this.expected.add(id);
          }
          this.phase = RoundPhase.Unmask;
          this.arm(config.phaseDeadlineMs);
          break;
        }
        case RoundPhase.Unmask: {
          clearTimeout(this.timer);
          this.closed = true;
          void this.finish();
          return;
        }
        default:
          return;
      }
      this.opts.onPhase?.(this.phase);
      // Clients that already left will not answer; the next phase may be complete at once.
      this.maybeAdvance();
    } catch (err) {
      this.fail(err as Error);
    }
  }

  private async finish(): Promise<void> {
    const t0 = performance.now();
    try {
      const out = await this.server.finish(unmaskerFor, reconstructorFor);
      const dec = decodeMaskedSum(this.layout, out.sum, out.survivors.length, encodingParamsForRound(this.info));
      this.resolve({
        weightedSum: dec.weightedSum,
        weightSum: dec.weightSum,
        survivors: out.survivors,
        dropped: out.dropped,
        unmaskMs: performance.now() - t0,
        ...(dec.centredBitSum !== undefined ? { centredBitSum: dec.centredBitSum } : {}),
        ...(dec.centredLossSum !== undefined ? { centredLossSum: dec.centredLossSum } : {}),
        ...(dec.layerWeightSums ? { layerWeightSums: dec.layerWeightSums } : {}),
      });
    } catch (err) {
      this.fail(err as Error);
    }
  }

  private fail(err: Error): void {
    clearTimeout(this.timer);
    this.closed = true;
    this.reject(err);
  }

  get survivors(): string[] {
    return this.server.survivors;
  }
}
