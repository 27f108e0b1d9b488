/**
 * SecAgg+ benchmark: round success against dropout, client cost, server unmask +
 * aggregate cost (one worker thread and all cores, with the event loop's worst stall),
 * and upload bytes, at the degree k and threshold t the server derives
 * (shared/secagg/parameters.ts: n, δ = 0.3, γ = 0.1, η = 1e-6).
 *
 *   npx tsx bench/secagg.ts                 # everything (long: the n = 1000 rows at 30% dropout take minutes per thread count)
 *   npx tsx bench/secagg.ts --quick         # skips the n = 1000 server rows
 *   npx tsx bench/secagg.ts --threads 2     # "all cores" means 2 worker threads (to emulate a 2-core server)
 *   npx tsx bench/secagg.ts --only-server   # only the n = 1000 × 30% server rows
 *   npx tsx bench/secagg.ts --server-d 26500 # the n = 1000 rows with a shorter vector (PRG work scales with d)
 *
 * What is simulated (printed again with the results):
 * - Round success: an in-memory Monte Carlo (shared/secagg/dropout-sim.ts) over the real
 *   neighbour graph with independent dropouts; a round counts as completed iff ≥ t clients
 *   survive and every cohort member keeps ≥ t surviving neighbours. No cryptography runs.
 * - Client cost depends only on the degree k and d, not on n: three real timed
 *   clients in a complete graph of degree k; their k − 2 other neighbours are
 *   bench-made (real keys and Shamir shares; shares to the timed clients are
 *   really encrypted, the rest are random bytes the server only routes). The timed
 *   clients run every real method (advertise, shareKeys, receiveShares, maskedInput, unmask).
 * - Server, "real": every client is a real SecAggClient with a real quantized
 *   update; the unmasked sum is checked exactly against the plain integer sum.
 * - Server, "synthetic" (n = 100 × 1M and n = 1000): the server object is real and does all
 *   its own work (routing, streaming sum, Shamir reconstruction + verification,
 *   X25519 for dropped clients, PRG expansion). The clients are replaced by the
 *   bench: real s key pairs, self seeds, commitments and Shamir shares, but
 *   random bytes as share ciphertexts (the server only routes them) and one
 *   random vector submitted as every masked input (the server only adds it).
 *   The resulting sum is meaningless, so it is not checked.
 * - Dropouts: 10% of clients drop after ShareKeys (the costliest case: their
 *   pair masks must be rebuilt from reconstructed mask keys).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { availableParallelism, loadavg } from 'node:os';
import { chooseSecAggParams } from '../shared/secagg/parameters';
import { simulateDropoutRounds } from '../shared/secagg/dropout-sim';
import type { Unmasker } from '../shared/secagg/server';
import type { Reconstructor } from '../shared/secagg/reconstruct-jobs';
import { UnmaskPool } from '../server/federation/unmask-pool';
import { createNodePrimitives, KEYSTREAM_CHUNK } from '../server/federation/node-primitives';
import { nativeMaskPrg, nativeMaskPrgStatus } from '../server/native/mask-prg';
import { MASK_BATCH } from '../shared/secagg/unmask-plan';
import { createWordAccumulator } from '../shared/secagg/word-add';
import {
  SecAggClient,
  pairEncKey,
  SecAggServer,
  agreeMany,
  decodeSum,
  defaultDegree,
  defaultThreshold,
  derivePairSecrets,
  encodeWeightedUpdate,
  encryptShare,
  expandMask,
  expandMaskAsync,
  generateKeyPair,
  maskInputAsync,
  maxBitsFor,
  quantStep,
  randomSeed,
  selfSeedCommitment,
  shareSecret,
  simulateRound,
  type DropPoint,
  type QuantConfig,
  type RoundResult,
  type SecAggMessage,
} from '../shared/secagg';

const quick = process.argv.includes('--quick');
const onlyServer = process.argv.includes('--only-server');
const onlyClient = process.argv.includes('--only-client');
const threadsArg = process.argv.indexOf('--threads');
const serverDArg = process.argv.indexOf('--server-d');
/** Vector length of the n = 1000 server rows (default 265k; smaller to measure on a loaded machine, PRG cost scales linearly). */
const SERVER_D = serverDArg > 0 ? Number(process.argv[serverDArg + 1]) : 265_000;
const CORES = threadsArg > 0 ? Number(process.argv[threadsArg + 1]) : availableParallelism();
/** The (k, t) the platform's server derives for n clients with the default rates. */
const chosen = (n: number) => chooseSecAggParams({ n, maxDegree: 254 });
const NS = [10, 100, 1000];
const SESSION = 'bench';
const ids = (n: number) => Array.from({ length: n }, (_, i) => `client-${String(i).padStart(4, '0')}`);
const ms = (x: number) => (x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : x.toFixed(0));
const now = () => performance.now();

