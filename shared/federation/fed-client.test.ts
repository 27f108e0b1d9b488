import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Server as IoServer, type Socket as ServerSocket } from 'socket.io';
import { io, type Socket } from 'socket.io-client';
import { FederationClient, MemoryModelCache, type FederationEvent, type LocalTrainer } from './fed-client';
import { DEFAULT_MODEL_CONFIG } from '../model/config';
import { packBinary } from '../protocol/binary-pack';
import { EVENTS } from '../protocol/messages';
import { SECAGG_EVENTS } from '../protocol/secagg-messages';

/** A real socket.io server that answers as the test says: the client must survive whatever it sends. */
interface Harness {
  http: HttpServer;
  server: IoServer;
  socket: Socket;
  client: FederationClient;
  events: FederationEvent[];
  /** The server side of the one connection. */
  peer: Promise<ServerSocket>;
  next(pred: (e: FederationEvent) => boolean): Promise<FederationEvent>;
}

let h: Harness | undefined;
afterEach(async () => {
  h?.socket.disconnect();
  await h?.server.close();
  h = undefined;
});

const trainer: LocalTrainer = {
  backend: 'node-cpu',
  numExamples: () => 0,
  train: () => Promise.reject(new Error('not used')),
};

async function start(readyAck: (payload: unknown) => unknown): Promise<Harness> {
  const http = createServer();
  const server = new IoServer(http);
  const peer = new Promise<ServerSocket>((resolve) =>
    server.on('connection', (s) => {
      s.on(EVENTS.ready, (payload: unknown, ack: (r: unknown) => void) => ack(readyAck(payload)));
      resolve(s);
    }),
  );
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const socket = io(url, { transports: ['websocket'], reconnection: false, autoConnect: false });
  const events: FederationEvent[] = [];
  const waiters: { pred: (e: FederationEvent) => boolean; resolve: (e: FederationEvent) => void }[] = [];
  const client = new FederationClient(socket, trainer, new MemoryModelCache(), {
    clientId: 'client-under-test',
    onEvent: (e) => {
      events.push(e);
      for (let i = waiters.length - 1; i >= 0; i--) if (waiters[i]!.pred(e)) waiters.splice(i, 1)[0]!.resolve(e);
    },
  });
  const next = (pred: (e: FederationEvent) => boolean) =>
    new Promise<FederationEvent>((resolve) => {
      const seen = events.find(pred);
      if (seen) resolve(seen);
      else waiters.push({ pred, resolve });
    });
  socket.connect();
  h = { http, server, socket, client, events, peer, next };
  return h;
}

const errorMatching = (re: RegExp) => (e: FederationEvent) => e.type === 'error' && re.test(e.message);

describe('FederationClient parses what the server sends', () => {
  it('joins on a well-formed ready ack, and reports a malformed one instead of trusting it', async () => {
    const good = await start(() => ({ ok: true, modelVersion: 4, modelConfig: DEFAULT_MODEL_CONFIG }));
    expect(await good.next((e) => e.type === 'ready')).toMatchObject({ type: 'ready', modelVersion: 4 });
    good.socket.disconnect();
    await good.server.close();

    const bad = await start(() => ({ ok: true, modelVersion: 'four' }));
    const e = await bad.next((ev) => ev.type === 'error');
    expect(e).toEqual({
      type: 'error',
      message: expect.stringMatching(/^could not join: malformed ack: modelVersion: /),
    });
    expect(bad.events.some((ev) => ev.type === 'ready')).toBe(false);
  });

  it('tags plain messages by their event, refuses malformed ones with the field, and keeps listening', async () => {
    const t = await start(() => ({ ok: true, modelVersion: 0, modelConfig: DEFAULT_MODEL_CONFIG }));
    const peer = await t.peer;
    await t.next((e) => e.type === 'ready');
    peer.emit(EVENTS.roundEnd, { roundId: 2, outcome: 'exploded' });
    peer.emit(EVENTS.serverError, { code: 'disconnected', message: 'session revoked' });
    peer.emit(EVENTS.roundEnd, { roundId: 2, outcome: 'committed', newVersion: 3 });
    expect(await t.next(errorMatching(/^malformed roundEnd from server: outcome: /))).toBeDefined();
    expect(await t.next(errorMatching(/^session revoked$/))).toBeDefined();
    const end = await t.next((e) => e.type === 'round-end');
    expect(end).toEqual({
      type: 'round-end',
      end: { type: 'roundEnd', roundId: 2, outcome: 'committed', newVersion: 3 },
    });
  });

  it('refuses a SecAgg+ message of the wrong type or shape on its event, naming what is wrong', async () => {
    const t = await start(() => ({ ok: true, modelVersion: 0, modelConfig: DEFAULT_MODEL_CONFIG }));
    const peer = await t.peer;
    await t.next((e) => e.type === 'ready');
    const header = { round: 1, sessionId: 'session-xyz' };
    peer.emit(
      SECAGG_EVENTS.roster,
      packBinary({ type: 'routedShares', ...header, to: 'client-under-test', shares: [] }),
    );
    peer.emit(SECAGG_EVENTS.roster, packBinary({ type: 'roster', ...header, to: 'client-under-test' }));
    peer.emit(SECAGG_EVENTS.unmaskRequest, { p: { $b: [0, 99] }, b: new Uint8Array(4) });
    expect(await t.next(errorMatching(/^malformed roster from server: type: expected 'roster'/))).toBeDefined();
    expect(await t.next(errorMatching(/^malformed roster from server: neighbours: /))).toBeDefined();
    expect(await t.next(errorMatching(/^malformed unmaskRequest from server: /))).toBeDefined();
  });
});
