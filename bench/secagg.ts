/**
 * SecAgg+ benchmark: client cost, server unmask + aggregate cost, and upload
 * bytes, for n ∈ {10, 100, 1000} and vector lengths 265k (default model) and 1M.
 *
 *   npx tsx bench/secagg.ts            # everything (~2-3 min on 2 cores)
 *   npx tsx bench/secagg.ts --quick    # skips the n = 1000 × 1M server run
 *
 * What is simulated (printed again with the results):
 * - Client cost depends only on the degree k and d, not on n: one round runs
 *   with k + 1 real clients in a complete graph of degree k = defaultDegree(n);
 *   the timed clients run every real method (advertise, shareKeys,
 *   receiveShares, maskedInput, unmask).
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
import {
  SecAggClient,
  SecAggServer,
  agree,
  decodeSum,
  defaultDegree,
  defaultThreshold,
  derivePairSecrets,
  encodeWeightedUpdate,
  encryptShare,
  expandMask,
  generateKeyPair,
  maskInput,
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
const NS = [10, 100, 1000];
const DS = [265_000, 1_000_000];
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
  const k = defaultDegree(n);
  const t = defaultThreshold(k);
  const cl = ids(k + 1);
  const server = new SecAggServer({ round: 1, sessionId: SESSION, clients: cl, k, threshold: t, vectorLength: d + 1 });
  const clients = cl.map((id) => new SecAggClient({ id, round: 1, sessionId: SESSION, threshold: t, vectorLength: d + 1 }));
  const timed = clients.slice(0, 3);
  const tAdv: number[] = [];
  const tShare: number[] = [];
  const tRecv: number[] = [];
  const tMask: number[] = [];
  const tUnmask: number[] = [];
  const bytes = { advertise: 0, shares: 0, masked: 0, unmask: 0, total: 0 };
  for (const c of clients) {
    const t0 = now();
    const m = c.advertise();
    if (timed.includes(c)) tAdv.push(now() - t0);
    if (c === clients[0]) bytes.advertise = wireBytes(m);
    server.onAdvertise(c.id, m);
  }
  server.closeAdvertise();
  for (const c of clients) {
    const r = server.rosterFor(c.id);
    if (!r.ok) throw new Error(r.reason);
    const t0 = now();
    const m = await c.shareKeys(r.value);
    if (timed.includes(c)) tShare.push(now() - t0);
    if (c === clients[0]) bytes.shares = wireBytes(m);
    const res = server.onShareKeys(c.id, m);
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
    const m = c.maskedInput(x);
    tMask.push(now() - t0);
    if (c === clients[0]) bytes.masked = wireBytes(m);
  }
  // A 0%-dropout announcement (the client's work and upload size do not depend on the split).
  const req = { type: 'unmaskRequest' as const, round: 1, sessionId: SESSION, survivors: cl, dropped: [] };
  for (const c of timed) {
    const t0 = now();
    const m = c.unmask(req);
    tUnmask.push(now() - t0);
    if (c === clients[0]) bytes.unmask = wireBytes(m);
  }
  bytes.total = bytes.advertise + bytes.shares + bytes.masked + bytes.unmask;

  // Primitive breakdown with the same sizes.
  const me = generateKeyPair();
  const peers = Array.from({ length: k }, () => generateKeyPair());
  let t0 = now();
  for (const p of peers) derivePairSecrets(agree(me.secretKey, p.publicKey), { round: 1, sessionId: SESSION, a: 'x', b: 'y' });
  for (const p of peers) derivePairSecrets(agree(me.secretKey, p.publicKey), { round: 1, sessionId: SESSION, a: 'x', b: 'y' });
  const agreement = now() - t0;
  const holders = cl.slice(1);
  t0 = now();
  const s1 = await shareSecret(randomSeed(), holders, t);
  const s2 = await shareSecret(randomSeed(), holders, t);
  const key = randomSeed();
  for (const h of holders) encryptShare(key, { from: cl[0]!, to: h, selfSeedShare: s1.get(h)!, maskKeyShare: s2.get(h)! }, { round: 1, sessionId: SESSION });
  const shareGen = now() - t0;
  const seeds = holders.map((peer) => ({ peer, seed: randomSeed() }));
  t0 = now();
  maskInput(x, randomSeed(), seeds, cl[0]!);
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
  for (let i = 0; i < d; i++) maxErr = Math.max(maxErr, Math.abs(dec.weightedSum[i]! - truth[i]!) - Math.abs(truth[i]!) * 2 ** -23);
  const bound = r.survivors.length * quantStep(cfg);
  const ts = out.timings.server;
  return {
    n,
    d,
    dropPct,
    mode: 'real',
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
  const k = defaultDegree(n);
  const t = defaultThreshold(k);
  const graphSeed = randomSeed();
  const graph = new SecAggServer({ round: 1, sessionId: SESSION, clients: cl, k, vectorLength: d + 1, graphSeed }).graph;
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
      shares: nbs.map((to) => ({ from: id, to, nonce: randomSeed().subarray(0, 12), ciphertext: new Uint8Array(ctLen) })),
    });
  }
  return { n, cl, k, t, graphSeed, graph, adv, shareMsgs, selfShares, keyShares };
}

async function serverSynthetic(c: SyntheticCohort, d: number, dropPct: number): Promise<ServerRow> {
  const server = new SecAggServer({ round: 1, sessionId: SESSION, clients: c.cl, k: c.k, vectorLength: d + 1, graphSeed: c.graphSeed });
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
  const r = await server.finish();
  const unmask = serverUnmask + (now() - t2);
  return {
    n: c.n,
    d,
    dropPct,
    mode: 'synthetic',
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

async function main(): Promise<void> {
  const start = now();
  console.log(`SecAgg+ benchmark (${quick ? 'quick' : 'full'}), Node ${process.version}, times in ms\n`);

  // PRG speed.
  const buf = new Uint32Array(1_000_000);
  expandMask(randomSeed(), buf.length, undefined, buf);
  const tp = now();
  for (let i = 0; i < 5; i++) expandMask(randomSeed(), buf.length, undefined, buf);
  console.log(`ChaCha20 mask PRG: ${ms((now() - tp) / 5)} ms per 1M words\n`);

  console.log('1) Client cost per round (median of 3 real clients in a (k+1)-clique with k = defaultDegree(n))');
  const crow: ClientRow[] = [];
  for (const n of NS) for (const d of DS) crow.push(await clientCost(n, d));
  table(
    ['n', 'params', 'k', 't', 'advertise', 'shareKeys', 'recvShares', 'maskedInput', 'unmask', 'total', '| 2k X25519', 'shares+enc', 'k+1 PRG'],
    crow.map((r) => [r.n, r.d, r.k, r.t, ms(r.advertise), ms(r.shareKeys), ms(r.receive), ms(r.masked), ms(r.unmask), ms(r.total), ms(r.agreement), ms(r.shareGen), ms(r.expansion)]),
  );
  console.log('   shareKeys = k c-key agreements + 2 Shamir splits + k AEAD; maskedInput = k s-key agreements + (k+1) PRG expansions + adds.');
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

  console.log('3) Server unmask + aggregate (aggregate = streaming sum of masked inputs; unmask = announce + collect shares + reconstruct + remove masks)');
  const srow: ServerRow[] = [];
  for (const d of DS) {
    for (const p of [0, 10]) srow.push(await serverReal(10, d, p));
    if (d === 265_000) for (const p of [0, 10]) srow.push(await serverReal(100, d, p));
  }
  const c100 = await syntheticCohort(100, 1_000_000);
  for (const p of [0, 10]) srow.push(await serverSynthetic(c100, 1_000_000, p));
  const c1000 = await syntheticCohort(1000, 265_000);
  for (const d of quick ? [265_000] : DS) for (const p of [0, 10]) srow.push(await serverSynthetic(c1000, d, p));
  srow.sort((a, b) => a.n - b.n || a.d - b.d || a.dropPct - b.dropPct);
  table(
    ['n', 'params', 'drop', 'mode', 'k', 't', 'survivors', 'aggregate', 'unmask', 'total', 'check'],
    srow.map((r) => [r.n, r.d, `${r.dropPct}%`, r.mode, r.k, r.t, r.survivors, ms(r.aggregate), ms(r.unmask), ms(r.total), r.check]),
  );
  console.log('   real: all n clients are SecAggClient objects with real quantized updates (dropped ones leave after ShareKeys).');
  console.log('   synthetic: real server, bench-made client messages (real keys, seeds, commitments, Shamir shares;');
  console.log('   random ciphertexts; one random vector as every masked input).\n');

  console.log('4) Targets');
  const c1000d = crow.find((r) => r.n === 1000 && r.d === 265_000)!;
  const c1000m = crow.find((r) => r.n === 1000 && r.d === 1_000_000)!;
  const s100 = srow.filter((r) => r.n === 100 && r.d === 265_000);
  const worstBytes = Math.max(...crow.map((r) => r.bytes.total / r.d));
  const checks: [string, string, boolean][] = [
    [`client masking at n=1000, 265k params < 500 ms`, `${ms(c1000d.masked)} ms`, c1000d.masked < 500],
    [`client masking at n=1000, 1M params < 500 ms`, `${ms(c1000m.masked)} ms`, c1000m.masked < 500],
    ...s100.map(
      (r) => [`server unmask+aggregate, n=100, 265k params, ${r.dropPct}% dropouts < 2000 ms`, `${ms(r.total)} ms`, r.total < 2000] as [string, string, boolean],
    ),
    [`upload ≤ 4.2 bytes/param (worst case above)`, worstBytes.toFixed(4), worstBytes <= 4.2],
    [`all real rounds decoded exactly`, srow.filter((r) => r.mode === 'real').every((r) => r.check.startsWith('exact') && r.check.endsWith('ok')) ? 'yes' : 'no', srow.filter((r) => r.mode === 'real').every((r) => r.check.startsWith('exact') && r.check.endsWith('ok'))],
  ];
  table(['target', 'measured', 'result'], checks.map(([a, b, c]) => [a, b, c ? 'PASS' : 'FAIL']));
  console.log(`\nTotal bench time ${((now() - start) / 1000).toFixed(1)} s`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
