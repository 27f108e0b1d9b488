/**
 * Attack suite, finding 1 and 5 of issue 12: a hostile client must not make the server do
 * unbounded work per message (placeholder bombs, decoding before phase checks, floods,
 * repeated downloads of old versions). Real server, real sockets, real SQLite.
 */
import { describe, expect, it } from 'vitest';
import { TINY_MODEL_CONFIG } from '../../shared/model/config';
import { SECAGG_EVENTS } from '../../shared/protocol/secagg-messages';
import { EVENTS } from '../../shared/protocol/messages';
import { unpackBinary } from '../../shared/protocol/binary-pack';
import { NodeFederatedClient } from '../federation/node-client';
import { clientShards, federationFixture, startTestServer, waitUntil } from '../federation/test-harness';
import { emitAck, handshake, nextDisconnect, rawClient, type AnyAck } from './attack-kit';

const { servers, clients } = federationFixture();

const secureRounds = (n: number) => ({
  training: { localSteps: 1, batchSize: 8, learningRate: 1e-3, temperature: 0.5 },
  cohort: { mode: 'fixed' as const, size: n },
  minClients: n,
  minSurvivors: n - 1,
  trainDeadlineMs: 30_000,
  phaseDeadlineMs: 5_000,
  roundIntervalMs: 0,
  secureAggregation: { enabled: true, clipNorm: 1, weightCap: 100 },
});

