/**
 * Attack suite, fuzzing (issue 12): 1,200 seeded malformed messages over 24 real sockets
 * while secure rounds run; afterwards the process answers, every acked message got an
 * answer that is not an internal error, a round still commits, and RSS stays under 2× its start.
 */
import { describe, expect, it } from 'vitest';
import { TINY_MODEL_CONFIG } from '../../shared/model/config';
import { EVENTS } from '../../shared/protocol/messages';
import { SECAGG_EVENTS } from '../../shared/protocol/secagg-messages';
import { createRng, type Rng } from '../../shared/data/rng';
import { NodeFederatedClient } from '../federation/node-client';
import { clientShards, federationFixture, startTestServer, waitUntil } from '../federation/test-harness';
import { rawClient, type AnyAck } from './attack-kit';

const { servers, clients } = federationFixture();

const SEED = 12;
const SOCKETS = 24;
const PER_SOCKET = 50; // within the per-client burst, so the messages reach the decoders

const EVENT_NAMES = [
  EVENTS.ready,
  EVENTS.getModel,
  EVENTS.submitUpdate,
  SECAGG_EVENTS.advertise,
  SECAGG_EVENTS.shareKeys,
  SECAGG_EVENTS.maskedInput,
  SECAGG_EVENTS.unmask,
];

function pick<T>(rng: Rng, xs: readonly T[]): T {
  return xs[rng.int(xs.length)]!;
}

function randomString(rng: Rng, max = 40): string {
  const n = rng.int(max);
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(32 + rng.int(0x2fff));
  return s;
}

function randomJson(rng: Rng, depth: number): unknown {
  const k = rng.int(depth > 0 ? 9 : 6);
  switch (k) {
    case 0:
      return null;
    case 1:
      return rng.uniform() < 0.5;
    case 2:
      return pick(rng, [0, -1, 1.5, 2 ** 31, 2 ** 53, -1e308, 1e308, Number.MAX_SAFE_INTEGER]);
    case 3:
      return randomString(rng);
    case 4:
      return new Uint8Array(rng.int(2048));
    case 5:
      return { $b: [rng.int(10) - 2, pick(rng, [0, 5, 1e9, -3, 0.5])] };
    case 6:
      return Array.from({ length: rng.int(6) }, () => randomJson(rng, depth - 1));
    case 7:
      return Object.fromEntries(
        Array.from({ length: rng.int(6) }, () => [randomString(rng, 8), randomJson(rng, depth - 1)]),
      );
    default: {
      // deep nesting
      let v: unknown = 1;
      for (let i = 0; i < 10 + rng.int(60); i++) v = [v];
      return v;
    }
  }
}

/** A malformed message for `event`: never a valid one (so no fuzzer joins a cohort). */
function malformed(rng: Rng, event: string): unknown {
  const header = {
    round: pick(rng, [0, 1, 2, 999, -1]),
    sessionId: randomString(rng, 20),
    from: randomString(rng, 20),
  };
  switch (rng.int(8)) {
    case 0:
      return randomJson(rng, 4);
    case 1: {
      // placeholder bomb
      const blob = new Uint8Array(1 + rng.int(16_384));
      return {
        p: {
          type: event.split(':')[1],
          ...header,
          cPk: Array.from({ length: 500 + rng.int(3000) }, () => ({ $b: [0, blob.length] })),
        },
        b: blob,
      };
    }
    case 2: // out-of-range / odd placeholders
      return {
        p: { type: 'maskedInput', ...header, y: { $b: [rng.int(100) - 50, pick(rng, [1e12, -1, 0.25, 7])] } },
        b: new Uint8Array(rng.int(64)),
      };
    case 3: // envelope with a deep p
      return { p: randomJson(rng, 6), b: pick(rng, [null, 'x', new Uint8Array(10), 5]) };
    case 4:
      return { backend: randomString(rng, 6) || 'gpu!', numExamples: pick(rng, [-1, 0.5, 1e12, '10']) }; // bad ready
    case 5:
      return { version: pick(rng, [-1, 0.5, 'latest', 1e300, null, 123_456, 2 ** 40]) }; // bad model:get
    case 6:
      return {
        roundId: pick(rng, [0, -5, 1.5]),
        modelVersion: -1,
        numExamples: 0,
        meanLoss: 'NaN',
        steps: 0,
        delta: new Uint8Array(1 + rng.int(4096)),
      };
    default:
      return randomString(rng, 200);
  }
}