/**
 * Bytes of a message in a schema-based binary framing (no field names, no JSON):
 * 1 byte message type, strings as u16 length + UTF-8, numbers as u32,
 * typed arrays as u32 length + raw bytes, lists as u32 count + items.
 */
function wireBytes(v: unknown, top = true): number {
  if (typeof v === 'string') return top ? 0 : 2 + new TextEncoder().encode(v).length;
  if (typeof v === 'number') return 4;
  if (ArrayBuffer.isView(v)) return 4 + v.byteLength;
  if (Array.isArray(v)) return 4 + v.reduce((s: number, x) => s + wireBytes(x, false), 0);
  if (v && typeof v === 'object') {
    let s = top ? 1 : 0;
    for (const [k, x] of Object.entries(v)) if (!(top && k === 'type')) s += wireBytes(x, false);
    return s;
  }
  return 0;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

// ---------------------------------------------------------------------------
// 1. Client cost

interface ClientRow {
  n: number;
  d: number;
  k: number;
  t: number;
  advertise: number;
  shareKeys: number;
  receive: number;
  masked: number;
  unmask: number;
  total: number;
  agreement: number;
  shareGen: number;
  expansion: number;
  bytes: { advertise: number; shares: number; masked: number; unmask: number; total: number };
}

async function clientCost(n: number, d: number): Promise<ClientRow> {
  const { k, t } = chosen(n);
  const cl = ids(k + 1);
  const server = new SecAggServer({ round: 1, sessionId: SESSION, clients: cl, k, threshold: t, vectorLength: d + 1 });
  const timed = cl
    .slice(0, 3)
    .map((id) => new SecAggClient({ id, round: 1, sessionId: SESSION, threshold: t, vectorLength: d + 1 }));
  const timedIds = new Set(timed.map((c) => c.id));
  const ctx = { round: 1, sessionId: SESSION };
  // Bench-made neighbours: real key pairs (the timed clients agree with them), random self seeds.
  const others = new Map(
    cl
      .filter((id) => !timedIds.has(id))
      .map((id) => [id, { c: generateKeyPair(), s: generateKeyPair(), b: randomSeed() }]),
  );
  const tAdv: number[] = [];
  const tShare: number[] = [];
  const tRecv: number[] = [];
  const tMask: number[] = [];
  const tUnmask: number[] = [];
  const bytes = { advertise: 0, shares: 0, masked: 0, unmask: 0, total: 0 };
  const cPk = new Map<string, Uint8Array>();
  for (const c of timed) {
    const t0 = now();
    const m = c.advertise();
    tAdv.push(now() - t0);
    if (c === timed[0]) bytes.advertise = wireBytes(m);
    cPk.set(c.id, m.cPk);
    server.onAdvertise(c.id, m);
  }
  for (const [id, o] of others) {
    cPk.set(id, o.c.publicKey);
    server.onAdvertise(id, {
      type: 'advertise',
      round: 1,
      sessionId: SESSION,
      from: id,
      cPk: o.c.publicKey,
      sPk: o.s.publicKey,
      selfSeedCommit: selfSeedCommitment(o.b, { ...ctx, id }),
    });
  }
  server.closeAdvertise();
  for (const c of timed) {
    const r = server.rosterFor(c.id);
    if (!r.ok) throw new Error(r.reason);
    const t0 = now();
    const m = await c.shareKeys(r.value);
    tShare.push(now() - t0);
    if (c === timed[0]) bytes.shares = wireBytes(m);
    const res = server.onShareKeys(c.id, m);
    if (!res.ok) throw new Error(res.reason);
  }
  const ctLen = 1 + 2 + 11 + 2 + 11 + 1 + 33 + 1 + 33 + 16;
  for (const [id, o] of others) {
    const holders = cl.filter((h) => h !== id);
    const seedShares = await shareSecret(o.b, holders, t);
    const keyShares = await shareSecret(o.s.secretKey, holders, t);
    const shares = holders.map((to) =>
      timedIds.has(to)
        ? encryptShare(
            pairEncKey(o.c.secretKey, cPk.get(to)!, { ...ctx, a: id, b: to }),
            { from: id, to, selfSeedShare: seedShares.get(to)!, maskKeyShare: keyShares.get(to)! },
            ctx,
          )
        : { from: id, to, nonce: randomSeed().subarray(0, 12), ciphertext: new Uint8Array(ctLen) },
    );
    const res = server.onShareKeys(id, { type: 'shareKeys', round: 1, sessionId: SESSION, from: id, shares });
    if (!res.ok) throw new Error(res.reason);
  }
  server.closeShareKeys();
  const delta = new Float32Array(d).map(() => (Math.random() - 0.5) * 1e-3);
  const cfg: QuantConfig = { clipNorm: 1, bits: maxBitsFor(n) };
  const x = encodeWeightedUpdate(delta, 0.5, cfg);
  for (const c of timed) {
    const r = server.routedSharesFor(c.id);
    if (!r.ok) throw new Error(r.reason);
    let t0 = now();
    c.receiveShares(r.value);
    tRecv.push(now() - t0);
    t0 = now();
    const m = await c.maskedInput(x);
    tMask.push(now() - t0);
    if (c === timed[0]) bytes.masked = wireBytes(m);
  }
  // A 0%-dropout announcement (the client's work and upload size do not depend on the split).
  const req = { type: 'unmaskRequest' as const, round: 1, sessionId: SESSION, survivors: cl, dropped: [] };
  for (const c of timed) {
    const t0 = now();
    const m = c.unmask(req);
    tUnmask.push(now() - t0);
    if (c === timed[0]) bytes.unmask = wireBytes(m);
  }
  bytes.total = bytes.advertise + bytes.shares + bytes.masked + bytes.unmask;

  // Primitive breakdown with the same sizes.
  const me = generateKeyPair();
  const peers = Array.from({ length: k }, () => generateKeyPair());
  let t0 = now();
  // The client's path: WebCrypto X25519 where available (agreeMany), then HKDF; once for c keys, once for s keys.
  for (let rep = 0; rep < 2; rep++)
    for (const sh of await agreeMany(
      me,
      peers.map((p) => p.publicKey),
    ))
      derivePairSecrets(sh, { round: 1, sessionId: SESSION, a: 'x', b: 'y' });
  const agreement = now() - t0;
  const holders = cl.slice(1);
  t0 = now();
  const s1 = await shareSecret(randomSeed(), holders, t);
  const s2 = await shareSecret(randomSeed(), holders, t);
  const key = randomSeed();
  for (const h of holders)
    encryptShare(
      key,
      { from: cl[0]!, to: h, selfSeedShare: s1.get(h)!, maskKeyShare: s2.get(h)! },
      { round: 1, sessionId: SESSION },
    );
  const shareGen = now() - t0;
  const seeds = holders.map((peer) => ({ peer, seed: randomSeed() }));
  t0 = now();
  // The browser's path: WebCrypto AES-CTR + SIMD adds (what maskedInput runs after its agreements).
  await maskInputAsync(x, randomSeed(), seeds, cl[0]!);
  const expansion = now() - t0;

  const row = {
    n,
    d,
    k,
    t,
    advertise: median(tAdv),
    shareKeys: median(tShare),
    receive: median(tRecv),
    masked: median(tMask),
    unmask: median(tUnmask),
    total: 0,
    agreement,
    shareGen,
    expansion,
    bytes,
  };
  row.total = row.advertise + row.shareKeys + row.receive + row.masked + row.unmask;
  return row;
}

// ---------------------------------------------------------------------------
// 2. Server cost

interface ServerRow {
  n: number;
  d: number;
  dropPct: number;
  mode: 'real' | 'synthetic';
  /** Unmask threads: 'main' (in the event loop) or the worker count. */
  threads: string;
  /** Worst and 99th-percentile event-loop delay during finish() (ms). */
  stall: number;
  stallP99: number;
  /** Of unmask: Shamir reconstruction + verification, and mask removal (agreements, PRG, adds) (ms). */
  reconstruct: number;
  removeMasks: number;
  /** 1-minute load average when the row finished (other processes share the cores). */
  load: number;
  /** CPU time the whole process (main thread + workers) spent in finish() (ms): what the work costs, load aside. */
  cpu: number;
  k: number;
  t: number;
  survivors: number;
  aggregate: number;
  unmask: number;
  total: number;
  check: string;
}

async function serverReal(n: number, d: number, dropPct: number): Promise<ServerRow> {
  const cl = ids(n);
  const nDrop = Math.round((n * dropPct) / 100);
  const drops = new Map<string, DropPoint>(cl.slice(0, nDrop).map((id) => [id, 'afterShareKeys']));
  const cfg: QuantConfig = { clipNorm: 1, bits: maxBitsFor(n) };
  const plain = new Uint32Array(d + 1);
  const truth = new Float64Array(d);
  const out = await simulateRound({
    round: 1,
    sessionId: SESSION,
    clientIds: cl,
    vectorLength: d + 1,
    k: chosen(n).k,
    threshold: chosen(n).t,
    drops,
    input: (id) => {
      const delta = new Float32Array(d).map(() => (Math.random() - 0.5) * 2e-3);
      const w = 0.5 + Math.random() / 2;
      const x = encodeWeightedUpdate(delta, w, cfg);
      if (!drops.has(id)) {
        for (let i = 0; i <= d; i++) plain[i] = plain[i]! + x[i]!;
        for (let i = 0; i < d; i++) truth[i] = truth[i]! + w * delta[i]!;
      }
      return x;
    },
  });
  const r: RoundResult = out.result;
  let exact = r.sum.length === plain.length;
  for (let i = 0; exact && i < plain.length; i++) exact = r.sum[i] === plain[i];
  const dec = decodeSum(r.sum, r.survivors.length, cfg);
  let maxErr = 0;
  // Bound n·step, plus float32 rounding of the decoded output.
  for (let i = 0; i < d; i++)
    maxErr = Math.max(maxErr, Math.abs(dec.weightedSum[i]! - truth[i]!) - Math.abs(truth[i]!) * 2 ** -23);
  const bound = r.survivors.length * quantStep(cfg);
  const ts = out.timings.server;
  return {
    n,
    d,
    dropPct,
    mode: 'real',
    threads: 'main',
    stall: NaN,
    stallP99: NaN,
    reconstruct: NaN,
    removeMasks: NaN,
    load: loadavg()[0]!,
    cpu: NaN,
    k: out.server.degree,
    t: out.server.threshold,
    survivors: r.survivors.length,
    aggregate: ts.maskedInput,
    unmask: ts.unmask + ts.finish,
    total: ts.maskedInput + ts.unmask + ts.finish,
    check: `${exact ? 'exact' : 'MISMATCH'}; err ${maxErr.toExponential(1)} ≤ n·step ${bound.toExponential(1)}: ${maxErr <= bound ? 'ok' : 'FAIL'}`,
  };
}

interface SyntheticCohort {
  n: number;
  cl: string[];
  k: number;
  t: number;
  graphSeed: Uint8Array;
  graph: ReadonlyMap<string, readonly string[]>;
  adv: Map<string, SecAggMessage & { type: 'advertise' }>;
  shareMsgs: Map<string, SecAggMessage & { type: 'shareKeys' }>;
  selfShares: Map<string, Map<string, Uint8Array>>; // owner → holder → share
  keyShares: Map<string, Map<string, Uint8Array>>;
}

/** Bench-generated client messages for a synthetic cohort (see header). */
async function syntheticCohort(n: number, d: number): Promise<SyntheticCohort> {
  const cl = ids(n);
  const { k, t } = chosen(n);
  const graphSeed = randomSeed();
  const graph = new SecAggServer({
    round: 1,
    sessionId: SESSION,
    clients: cl,
    k,
    threshold: t,
    vectorLength: d + 1,
    graphSeed,
  }).graph;
  const adv = new Map<string, SecAggMessage & { type: 'advertise' }>();
  const shareMsgs = new Map<string, SecAggMessage & { type: 'shareKeys' }>();
  const selfShares = new Map<string, Map<string, Uint8Array>>();
  const keyShares = new Map<string, Map<string, Uint8Array>>();
  const ctLen = 1 + 2 + 11 + 2 + 11 + 1 + 33 + 1 + 33 + 16;
  for (const id of cl) {
    const s = generateKeyPair();
    const b = randomSeed();
    const nbs = [...graph.get(id)!];
    adv.set(id, {
      type: 'advertise',
      round: 1,
      sessionId: SESSION,
      from: id,
      cPk: randomSeed(),
      sPk: s.publicKey,
      selfSeedCommit: selfSeedCommitment(b, { round: 1, sessionId: SESSION, id }),
    });
    selfShares.set(id, await shareSecret(b, nbs, t));
    keyShares.set(id, await shareSecret(s.secretKey, nbs, t));
    shareMsgs.set(id, {
      type: 'shareKeys',
      round: 1,
      sessionId: SESSION,
      from: id,
      shares: nbs.map((to) => ({
        from: id,
        to,
        nonce: randomSeed().subarray(0, 12),
        ciphertext: new Uint8Array(ctLen),
      })),
    });
  }
  return { n, cl, k, t, graphSeed, graph, adv, shareMsgs, selfShares, keyShares };
}

async function serverSynthetic(
  c: SyntheticCohort,
  d: number,
  dropPct: number,
  unmasker?: { fn: Unmasker; rec: Reconstructor; threads: number },
): Promise<ServerRow> {
  const server = new SecAggServer({
    round: 1,
    sessionId: SESSION,
    clients: c.cl,
    k: c.k,
    threshold: c.t,
    vectorLength: d + 1,
    graphSeed: c.graphSeed,
  });
  const must = (r: { ok: boolean; reason?: string }) => {
    if (!r.ok) throw new Error(r.reason);
  };
  for (const id of c.cl) must(server.onAdvertise(id, c.adv.get(id)!));
  server.closeAdvertise();
  for (const id of c.cl) must(server.onShareKeys(id, c.shareMsgs.get(id)!));
  server.closeShareKeys();
  const nDrop = Math.round((c.n * dropPct) / 100);
  // Spread the dropped clients over the ring rather than taking a block.
  const dropped = new Set(c.cl.filter((_, i) => nDrop > 0 && i % Math.floor(c.n / nDrop) === 0).slice(0, nDrop));
  const y = expandMask(randomSeed(), d + 1);
  let t0 = now();
  for (const id of c.cl) {
    if (dropped.has(id)) continue;
    must(server.onMaskedInput(id, { type: 'maskedInput', round: 1, sessionId: SESSION, from: id, y }));
  }
  const aggregate = now() - t0;
  t0 = now();
  const req = server.unmaskRequest();
  let serverUnmask = now() - t0;
  const surv = new Set(req.survivors);
  for (const v of req.survivors) {
    const selfSeedShares = [];
    const maskKeyShares = [];
    for (const u of c.graph.get(v)!) {
      if (surv.has(u)) selfSeedShares.push({ owner: u, share: c.selfShares.get(u)!.get(v)! });
      else maskKeyShares.push({ owner: u, share: c.keyShares.get(u)!.get(v)! });
    }
    const t1 = now();
    must(server.onUnmask(v, { type: 'unmask', round: 1, sessionId: SESSION, from: v, selfSeedShares, maskKeyShares }));
    serverUnmask += now() - t1;
  }
  const t2 = now();
  // The event loop's worst stall while the server reconstructs and unmasks.
  const h = monitorEventLoopDelay({ resolution: 5 });
  let tRec = 0;
  let tRemove = 0;
  const timed =
    <A extends unknown[], R>(f: (...a: A) => Promise<R>, add: (ms: number) => void) =>
    async (...a: A): Promise<R> => {
      const t = now();
      const out = await f(...a);
      add(now() - t);
      return out;
    };
  h.enable();
  const cpu0 = process.cpuUsage();
  const r = await server.finish(
    unmasker ? timed(unmasker.fn, (x) => (tRemove += x)) : undefined,
    unmasker ? timed(unmasker.rec, (x) => (tRec += x)) : undefined,
  );
  const cpuUsed = process.cpuUsage(cpu0);
  h.disable();
  const unmask = serverUnmask + (now() - t2);
  return {
    n: c.n,
    d,
    dropPct,
    mode: 'synthetic',
    threads: unmasker ? String(unmasker.threads) : 'main',
    stall: h.max / 1e6,
    stallP99: h.percentile(99) / 1e6,
    reconstruct: unmasker ? tRec : NaN,
    removeMasks: unmasker ? tRemove : NaN,
    load: loadavg()[0]!,
    cpu: (cpuUsed.user + cpuUsed.system) / 1000,
    k: server.degree,
    t: server.threshold,
    survivors: r.survivors.length,
    aggregate,
    unmask,
    total: aggregate + unmask,
    check: `reconstructed ${r.survivors.length} self seeds + ${r.dropped.length} mask keys (verified)`,
  };
}

// ---------------------------------------------------------------------------

function table(headers: string[], rows: (string | number)[][]): void {
  const w = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells: (string | number)[]) => cells.map((c, i) => String(c).padStart(w[i]!)).join('  ');
  console.log(line(headers));
  console.log(w.map((x) => '-'.repeat(x)).join('  '));
  for (const r of rows) console.log(line(r));
}

