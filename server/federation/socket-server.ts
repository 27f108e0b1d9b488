import { Server as IoServer, type Socket } from 'socket.io';
import type { Server as HttpServer } from 'node:http';
import type { Logger } from 'pino';
import { z } from 'zod';
import { SECAGG_EVENTS } from '../../shared/protocol/secagg-messages';
import type { SecureMessageKind } from './rounds/round';
import {
  ClientReadySchema,
  EVENTS,
  ErrorCodes,
  GetModelSchema,
  UpdateSubmitSchema,
  type Ack,
  type ModelPayload,
} from '../../shared/protocol/messages';
import { float32ToBytes } from '../../shared/protocol/binary';
import type { Registry } from '../registry/registry';
import { handshakeGuard } from './handshake';
import { approximateSize } from './wire-size';
import { formatIssues } from '../../shared/protocol/issues';
import { DEFAULT_MODEL_RESEND_WINDOW_MS, ModelStore, RecentSends } from './model-store';
import type { SessionGuard } from '../security/session-guard';
import { gateFrames } from '../security/frame-gate';
import { HandlerTimes } from './handler-times';
import { TurnQueue } from './turn-queue';
import { AddressLimiter, DEFAULT_ADDRESS_LIMIT, type AddressLimitConfig } from '../security/address-limit';
import { DEFAULT_RATE_LIMIT, TokenBucket, type RateLimitConfig } from './rate-limit';
import type { RoundCoordinator } from './coordinator';

export interface FederationSocketOptions {
  registry: Registry;
  coordinator: RoundCoordinator;
  log: Logger;
  /** Accept clients without a join token (demo only; must be enabled explicitly). */
  openEnrollment: boolean;
  /** Extra bytes allowed per message on top of the model size. */
  bufferHeadroomBytes?: number;
  /** Client ids one join token may bind (default 1); removed clients keep their slot. */
  devicesPerToken?: number;
  /** Live sessions checked against revocation, expiry and removal (default: none). */
  sessions?: SessionGuard;
  /** Per-client event rate (default DEFAULT_RATE_LIMIT). */
  rateLimit?: RateLimitConfig;
  /** Encoded weights of recent versions for model:get (default: a new store over the registry). */
  models?: ModelStore;
  /** How long a client may leave a ping unanswered before it is dropped (default 20 s). */
  pingTimeoutMs?: number;
  /** A client id gets each model version at most once in this window (default 60 s). */
  modelResendWindowMs?: number;
  /** Handshake and failed-auth limits per remote address (default DEFAULT_ADDRESS_LIMIT). */
  addressLimit?: AddressLimitConfig;
  /** Records how long each event's handler held the event loop (default: a private, unread one). */
  handlerTimes?: HandlerTimes;
  /**
   * Client events and disconnects run through this queue, in arrival order, a time budget per event-loop turn:
   * 1,000 clients' messages arriving in one poll phase no longer run back to back (default: a private one).
   * Whoever closes the server waits for `idle()` before closing what the handlers use (SQLite).
   */
  inbound?: TurnQueue;
}

type AckFn = (response: Ack<object>) => void;
type MaybeAsync<T> = T | Promise<T>;

/** Events a client may send; any other spends a strike. */
const KNOWN_EVENTS = new Set<string>([
  EVENTS.ready,
  EVENTS.getModel,
  EVENTS.submitUpdate,
  SECAGG_EVENTS.advertise,
  SECAGG_EVENTS.shareKeys,
  SECAGG_EVENTS.maskedInput,
  SECAGG_EVENTS.unmask,
]);

/** Largest message socket.io accepts: one float32 delta plus room for metadata. */
export function maxBufferFor(paramCount: number, headroom = 64 * 1024): number {
  return Math.ceil(paramCount * 4 * 1.1) + headroom;
}

/**
 * Attaches the federation endpoint (socket.io, default namespace) to the HTTP
 * server: token auth in the handshake, zod validation of every message, and
 * binary model/delta transfer.
 */
