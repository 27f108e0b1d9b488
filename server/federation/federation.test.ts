import { afterEach, describe, expect, it } from 'vitest';
import { io as ioClient, type Socket } from 'socket.io-client';
import { TINY_MODEL_CONFIG } from '../../shared/model/config';
import { EVENTS, type Ack, type RoundStart } from '../../shared/protocol/messages';
import { RoundOutcome } from '../../shared/protocol/phases';
import { readCheckpoint } from '../registry/checkpoints';
import { NodeFederatedClient } from './node-client';
import { clientShards, federationFixture, startTestServer, waitUntil } from './test-harness';
import type { LocalRoundResult } from '../../shared/federation/local-round';

type TestServer = Awaited<ReturnType<typeof startTestServer>>;

const fastRounds = {
  training: { localSteps: 1, batchSize: 8, learningRate: 1e-3, temperature: 0.5 },
  trainDeadlineMs: 20_000,
  roundIntervalMs: 0,
  maxUpdateNorm: 1e3,
  // These tests pin down plain mode; secure aggregation has its own suite.
  secureAggregation: { enabled: false },
};

const { servers, clients } = federationFixture();
const sockets: Socket[] = [];

afterEach(() => {
  for (const s of sockets.splice(0)) s.disconnect();
});

/** A server the fixture cleans up after the test. */
async function startServer(minSurvivors: number): Promise<TestServer> {
  const s = await startTestServer({
    roundConfig: { ...fastRounds, cohort: { mode: 'fixed', size: 3 }, minClients: 3, minSurvivors },
  });
  servers.push(s);
  return s;
}

function joinToken(s: TestServer): string {
  return s.registry.createToken('client', 'test').token;
}

function addClients(
  s: TestServer,
  n: number,
  extra: Partial<ConstructorParameters<typeof NodeFederatedClient>[0]> = {},
) {
  const shards = clientShards(n, 'dirichlet:0.5', 3);
  const made = shards.map(
    (data, i) =>
      new NodeFederatedClient({
        url: s.url,
        token: joinToken(s),
        clientId: `client-${i}-abcdef`,
        modelConfig: TINY_MODEL_CONFIG,
        data,
        ...extra,
      }),
  );
  clients.push(...made);
  return made;
}

function rawSocket(s: TestServer, auth: Record<string, unknown>): Socket {
  const sock = ioClient(s.url, { auth, transports: ['websocket'], reconnection: false });
  sockets.push(sock);
  return sock;
}