describe('bounded work per message', () => {
  it("a cohort member's placeholder bomb and an out-of-phase masked input are refused before decoding; the round goes on", async () => {
    const s = await startTestServer({ roundConfig: secureRounds(4) });
    servers.push(s);
    const shards = clientShards(4, 'iid', 5);
    const made = shards.map(
      (data, i) =>
        new NodeFederatedClient({
          url: s.url,
          token: s.registry.createToken('client').token,
          clientId: `bw-client-${i}-x`,
          modelConfig: TINY_MODEL_CONFIG,
          data,
        }),
    );
    clients.push(...made);
    const attacker = made[0]!;
    const acks: Record<string, AnyAck> = {};
    const send = attacker.socket.emitWithAck.bind(attacker.socket);
    // The attacker runs the honest client, but before its real advertise it sends two hostile messages.
    attacker.socket.emitWithAck = (async (event: string, payload: unknown) => {
      if (event === SECAGG_EVENTS.advertise && !acks.bomb) {
        const honest = unpackBinary(payload) as { round: number; sessionId: string; from: string };
        const header = { round: honest.round, sessionId: honest.sessionId, from: honest.from };
        const blob = new Uint8Array(16 * 1024);
        // 2,500 references to the whole 16 KiB blob: 40 MiB of copies for one 60 KiB message.
        const bomb = {
          p: {
            type: 'advertise',
            ...header,
            cPk: Array.from({ length: 2500 }, () => ({ $b: [0, blob.length] })),
            sPk: { $b: [0, 32] },
            selfSeedCommit: { $b: [0, 32] },
          },
          b: blob,
        };
        acks.bomb = (await send(SECAGG_EVENTS.advertise, bomb)) as AnyAck;
        // A masked input during AdvertiseKeys, with a malformed vector: the phase is wrong whatever it holds.
        acks.early = (await send(SECAGG_EVENTS.maskedInput, {
          p: { type: 'maskedInput', ...header, y: { $b: [0, 3] }, meanLoss: 1, steps: 1 },
          b: new Uint8Array(3),
        })) as AnyAck;
      }
      return send(event, payload);
    }) as typeof attacker.socket.emitWithAck;

    await waitUntil(() => (s.registry.latestVersion()?.version ?? 0) >= 1, 60_000, 'secure round commit');
    s.coordinator.pause();
    expect(acks.bomb).toMatchObject({ ok: false, code: 'too_large' });
    expect(acks.bomb!.reason).toMatch(/more than (3 binary fields|96 bytes)/);
    expect(acks.early).toMatchObject({ ok: false, code: 'wrong_phase' });
    // The attacker's honest messages were still accepted: all four survived.
    expect(s.registry.getVersion(1)!.survivors).toBe(4);
  });

  it('rate-limits a flooding client and disconnects one that ignores the refusals', async () => {
    // A slow refill (4/s) makes the bounds below independent of how fast this machine is.
    const s = await startTestServer({
      manualStart: true,
      rateLimit: { eventsPerSecond: 4, burst: 60, disconnectAfter: 200 },
    });
    servers.push(s);
    const t0 = Date.now(); // the bucket starts full at the handshake and refills from then on
    const flooder = await rawClient(s);
    const { socket } = flooder;
    const ready = { backend: 'node-cpu', numExamples: 10 };
    const first = await Promise.all(Array.from({ length: 150 }, () => emitAck(socket, EVENTS.ready, ready)));
    const refillAllowance = Math.ceil(((Date.now() - t0) / 1000) * 4); // tokens refilled since the handshake
    const limited = first.filter((a) => a.code === 'rate_limited').length;
    const ok = first.filter((a) => a.ok).length;
    // Burst 60 + 4/s: no more than that gets through, and the refusals say why.
    expect(ok).toBeLessThanOrEqual(60 + refillAllowance);
    expect(ok).toBeLessThan(150);
    expect(limited).toBe(150 - ok);
    expect(first.find((a) => a.code === 'rate_limited')!.reason).toMatch(/events\/s/);
    // Keep flooding without waiting for acks: the server cuts the connection.
    const gone = nextDisconnect(socket);
    for (let i = 0; i < 400; i++) socket.emit(EVENTS.ready, ready);
    const d = await gone;
    expect(d.reason).toBe('io server disconnect');
    expect(d.serverMessage).toMatch(/too many messages/);
    // Reconnecting is refused before any registry work until half the burst has refilled (7.5 s here):
    // a new connection does not bring a fresh budget, and a reconnect storm is a flood too.
    expect(await handshake(s.url, { token: flooder.token, clientId: flooder.clientId })).toMatch(/rate limited/);
    // Another client is unaffected.
    const other = await rawClient(s);
    expect(await emitAck(other.socket, EVENTS.ready, ready)).toMatchObject({ ok: true });
    other.socket.disconnect();
  });

  it('model:get of an old version: one cached disk read for many clients, and at most once per version per client id, reconnects included', async () => {
    const s = await startTestServer({ manualStart: true });
    servers.push(s);
    await s.coordinator.rollback(0); // v1 is now current; v0 only on disk
    const v0 = s.registry.getVersion(0)!;
    const sockets = await Promise.all(Array.from({ length: 10 }, () => rawClient(s)));
    const answers = await Promise.all(
      sockets.map(
        async ({ socket }) =>
          [
            await emitAck(socket, EVENTS.getModel, { version: 0 }),
            await emitAck(socket, EVENTS.getModel, { version: 0 }),
          ] as const,
      ),
    );
    for (const [first, again] of answers) {
      expect(first).toMatchObject({ ok: true, version: 0, hash: v0.weights_hash });
      expect(again).toMatchObject({ ok: false, code: 'rate_limited' });
    }
    expect(s.models.diskReads).toBe(1);
    // The current version comes from memory.
    expect(await emitAck(sockets[0]!.socket, EVENTS.getModel, {})).toMatchObject({ ok: true, version: 1 });
    expect(s.models.diskReads).toBe(1);
    // Reconnecting (same id and token, a new connection) does not buy a second copy of the same version.
    const { clientId, token } = sockets[1]!;
    const closed = nextDisconnect(sockets[1]!.socket);
    sockets[1]!.socket.disconnect();
    await closed;
    const again = await rawClient(s, { clientId, token });
    expect(await emitAck(again.socket, EVENTS.getModel, { version: 0 })).toMatchObject({
      ok: false,
      code: 'rate_limited',
      reason: expect.stringMatching(/already sent to this client; use the cached copy or retry in \d+ s/),
    });
    // Another version is still served to it, and another client id still gets v0.
    expect(await emitAck(again.socket, EVENTS.getModel, { version: 1 })).toMatchObject({ ok: true, version: 1 });
    const fresh = await rawClient(s);
    expect(await emitAck(fresh.socket, EVENTS.getModel, { version: 0 })).toMatchObject({ ok: true, version: 0 });
    for (const { socket } of [...sockets, again, fresh]) socket.disconnect();
  });
});
