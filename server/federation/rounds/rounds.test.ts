import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { EVENTS, RoundStartSchema } from '../../../shared/protocol/messages';
import { RoundPhase } from '../../../shared/protocol/phases';
import { RoundConfigSchema } from '../../../shared/protocol/round-config';
import { SECAGG_EVENTS } from '../../../shared/protocol/secagg-messages';
import { float32ToBytes } from '../../../shared/protocol/binary';
import { packBinary, unpackBinary } from '../../../shared/protocol/binary-pack';
import { SecureClientRound } from '../../../shared/federation/secure-client';
import type { LocalRoundResult } from '../../../shared/federation/local-round';
import type { RosterMsg, RoutedSharesMsg, UnmaskRequestMsg } from '../../../shared/secagg/messages';
import { quantStep } from '../../../shared/secagg/quantize';
import { ClientPool } from '../client-pool';
import { PHASE_TABLE } from './phase-table';
import { PlainRound } from './plain-round';
import { SecureRound } from './secure-round';
import { RoundFailure, type Round, type RoundContext, type RoundInput, type RoundSum } from './round';

const D = 8;
const CAP = 40; // every client's example count is under the cap, so weights are n/cap in secure mode
const CLIP = 10;
const BITS = 24;
const IDS = ['c0', 'c1', 'c2', 'c3'];
const model = { version: 3, hash: 'model-hash', layout: { hash: 'layout-hash', totalSize: D, entries: [{ size: D }] } };
/** Client i: 10·(i+1) examples and a small, distinct delta (well under the clip). */
const results = new Map<string, LocalRoundResult>(
  IDS.map((id, i) => [
    id,
    {
      delta: Float32Array.from({ length: D }, (_, j) => 0.01 * (i + 1) * ((j % 3) - 1) + 0.001 * j),
      meanLoss: 1 + i / 10,
      steps: 1,
      numExamples: 10 * (i + 1),
    },
  ]),
);

const isType =
  <T extends { type: string }>(type: T['type']) =>
  (v: unknown): v is T =>
    v !== null && typeof v === 'object' && 'type' in v && v.type === type;
const isRoster = isType<RosterMsg>('roster');
const isRouted = isType<RoutedSharesMsg>('routedShares');
const isUnmaskRequest = isType<UnmaskRequestMsg>('unmaskRequest');

/**
 * In-process clients behind the ClientPool (the coordinator's transport boundary): what a round sends
 * them is answered through `round.handle`, on a later tick, as socket.io would. `silent` never answer.
 */
function connect(pool: ClientPool, getRound: () => Round, silent: ReadonlySet<string> = new Set()) {
  const secure = new Map<string, SecureClientRound>();
  // A refused honest message or a client error ends the round, so the test fails naming it (not by timing out).
  const fail = (id: string, why: string) => getRound().abort(`test client ${id}: ${why}`);
  const reply = (id: string, input: RoundInput) =>
    queueMicrotask(() => {
      const ack = getRound().handle(id, input);
      if (!ack.ok) fail(id, `${ack.code}: ${ack.reason}`);
    });
  const onMessage = async (id: string, event: string, payload: unknown) => {
    if (silent.has(id)) return;
    const r = results.get(id)!;
    if (event === EVENTS.roundStart) {
      const start = RoundStartSchema.parse(payload);
      if (!start.secagg) {
        const msg = { roundId: start.roundId, modelVersion: start.modelVersion, ...r, delta: float32ToBytes(r.delta) };
        return reply(id, { type: 'update', msg });
      }
      const c = new SecureClientRound(start.roundId, id, start.secagg, D);
      c.setTrained(r);
      secure.set(id, c);
      return reply(id, { type: 'advertise', raw: packBinary(c.advertise()) });
    }
    const c = secure.get(id)!;
    const msg = unpackBinary(payload);
    if (event === SECAGG_EVENTS.roster && isRoster(msg))
      reply(id, { type: 'shareKeys', raw: packBinary(await c.shareKeys(msg)) });
    else if (event === SECAGG_EVENTS.routedShares && isRouted(msg)) {
      c.receiveShares(msg);
      reply(id, { type: 'maskedInput', raw: packBinary((await c.maybeMaskedInput())!.msg) });
    } else if (event === SECAGG_EVENTS.unmaskRequest && isUnmaskRequest(msg))
      reply(id, { type: 'unmask', raw: packBinary(c.unmask(msg)) });
  };
  for (const id of IDS)
    pool.add({
      id,
      connectedAt: 0,
      send: (event, payload) => void onMessage(id, event, payload).catch((e: Error) => fail(id, e.message)),
      disconnect() {},
    });
}

type Made = { round: Round; phases: [RoundPhase, RoundPhase][]; pool: ClientPool };

/** A round of either kind over IDS, with every phase change it reports. */
function make(kind: 'plain' | 'secure', cohort = IDS): Made {
  const config = RoundConfigSchema.parse({
    cohort: { mode: 'fixed', size: 4 },
    minClients: 3,
    minSurvivors: 3,
    secureAggregation: { enabled: kind === 'secure', clipNorm: CLIP, weightCap: CAP, bits: BITS },
  });
  const phases: [RoundPhase, RoundPhase][] = [];
  const pool = new ClientPool();
  const ctx: RoundContext = {
    roundId: 7,
    cohort,
    model,
    config,
    pool,
    log: pino({ level: 'silent' }),
    onPhase: (from, to) => phases.push([from, to]),
  };
  const round: Round = kind === 'plain' ? new PlainRound(ctx) : new SecureRound(ctx);
  return { round, phases, pool };
}

