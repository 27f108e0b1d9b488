import type { Socket } from 'socket.io-client';
import {
  EVENTS,
  ModelAckSchema,
  PlainAckSchema,
  ReadyAckSchema,
  type ClientReady,
  type ErrorCode,
  type RoundEnd,
  type RoundStart,
  type UpdateSubmitOut,
} from '../protocol/messages';
import { float32FromBytes, float32ToBytes } from '../protocol/binary';
import type { TrainingConfig } from '../protocol/round-config';
import type { ModelConfig } from '../model/config';
import { weightsHash } from '../model/weights-hash';
import type { LocalRoundResult } from './local-round';
import { SECAGG_EVENTS } from '../protocol/secagg-messages';
import { packBinary, unpackBinary } from '../protocol/binary-pack';
import { RoundPhase } from '../protocol/phases';
import { formatIssues } from '../protocol/issues';
import { WIRE_EVENTS, parseWire, type MessageOf, type WireType } from '../protocol/wire';
import { SecureClientRound } from './secure-client';
import type { RosterMsg, RoutedSharesMsg, UnmaskRequestMsg } from '../secagg/messages';

/** The SecAgg+ phases whose message a client sends (the `secagg` progress event names the one just sent). */
export type SentPhase = RoundPhase.AdvertiseKeys | RoundPhase.ShareKeys | RoundPhase.MaskedInput | RoundPhase.Unmask;

/** Trains one round locally; implemented by the browser worker and by Node test clients. */
export interface LocalTrainer {
  backend: ClientReady['backend'];
  numExamples(): number;
  /** The server's architecture, announced when the client joins. */
  setModelConfig?(config: ModelConfig): Promise<void> | void;
  train(globalWeights: Float32Array, training: TrainingConfig, round: RoundStart): Promise<LocalRoundResult>;
}

/** Global weights cached by content hash (IndexedDB in browsers, memory in Node). */
export interface ModelCache {
  get(hash: string): Promise<Float32Array | undefined>;
  put(hash: string, version: number, weights: Float32Array): Promise<void>;
}

export class MemoryModelCache implements ModelCache {
  private readonly map = new Map<string, Float32Array>();
  async get(hash: string) {
    return this.map.get(hash);
  }
  async put(hash: string, _version: number, weights: Float32Array) {
    this.map.set(hash, weights);
  }
}

export type FederationEvent =
  | { type: 'connected' }
  | { type: 'disconnected'; reason: string }
  | { type: 'auth-error'; message: string }
  | { type: 'ready'; modelVersion: number; modelConfig: ModelConfig }
  | { type: 'round-start'; round: RoundStart }
  | { type: 'model'; version: number; cached: boolean; bytes: number }
  | { type: 'trained'; roundId: number; meanLoss: number; steps: number }
  | { type: 'submitted'; roundId: number; bytes: number }
  | { type: 'rejected'; roundId: number; code: ErrorCode; reason: string }
  | {
      type: 'secagg';
      roundId: number;
      step: SentPhase;
      clipped?: boolean;
      /** masked-input: coordinates the quantizer clamped (distributed DP), out of `coordinates`. */
      clamped?: number;
      coordinates?: number;
    }
  | { type: 'round-end'; end: RoundEnd }
  | { type: 'error'; message: string };

export interface FederationClientOptions {
  /** The id this client authenticated with (needed for secure aggregation). */
  clientId: string;
  ackTimeoutMs?: number;
  onEvent?: (e: FederationEvent) => void;
  /** Fault injection for tests: when true for an event, the client vanishes instead of sending it. */
  dropBefore?: (event: string) => boolean;
}

/**
 * The client side of a plain federated round over socket.io: announce readiness,
 * fetch (or reuse cached) global weights, train locally, upload only the delta.
 */
export class FederationClient {
  private busyRound = 0;
  private secure?: SecureClientRound;
  readonly events: FederationEvent[] = [];

  constructor(
    private readonly socket: Socket,
    private readonly trainer: LocalTrainer,
    private readonly cache: ModelCache,
    private readonly opts: FederationClientOptions,
  ) {
    this.on('roster', this.onRoster);
    this.on('routedShares', this.onRoutedShares);
    this.on('unmaskRequest', this.onUnmaskRequest);
    socket.on('connect', () => {
      this.emit({ type: 'connected' });
      void this.announce();
    });
    socket.on('connect_error', (err: Error) => this.emit({ type: 'auth-error', message: err.message }));
    socket.on('disconnect', (reason: string) => this.emit({ type: 'disconnected', reason }));
    this.on('serverError', (e) => this.emit({ type: 'error', message: e.message }));
    this.on('roundStart', (round) => this.runRound(round));
    this.on('roundEnd', (end) => this.emit({ type: 'round-end', end }));
  }