export function attachFederationSocket(http: HttpServer, opts: FederationSocketOptions): IoServer {
  const { registry, coordinator, log } = opts;
  const rateLimit = opts.rateLimit ?? DEFAULT_RATE_LIMIT;
  const handlerTimes = opts.handlerTimes ?? new HandlerTimes();
  const inbound = opts.inbound ?? new TurnQueue({ inline: true });
  const devicesPerToken = opts.devicesPerToken ?? 1;
  // Buckets outlive connections, so reconnecting does not refill a flooding client's budget.
  const buckets = new Map<string, TokenBucket>();
  const bucketFor = (id: string): TokenBucket => {
    let b = buckets.get(id);
    if (b) buckets.delete(id);
    else b = new TokenBucket(rateLimit, Date.now());
    buckets.set(id, b); // most recent last
    if (buckets.size > 100_000) buckets.delete(buckets.keys().next().value!);
    return b;
  };
  const models = opts.models ?? new ModelStore(registry);
  // Each version at most once per client id in a window, across reconnects: a client caches what it downloaded.
  const modelSends = new RecentSends(opts.modelResendWindowMs ?? DEFAULT_MODEL_RESEND_WINDOW_MS);
  const io = new IoServer(http, {
    maxHttpBufferSize: maxBufferFor(coordinator.globalModel.layout.totalSize, opts.bufferHeadroomBytes),
    serveClient: false,
    pingInterval: 10_000,
    pingTimeout: opts.pingTimeoutMs ?? 20_000,
    cors: { origin: false },
  });

  const guard = handshakeGuard({
    registry,
    openEnrollment: opts.openEnrollment,
    devicesPerToken,
    addresses: new AddressLimiter(opts.addressLimit ?? DEFAULT_ADDRESS_LIMIT),
    coolDownMs: (clientId) => buckets.get(clientId)?.blocksReconnect(Date.now()) ?? 0,
  });
  io.use((socket, done) => handlerTimes.time('handshake', () => guard(socket, done)));

  const onConnection = (socket: Socket) => {
    const clientId = socket.data.clientId as string;
    const clog = log.child({ clientId });
    // (Recorded once, in the handshake: one SQLite write per connection.)
    const client = {
      id: clientId,
      name: socket.data.name as string | undefined,
      connectedAt: Date.now(),
      send: (event: string, payload: unknown) => socket.emit(event, payload),
      disconnect: (reason: string) => {
        socket.emit(EVENTS.serverError, { code: 'disconnected', message: reason });
        socket.disconnect(true);
      },
    };
    const leaveGuard = opts.sessions?.add({
      clientId,
      tokenId: socket.data.tokenId as number | undefined,
      disconnect: (why) => client.disconnect(why),
    });
    const previous = coordinator.pool.add(client);
    if (previous) previous.disconnect('replaced by a newer connection of the same client');
    clog.info('client connected');

    // Every incoming packet (known event or not) spends one token; over the rate it is refused unread.
    const bucket = bucketFor(clientId);
    const cutIfExhausted = () => {
      if (bucket.exhausted && socket.connected) {
        bucket.cut(Date.now());
        clog.warn({ cuts: bucket.cuts }, 'client ignores rate limiting; disconnecting');
        client.disconnect('too many messages');
      }
    };
    // Far over its rate (half the strikes that cut it), a client's events are dropped before decoding:
    // it has had its rate_limited answers by then, and decoding junk is what a flood costs.
    let warned = false;
    gateFrames(socket.conn, () => {
      const now = Date.now();
      if (bucket.strikes < rateLimit.disconnectAfter / 2 || bucket.take(now)) return false;
      if (!warned) {
        warned = true;
        socket.emit(EVENTS.serverError, {
          code: ErrorCodes.rateLimited,
          message: `more than ${rateLimit.eventsPerSecond} events/s: further events over the rate are dropped unread`,
        });
      }
      cutIfExhausted();
      return true;
    });
    socket.use((packet, next) => {
      if (bucket.take(Date.now())) {
        if (!KNOWN_EVENTS.has(packet[0])) {
          bucket.strike(Date.now()); // no handler will answer it; it only costs
          cutIfExhausted();
        }
        return next();
      }
      const ack = packet[packet.length - 1];
      if (typeof ack === 'function')
        (ack as AckFn)({
          ok: false,
          code: ErrorCodes.rateLimited,
          reason: `more than ${rateLimit.eventsPerSecond} events/s`,
        });
      cutIfExhausted();
    });

    let malformed = 0;
    /** Wraps a handler: validates the payload with zod and always answers the ack. */
    const on = <S extends z.ZodType>(
      event: string,
      schema: S,
      handler: (msg: z.infer<S>, wireBytes: number) => MaybeAsync<Ack<object>>,
    ) => {
      const handle = (raw: unknown, ack?: unknown) => {
        const reply: AckFn = typeof ack === 'function' ? (ack as AckFn) : () => undefined;
        const parsed = schema.safeParse(raw);
        if (!parsed.success) {
          bucket.strike(Date.now()); // an honest client's messages are schema-valid by construction
          cutIfExhausted();
          const reason = formatIssues(parsed.error);
          // Logged for the first few, then sampled: a flood must not become a logging flood.
          if (++malformed <= 5 || malformed % 1000 === 0) clog.warn({ event, reason, malformed }, 'malformed message');
          reply({ ok: false, code: ErrorCodes.invalidMessage, reason });
          return;
        }
        const failed = (err: unknown) => {
          clog.error({ err, event }, 'handler failed');
          reply({ ok: false, code: ErrorCodes.internal, reason: 'internal server error' });
        };
        try {
          const out = handler(parsed.data, approximateSize(raw));
          if (out instanceof Promise) out.then(reply, failed);
          else reply(out);
        } catch (err) {
          failed(err);
        }
      };
      socket.on(event, (raw: unknown, ack?: unknown) =>
        inbound.run(() => handlerTimes.time(event, () => handle(raw, ack))),
      );
    };

    on(EVENTS.ready, ClientReadySchema, (msg) => {
      const c = coordinator.pool.get(clientId);
      if (c) c.ready = msg;
      registry.clientSeen({ id: clientId, backend: msg.backend });
      coordinator.clientReady();
      return {
        ok: true,
        clientId,
        modelVersion: coordinator.globalModel.version,
        modelConfig: coordinator.globalModel.config,
      };
    });

    on(EVENTS.getModel, GetModelSchema, async (msg): Promise<Ack<object>> => {
      const current = coordinator.globalModel;
      const version = msg.version ?? current.version;
      if (version > current.version)
        return { ok: false, code: ErrorCodes.noModel, reason: `model version ${version} does not exist` };
      const wait = modelSends.claim(clientId, version, Date.now());
      if (wait > 0) {
        return {
          ok: false,
          code: ErrorCodes.rateLimited,
          reason: `model v${version} was already sent to this client; use the cached copy or retry in ${Math.ceil(wait / 1000)} s`,
        };
      }
      let payload: ModelPayload;
      if (version === current.version) {
        payload = {
          version,
          hash: current.hash,
          layoutHash: current.layout.hash,
          weights: float32ToBytes(current.weights),
        };
      } else {
        try {
          payload = await models.get(version);
        } catch (err) {
          modelSends.release(clientId, version);
          return { ok: false, code: ErrorCodes.noModel, reason: (err as Error).message };
        }
      }
      coordinator.noteBytesDown(payload.weights.byteLength);
      return { ok: true, ...payload };
    });

    on(EVENTS.submitUpdate, UpdateSubmitSchema, (msg, bytes) => coordinator.submitUpdate(clientId, msg, bytes));

    // SecAgg+ phases: the SecureRound validates each payload against its own schema.
    const secure: [string, SecureMessageKind][] = [
      [SECAGG_EVENTS.advertise, 'advertise'],
      [SECAGG_EVENTS.shareKeys, 'shareKeys'],
      [SECAGG_EVENTS.maskedInput, 'maskedInput'],
      [SECAGG_EVENTS.unmask, 'unmask'],
    ];
    for (const [event, kind] of secure) {
      on(event, z.unknown(), (raw, bytes) => coordinator.secureMessage(clientId, kind, raw, bytes));
    }

    socket.on('disconnect', (reason) =>
      inbound.run(() =>
        handlerTimes.time('disconnect', () => {
          leaveGuard?.();
          if (coordinator.pool.remove(clientId, client)) coordinator.clientDisconnected(clientId);
          registry.clientSeen({ id: clientId });
          clog.info({ reason }, 'client disconnected');
        }),
      ),
    );
  };
  io.on('connection', (socket: Socket) => handlerTimes.time('connect', () => onConnection(socket)));
  return io;
}
