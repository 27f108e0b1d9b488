/**
 * Attack suite: hand-made socket.io frames that no socket.io client would produce (the client
 * library itself overflows on them): 30,000-deep JSON, with and without a binary attachment.
 */
import { expect, it } from 'vitest';
import WebSocket from 'ws';
import { EVENTS } from '../../shared/protocol/messages';
import { federationFixture, startTestServer } from '../federation/test-harness';
import { emitAck, rawClient } from './attack-kit';

const { servers } = federationFixture();

/** An engine.io v4 websocket speaking raw socket.io packets; collects text frames. */
async function rawSocketIo(
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

it('30,000-deep JSON gets a clear refusal (not an internal error); with an attachment it closes only that socket', async () => {
  const s = await startTestServer({ manualStart: true });
  servers.push(s);
  const deep = (leaf: string) => '['.repeat(30_000) + leaf + ']'.repeat(30_000);
  const a = await rawSocketIo(s.url, { token: s.registry.createToken('client').token, clientId: 'raw-frames-a' });
  a.ws.send(`421["secagg:advertise",${deep('1')}]`);
  a.ws.send(`422["client:ready",${deep('1')}]`);
  const [adv, ready] = await Promise.all([a.next('431'), a.next('432')]);
  expect(adv).toMatch(/"ok":false/);
  expect(adv).not.toMatch(/internal_error/);
  expect(ready).toMatch(/"code":"invalid_message"/);
  // socket.io rebuilds attachments recursively: the parser fails, and only this connection ends.
  const closed = new Promise<number>((ok) => a.ws.once('close', (code) => ok(code)));
  a.ws.send(`451-["secagg:advertise",${deep('{"_placeholder":true,"num":0}')}]`);
  a.ws.send(Buffer.alloc(4));
  expect(await closed).toBeGreaterThan(1000);
  expect((await fetch(`${s.url}/api/health`)).status).toBe(200);
  const other = await rawClient(s);
  expect(await emitAck(other.socket, EVENTS.ready, { backend: 'node-cpu', numExamples: 3 })).toMatchObject({
    ok: true,
  });
  other.socket.disconnect();
});
