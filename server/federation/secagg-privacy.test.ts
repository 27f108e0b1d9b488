import { describe, expect, it } from 'vitest';
import { SECAGG_EVENTS } from '../../shared/protocol/secagg-messages';
import { clipToNorm } from '../../shared/privacy/clip';
import { packBinary, unpackBinary } from '../../shared/protocol/binary-pack';
import type { NodeFederatedClient } from './node-client';
import { federationFixture, startTestServer, waitUntil, type TestServer } from './test-harness';
import { CLIP, WEIGHT_CAP, addSecAggClients, secureRounds } from './secagg-fixture';
import type { LocalRoundResult } from '../../shared/federation/local-round';
import type { RoundStart } from '../../shared/protocol/messages';

const { servers, clients } = federationFixture();

const addClients = (
  s: TestServer,
  n: number,
  opts?: (i: number) => Partial<ConstructorParameters<typeof NodeFederatedClient>[0]>,
) => addSecAggClients(s, n, clients, opts);

describe('secure aggregation over real socket.io: what the server sees', () => {
  it('what the server receives reveals no single delta; bad messages are rejected with reasons while the round continues', async () => {
    const received: { clientId: string; kind: string; payload: unknown }[] = [];
    let firstAdvertise: unknown;
    const s = await startTestServer({
      roundConfig: {
        ...secureRounds(10, 5),
        secureAggregation: { enabled: true, clipNorm: CLIP, weightCap: WEIGHT_CAP, degree: 4 },
      },
      onSecureReceive: (clientId, kind, payload) => {
        received.push({ clientId, kind, payload });
        if (clientId === 'sa-client-0-xyz' && kind === 'advertise' && (payload as { round: number }).round === 1)
          firstAdvertise ??= payload;
      },
    });
    servers.push(s);
    const results = new Map<string, LocalRoundResult>();
    const made = addClients(s, 10, (i) => ({
      onTrained: (r: RoundStart, res: LocalRoundResult) =>
        r.modelVersion === 0 && void results.set(`sa-client-${i}-xyz`, res),
    }));
    const bad = made[0]!;
    const acks: Record<string, { ok: boolean; code?: string; reason?: string }> = {};
    // The bad client starts training only once its forged masked input has been answered, so the forged
    // message always reaches the server before its honest one (ordered by the ack, not by a delay).
    let forgedAnswered!: () => void;
    const forged = new Promise<void>((r) => (forgedAnswered = r));
    const train = bad.train.bind(bad);
    bad.train = async (...args) => {
      await forged;
      return train(...args);
    };
    bad.socket.on('round:start', (rs: RoundStart) => {
      if (rs.roundId === 2 && firstAdvertise) {
        // Replay: round 1's advertise message, sent again in round 2.
        void bad.socket.emitWithAck(SECAGG_EVENTS.advertise, packBinary(firstAdvertise)).then((a) => (acks.replay = a));
      }
    });
    bad.socket.on(SECAGG_EVENTS.roster, (raw: unknown) => {
      const roster = unpackBinary(raw) as { round: number; sessionId: string; neighbours: { id: string }[] };
      if (roster.round !== 1) return;
      const neighbours = new Set(roster.neighbours.map((n) => n.id));
      const stranger = made.map((c) => c.id).find((id) => id !== bad.id && !neighbours.has(id))!;
      const share = { from: bad.id, to: stranger, nonce: new Uint8Array(12), ciphertext: new Uint8Array(64) };
      void bad.socket
        .emitWithAck(
          SECAGG_EVENTS.shareKeys,
          packBinary({ type: 'shareKeys', round: 1, sessionId: roster.sessionId, from: bad.id, shares: [share] }),
        )
        .then((a) => (acks.nonNeighbour = a));
    });
    bad.socket.on(SECAGG_EVENTS.routedShares, (raw: unknown) => {
      const m = unpackBinary(raw) as { round: number; sessionId: string };
      if (m.round !== 1) return;
      void bad.socket
        .emitWithAck(
          SECAGG_EVENTS.maskedInput,
          packBinary({
            type: 'maskedInput',
            round: 1,
            sessionId: m.sessionId,
            from: bad.id,
            y: new Uint8Array(40),
            meanLoss: 1,
            steps: 1,
          }),
        )
        .then((a) => {
          acks.wrongLength = a;
          forgedAnswered();
        });
    });
    await waitUntil(
      () => (s.registry.latestVersion()?.version ?? 0) >= 2 && acks.replay !== undefined,
      60_000,
      'round 2 and the replay answer',
    );
    s.coordinator.pause();

    expect(acks.nonNeighbour).toMatchObject({ ok: false, code: 'not_neighbour' });
    expect(acks.wrongLength).toMatchObject({ ok: false, code: 'bad_length' });
    expect(acks.replay).toMatchObject({ ok: false, code: 'stale_round' });
    for (const a of Object.values(acks)) expect(a.reason).toBeTruthy();
    // The round went on with everyone (the bad client's honest messages included).
    expect(s.registry.getVersion(1)!.survivors).toBe(10);

    // No single delta is recoverable: each masked input is uncorrelated with its own clipped, weighted delta.
    // (The forged 10-word input was received too, and rejected.)
    const masked = received.filter(
      (r) =>
        r.kind === 'maskedInput' &&
        (r.payload as { round: number; y: Uint32Array }).round === 1 &&
        (r.payload as { y: Uint32Array }).y.length > 10,
    );
    expect(masked).toHaveLength(10);
    for (const m of masked) {
      const y = (m.payload as { y: Uint32Array }).y;
      const { clipped } = clipToNorm(results.get(m.clientId)!.delta, CLIP);
      const d = clipped.length;
      let sx = 0,
        sy = 0,
        sxx = 0,
        syy = 0,
        sxy = 0;
      for (let i = 0; i < d; i++) {
        const a = clipped[i]!,
          b = y[i]! / 2 ** 32;
        sx += a;
        sy += b;
        sxx += a * a;
        syy += b * b;
        sxy += a * b;
      }
      const corr = (sxy - (sx * sy) / d) / Math.sqrt((sxx - (sx * sx) / d) * (syy - (sy * sy) / d));
      expect(Math.abs(corr)).toBeLessThan(0.1);
    }
    // And no other message carries a float vector of the model's size.
    const big = received.filter(
      (r) =>
        r.kind !== 'maskedInput' &&
        JSON.stringify(r.payload, (_k, v) => (ArrayBuffer.isView(v) ? v.byteLength : v)).length > 50_000,
    );
    expect(big).toHaveLength(0);
  });
});
