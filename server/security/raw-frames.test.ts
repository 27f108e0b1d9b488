/**
 * Attack suite: hand-made socket.io frames that no socket.io client would produce (the client
 * library itself overflows on them): 30,000-deep JSON, with and without a binary attachment.
 */
import { expect, it } from 'vitest';
import { EVENTS } from '../../shared/protocol/messages';
import { federationFixture, startTestServer } from '../federation/test-harness';
import { emitAck, rawClient, rawSocketIo } from './attack-kit';

const { servers } = federationFixture();

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
