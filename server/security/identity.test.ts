/**
 * Attack suite, findings 3 and 4 of issue 12: client ids bound to tokens, a device limit per
 * token, removal that sticks, and revocation/expiry/removal that end live sockets and take
 * them out of the round. Real server, real sockets, real SQLite; waits on events, not sleeps.
 */
import { describe, expect, it } from 'vitest';
import { TINY_MODEL_CONFIG } from '../../shared/model/config';
import { EVENTS } from '../../shared/protocol/messages';
import { RoundOutcome } from '../../shared/protocol/phases';
import { NodeFederatedClient } from '../federation/node-client';
import {
  TEST_ADMIN_TOKEN,
  clientShards,
  federationFixture,
  startTestServer,
  waitUntil,
  type TestServer,
} from '../federation/test-harness';
import type { RoundEndedEvent } from '../federation/coordinator';
import { emitAck, handshake, nextDisconnect, rawClient } from './attack-kit';

const { servers, clients } = federationFixture();

async function admin(
  s: TestServer,
  method: string,
  path: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await fetch(`${s.url}${path}`, { method, headers: { Authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

async function started(): Promise<TestServer> {
  const s = await startTestServer({ manualStart: true });
  servers.push(s);
  return s;
}

describe('identity: ids bound to tokens, device limits, revocation that ends sockets', () => {
  it('another token cannot take over a client id; the victim stays connected', async () => {
    const s = await started();
    const victim = await rawClient(s, { clientId: 'victim-client-1' });
    const lost = nextDisconnect(victim.socket);
    const attackerToken = s.registry.createToken('client').token;
    expect(await handshake(s.url, { token: attackerToken, clientId: 'victim-client-1' })).toMatch(
      /bound to another join token/,
    );
    // The victim's connection still answers (a takeover would have closed it first).
    expect(await emitAck(victim.socket, EVENTS.ready, { backend: 'node-cpu', numExamples: 5 })).toMatchObject({
      ok: true,
    });
    expect(victim.socket.connected).toBe(true);
    victim.socket.disconnect();
    expect((await lost).reason).toBe('io client disconnect');
    // The owner reconnects with its own token and id.
    expect(await handshake(s.url, { token: victim.token, clientId: 'victim-client-1' })).toBe('connected');
  });

  it('one token binds one device by default; a removed client cannot come back under a new id', async () => {
    const s = await started();
    const { token } = s.registry.createToken('client');
    expect(await handshake(s.url, { token, clientId: 'device-one-a' })).toBe('connected');
    expect(await handshake(s.url, { token, clientId: 'device-one-b' })).toMatch(
      /already used by 1 device\(s\) \(limit 1\)/,
    );
    // Remove the first device: its slot is not freed.
    expect((await admin(s, 'DELETE', '/api/admin/clients/device-one-a')).status).toBe(200);
    expect(await handshake(s.url, { token, clientId: 'device-one-a' })).toMatch(/removed by the administrator/);
    expect(await handshake(s.url, { token, clientId: 'device-one-c' })).toMatch(/already used/);
  });

  it('revoking a token over REST disconnects its live socket and the client leaves the running round', async () => {
    const s = await startTestServer({
      roundConfig: {
        cohort: { mode: 'fixed', size: 3 },
        minClients: 3,
        minSurvivors: 2,
        trainDeadlineMs: 120_000,
        roundIntervalMs: 0,
        secureAggregation: { enabled: false },
      },
    });
    servers.push(s);
    const ends: RoundEndedEvent[] = [];
    s.coordinator.on('round-ended', (e: RoundEndedEvent) => ends.push(e));
    const tokens = [0, 1, 2].map(() => s.registry.createToken('client'));
    let trainingStarted!: () => void;
    const victimTraining = new Promise<void>((ok) => (trainingStarted = ok));
    const shards = clientShards(3, 'iid', 4);
    const made = shards.map(
      (data, i) =>
        new NodeFederatedClient({
          url: s.url,
          token: tokens[i]!.token,
          clientId: `revoke-${i}-client`,
          modelConfig: TINY_MODEL_CONFIG,
          data,
          trainOverride: (global) => {
            if (i !== 0)
              return Promise.resolve({
                delta: new Float32Array(global.length),
                meanLoss: 1,
                steps: 1,
                numExamples: 10,
              });
            trainingStarted();
            return new Promise(() => undefined); // the victim never finishes: only its removal ends the round
          },
        }),
    );
    clients.push(...made);
    await victimTraining;
    const gone = nextDisconnect(made[0]!.socket);
    expect((await admin(s, 'DELETE', `/api/admin/tokens/${tokens[0]!.id}`)).status).toBe(200);
    const d = await gone;
    expect(d.serverMessage).toMatch(/join token revoked/);
    await waitUntil(() => ends.length >= 1, 20_000, 'the round to end without the revoked client');
    s.coordinator.pause();
    expect(ends[0]).toMatchObject({ outcome: RoundOutcome.Committed, survivors: 2, dropouts: 1 });
    expect(await handshake(s.url, { token: tokens[0]!.token, clientId: 'revoke-0-client' })).toMatch(
      /invalid, revoked or expired/,
    );
  });

  it('expiry, a revocation by another process (the CLI) and removal with revokeToken all end live sockets', async () => {
    const s = await started();
    // Expiry: the token is valid at the handshake and expires 300 ms later.
    const expiring = s.registry.createToken('client', 'short', Date.now() + 300);
    const a = await rawClient(s, { token: expiring.token });
    const aGone = nextDisconnect(a.socket);
    // The CLI writes to the same SQLite file; the server only sees the row change.
    const b = await rawClient(s);
    const bGone = nextDisconnect(b.socket);
    const bId = s.registry.getClient(b.clientId)!.token_id!;
    s.registry.revokeToken(bId);
    // Removal with ?revokeToken=1 also revokes the client's token.
    const c = await rawClient(s);
    const cGone = nextDisconnect(c.socket);
    const removed = await admin(s, 'DELETE', `/api/admin/clients/${c.clientId}?revokeToken=1`);
    expect(removed.status).toBe(200);
    expect((await aGone).serverMessage).toMatch(/join token expired/);
    expect((await bGone).serverMessage).toMatch(/join token revoked/);
    expect((await cGone).serverMessage).toMatch(/removed by the administrator/);
    expect(s.registry.getToken(removed.body.revokedToken as number)!.revoked_at).not.toBeNull();
    expect(await handshake(s.url, { token: c.token, clientId: 'fresh-device-id' })).toMatch(
      /invalid, revoked or expired/,
    );
    expect(s.coordinator.pool.size).toBe(0);
  });
});