/** Best of 5 (ms) — the least disturbed run on a shared machine. */
async function bestOf(f: () => unknown): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < 5; i++) {
    const t = now();
    await f();
    best = Math.min(best, now() - t);
  }
  return best;
}

/** The mask PRG's three implementations at the default model size (d + 1 = 265,001 words). */
async function prgSpeed(): Promise<void> {
  const L = 265_001;
  const seed = randomSeed();
  const acc = createWordAccumulator(L);
  const nodeCrypto = createNodePrimitives({ native: null });
  const native = nativeMaskPrg();
  const ref = await bestOf(() => expandMask(seed, L));
  const webcrypto = await bestOf(() => expandMaskAsync(seed, L));
  const web4 = (await bestOf(() => Promise.all([0, 1, 2, 3].map(() => expandMaskAsync(seed, L))))) / 4;
  const one = Int8Array.of(1);
  const server = await bestOf(() => nodeCrypto.addMasks(acc, seed, one));
  // A batch the size maskTotal hands over, per expansion: the native path walks the accumulator once per batch.
  const batchSeeds = new Uint8Array(32 * MASK_BATCH).map((_, i) => (i * 131 + 7) & 255);
  const batchSigns = new Int8Array(MASK_BATCH).fill(1);
  const nativeBatch = native
    ? (await bestOf(() => native.addMasks(acc.words, batchSeeds, batchSigns))) / MASK_BATCH
    : NaN;
  const words = await expandMaskAsync(seed, L);
  const simd = await bestOf(() => acc.add(words, 1));
  const scalar = createWordAccumulator(L, { simd: false });
  const js = await bestOf(() => scalar.add(words, 1));
  const gbps = (t: number) => ((L * 4) / 1e6 / t).toFixed(2);
  console.log(
    `Mask PRG (AES-256-CTR) per expansion of ${L} words, best of 5. Server unmask uses ${nativeMaskPrgStatus()}:`,
  );
  table(
    ['implementation', 'ms', 'GB/s'],
    [
      ['noble ctr (pure-JS reference)', ms(ref), gbps(ref)],
      ['WebCrypto (clients), one at a time', ms(webcrypto), gbps(webcrypto)],
      ['WebCrypto (clients), 4 in flight', ms(web4), gbps(web4)],
      [`node:crypto ${KEYSTREAM_CHUNK / 1024} KB chunks + SIMD add (server fallback)`, ms(server), gbps(server)],
      ['  of which the add: SIMD (WebAssembly)', ms(simd), gbps(simd)],
      ['  the same add as a JS loop', ms(js), gbps(js)],
      [
        `native OpenSSL + blocked add, batches of ${MASK_BATCH} (server)`,
        native ? ms(nativeBatch) : 'not built',
        native ? gbps(nativeBatch) : '',
      ],
    ],
  );
  console.log('');
}

