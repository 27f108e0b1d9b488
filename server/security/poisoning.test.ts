/**
 * Attack suite, finding 2 of issue 12: poisoning through the aggregate. A cohort member
 * tampers with its masked vector (all coordinates shifted, its weight word shrunk, or a divergence-aware
 * layer-weight word inflated), or, in plain mode, claims 10M examples or sends one huge delta. Real server, sockets, SQLite.
 */
import { describe, expect, it } from 'vitest';
import { SECAGG_EVENTS, type SecAggRoundInfo } from '../../shared/protocol/secagg-messages';
import { layoutForRound } from '../../shared/protocol/round-layout';
import { RoundOutcome } from '../../shared/protocol/phases';
import { packBinary, unpackBinary } from '../../shared/protocol/binary-pack';
import { uint32FromBytes } from '../../shared/protocol/binary';
import type { RoundStart } from '../../shared/protocol/messages';
import type { RoundConfigInput } from '../../shared/protocol/round-config';
import { createRng } from '../../shared/data/rng';
import { NodeFederatedClient } from '../federation/node-client';
import {
  federationFixture,
  joinClients,
  startTestServer,
  waitUntil,
  type TestServer,
} from '../federation/test-harness';
import { secureRounds } from '../federation/secagg-fixture';
import type { RoundEndedEvent } from '../federation/coordinator';
import { readCheckpoint } from '../registry/checkpoints';

const { servers, clients } = federationFixture();

/** A seeded delta of L2 norm `norm`. */
function seededDelta(d: number, seed: number, norm: number): Float32Array {
  const rng = createRng(seed);
  const v = new Float32Array(d);
  let sq = 0;
  for (let i = 0; i < d; i++) {
    v[i] = rng.uniform() - 0.5;
    sq += v[i]! * v[i]!;
  }
  for (let i = 0; i < d; i++) v[i]! *= norm / Math.sqrt(sq);
  return v;
}

const join = (
  s: TestServer,
  n: number,
  make: (i: number) => { delta: (d: number) => Float32Array; numExamples: number },
) =>
  joinClients(s, clients, {
    n,
    prefix: 'poison',
    seed: 3,
    extra: (i) => ({
      trainOverride: async (global) => ({
        delta: make(i).delta(global.length),
        meanLoss: 1,
        steps: 1,
        numExamples: make(i).numExamples,
      }),
    }),
  });

/**
 * Lets `attacker` rewrite its masked vector before sending: `edit` gets y (mod 2^32 words), the round, and the
 * round's masked-vector layout (the shared one clients encode with) for the model's d coordinates.
 */
function tamperMaskedInput(
  attacker: NodeFederatedClient,
  edit: (y: Uint32Array, round: number, layout: ReturnType<typeof layoutForRound>, info: SecAggRoundInfo) => void,
): void {
  let info: SecAggRoundInfo | undefined;
  attacker.socket.on('round:start', (rs: RoundStart) => (info = rs.secagg));
  const send = attacker.socket.emitWithAck.bind(attacker.socket);
  attacker.socket.emitWithAck = (async (event: string, payload: unknown) => {
    if (event !== SECAGG_EVENTS.maskedInput) return send(event, payload);
    const msg = unpackBinary(payload) as { round: number; y: Uint8Array };
    const y = uint32FromBytes(msg.y);
    const d = y.length - layoutForRound(info!, 0).length;
    edit(y, msg.round, layoutForRound(info!, d), info!);
    return send(event, packBinary({ ...msg, y }));
  }) as typeof attacker.socket.emitWithAck;
}

function roundEnds(s: TestServer): RoundEndedEvent[] {
  const ends: RoundEndedEvent[] = [];
  s.coordinator.on('round-ended', (e: RoundEndedEvent) => ends.push(e));
  return ends;
}

/** Secure rounds of 4 (3 must survive) with C = 1 and a weight cap of 100, for the aggregate checks. */
const defendedRounds: RoundConfigInput = {
  ...secureRounds(4, 3),
  secureAggregation: { enabled: true, clipNorm: 1, weightCap: 100 },
};

