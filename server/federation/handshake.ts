import type { Socket } from 'socket.io';
import { HandshakeAuthSchema } from '../../shared/protocol/messages';
import { formatIssues } from '../../shared/protocol/issues';
import type { Registry } from '../registry/registry';
import type { AddressLimiter } from '../security/address-limit';

export interface HandshakeDeps {
  registry: Registry;
  /** Accept clients without a join token (demo only). */
  openEnrollment: boolean;
  /** Client ids one join token may bind. */
  devicesPerToken: number;
  /** Handshake and failed-auth limits per remote address. */
  addresses: AddressLimiter;
  /** How long a client id cut for flooding must still wait before it may reconnect (0: it may). */
  coolDownMs: (clientId: string) => number;
}

/**
 * The socket.io handshake: per-address limits first, then the join token, the client id's binding to its token and
 * the device limit. On success the socket carries clientId, name and tokenId.
 */
export function handshakeGuard(deps: HandshakeDeps): (socket: Socket, done: (err?: Error) => void) => void {
  return (socket, done) => {
    // Per remote address, before anything is parsed: a connection or token-guessing storm is refused cheaply.
    const address = socket.handshake.address;
    const verdict = deps.addresses.attempt(address, Date.now());
    if (!verdict.ok) return done(new Error(verdict.reason));
    const next = (err?: Error) => {
      if (err?.message.startsWith('unauthenticated:')) deps.addresses.failed(address, Date.now());
      done(err);
    };
    const auth = HandshakeAuthSchema.safeParse(socket.handshake.auth ?? {});
    if (!auth.success)
      return next(new Error(`unauthenticated: malformed handshake (${formatIssues(auth.error, { root: 'auth' })})`));
    // Before any registry work: a client recently cut for flooding waits out its cool-down.
    const coolDown = deps.coolDownMs(auth.data.clientId);
    if (coolDown > 0)
      return next(new Error(`rate limited: too many messages, retry in ${Math.ceil(coolDown / 1000)} s`));
    const token = auth.data.token ? deps.registry.verifyToken(auth.data.token, ['client']) : undefined;
    if (!token && !deps.openEnrollment) {
      return next(
        new Error(
          auth.data.token
            ? 'unauthenticated: join token is invalid, revoked or expired'
            : 'unauthenticated: a join token is required',
        ),
      );
    }
    const known = deps.registry.getClient(auth.data.clientId);
    if (known?.removed) return next(new Error('unauthenticated: this client was removed by the administrator'));
    // A client id belongs to the token that created it: another token (or none) cannot take it over
    // while that token is live. Once it is revoked or expired, a new token may re-bind the device.
    const rebinding = known !== undefined && known.token_id !== null && known.token_id !== token?.id;
    if (rebinding && (!token || tokenIsLive(deps.registry, known.token_id!))) {
      return next(new Error('unauthenticated: this client id is bound to another join token'));
    }
    if (token && (!known || rebinding)) {
      const used = deps.registry.countClientsForToken(token.id);
      if (used >= deps.devicesPerToken) {
        return next(
          new Error(
            `unauthenticated: this join token is already used by ${used} device(s) (limit ${deps.devicesPerToken}); ask for a new token`,
          ),
        );
      }
    }
    // Bind now, in the same tick as the check, so two concurrent handshakes cannot both take the last slot.
    deps.registry.clientSeen({ id: auth.data.clientId, name: auth.data.name, tokenId: token?.id });
    socket.data.clientId = auth.data.clientId;
    socket.data.name = auth.data.name;
    socket.data.tokenId = token?.id;
    next();
  };
}

function tokenIsLive(registry: Registry, id: number): boolean {
  const t = registry.getToken(id);
  return t !== undefined && t.revoked_at === null && (t.expires_at === null || t.expires_at > Date.now());
}