async function main(): Promise<void> {
  const start = now();
  console.log(`SecAgg+ benchmark (${quick ? 'quick' : 'full'}), Node ${process.version}, times in ms\n`);

  console.log(
    `Machine: ${availableParallelism()} cores, load average ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}\n`,
  );
  await prgSpeed();

  console.log(
    '0) Round success vs dropout rate (in-memory Monte Carlo over the real neighbour graph, independent dropouts;',
  );
  console.log('   a round completes iff ≥ t survive and every member keeps ≥ t surviving neighbours; no crypto runs)');
  const ROUNDS = 200;
  const succ: (string | number)[][] = [];
  for (const n of onlyServer || onlyClient ? [] : [100, 1000]) {
    const p = chosen(n);
    const old = { k: defaultDegree(n), t: defaultThreshold(defaultDegree(n)) };
    for (const [label, k, t] of [
      [`derived (δ=0.3)`, p.k, p.t],
      ['old 2⌈log2 n⌉', old.k, old.t],
    ] as const) {
      const row: (string | number)[] = [n, label, k, t];
      for (const dr of [0, 0.1, 0.2, 0.3, 0.4]) {
        const r = simulateDropoutRounds({ n, k, t, dropoutRate: dr, rounds: ROUNDS, seed: 1 + Math.round(dr * 10) });
        row.push(`${(100 * r.successRate).toFixed(1)}%`);
      }
      row.push(label.startsWith('derived') ? p.predictedFailure.toExponential(1) : '');
      succ.push(row);
    }
  }
  table(['n', 'k, t', 'k', 't', 'δ=0', 'δ=0.1', 'δ=0.2', 'δ=0.3', 'δ=0.4', 'predicted P[fail] at 0.3'], succ);
  console.log(`   ${ROUNDS} rounds per cell.\n`);

  console.log('1) Client cost per round at the derived k (median of 3 real clients among k bench-made neighbours)');
  const crow: ClientRow[] = [];
  if (onlyClient) crow.push(await clientCost(1000, 265_000));
  else if (!onlyServer) {
    for (const n of NS) crow.push(await clientCost(n, 265_000));
    if (!quick) crow.push(await clientCost(1000, 1_000_000));
  }
  table(
    [
      'n',
      'params',
      'k',
      't',
      'advertise',
      'shareKeys',
      'recvShares',
      'maskedInput',
      'unmask',
      'total',
      '| 2k X25519',
      'shares+enc',
      'k+1 PRG',
    ],
    crow.map((r) => [
      r.n,
      r.d,
      r.k,
      r.t,
      ms(r.advertise),
      ms(r.shareKeys),
      ms(r.receive),
      ms(r.masked),
      ms(r.unmask),
      ms(r.total),
      ms(r.agreement),
      ms(r.shareGen),
      ms(r.expansion),
    ]),
  );
  console.log(
    '   shareKeys = k c-key agreements + 2 Shamir splits + k AEAD; maskedInput = k s-key agreements + (k+1) PRG expansions + adds.',
  );
  console.log('   Right of "|": the same primitives timed alone.\n');

  console.log('2) Bytes uploaded per client per round (schema-based binary framing, no JSON)');
  table(
    ['n', 'params', 'advertise', 'shares', 'maskedInput', 'unmask', 'total', 'bytes/param', 'plain 4·d', 'overhead'],
    crow.map((r) => [
      r.n,
      r.d,
      r.bytes.advertise,
      r.bytes.shares,
      r.bytes.masked,
      r.bytes.unmask,
      r.bytes.total,
      (r.bytes.total / r.d).toFixed(4),
      4 * r.d,
      `${(((r.bytes.total - 4 * r.d) / (4 * r.d)) * 100).toFixed(2)}%`,
    ]),
  );
  console.log('');

  console.log(
    '3) Server unmask + aggregate at the derived k (aggregate = streaming sum of masked inputs; unmask = announce + collect shares + reconstruct + remove masks)',
  );
  const srow: ServerRow[] = [];
  const one = new UnmaskPool(1);
  const all = new UnmaskPool(CORES);
  await Promise.all([one.warm(), all.warm()]);
  const pools = [
    { fn: one.unmask, rec: one.reconstruct, threads: 1 },
    { fn: all.unmask, rec: all.reconstruct, threads: CORES },
  ];
  if (!onlyServer && !onlyClient) {
    for (const p of [0, 10]) srow.push(await serverReal(10, 265_000, p));
    const c100 = await syntheticCohort(100, 265_000);
    for (const p of [0, 10, 30]) srow.push(await serverSynthetic(c100, 265_000, p, pools[1]));
  }
  if (!quick && !onlyClient) {
    const c1000 = await syntheticCohort(1000, SERVER_D);
    if (!onlyServer) srow.push(await serverSynthetic(c1000, SERVER_D, 0, pools[1]));
    for (const pool of pools) srow.push(await serverSynthetic(c1000, SERVER_D, 30, pool));
  }
  await one.close();
  await all.close();
  srow.sort((a, b) => a.n - b.n || a.d - b.d || a.dropPct - b.dropPct);
  table(
    [
      'n',
      'params',
      'drop',
      'mode',
      'k',
      't',
      'survivors',
      'unmask threads',
      'aggregate',
      'unmask',
      'total',
      '(reconstruct',
      'remove masks)',
      'loop delay max',
      'p99',
      'load avg',
      'CPU s (all threads)',
      'check',
    ],
    srow.map((r) => [
      r.n,
      r.d,
      `${r.dropPct}%`,
      r.mode,
      r.k,
      r.t,
      r.survivors,
      r.threads,
      ms(r.aggregate),
      ms(r.unmask),
      ms(r.total),
      Number.isNaN(r.reconstruct) ? '–' : ms(r.reconstruct),
      Number.isNaN(r.removeMasks) ? '–' : ms(r.removeMasks),
      Number.isNaN(r.stall) ? '–' : ms(r.stall),
      Number.isNaN(r.stallP99) ? '–' : ms(r.stallP99),
      r.load.toFixed(1),
      Number.isNaN(r.cpu) ? '–' : (r.cpu / 1000).toFixed(1),
      r.check,
    ]),
  );
  console.log(
    '   real: all n clients are SecAggClient objects with real quantized updates (dropped ones leave after ShareKeys).',
  );
  console.log('   synthetic: real server, bench-made client messages (real keys, seeds, commitments, Shamir shares;');
  console.log(
    '   random ciphertexts; one random vector as every masked input). Dropped clients leave after ShareKeys (the costly case).',
  );
  console.log(
    `   unmask threads: node:worker_threads running the Shamir reconstructions, pair agreements and PRG expansions (OpenSSL); "all cores" = ${CORES}.\n`,
  );

  console.log('4) Targets');
  const c1000d = crow.find((r) => r.n === 1000 && r.d === 265_000);
  const s100 = srow.filter((r) => r.n === 100 && r.d === 265_000);
  const s1000 = srow.find((r) => r.n === 1000 && r.d === 265_000 && r.dropPct === 30 && r.threads === String(CORES));
  // The work itself: CPU seconds of the single-worker run (a loaded VM inflates the multi-worker one).
  const s1 = srow.find((r) => r.n === 1000 && r.d === 265_000 && r.dropPct === 30 && r.threads === '1');
  const proj = s1 && s1000 ? s1.cpu / CORES + s1000.aggregate : NaN;
  const worstBytes = crow.length ? Math.max(...crow.map((r) => r.bytes.total / r.d)) : NaN;
  const p100 = succ.find((r) => r[0] === 100 && String(r[1]).startsWith('derived'));
  const p1000 = succ.find((r) => r[0] === 1000 && String(r[1]).startsWith('derived'));
  const pct = (r: (string | number)[] | undefined) => (r ? parseFloat(String(r[7])) : NaN);
  const checks: [string, string, boolean][] = [
    ...(p100 && p1000
      ? [
          [`round success at 30% dropout, n=100 ≥ 99.9%`, `${pct(p100)}%`, pct(p100) >= 99.9] as [
            string,
            string,
            boolean,
          ],
          [`round success at 30% dropout, n=1000 ≥ 99.9%`, `${pct(p1000)}%`, pct(p1000) >= 99.9] as [
            string,
            string,
            boolean,
          ],
        ]
      : []),
    ...(c1000d
      ? [
          [
            `client masking at n=1000 (k=${c1000d.k}), 265k params < 500 ms`,
            `${ms(c1000d.masked)} ms`,
            c1000d.masked < 500,
          ] as [string, string, boolean],
        ]
      : []),
    ...s100.map(
      (r) =>
        [
          `server unmask+aggregate, n=100, 265k params, ${r.dropPct}% dropouts < 2000 ms`,
          `${ms(r.total)} ms`,
          r.total < 2000,
        ] as [string, string, boolean],
    ),
    ...(s1000
      ? [
          [
            `server unmask+aggregate, n=1000, 30% dropouts, ${CORES} threads < 10 s`,
            `${ms(s1000.total)} ms`,
            s1000.total < 10_000,
          ] as [string, string, boolean],
          [`event loop never stalls > 100 ms meanwhile`, `${ms(s1000.stall)} ms`, s1000.stall <= 100] as [
            string,
            string,
            boolean,
          ],
          [
            `  (projection: 1-worker CPU time / ${CORES} + aggregate, i.e. on ${CORES} idle cores, < 10 s)`,
            `${ms(proj)} ms`,
            proj < 10_000,
          ] as [string, string, boolean],
        ]
      : []),
    ...(crow.length
      ? [
          [`upload ≤ 4.2 bytes/param (worst case above)`, worstBytes.toFixed(4), worstBytes <= 4.2] as [
            string,
            string,
            boolean,
          ],
        ]
      : []),
  ];
  table(
    ['target', 'measured', 'result'],
    checks.map(([a, b, c]) => [a, b, c ? 'PASS' : 'FAIL']),
  );
  console.log(`\nTotal bench time ${((now() - start) / 1000).toFixed(1)} s`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
