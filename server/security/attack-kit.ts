/** Helpers for the attack suite: hostile clients on real sockets against a real test server. */
import { io, type Socket } from 'socket.io-client';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import type { TestServer } from '../federation/test-harness';

/** A raw socket.io client with its own join token (or the given one); resolves once connected. */
export async function rawClient(
  s: TestServer,
  opts: { clientId?: string; token?: string } = {},
): Promise<{ socket: Socket; clientId: string; token: string }> {
  const token = opts.token ?? s.registry.createToken('client').token;
  const clientId = opts.clientId ?? `atk-${randomBytes(6).toString('hex')}`;
  const socket = io(s.url, { auth: { token, clientId }, transports: ['websocket'], reconnection: false });
  await new Promise<void>((ok, fail) => {
    socket.once('connect', () => ok());
    socket.once('connect_error', (e) => fail(e));
  });
  return { socket, clientId, token };
}

/** Resolves with the reason of the socket's next disconnect (and the server's last error message, if any). */
export function nextDisconnect(socket: Socket): Promise<{ reason: string; serverMessage?: string }> {
  let serverMessage: string | undefined;
  socket.on('server:error', (e: { message?: string }) => (serverMessage = e?.message));
  return new Promise((ok) =>
    socket.once('disconnect', (reason) => ok({ reason, ...(serverMessage ? { serverMessage } : {}) })),
  );
}

/** Resolves with the connect_error message, or 'connected' if the handshake was accepted. */
export function handshake(url: string, auth: Record<string, unknown>): Promise<string> {
  const socket = io(url, { auth, transports: ['websocket'], reconnection: false });
  return new Promise((ok) => {
    socket.once('connect', () => {
      ok('connected');
      socket.disconnect();
    });
    socket.once('connect_error', (e) => {
      ok(e.message);
      socket.disconnect();
    });
  });
}

export type AnyAck = { ok: boolean; code?: string; reason?: string } & Record<string, unknown>;

export function emitAck(socket: Socket, event: string, payload: unknown, timeoutMs = 30_000): Promise<AnyAck> {
  return socket.timeout(timeoutMs).emitWithAck(event, payload) as Promise<AnyAck>;
}

/** An engine.io v4 websocket speaking raw socket.io packets; collects text frames. */
export async function rawSocketIo(
  url: string,
  auth: object,
): Promise<{ ws: WebSocket; frames: string[]; next(prefix: string): Promise<string> }> {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`);
  const frames: string[] = [];
  const waiters: [string, (f: string) => void][] = [];
  ws.on('message', (m, binary) => {
    if (binary) return;
    const f = m.toString();
    if (f === '2') return ws.send('3'); // engine.io ping → pong
    frames.push(f);
    const i = waiters.findIndex(([p]) => f.startsWith(p));
    if (i >= 0) waiters.splice(i, 1)[0]![1](f);
  });
  const next = (prefix: string) =>
    new Promise<string>((ok) => {
      const seen = frames.find((f) => f.startsWith(prefix));
      if (seen) ok(seen);
      else waiters.push([prefix, ok]);
    });
  await new Promise<void>((ok) => ws.once('open', () => ok()));
  ws.send(`40${JSON.stringify(auth)}`);
  await next('40{"sid"');
  return { ws, frames, next };
}
