import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initWasmBackendForNode } from '../../shared/tfjs/wasm-node';
import { TINY_MODEL_CONFIG } from '../../shared/model/config';
import { RoundOutcome } from '../../shared/protocol/phases';
import { SECAGG_EVENTS } from '../../shared/protocol/secagg-messages';
import { clipToNorm } from '../../shared/privacy/clip';
import { packBinary, unpackBinary } from '../../shared/protocol/binary-pack';
import { quantStep } from '../../shared/secagg/quantize';
import { readCheckpoint } from '../registry/checkpoints';
import { NodeFederatedClient } from './node-client';
import { clientShards, startTestServer, waitUntil } from './test-harness';
import type { LocalRoundResult } from '../../shared/federation/local-round';
import type { RoundStart } from '../../shared/protocol/messages';

type TestServer = Awaited<ReturnType<typeof startTestServer>>;

const CLIP = 0.5;
const WEIGHT_CAP = 1000;
const secureRounds = (n: number, minSurvivors: number) => ({
  training: { localSteps: 1, batchSize: 8, learningRate: 1e-3, temperature: 0.5 },
  cohort: { mode: 'fixed' as const, size: n },
  minClients: n,
  minSurvivors,
  trainDeadlineMs: 30_000,
  phaseDeadlineMs: 5_000,
  roundIntervalMs: 0,
  secureAggregation: { enabled: true, clipNorm: CLIP, weightCap: WEIGHT_CAP },
});

let server: TestServer | undefined;
const clients: NodeFederatedClient[] = [];

beforeAll(async () => {
  await initWasmBackendForNode();
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server?.cleanup();
  server = undefined;
});

function addClients(
  s: TestServer,
  n: number,
  opts: (i: number) => Partial<ConstructorParameters<typeof NodeFederatedClient>[0]> = () => ({}),
) {
  const shards = clientShards(n, 'iid', 9);
  const made = shards.map(
    (data, i) =>
      new NodeFederatedClient({
        url: s.url,
        token: s.registry.createToken('client').token,
        clientId: `sa-client-${i}-xyz`,
        modelConfig: TINY_MODEL_CONFIG,
        data,
        ...opts(i),
      }),
  );
  clients.push(...made);
  return made;
}