  /**
   * Listens for one server → client message: unpacked (SecAgg+ messages travel as one binary attachment)
   * and parsed against the wire union before the handler sees it; a malformed message becomes an event.
   */
  private on<T extends WireType>(type: T, handler: (msg: MessageOf<T>) => Promise<void> | void): void {
    const event: string = WIRE_EVENTS[type];
    this.socket.on(event, (raw: unknown) => {
      let payload = raw;
      if (type in SECAGG_EVENTS) {
        try {
          payload = unpackBinary(raw);
        } catch (err) {
          return this.emit({ type: 'error', message: `malformed ${type} from server: ${(err as Error).message}` });
        }
      }
      const parsed = parseWire(type, payload);
      if (!parsed.ok) return this.emit({ type: 'error', message: `malformed ${type} from server: ${parsed.reason}` });
      void handler.call(this, parsed.msg);
    });
  }

  private get ackTimeout(): number {
    return this.opts.ackTimeoutMs ?? 30_000;
  }

  /** Sends with an ack; a failed ack becomes an event, never an exception. */
  private async send(event: string, payload: unknown, roundId: number): Promise<boolean> {
    if (this.opts.dropBefore?.(event)) {
      this.socket.disconnect();
      this.emit({ type: 'error', message: `dropped out before ${event} (fault injection)` });
      return false;
    }
    try {
      // Secure-aggregation messages carry many small binary fields: one attachment instead.
      const wire = event.startsWith('secagg:') ? packBinary(payload) : payload;
      const parsed = PlainAckSchema.safeParse(await this.socket.timeout(this.ackTimeout).emitWithAck(event, wire));
      if (!parsed.success) throw new Error(`malformed ack: ${formatIssues(parsed.error, { root: 'ack' })}`);
      const ack = parsed.data;
      if (!ack.ok) this.emit({ type: 'rejected', roundId, code: ack.code, reason: ack.reason });
      return ack.ok;
    } catch (err) {
      this.emit({ type: 'error', message: `${event}: ${(err as Error).message}` });
      return false;
    }
  }

  private emit(e: FederationEvent): void {
    this.events.push(e);
    this.opts.onEvent?.(e);
  }

  async announce(): Promise<void> {
    // Only whether there is data: the count itself is private (it would be metadata outside ε under DP).
    const ready: ClientReady = { backend: this.trainer.backend, hasData: this.trainer.numExamples() > 0 };
    try {
      const parsed = ReadyAckSchema.safeParse(
        await this.socket.timeout(this.ackTimeout).emitWithAck(EVENTS.ready, ready),
      );
      if (!parsed.success) throw new Error(`malformed ack: ${formatIssues(parsed.error, { root: 'ack' })}`);
      const ack = parsed.data;
      if (!ack.ok) return this.emit({ type: 'error', message: `ready refused: ${ack.reason}` });
      await this.trainer.setModelConfig?.(ack.modelConfig);
      this.emit({ type: 'ready', modelVersion: ack.modelVersion, modelConfig: ack.modelConfig });
    } catch (err) {
      this.emit({ type: 'error', message: `could not join: ${(err as Error).message}` });
    }
  }

  /** Global weights for a round, from cache when the hash matches, verified after download. */
  async fetchModel(version: number, hash: string): Promise<Float32Array> {
    const cached = await this.cache.get(hash);
    if (cached) {
      this.emit({ type: 'model', version, cached: true, bytes: 0 });
      return cached;
    }
    const parsed = ModelAckSchema.safeParse(
      await this.socket.timeout(this.ackTimeout).emitWithAck(EVENTS.getModel, { version }),
    );
    if (!parsed.success) throw new Error(`malformed model ack: ${formatIssues(parsed.error, { root: 'ack' })}`);
    const ack = parsed.data;
    if (!ack.ok) throw new Error(`model download refused: ${ack.reason}`);
    const bytes = ack.weights;
    const weights = float32FromBytes(bytes);
    if (weightsHash(weights) !== hash) throw new Error(`downloaded weights do not match hash ${hash}`);
    await this.cache.put(hash, version, weights);
    this.emit({ type: 'model', version, cached: false, bytes: bytes.byteLength });
    return weights;
  }

