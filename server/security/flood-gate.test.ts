/**
 * Attack suite, the flood: a client far over its rate has its events dropped before they are decoded
 * (junk is never parsed), is told so once, and is cut; a client that keeps sending at 2.5× its rate is
 * cut even though part of its traffic still gets through; each cut lengthens its cool-down.
 */
import { describe, expect, it } from 'vitest';
import { federationFixture, startTestServer } from '../federation/test-harness';
import { TokenBucket } from '../federation/rate-limit';
import { rawSocketIo } from './attack-kit';

const { servers } = federationFixture();
const READY = JSON.stringify({ backend: 'node-cpu', numExamples: 3 });

describe('flood: events over the rate', () => {
  it('far over its rate, junk is dropped before decoding (an unparsable frame does not reach the parser); then the client is cut', async () => {
    // No refill to speak of, so the counts below do not depend on timing.
    const s = await startTestServer({
      manualStart: true,
      rateLimit: { eventsPerSecond: 0.001, burst: 5, disconnectAfter: 40 },
    });
    servers.push(s);
    const c = await rawSocketIo(s.url, { token: s.registry.createToken('client').token, clientId: 'gate-client' });
    const closed = new Promise<string>((ok) => c.ws.once('close', () => ok('closed')));
    const acks: string[] = [];
    for (let id = 1; id <= 26; id++) {
      c.ws.send(`42${id}["client:ready",${READY}]`);
      acks.push(await c.next(`43${id}[`));
    }
    // Burst 5 accepted, then 21 refused with a reason (21 strikes: the first past half of disconnectAfter).
    expect(acks.filter((a) => a.includes('"ok":true'))).toHaveLength(5);
    expect(acks.slice(5).every((a) => a.includes('"code":"rate_limited"'))).toBe(true);
    // Invalid JSON: decoded, it would be a parse error that closes the connection. Dropped unread, it is not.
    c.ws.send('42["client:ready",{');
    // And a binary event whose attachment must be dropped with it.
    c.ws.send('451-["secagg:advertise",{"_placeholder":true,"num":0}]');
    c.ws.send(Buffer.alloc(16));
    const notice = await Promise.race([c.next('42["server:error"'), closed]);
    expect(notice).toMatch(/"code":"rate_limited".*dropped unread/);
    // 23 strikes so far; 17 more events reach 40 and the server cuts the client with a reason.
    for (let id = 100; id < 120; id++) c.ws.send(`42${id}["client:ready",${READY}]`);
    const cut = await Promise.race([c.next('42["server:error",{"code":"disconnected"'), closed]);
    expect(cut).toMatch(/too many messages/);
    await closed;
    // None of the dropped events was answered.
    expect(c.frames.filter((f) => /^43(1\d\d)\[/.test(f))).toEqual([]);
    expect((await fetch(`${s.url}/api/health`)).status).toBe(200);
  });

  it('malformed messages are strikes even within the rate: a client sending only junk is cut', async () => {
    const s = await startTestServer({
      manualStart: true,
      rateLimit: { eventsPerSecond: 0.001, burst: 1000, disconnectAfter: 30 },
    });
    servers.push(s);
    const c = await rawSocketIo(s.url, { token: s.registry.createToken('client').token, clientId: 'junk-client' });
    for (let id = 1; id <= 40; id++) c.ws.send(`42${id}["client:ready",{"backend":7}]`);
    const all40 = c.next('4340[').then(() => 'all 40 answered');
    const cut = await Promise.race([c.next('42["server:error",{"code":"disconnected"'), all40]);
    expect(cut).toMatch(/too many messages/);
    const acks = c.frames.filter((f) => /^43\d+\[/.test(f));
    expect(acks.length).toBeLessThan(31);
    expect(acks.every((a) => a.includes('"code":"invalid_message"'))).toBe(true);
  });

  it('a client sending at 2.5× its rate is cut although some of its events get through; cool-downs double', () => {
    const b = new TokenBucket({ eventsPerSecond: 20, burst: 60, disconnectAfter: 200 }, 0);
    let accepted = 0;
    let cutAt: number | undefined;
    for (let t = 0; t < 60_000 && cutAt === undefined; t += 20) {
      if (b.take(t)) accepted++;
      if (b.exhausted) cutAt = t;
    }
    expect(cutAt).toBeDefined();
    expect(accepted).toBeGreaterThan(100); // part of its traffic did get through
    b.cut(cutAt!);
    const first = b.blocksReconnect(cutAt!);
    expect(first).toBe(1500); // half the burst at 20/s
    b.cut(cutAt! + first);
    expect(b.blocksReconnect(cutAt! + first)).toBe(3000);
    const back = cutAt! + first + 3000;
    expect(b.blocksReconnect(back)).toBe(0);
    // Back after two cuts, it brings a quarter of the burst, and strikes past half of disconnectAfter.
    let burst = 0;
    while (b.take(back)) burst++;
    expect(burst).toBe(15);
    expect(b.strikes).toBeGreaterThanOrEqual(100);
  });
});