describe('secure aggregation over real socket.io', () => {
  it('commits a round whose update equals the plain weighted mean of clipped deltas (within the quantization bound)', async () => {
    server = await startTestServer({ roundConfig: secureRounds(4, 3) });
    const s = server;
    const deltas = new Map<string, LocalRoundResult>();
    addClients(s, 4, (i) => ({
      onTrained: (r: RoundStart, res: LocalRoundResult) =>
        r.modelVersion === 0 && void deltas.set(`sa-client-${i}-xyz`, res),
    }));
    await waitUntil(() => (s.registry.latestVersion()?.version ?? 0) >= 1, 20_000, 'secure round commit').catch((e) => {
      console.log(
        JSON.stringify(
          clients.map((c) =>
            c.client.events.map(
              (ev) =>
                ev.type +
                ('reason' in ev ? ':' + String(ev.reason) : '') +
                ('message' in ev ? ':' + String(ev.message) : ''),
            ),
          ),
          null,
          0,
        ),
      );
      console.log(JSON.stringify(s.registry.listRounds()));
      throw e;
    });
    s.coordinator.pause();
    const v1 = s.registry.getVersion(1)!;
    const prev = readCheckpoint(s.registry.getVersion(0)!.checkpoint_path).weights;
    const next = readCheckpoint(v1.checkpoint_path).weights;
    let wsum = 0;
    const expected = new Float64Array(prev.length);
    for (const r of deltas.values()) {
      const w = Math.min(r.numExamples, WEIGHT_CAP) / WEIGHT_CAP;
      const { clipped } = clipToNorm(r.delta, CLIP);
      wsum += w;
      for (let i = 0; i < expected.length; i++) expected[i]! += w * clipped[i]!;
    }
    const n = deltas.size;
    // Quantization error: n·step on the weighted sum and n/(2^b−1) on the weight sum.
    const bits = 24;
    const step = quantStep({ clipNorm: CLIP, bits });
    let maxErr = 0;
    for (let i = 0; i < prev.length; i++)
      maxErr = Math.max(maxErr, Math.abs(next[i]! - prev[i]! - expected[i]! / wsum));
    expect(maxErr).toBeLessThan((2 * n * step) / wsum + 1e-6);
    expect(v1.survivors).toBe(4);
  });

  /** Expected update: Σ w·clip(Δ) / Σ w over the given clients. */
  function plainMean(results: LocalRoundResult[], d: number): { mean: Float64Array; wsum: number } {
    const mean = new Float64Array(d);
    let wsum = 0;
    for (const r of results) {
      const w = Math.min(r.numExamples, WEIGHT_CAP) / WEIGHT_CAP;
      const { clipped } = clipToNorm(r.delta, CLIP);
      wsum += w;
      for (let i = 0; i < d; i++) mean[i]! += w * clipped[i]!;
    }
    for (let i = 0; i < d; i++) mean[i]! /= wsum;
    return { mean, wsum };
  }

  it("dropout matrix (n = 10): drops after AdvertiseKeys, after ShareKeys and after MaskedInput; the sum is the survivors' plain sum", async () => {
    server = await startTestServer({ roundConfig: secureRounds(10, 5) });
    const s = server;
    const results = new Map<number, LocalRoundResult>();
    const dropAt: Record<number, string> = {
      7: SECAGG_EVENTS.shareKeys,
      8: SECAGG_EVENTS.maskedInput,
      9: SECAGG_EVENTS.unmask,
    };
    addClients(s, 10, (i) => ({
      onTrained: (r: RoundStart, res: LocalRoundResult) => r.modelVersion === 0 && void results.set(i, res),
      dropBefore: (event: string) => event === dropAt[i],
    }));
    await waitUntil(() => (s.registry.latestVersion()?.version ?? 0) >= 1, 20_000, 'secure round with dropouts').catch(
      (e) => {
        console.log('rounds', JSON.stringify(s.registry.listRounds().map((r) => [r.id, r.outcome, r.reason])));
        throw e;
      },
    );
    s.coordinator.pause();
    const round = s.registry.listRounds().find((r) => r.new_version === 1)!;
    // Survivors = clients whose masked input arrived: 0..6 and 9 (9 vanished only before Unmask).
    expect(round.survivors).toBe(8);
    const survivors = [0, 1, 2, 3, 4, 5, 6, 9].map((i) => results.get(i)!);
    const prev = readCheckpoint(s.registry.getVersion(0)!.checkpoint_path).weights;
    const next = readCheckpoint(s.registry.getVersion(1)!.checkpoint_path).weights;
    const { mean, wsum } = plainMean(survivors, prev.length);
    const step = quantStep({ clipNorm: CLIP, bits: 24 });
    let maxErr = 0;
    for (let i = 0; i < prev.length; i++) maxErr = Math.max(maxErr, Math.abs(next[i]! - prev[i]! - mean[i]!));
    expect(maxErr).toBeLessThan((2 * 8 * step) / wsum + 1e-6);
    // Leaving client 8 (dropped after ShareKeys, trained but never sent) in would change the answer.
    const withDropped = plainMean([...survivors, results.get(8)!], prev.length).mean;
    let diff = 0;
    for (let i = 0; i < prev.length; i++) diff = Math.max(diff, Math.abs(withDropped[i]! - mean[i]!));
    expect(diff).toBeGreaterThan(100 * maxErr);
  });

  it('fails cleanly, keeping the global model, when fewer than t survive', async () => {
    server = await startTestServer({ roundConfig: secureRounds(5, 2) });
    const s = server;
    const before = s.coordinator.globalModel.hash;
    // n = 5 ⇒ everyone is a neighbour (k = 4), t = 3. Three clients vanish after ShareKeys.
    addClients(s, 5, (i) => ({ dropBefore: (event: string) => i >= 2 && event === SECAGG_EVENTS.maskedInput }));
    await waitUntil(
      () => s.registry.listRounds().some((r) => r.outcome === RoundOutcome.Failed),
      60_000,
      'failed round',
    );
    s.coordinator.pause();
    const failed = s.registry.listRounds().find((r) => r.outcome === RoundOutcome.Failed)!;
    expect(failed.reason).toMatch(/secure aggregation failed/);
    expect(failed.new_version).toBeNull();
    expect(s.registry.latestVersion()!.version).toBe(0);
    expect(s.coordinator.globalModel.hash).toBe(before);
  });

  it('what the server receives reveals no single delta; bad messages are rejected with reasons while the round continues', async () => {
    const received: { clientId: string; kind: string; payload: unknown }[] = [];
    let firstAdvertise: unknown;
    server = await startTestServer({
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
    const s = server;
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

  it('adaptive clipping: the masked "not clipped" bit moves C down when updates fit and up when they are clipped', async () => {
    for (const [startC, direction] of [
      [10, -1],
      [1e-6, 1],
    ] as const) {
      const s = await startTestServer({
        roundConfig: {
          ...secureRounds(4, 3),
          secureAggregation: {
            enabled: true,
            clipNorm: startC,
            weightCap: WEIGHT_CAP,
            adaptiveClip: { enabled: true },
          },
        },
      });
      server = s;
      addClients(s, 4);
      await waitUntil(() => (s.registry.latestVersion()?.version ?? 0) >= 3, 60_000, 'three adaptive rounds');
      s.coordinator.pause();
      const used = [1, 2, 3].map((v) => s.registry.getVersion(v)!.clip_norm!);
      // b̄ = 1 (nothing clipped) or 0 (everything clipped), γ = 0.5, η = 0.2, no DP noise on the bit.
      used.forEach((c, k) => expect(c / (startC * Math.exp(direction * 0.1 * k))).toBeCloseTo(1, 4));
      for (const c of clients.splice(0)) c.close();
      await s.cleanup();
      server = undefined;
    }
  });
});
