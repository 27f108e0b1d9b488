import { Server as IoServer, type Socket } from 'socket.io';
import type { Server as HttpServer } from 'node:http';
import type { Logger } from 'pino';
import { z } from 'zod';
import { SECAGG_EVENTS } from '../../shared/protocol/secagg-messages';
import type { SecureMessageKind } from './secure-round';
import {
  ClientReadySchema, EVENTS, ErrorCodes, GetModelSchema, HandshakeAuthSchema, UpdateSubmitSchema, type Ack, type ModelPayload,
} from '../../shared/protocol/messages';
import { float32ToBytes } from '../../shared/protocol/binary';
import type { Registry } from '../registry/registry';
import { loadVersion } from '../model/global-model';
import type { RoundCoordinator } from './coordinator';

export interface FederationSocketOptions {
  registry: Registry;
  coordinator: RoundCoordinator;
  log: Logger;
  /** Accept clients without a join token (demo only; must be enabled explicitly). */
  openEnrollment: boolean;
  /** Extra bytes allowed per message on top of the model size. */
  bufferHeadroomBytes?: number;
}

type AckFn = (response: Ack<object>) => void;

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
  const io = new IoServer(http, {
    maxHttpBufferSize: maxBufferFor(coordinator.globalModel.layout.totalSize, opts.bufferHeadroomBytes),
    serveClient: false,
    pingInterval: 10_000,
    pingTimeout: 20_000,
    cors: { origin: false },
  });

  io.use((socket, next) => {
    const auth = HandshakeAuthSchema.safeParse(socket.handshake.auth ?? {});
    if (!auth.success) return next(new Error(`unauthenticated: malformed handshake (${auth.error.issues.map((i) => i.message).join('; ')})`));
    const token = auth.data.token ? registry.verifyToken(auth.data.token, ['client']) : undefined;
    if (!token && !opts.openEnrollment) {
      return next(new Error(auth.data.token ? 'unauthenticated: join token is invalid, revoked or expired' : 'unauthenticated: a join token is required'));
    }
    const known = registry.getClient(auth.data.clientId);
    if (known?.removed) return next(new Error('unauthenticated: this client was removed by the administrator'));
    socket.data.clientId = auth.data.clientId;
    socket.data.name = auth.data.name;
    socket.data.tokenId = token?.id;
    next();
  });

  io.on('connection', (socket: Socket) => {
    const clientId = socket.data.clientId as string;
    const clog = log.child({ clientId });
    registry.clientSeen({ id: clientId, name: socket.data.name as string | undefined, tokenId: socket.data.tokenId as number | undefined });
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
    const previous = coordinator.pool.add(client);
    if (previous) previous.disconnect('replaced by a newer connection of the same client');
    clog.info('client connected');

    /** Wraps a handler: validates the payload with zod and always answers the ack. */
    const on = <S extends z.ZodType>(event: string, schema: S, handler: (msg: z.infer<S>, wireBytes: number) => Ack<object>) => {
      socket.on(event, (raw: unknown, ack?: unknown) => {
        const reply: AckFn = typeof ack === 'function' ? (ack as AckFn) : () => undefined;
        const parsed = schema.safeParse(raw);
        if (!parsed.success) {
          const reason = parsed.error.issues.map((i) => `${i.path.join('.') || 'message'}: ${i.message}`).join('; ');
          clog.warn({ event, reason }, 'malformed message');
          reply({ ok: false, code: ErrorCodes.invalidMessage, reason });
          return;
        }
        try {
          reply(handler(parsed.data, approximateSize(raw)));
        } catch (err) {
          clog.error({ err, event }, 'handler failed');
          reply({ ok: false, code: ErrorCodes.internal, reason: 'internal server error' });
        }
      });
    };

    on(EVENTS.ready, ClientReadySchema, (msg) => {
      const c = coordinator.pool.get(clientId);
      if (c) c.ready = msg;
      registry.clientSeen({ id: clientId, backend: msg.backend });
      coordinator.clientReady();
      return { ok: true, clientId, modelVersion: coordinator.globalModel.version, modelConfig: coordinator.globalModel.config };
    });

    on(EVENTS.getModel, GetModelSchema, (msg) => {
      const current = coordinator.globalModel;
      const model = msg.version === undefined || msg.version === current.version ? current : loadVersion(registry, msg.version);
      const weights = float32ToBytes(model.weights);
      coordinator.noteBytesDown(weights.byteLength);
      const payload: ModelPayload = { version: model.version, hash: model.hash, layoutHash: model.layout.hash, weights };
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

    socket.on('disconnect', (reason) => {
      if (coordinator.pool.remove(clientId, client)) coordinator.clientDisconnected(clientId);
      registry.clientSeen({ id: clientId });
      clog.info({ reason }, 'client disconnected');
    });
  });
  return io;
}

/** Bytes of a message on the wire, dominated by its binary attachments. */
function approximateSize(raw: unknown): number {
  if (raw === null || raw === undefined) return 0;
  if (raw instanceof ArrayBuffer) return raw.byteLength;
  if (ArrayBuffer.isView(raw)) return raw.byteLength;
  if (typeof raw === 'string') return raw.length + 2;
  if (typeof raw !== 'object') return 8;
  let n = 2;
  for (const v of Array.isArray(raw) ? raw : Object.values(raw as Record<string, unknown>)) n += approximateSize(v) + 1;
  return n;
}
