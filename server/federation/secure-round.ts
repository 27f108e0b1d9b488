import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { RoundPhase } from '../../shared/protocol/phases';
import type { Ack } from '../../shared/protocol/messages';
import type { RoundConfig } from '../../shared/protocol/round-config';
import {
  AdvertiseWireSchema, MaskedInputWireSchema, SECAGG_EVENTS, ShareKeysWireSchema, UnmaskWireSchema, type SecAggRoundInfo,
} from '../../shared/protocol/secagg-messages';
import { SecAggServer } from '../../shared/secagg/server';
import { packBinary, unpackBinary, UnpackError } from '../../shared/protocol/binary-pack';
import { precheckSecureMessage, secureMessageLimits } from '../security/message-limits';
import { RoundFailed, type Result } from '../../shared/secagg/messages';
import { assertNoOverflow, decodeSum, maxBitsFor } from '../../shared/secagg/quantize';
import { defaultDegree, defaultThreshold, effectiveDegree } from '../../shared/secagg/graph';
import type { ClientPool } from './client-pool';

export type SecureMessageKind = 'advertise' | 'shareKeys' | 'maskedInput' | 'unmask';

export interface SecureRoundResult {
  weightedSum: Float32Array;
  weightSum: number;
  survivors: string[];
  dropped: string[];
  meanLoss: number;
  /** Server time to reconstruct seeds, remove masks and dequantize. */
  unmaskMs: number;
  /** Adaptive clipping: Σ of the survivors' "not clipped" bits. */
  unclippedSum?: number;
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
  private readonly losses = new Map<string, number>();
  private timer?: NodeJS.Timeout;
  private resolve!: (r: SecureRoundResult) => void;
  private reject!: (e: Error) => void;
  private closed = false;

  constructor(
    private readonly opts: {
      roundId: number;
      cohort: string[];
      vectorLength: number;
      config: RoundConfig;
      pool: ClientPool;
      log: Logger;
      onReceive?: ReceiveHook;
      /** Bytes sent to clients (for round statistics). */
      onBytesDown?: (bytes: number) => void;
      onPhase?: (phase: RoundPhase) => void;
      /** Distributed DP: noise std each client adds before masking. */
      clientNoiseStd?: number;
      /** This round's clip (adaptive clipping moves it); default secureAggregation.clipNorm. */
      clipNorm?: number;
      /** Adaptive clipping: clients append a masked "not clipped" bit (vectorLength includes it). */
      reportUnclipped?: boolean;
    },
  ) {
    const sa = opts.config.secureAggregation;
    const n = opts.cohort.length;
    const degree = effectiveDegree(n, sa.degree ?? defaultDegree(n));
    const threshold = Math.max(defaultThreshold(degree), 2);
    const bits = quantBitsFor(n, sa.bits);
    const sessionId = randomBytes(12).toString('base64url');
    this.server = new SecAggServer({ round: opts.roundId, sessionId, clients: opts.cohort, k: degree, threshold, vectorLength: opts.vectorLength });
    this.info = {
      sessionId, threshold: this.server.threshold, degree: this.server.degree, clipNorm: opts.clipNorm ?? sa.clipNorm, bits, weightCap: sa.weightCap,
      ...(opts.clientNoiseStd ? { clientNoiseStd: opts.clientNoiseStd } : {}),
      ...(opts.reportUnclipped ? { reportUnclipped: true } : {}),
    };
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
      kind, phase: this.closed ? 'closed' : this.phase, expectedPhase: PHASE_OF[kind], roundId: this.opts.roundId, sessionId: this.info.sessionId,
      clientId, expected: this.expected.has(clientId), answered: this.answered.has(clientId),
    });
    if (early) return early;
    let unpacked: unknown;
    try {
      unpacked = unpackBinary(raw, secureMessageLimits(kind, this.server.degree, this.opts.vectorLength));
    } catch (err) {
      return { ok: false, code: err instanceof UnpackError && err.code === 'too_large' ? 'too_large' : 'invalid_message', reason: (err as Error).message };
    }
    const parsed = SCHEMAS[kind].safeParse(unpacked);
    if (!parsed.success) {
      return { ok: false, code: 'invalid_message', reason: parsed.error.issues.map((i) => `${i.path.join('.') || 'message'}: ${i.message}`).join('; ') };
    }
    this.opts.onReceive?.(clientId, kind, parsed.data);
    if (this.closed || this.phase !== PHASE_OF[kind]) {
      return { ok: false, code: 'wrong_phase', reason: `${kind} is not accepted in the ${this.closed ? 'closed' : this.phase} phase of round ${this.opts.roundId}` };
    }
    const msg = parsed.data as never;
    let r: Result;
    switch (kind) {
      case 'advertise': r = this.server.onAdvertise(clientId, msg); break;
      case 'shareKeys': r = this.server.onShareKeys(clientId, msg); break;
      case 'maskedInput': r = this.server.onMaskedInput(clientId, msg); break;
      case 'unmask': r = this.server.onUnmask(clientId, msg); break;
    }
    if (!r.ok) {
      this.opts.log.warn({ clientId, kind, code: r.code, reason: r.reason }, 'secure aggregation message rejected');
      return { ok: false, code: r.code, reason: r.reason };
    }
    if (kind === 'maskedInput') this.losses.set(clientId, (parsed.data as { meanLoss: number }).meanLoss);
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
      const out = await this.server.finish();
      const q = { clipNorm: this.info.clipNorm, bits: this.info.bits };
      const n = out.survivors.length;
      const bitWords = this.info.reportUnclipped ? 1 : 0;
      const { weightedSum, weightSum } = decodeSum(out.sum.subarray(0, out.sum.length - bitWords), n, q);
      // The bit travels on the weight's [0,1] scale: decode it as a one-word "weight" sum.
      const unclippedSum = bitWords ? decodeSum(out.sum.subarray(out.sum.length - 1), n, q).weightSum : undefined;
      const losses = out.survivors.map((id) => this.losses.get(id) ?? NaN).filter(Number.isFinite);
      this.resolve({
        weightedSum, weightSum, survivors: out.survivors, dropped: out.dropped,
        meanLoss: losses.length ? losses.reduce((a, b) => a + b, 0) / losses.length : NaN,
        unmaskMs: performance.now() - t0,
        ...(unclippedSum !== undefined ? { unclippedSum } : {}),
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
