/**
 * In-memory driver for one SecAgg+ round: runs n SecAggClient objects
 * against a SecAggServer with the server as the only relay, with optional
 * dropouts at each phase. Used by the tests and the benchmark, and as a
 * reference for wiring the protocol onto a real transport.
 */
import { SecAggClient } from './client';
import type { Result } from './messages';
import { SecAggServer, type RoundResult } from './server';

/** Where a client stops responding. */
export type DropPoint =
  | 'beforeAdvertise' // never advertises
  | 'afterAdvertise' // advertises, never shares keys
  | 'afterShareKeys' // shares keys, never sends a masked input
  | 'afterMaskedInput'; // sends its masked input, never answers unmask

export interface SimulateOptions {
  round: number;
  sessionId: string;
  clientIds: readonly string[];
  /** The quantized input of a client (called once, when it masks). */
  input: (id: string) => Uint32Array;
  vectorLength: number;
  k?: number;
  threshold?: number;
  graphSeed?: Uint8Array;
  drops?: ReadonlyMap<string, DropPoint>;
}

export interface SimulateTimings {
  /** Summed wall time of all client calls per phase (ms). */
  client: { advertise: number; shareKeys: number; receiveShares: number; maskedInput: number; unmask: number };
  /** Server wall time per phase (ms): handlers + coordinator calls. */
  server: { advertise: number; shareKeys: number; maskedInput: number; unmask: number; finish: number };
}

export interface SimulateOutcome {
  result: RoundResult;
  server: SecAggServer;
  timings: SimulateTimings;
}

function ok(r: Result | Result<unknown>, what: string): void {
  if (!r.ok) throw new Error(`${what} rejected: ${r.code}: ${r.reason}`);
}

/** Runs a full round; throws RoundFailed (from the server) when too many clients drop. */
export async function simulateRound(o: SimulateOptions): Promise<SimulateOutcome> {
  const server = new SecAggServer({
    round: o.round,
    sessionId: o.sessionId,
    clients: o.clientIds,
    vectorLength: o.vectorLength,
    ...(o.k !== undefined ? { k: o.k } : {}),
    ...(o.threshold !== undefined ? { threshold: o.threshold } : {}),
    ...(o.graphSeed ? { graphSeed: o.graphSeed } : {}),
  });
  const drop = (id: string) => o.drops?.get(id);
  const clients = new Map<string, SecAggClient>();
  for (const id of o.clientIds)
    clients.set(
      id,
      new SecAggClient({
        id,
        round: o.round,
        sessionId: o.sessionId,
        threshold: server.threshold,
        vectorLength: o.vectorLength,
      }),
    );
  const tc = { advertise: 0, shareKeys: 0, receiveShares: 0, maskedInput: 0, unmask: 0 };
  const ts = { advertise: 0, shareKeys: 0, maskedInput: 0, unmask: 0, finish: 0 };
  let t0 = 0;
  const tick = () => (t0 = performance.now());
  const tock = () => performance.now() - t0;

  // Phase 1: AdvertiseKeys.
  for (const [id, c] of clients) {
    if (drop(id) === 'beforeAdvertise') continue;
    tick();
    const m = c.advertise();
    tc.advertise += tock();
    tick();
    ok(server.onAdvertise(id, m), `advertise ${id}`);
    ts.advertise += tock();
  }
  tick();
  server.closeAdvertise();
  ts.advertise += tock();

  // Phase 2: ShareKeys.
  for (const [id, c] of clients) {
    const d = drop(id);
    if (d === 'beforeAdvertise' || d === 'afterAdvertise') continue;
    tick();
    const roster = server.rosterFor(id);
    ts.shareKeys += tock();
    if (!roster.ok) throw new Error(`roster ${id}: ${roster.reason}`);
    tick();
    const m = await c.shareKeys(roster.value);
    tc.shareKeys += tock();
    tick();
    ok(server.onShareKeys(id, m), `shareKeys ${id}`);
    ts.shareKeys += tock();
  }
  tick();
  server.closeShareKeys();
  ts.shareKeys += tock();

  // Phase 3: MaskedInput (each input is summed on arrival, then discarded).
  for (const [id, c] of clients) {
    const d = drop(id);
    if (d !== undefined && d !== 'afterMaskedInput') continue;
    tick();
    const routed = server.routedSharesFor(id);
    ts.maskedInput += tock();
    if (!routed.ok) throw new Error(`routed shares ${id}: ${routed.reason}`);
    tick();
    c.receiveShares(routed.value);
    tc.receiveShares += tock();
    const x = o.input(id);
    tick();
    const m = await c.maskedInput(x);
    tc.maskedInput += tock();
    tick();
    ok(server.onMaskedInput(id, m), `maskedInput ${id}`);
    ts.maskedInput += tock();
  }

  // Phase 4: Unmask.
  tick();
  const req = server.unmaskRequest();
  ts.unmask += tock();
  for (const id of req.survivors) {
    if (drop(id) === 'afterMaskedInput') continue;
    tick();
    const m = clients.get(id)!.unmask(req);
    tc.unmask += tock();
    tick();
    ok(server.onUnmask(id, m), `unmask ${id}`);
    ts.unmask += tock();
  }
  tick();
  const result = await server.finish();
  ts.finish += tock();
  return { result, server, timings: { client: tc, server: ts } };
}