describe('a defended aggregate', () => {
  it('secure mode: a shifted masked vector and a shrunk weight word fail their rounds; the model stays; an honest round then commits', async () => {
    const s = await startTestServer({ roundConfig: defendedRounds });
    servers.push(s);
    const ends = roundEnds(s);
    const made = join(s, 4, (i) => ({ delta: (d) => seededDelta(d, 100 + i, 0.5), numExamples: 50 }));
    tamperMaskedInput(made[0]!, (y, round, layout, info) => {
      const L = 2 ** info.bits - 1;
      // The delta is the layout's first d words; the weight word sits where the shared layout says.
      if (round === 1) for (let i = 0; i < layout.d; i++) y[i] = (y[i]! + Math.floor(L / 2)) >>> 0; // every coordinate +C
      if (round === 2) y[layout.weightIndex] = (y[layout.weightIndex]! - Math.floor(1.99 * L)) >>> 0; // Σw: 4 × 0.5 → 0.01
    });

    await waitUntil(() => ends.length >= 3, 60_000, 'three rounds');
    s.coordinator.pause();
    expect(ends[0]).toMatchObject({ roundId: 1, outcome: RoundOutcome.Failed });
    expect(ends[0]!.reason).toMatch(/aggregate rejected: aggregate norm/);
    expect(ends[1]).toMatchObject({ roundId: 2, outcome: RoundOutcome.Failed });
    expect(ends[1]!.reason).toMatch(/aggregate rejected: weight sum .* below/);
    // Both failures kept v0; the third (untampered) round committed v1 from v0.
    expect(ends[2]).toMatchObject({ roundId: 3, outcome: RoundOutcome.Committed, newVersion: 1 });
    expect(s.registry.getVersion(1)!.parent).toBe(0);
    expect(s.registry.getRound(1)!.reason).toMatch(/aggregate norm/);
  });

  it('divergence-aware: a layer-weight word pushed past the weight sum fails its round; the model stays', async () => {
    const s = await startTestServer({
      roundConfig: { ...defendedRounds, aggregation: 'divergence' },
    });
    servers.push(s);
    const ends = roundEnds(s);
    const made = join(s, 4, (i) => ({ delta: (d) => seededDelta(d, 200 + i, 0.5), numExamples: 50 }));
    tamperMaskedInput(made[0]!, (y, round, { layersIndex }, info) => {
      expect(layersIndex).toBeGreaterThan(0);
      // Σ w·a_0: at most Σw = 2 from honest clients; +3 makes it impossible.
      if (round === 1) y[layersIndex] = (y[layersIndex]! + 3 * (2 ** info.bits - 1)) >>> 0;
    });

    await waitUntil(() => ends.length >= 2, 60_000, 'two rounds');
    s.coordinator.pause();
    expect(ends[0]).toMatchObject({ roundId: 1, outcome: RoundOutcome.Failed });
    expect(ends[0]!.reason).toMatch(/divergence: layer 0 weight sum [\d.]+ is outside \[0, [\d.]+\]/);
    // The failure kept v0; the untampered second round committed v1 from v0.
    expect(ends[1]).toMatchObject({ roundId: 2, outcome: RoundOutcome.Committed, newVersion: 1 });
    expect(s.registry.getVersion(1)!.parent).toBe(0);
  });

  it('plain mode: a claimed 10M examples is capped at weightCap like the secure path', async () => {
    const cap = 1000;
    const s = await startTestServer({
      roundConfig: {
        cohort: { mode: 'fixed', size: 3 },
        minClients: 3,
        minSurvivors: 3,
        roundIntervalMs: 0,
        secureAggregation: { enabled: false, weightCap: cap },
      },
    });
    servers.push(s);
    join(s, 3, (i) =>
      i === 0
        ? { delta: (d) => new Float32Array(d).fill(0.01), numExamples: 10_000_000 }
        : { delta: (d) => new Float32Array(d), numExamples: 100 },
    );
    await waitUntil(() => (s.registry.latestVersion()?.version ?? 0) >= 1, 60_000, 'plain round commit');
    s.coordinator.pause();
    const prev = readCheckpoint(s.registry.getVersion(0)!.checkpoint_path).weights;
    const next = readCheckpoint(s.registry.getVersion(1)!.checkpoint_path).weights;
    const expected = (cap * 0.01) / (cap + 100 + 100); // not 0.01·1e7/(1e7+200) ≈ 0.01
    let maxErr = 0;
    for (let i = 0; i < prev.length; i++) maxErr = Math.max(maxErr, Math.abs(next[i]! - prev[i]! - expected));
    expect(maxErr).toBeLessThan(1e-6);
  });

  it('plain mode, robustAggregation median: one huge delta does not move the model', async () => {
    const s = await startTestServer({
      roundConfig: {
        cohort: { mode: 'fixed', size: 5 },
        minClients: 5,
        minSurvivors: 5,
        roundIntervalMs: 0,
        secureAggregation: { enabled: false },
        robustAggregation: { method: 'median', normBound: 100 },
      },
    });
    servers.push(s);
    // Honest deltas differ slightly per client; the attacker's is 5 per coordinate (norm ≈ 5·√d, under maxUpdateNorm).
    join(s, 5, (i) => ({
      delta: (d) => new Float32Array(d).fill(i === 4 ? 5 : 0.01 * (1 + i / 10)),
      numExamples: 100,
    }));
    await waitUntil(() => (s.registry.latestVersion()?.version ?? 0) >= 1, 60_000, 'plain round commit');
    s.coordinator.pause();
    const prev = readCheckpoint(s.registry.getVersion(0)!.checkpoint_path).weights;
    const next = readCheckpoint(s.registry.getVersion(1)!.checkpoint_path).weights;
    // Median of {0.01, 0.011, 0.012, 0.013, clip(5)} = 0.012 per coordinate.
    let maxErr = 0;
    for (let i = 0; i < prev.length; i++) maxErr = Math.max(maxErr, Math.abs(next[i]! - prev[i]! - 0.012));
    expect(maxErr).toBeLessThan(1e-6);
  });
});