/** Σ n·Δ / Σ n over the given clients: what both kinds must average to (weights scale out). */
function expectedMean(ids: string[]): Float64Array {
  const mean = new Float64Array(D);
  let w = 0;
  for (const id of ids) {
    const r = results.get(id)!;
    w += r.numExamples;
    for (let j = 0; j < D; j++) mean[j]! += r.numExamples * r.delta[j]!;
  }
  return mean.map((v) => v / w);
}

function maxError(sum: RoundSum, ids: string[]): number {
  const mean = expectedMean(ids);
  return Math.max(...mean.map((m, j) => Math.abs(sum.weightedSum[j]! / sum.weightSum - m)));
}

const PATHS: Record<'plain' | 'secure', RoundPhase[]> = {
  plain: [RoundPhase.Select, RoundPhase.Train, RoundPhase.Aggregate],
  secure: [
    RoundPhase.Select,
    RoundPhase.AdvertiseKeys,
    RoundPhase.ShareKeys,
    RoundPhase.MaskedInput,
    RoundPhase.Unmask,
    RoundPhase.Aggregate,
  ],
};
// Secure: stochastic quantization errs by < one step per client and coordinate on Σw·Δ (Σw = Σn/cap = 2.5).
const TOLERANCE = { plain: 1e-6, secure: (2 * IDS.length * quantStep({ clipNorm: CLIP, bits: BITS })) / 2.5 + 1e-6 };

describe.each(['plain', 'secure'] as const)('a %s round through the Round interface', (kind) => {
  it('walks its path of the phase table and resolves with the weighted sum of every delivered delta', async () => {
    const { round, phases, pool } = make(kind);
    connect(pool, () => round);
    expect(round.phase).toBe(RoundPhase.Select);
    round.start();
    expect(round.deadline).toBeGreaterThan(Date.now());
    const sum = await round.result;
    expect(sum.kind).toBe(kind);
    expect(round.phase).toBe(RoundPhase.Aggregate);
    expect(phases).toEqual(PATHS[kind].slice(1).map((to, i) => [PATHS[kind][i], to]));
    for (const [from, to] of phases) expect(PHASE_TABLE.some((t) => t.from === from && t.to === to)).toBe(true);
    expect([...sum.survivors].sort()).toEqual(IDS);
    expect(round.dropped.size).toBe(0);
    expect(maxError(sum, IDS)).toBeLessThan(TOLERANCE[kind]);
  });

  it('refuses a client outside the cohort and a message of the other mode, with reasons', () => {
    const { round, pool } = make(kind, IDS.slice(0, 3));
    connect(pool, () => round, new Set(IDS));
    round.start();
    const delta = new Uint8Array(4 * D);
    const update: RoundInput = {
      type: 'update',
      msg: { roundId: 7, modelVersion: 3, numExamples: 1, meanLoss: 0, steps: 1, delta },
    };
    const advertise = (from: string): RoundInput => ({
      type: 'advertise',
      raw: packBinary({ type: 'advertise', round: 7, from }),
    });
    const [mine, other] = kind === 'plain' ? [update, advertise('c0')] : [advertise('c3'), update];
    expect(round.handle('c0', other)).toMatchObject({
      ok: false,
      code: 'stale_round',
    });
    const stranger = round.handle('c3', mine);
    expect(stranger).toMatchObject({ ok: false, code: 'not_selected' });
    round.abort('test done');
  });

  it('leaves a client that disconnects out of the sum; too few survivors fail the round', async () => {
    const ok = make(kind);
    connect(ok.pool, () => ok.round, new Set(['c3']));
    ok.round.start();
    ok.round.clientDisconnected('c3');
    const sum = await ok.round.result;
    expect([...sum.survivors].sort()).toEqual(['c0', 'c1', 'c2']);
    expect(ok.round.dropped.has('c3')).toBe(true);
    expect(maxError(sum, ['c0', 'c1', 'c2'])).toBeLessThan(TOLERANCE[kind]);

    // One client left: plain mode is under minSurvivors (3); SecAgg+ is under its threshold t = 2 (k = 3).
    const short = make(kind);
    const gone = ['c1', 'c2', 'c3'];
    connect(short.pool, () => short.round, new Set(gone));
    short.round.start();
    for (const id of gone) short.round.clientDisconnected(id);
    await expect(short.round.result).rejects.toThrow(RoundFailure);
    // Plain: Train closes to Aggregate and the sum is refused (the scheduler then fails it to Idle);
    // secure: the SecAggServer fails at the end of AdvertiseKeys, and so does the round.
    expect(short.phases.at(-1)).toEqual(
      kind === 'plain' ? [RoundPhase.Train, RoundPhase.Aggregate] : [RoundPhase.AdvertiseKeys, RoundPhase.Idle],
    );
  });

  it('abort rejects the result and takes the round to Idle through the table', async () => {
    const { round, phases, pool } = make(kind);
    connect(pool, () => round, new Set(IDS));
    round.start();
    round.abort('server stopping');
    await expect(round.result).rejects.toThrow(/server stopping/);
    expect(round.phase).toBe(RoundPhase.Idle);
    expect(phases.at(-1)).toEqual([kind === 'plain' ? RoundPhase.Train : RoundPhase.AdvertiseKeys, RoundPhase.Idle]);
  });
});
