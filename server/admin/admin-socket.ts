import type { Namespace, Server as IoServer } from 'socket.io';
import type { Logger } from 'pino';
import type { Registry } from '../registry/registry';
import type { CoordinatorStatus, RoundCoordinator } from '../federation/coordinator';
import type { EvaluationService } from './evaluation';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- EventEmitter listeners take any payload
type Listener = [string, (p: any) => void];

/** Events the /admin namespace pushes to consoles. */
export const ADMIN_EVENTS = {
  snapshot: 'snapshot',
  status: 'status',
  roundStarted: 'round-started',
  roundEnded: 'round-ended',
  version: 'version',
  rejected: 'rejected',
  evaluationStarted: 'evaluation-started',
  evaluated: 'evaluated',
  qualityWarning: 'quality-warning',
  authExpired: 'auth-expired',
} as const;

export interface AdminSocketOptions {
  registry: Registry;
  coordinator: RoundCoordinator;
  evaluation?: EvaluationService | undefined;
  log: Logger;
  /** How often live sockets' tokens are re-checked (revoked/expired tokens get disconnected). */
  recheckMs?: number;
  /** Status pushes are coalesced to at most one per this many ms. */
  statusThrottleMs?: number;
}

/**
 * The `/admin` socket.io namespace: a live feed for the admin console. The
 * handshake's `auth.token` must be a live admin token (else `unauthenticated`);
 * tokens are re-checked periodically so revocation and expiry take effect.
 */
export function attachAdminNamespace(io: IoServer, opts: AdminSocketOptions): { nsp: Namespace; close(): void } {
  const { registry, coordinator, evaluation, log } = opts;
  const nsp = io.of('/admin');

  nsp.use((socket, next) => {
    const token = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
    const row = typeof token === 'string' ? registry.verifyToken(token, ['admin']) : undefined;
    if (!row) {
      const err = new Error('unauthenticated') as Error & { data?: unknown };
      err.data = { reason: 'a live admin token is required in auth.token' };
      return next(err);
    }
    socket.data.token = token;
    socket.data.tokenId = row.id;
    next();
  });

  const snapshot = () => ({
    status: coordinator.status(),
    config: coordinator.config,
    evaluation: evaluation ? evaluation.state() : { enabled: false },
    serverTime: Date.now(),
  });

  nsp.on('connection', (socket) => {
    log.info({ tokenId: socket.data.tokenId }, 'admin console connected');
    socket.emit(ADMIN_EVENTS.snapshot, snapshot());
    socket.on('snapshot', (ack?: unknown) => {
      if (typeof ack === 'function') (ack as (s: unknown) => void)(snapshot());
    });
  });

  // Coalesce status bursts (every ready/delivery emits one).
  let statusTimer: NodeJS.Timeout | undefined;
  let latest: CoordinatorStatus | undefined;
  const throttle = opts.statusThrottleMs ?? 200;
  const onStatus = (s: CoordinatorStatus) => {
    latest = s;
    statusTimer ??= setTimeout(() => {
      statusTimer = undefined;
      nsp.emit(ADMIN_EVENTS.status, { ...latest, serverTime: Date.now() });
    }, throttle);
  };
  const forward = (event: string) => (payload: unknown) => nsp.emit(event, payload);
  const handlers: Listener[] = [
    ['status', onStatus],
    ['round-started', forward(ADMIN_EVENTS.roundStarted)],
    ['round-ended', forward(ADMIN_EVENTS.roundEnded)],
    ['version', forward(ADMIN_EVENTS.version)],
    ['rejected', forward(ADMIN_EVENTS.rejected)],
  ];
  for (const [e, h] of handlers) coordinator.on(e, h);
  const evalHandlers: Listener[] = [
    ['started', forward(ADMIN_EVENTS.evaluationStarted)],
    ['evaluated', forward(ADMIN_EVENTS.evaluated)],
    ['quality-warning', forward(ADMIN_EVENTS.qualityWarning)],
  ];
  for (const [e, h] of evalHandlers) evaluation?.on(e, h);

  const recheck = setInterval(() => {
    for (const socket of nsp.sockets.values()) {
      if (!registry.verifyToken(socket.data.token as string, ['admin'])) {
        socket.emit(ADMIN_EVENTS.authExpired, { reason: 'admin token revoked or expired' });
        socket.disconnect(true);
      }
    }
  }, opts.recheckMs ?? 10_000);
  recheck.unref();

  return {
    nsp,
    close() {
      clearInterval(recheck);
      clearTimeout(statusTimer);
      for (const [e, h] of handlers) coordinator.off(e, h);
      for (const [e, h] of evalHandlers) evaluation?.off(e, h);
      nsp.disconnectSockets(true);
    },
  };
}