describe('fuzzing over real sockets', () => {
  it(`${SOCKETS * PER_SOCKET} seeded malformed messages: alive, no internal errors, a round commits, RSS < 2× start`, async () => {
    const s = await startTestServer({
      roundConfig: {
        training: { localSteps: 1, batchSize: 8, learningRate: 1e-3, temperature: 0.5 },
        cohort: { mode: 'fixed', size: 3 },
        minClients: 3,
        minSurvivors: 3,
        trainDeadlineMs: 30_000,
        phaseDeadlineMs: 5_000,
        roundIntervalMs: 0,
        secureAggregation: { enabled: true, clipNorm: 1, weightCap: 100 },
      },
    });
    servers.push(s);
    const shards = clientShards(3, 'iid', 6);
    clients.push(
      ...shards.map(
        (data, i) =>
          new NodeFederatedClient({
            url: s.url,
            token: s.registry.createToken('client').token,
            clientId: `fuzz-honest-${i}`,
            modelConfig: TINY_MODEL_CONFIG,
            data,
            trainOverride: async (g) => ({
              delta: new Float32Array(g.length).fill(1e-3),
              meanLoss: 1,
              steps: 1,
              numExamples: 10,
            }),
          }),
      ),
    );
    await waitUntil(() => (s.registry.latestVersion()?.version ?? 0) >= 1, 30_000, 'a first round');
    const rssStart = process.memoryUsage().rss;

    const rng = createRng(SEED);
    const fuzzers = await Promise.all(Array.from({ length: SOCKETS }, () => rawClient(s)));
    const acks: Promise<{ event: string; ack: AnyAck | 'timeout' }>[] = [];
    let sent = 0;
    for (let m = 0; m < PER_SOCKET; m++) {
      for (const { socket } of fuzzers) {
        const unknown = rng.uniform() < 0.1;
        const event = unknown ? `x-${randomString(rng, 12)}` : pick(rng, EVENT_NAMES);
        const payload = malformed(rng, event);
        sent++;
        // Unknown events have no handler, hence no ack: sent without one.
        if (!unknown && rng.uniform() < 0.8) {
          acks.push(
            (socket.timeout(30_000).emitWithAck(event, payload) as Promise<AnyAck>).then(
              (ack) => ({ event, ack }),
              () => ({ event, ack: 'timeout' as const }),
            ),
          );
        } else {
          socket.emit(event, payload);
        }
      }
    }
    const answers = await Promise.all(acks);
    expect(sent).toBeGreaterThanOrEqual(1000);
    // Every acked message got an answer, none an internal error, and only model:get (whose
    // one field is optional, so random objects are valid requests) was ever accepted.
    expect(answers.filter((a) => a.ack === 'timeout')).toEqual([]);
    const acked = answers.map((a) => a.ack as AnyAck);
    expect(acked.filter((a) => a.code === 'internal_error')).toEqual([]);
    expect(answers.filter((a) => (a.ack as AnyAck).ok && a.event !== EVENTS.getModel).map((a) => a.event)).toEqual([]);
    expect(acked.filter((a) => !a.ok).length).toBeGreaterThan(answers.length * 0.9);
    for (const { socket } of fuzzers) socket.disconnect();

    const health = await fetch(`${s.url}/api/health`);
    expect(health.status).toBe(200);
    const before = s.registry.latestVersion()!.version;
    await waitUntil(() => s.registry.latestVersion()!.version > before, 30_000, 'a round after the fuzz');
    s.coordinator.pause();
    expect(process.memoryUsage().rss).toBeLessThan(2 * rssStart);
  });
});