describe('federated rounds over real socket.io', () => {
  it('FedAvg over three rounds equals the hand-computed example-weighted mean', async () => {
    const s = await startServer(3);
    const recorded = new Map<number, { delta: Float32Array; n: number }[]>();
    addClients(s, 3, {
      onTrained: (round: RoundStart, r: LocalRoundResult) => {
        const list = recorded.get(round.modelVersion) ?? [];
        list.push({ delta: r.delta, n: r.numExamples });
        recorded.set(round.modelVersion, list);
      },
    });
    await waitUntil(() => (s.registry.latestVersion()?.version ?? 0) >= 3, 90_000, 'three committed versions');
    s.coordinator.pause();

    for (let v = 1; v <= 3; v++) {
      const row = s.registry.getVersion(v)!;
      expect(row.parent).toBe(v - 1);
      expect(row.survivors).toBe(3);
      const prev = readCheckpoint(s.registry.getVersion(v - 1)!.checkpoint_path).weights;
      const next = readCheckpoint(row.checkpoint_path, row.weights_hash).weights;
      const updates = recorded.get(v - 1)!;
      expect(updates).toHaveLength(3);
      const total = updates.reduce((a, u) => a + u.n, 0);
      expect(row.examples).toBe(total);
      let maxErr = 0;
      for (let i = 0; i < prev.length; i++) {
        let mean = 0;
        for (const u of updates) mean += (u.n / total) * u.delta[i]!;
        maxErr = Math.max(maxErr, Math.abs(prev[i]! + mean - next[i]!));
      }
      expect(maxErr).toBeLessThan(1e-5);
      // The update really moved the model.
      expect(next.some((x, i) => x !== prev[i])).toBe(true);
    }
    const rounds = s.registry.listRounds().filter((r) => r.outcome === RoundOutcome.Committed);
    expect(rounds.length).toBeGreaterThanOrEqual(3);
    expect(s.registry.listClients().every((c) => c.rounds_joined >= 3)).toBe(true);
  });

  it('sends each round the learning rate its schedule gives for the version it starts from', async () => {
    // Peak 1e-3, no warm-up, cosine over 3 rounds to 10%: v0 1e-3, v1 the mean 5.5e-4, v2 the floor 1e-4.
    const s = await startTestServer({
      roundConfig: {
        ...fastRounds,
        training: { ...fastRounds.training, schedule: { warmupRounds: 0, totalRounds: 3, finalFraction: 0.1 } },
        cohort: { mode: 'fixed', size: 3 },
        minClients: 3,
        minSurvivors: 3,
      },
    });
    servers.push(s);
    const seen = new Map<number, { lr: number; schedule: unknown }[]>();
    addClients(s, 3, {
      onTrained: (round: RoundStart) =>
        seen.set(round.modelVersion, [
          ...(seen.get(round.modelVersion) ?? []),
          { lr: round.training.learningRate, schedule: round.training.schedule },
        ]),
    });
    await waitUntil(() => (s.registry.latestVersion()?.version ?? 0) >= 3, 90_000, 'three committed versions');
    const expected = [1e-3, 5.5e-4, 1e-4];
    for (const [v, lr] of expected.entries()) {
      const got = seen.get(v) ?? [];
      expect(got).toHaveLength(3);
      for (const g of got) {
        expect(g.lr).toBeCloseTo(lr, 12);
        expect(g.schedule).toBeUndefined(); // the schedule stays on the server
      }
    }
  });

  it('rejects stale, duplicate, wrong-length, NaN and oversized updates and unauthenticated sockets while the round goes on', async () => {
    const s = await startServer(3);
    const d = s.coordinator.globalModel.layout.totalSize;

    // Unauthenticated: no token, and a forged token.
    for (const auth of [{ clientId: 'anon-client-1' }, { clientId: 'anon-client-2', token: 'fj_forged' }]) {
      const sock = rawSocket(s, auth);
      const err = await new Promise<Error>((resolve) => sock.on('connect_error', resolve));
      expect(err.message).toMatch(/unauthenticated/);
    }

    // An oversized payload gets the socket dropped by socket.io's buffer limit.
    const big = rawSocket(s, { clientId: 'big-client-1', token: joinToken(s) });
    await new Promise<void>((r) => big.on('connect', () => r()));
    const bigGone = new Promise<string>((resolve) => big.on('disconnect', resolve));
    big.emit(EVENTS.submitUpdate, {
      roundId: 1,
      modelVersion: 0,
      numExamples: 1,
      meanLoss: 1,
      steps: 1,
      delta: new Uint8Array(d * 4 * 2 + 1024 * 1024),
    });
    expect(await bigGone).toMatch(/transport/);

    // A selected client that misbehaves in every way before sending one valid update.
    const bad = rawSocket(s, { clientId: 'bad-client-1', token: joinToken(s) });
    const roundStart = new Promise<RoundStart>((resolve) => bad.on(EVENTS.roundStart, resolve));
    await new Promise<void>((r) => bad.on('connect', () => r()));
    await bad.emitWithAck(EVENTS.ready, { backend: 'node-cpu', numExamples: 5 });
    // Honest clients hold their uploads until the bad client is done, so the round stays open.
    let openGate = () => {};
    const gate = new Promise<void>((r) => (openGate = r));
    const honest = addClients(s, 2);
    for (const h of honest) {
      const train = h.train.bind(h);
      h.train = async (...args) => {
        await gate;
        return train(...args);
      };
    }
    const round = await roundStart;
    const send = (delta: Float32Array, over: Record<string, unknown> = {}) =>
      bad.emitWithAck(EVENTS.submitUpdate, {
        roundId: round.roundId,
        modelVersion: round.modelVersion,
        numExamples: 5,
        meanLoss: 1,
        steps: 1,
        delta: new Uint8Array(delta.buffer),
        ...over,
      }) as Promise<Ack>;
    const codeOf = (a: Ack) => (a.ok ? 'ok' : a.code);

    expect(codeOf(await send(new Float32Array(d), { roundId: round.roundId + 7 }))).toBe('stale_round');
    expect(codeOf(await send(new Float32Array(d - 1)))).toBe('wrong_length');
    const nan = new Float32Array(d);
    nan[3] = Number.NaN;
    expect(codeOf(await send(nan))).toBe('non_finite');
    const huge = new Float32Array(d).fill(100);
    expect(codeOf(await send(huge))).toBe('norm_too_large');
    expect(codeOf((await bad.emitWithAck(EVENTS.submitUpdate, { roundId: 'x', delta: [1, 2, 3] })) as Ack)).toBe(
      'invalid_message',
    );
    const valid = new Float32Array(d).fill(1e-4);
    expect(codeOf(await send(valid))).toBe('ok');
    expect(codeOf(await send(valid))).toBe('duplicate');
    openGate();

    // The round still commits with all three (the bad client's one valid update included).
    await waitUntil(
      () => s.registry.getRound(round.roundId)?.outcome === RoundOutcome.Committed,
      60_000,
      'round commit',
    );
    expect(s.registry.getRound(round.roundId)!.survivors).toBe(3);
    // An update for a round that has closed is stale.
    expect(codeOf(await send(valid))).toBe('stale_round');
  });

  it('completes a round when a client vanishes mid-round and survivors reach the threshold', async () => {
    const s = await startServer(2);
    const [, , quitter] = addClients(s, 3);
    // The third client disconnects as soon as it is asked to train.
    quitter!.socket.on(EVENTS.roundStart, () => quitter!.socket.disconnect());
    await waitUntil(() => (s.registry.latestVersion()?.version ?? 0) >= 1, 60_000, 'first version');
    const r = s.registry.listRounds().find((x) => x.outcome === RoundOutcome.Committed)!;
    expect(r.survivors).toBe(2);
    expect(r.dropouts).toBe(1);
  });

  it('fails the round cleanly and keeps the global model when too few survive', async () => {
    const s = await startServer(3);
    const before = s.coordinator.globalModel;
    const made = addClients(s, 3);
    made[2]!.socket.on(EVENTS.roundStart, () => made[2]!.socket.disconnect());
    await waitUntil(
      () => s.registry.listRounds().some((x) => x.outcome === RoundOutcome.Failed),
      60_000,
      'failed round',
    );
    s.coordinator.pause();
    const failed = s.registry.listRounds().find((x) => x.outcome === RoundOutcome.Failed)!;
    expect(failed.reason).toMatch(/at least 3 needed/);
    expect(failed.new_version).toBeNull();
    expect(s.registry.latestVersion()!.version).toBe(before.version);
    expect(s.coordinator.globalModel.hash).toBe(before.hash);
    // The survivors were told.
    await made[0]!.waitFor((e) => e.type === 'round-end' && e.end.outcome === RoundOutcome.Failed, 10_000);
  });
});