  private async runRound(round: RoundStart): Promise<void> {
    if (this.busyRound === round.roundId) return;
    this.busyRound = round.roundId;
    this.emit({ type: 'round-start', round });
    try {
      if (round.secagg) return await this.runSecureRound(round);
      const global = await this.fetchModel(round.modelVersion, round.modelHash);
      const result = await this.trainer.train(global, round.training, round);
      this.emit({ type: 'trained', roundId: round.roundId, meanLoss: result.meanLoss, steps: result.steps });
      const msg: UpdateSubmitOut = {
        roundId: round.roundId,
        modelVersion: round.modelVersion,
        numExamples: result.numExamples,
        meanLoss: result.meanLoss,
        steps: result.steps,
        delta: float32ToBytes(result.delta),
      };
      if (await this.send(EVENTS.submitUpdate, msg, round.roundId))
        this.emit({ type: 'submitted', roundId: round.roundId, bytes: result.delta.byteLength });
    } catch (err) {
      this.emit({ type: 'error', message: (err as Error).message });
    } finally {
      this.busyRound = 0;
    }
  }

  /** SecAgg+: advertise keys now, train meanwhile; the phase events drive the rest. */
  private async runSecureRound(round: RoundStart): Promise<void> {
    const info = round.secagg!;
    const global = await this.fetchModel(round.modelVersion, round.modelHash);
    const secure = new SecureClientRound(round.roundId, this.opts.clientId, info, global.length);
    this.secure = secure;
    if (!(await this.send(SECAGG_EVENTS.advertise, secure.advertise(), round.roundId))) return;
    this.emit({ type: 'secagg', roundId: round.roundId, step: RoundPhase.AdvertiseKeys });
    const result = await this.trainer.train(global, round.training, round);
    this.emit({ type: 'trained', roundId: round.roundId, meanLoss: result.meanLoss, steps: result.steps });
    secure.setTrained(result, global);
    await this.maybeSendMasked(secure);
  }

  private current(msg: { round: number }): SecureClientRound | undefined {
    return this.secure && this.secure.roundId === msg.round ? this.secure : undefined;
  }

  private async onRoster(msg: RosterMsg): Promise<void> {
    const secure = this.current(msg);
    if (!secure) return;
    try {
      const shares = await secure.shareKeys(msg);
      if (await this.send(SECAGG_EVENTS.shareKeys, shares, secure.roundId))
        this.emit({ type: 'secagg', roundId: secure.roundId, step: RoundPhase.ShareKeys });
    } catch (err) {
      this.emit({ type: 'error', message: `share keys: ${(err as Error).message}` });
    }
  }

  private async onRoutedShares(msg: RoutedSharesMsg): Promise<void> {
    const secure = this.current(msg);
    if (!secure) return;
    try {
      secure.receiveShares(msg);
      await this.maybeSendMasked(secure);
    } catch (err) {
      this.emit({ type: 'error', message: `routed shares: ${(err as Error).message}` });
    }
  }

  private async maybeSendMasked(secure: SecureClientRound): Promise<void> {
    const ready = await secure.maybeMaskedInput();
    if (!ready) return;
    // The loss travels inside y; nothing about the client's data goes in clear.
    if (await this.send(SECAGG_EVENTS.maskedInput, ready.msg, secure.roundId)) {
      this.emit({
        type: 'secagg',
        roundId: secure.roundId,
        step: RoundPhase.MaskedInput,
        clipped: ready.clipped,
        clamped: ready.clamped,
        coordinates: ready.msg.y.length,
      });
      this.emit({ type: 'submitted', roundId: secure.roundId, bytes: ready.msg.y.byteLength });
    }
  }

  private async onUnmaskRequest(msg: UnmaskRequestMsg): Promise<void> {
    const secure = this.current(msg);
    if (!secure) return;
    try {
      if (await this.send(SECAGG_EVENTS.unmask, secure.unmask(msg), secure.roundId))
        this.emit({ type: 'secagg', roundId: secure.roundId, step: RoundPhase.Unmask });
    } catch (err) {
      this.emit({ type: 'error', message: `unmask: ${(err as Error).message}` });
    }
  }
}
