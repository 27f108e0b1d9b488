/**
 * npm run bench:load — N protocol-level clients in one secure (SecAgg+) round, a fraction of them dropping
 * after ShareKeys (before their masked input), first quiet, then under a flood of hostile clients sending
 * junk (bench/load-flood.ts, its own process). The server runs in its own process (the real entry point);
 * the honest clients run on worker threads (bench/load-clients.ts), with node:crypto's X25519 (same bytes as
 * noble, checked) unless --noble. Prints round latency, server CPU time, peak server RSS, event-loop delay
 * p99 and max (the server's perf_hooks.monitorEventLoopDelay, via prom-client, reset when the round starts),
 * and the machine's load average. Each scenario's result is saved as it finishes; --resume skips those done.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { Command } from 'commander';
import { AdminClient } from '../e2e/sim/admin-client';
import { freePort, spawnServer } from '../e2e/sim/server-process';
import type { RoundRow } from '../server/registry/registry';
import { RoundOutcome } from '../shared/protocol/phases';
import { runFlood, type FloodConfig } from './load-flood';
import type { ClientWorkerData } from './load-clients';

const opts = new Command()
  .option('--clients <n>', 'honest protocol-level clients', (v) => Number(v), 1000)
  .option('--dropout <f>', 'fraction dropping after ShareKeys', (v) => Number(v), 0.1)
  .option('--hostile <n>', 'hostile clients in the flood scenario', (v) => Number(v), 100)
  .option('--rate <n>', 'junk messages per second per hostile client', (v) => Number(v), 50)
  .option('--model <size>', 'tiny or default', 'tiny')
  .option('--scenarios <list>', 'quiet,flood', 'quiet,flood')
  .option('--workers <n>', 'worker threads for the honest clients', (v) => Number(v), 2)
  .option('--ping-timeout-s <s>', "the server's socket.io ping timeout in this bench", (v) => Number(v), 600)
  .option('--noble', 'simulated clients use @noble/curves X25519 (default: node:crypto, same bytes)')
  .option('--out <file>', 'results file (JSON; default bench/results/load-<clients>-<model>.json)')
  .option('--resume', 'skip scenarios already in the results file')
  .option('--cpu-prof <dir>', 'write a V8 CPU profile of the server process into <dir>')
  .option('--flood-worker <json>', '(internal) run the hostile clients')
  .parse()
  .opts<{
    clients: number;
    dropout: number;
    hostile: number;
    rate: number;
    model: 'tiny' | 'default';
    scenarios: string;
    workers: number;
    pingTimeoutS: number;
    noble?: boolean;
    out?: string;
    resume?: boolean;
    cpuProf?: string;
    floodWorker?: string;
  }>();

const ROOT = resolve(import.meta.dirname, '..');
const ADMIN = 'fa_bench-load-admin-token';
const TICKS = 100; // USER_HZ on Linux
const OUT = resolve(opts.out ?? join(ROOT, 'bench', 'results', `load-${opts.clients}-${opts.model}.json`));

/** utime + stime of a process in seconds (Linux /proc). */
function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}

/** Peak resident set (VmHWM) in MiB. */
function peakRssMiB(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** The server's event-loop delay p99 and max (ms) since the last scrape; the scrape resets them. */
async function eventLoop(url: string): Promise<{ p99: number; max: number }> {
  const text = await (await fetch(`${url}/metrics`, { headers: { Authorization: `Bearer ${ADMIN}` } })).text();
  const get = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]) * 1000;
  return { p99: get('nodejs_eventloop_lag_p99_seconds'), max: get('nodejs_eventloop_lag_max_seconds') };
}

/**
 * The longest a single client event's handler held the server's loop since it started (connections, handshakes
 * and the round; the server's fedssl_handler_* metrics), which event that was, and how many handlers ran > 50 ms.
 */
async function handlerTimes(
  url: string,
): Promise<{ maxMs: number; event: string; long: number; calls: number; gcOver50: number }> {
  const text = await (await fetch(`${url}/metrics`, { headers: { Authorization: `Bearer ${ADMIN}` } })).text();
  const perEvent = (name: string) =>
    [...text.matchAll(new RegExp(`^${name}\\{event="([^"]+)"\\} (\\S+)$`, 'gm'))].map((m) => ({
      event: m[1]!,
      value: Number(m[2]),
    }));
  const worst = perEvent('fedssl_handler_max_seconds').reduce((a, b) => (b.value > a.value ? b : a), {
    event: '-',
    value: 0,
  });
  const sum = (name: string) => perEvent(name).reduce((a, b) => a + b.value, 0);
  // GC pauses over 50 ms since start: every kind's count minus its le="0.05" bucket.
  const bucket = (le: string) =>
    [...text.matchAll(new RegExp(`^nodejs_gc_duration_seconds_bucket\\{le="${le}",kind="[^"]+"\\} (\\S+)$`, 'gm'))]
      .map((m) => Number(m[1]))
      .reduce((a, b) => a + b, 0);
  return {
    maxMs: worst.value * 1000,
    event: worst.event,
    long: sum('fedssl_handler_long_total'),
    calls: sum('fedssl_handler_calls_total'),
    gcOver50: bucket('\\+Inf') - bucket('0.05'),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Result {
  scenario: string;
  date: string;
  clients: number;
  model: string;
  x25519: string;
  outcome: string;
  survivors: number;
  latencyMs: number;
  serverCpuS: number;
  peakRssMiB: number;
  eventLoopP99Ms: number;
  eventLoopMaxMs: number;
  /** Longest single client-event handler (ms), its event, handlers over 50 ms, and handlers run. */
  handler?: { maxMs: number; event: string; long: number; calls: number; gcOver50?: number };
  loadAvg: number;
  cores: number;
  clientErrors: Record<string, number>;
  flood?: { sent: number; handshakes: number; refused: number; cuts: number };
}

async function scenario(name: 'quiet' | 'flood'): Promise<Result> {
  const n = opts.clients;
  const dataDir = mkdtempSync(join(tmpdir(), 'fedssl-load-'));
  const cfgFile = join(dataDir, 'round.json');
  writeFileSync(
    cfgFile,
    JSON.stringify({
      cohort: { mode: 'fixed', size: n },
      minClients: n,
      minSurvivors: Math.floor((1 - opts.dropout) * n * 0.95),
      trainDeadlineMs: 1_200_000,
      phaseDeadlineMs: 900_000,
      roundIntervalMs: 2 ** 31 - 1, // one round
      secureAggregation: { enabled: true, clipNorm: 1, weightCap: 100 },
    }),
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const serverArgs = ['--log-level', 'error', '--round-config', cfgFile, '--model', opts.model];
  const serverEnv = {
    FEDSSL_ADMIN_TOKEN: ADMIN,
    FEDSSL_EVAL: '0',
    FEDSSL_DEVICES_PER_TOKEN: '1',
    // Every client of the bench connects from 127.0.0.1: the address's burst admits the honest cohort at once
    // (the default, 200, is sized for one NAT'd classroom); the flood's reconnects then meet the 20/s rate.
    FEDSSL_HANDSHAKE_BURST: String(n + 100),
    // The simulated clients share this machine's cores: 500 clients per thread doing their ShareKeys work
    // (Shamir at t = 107, k = 212) leave pings unanswered for far longer than a real device would.
    FEDSSL_PING_TIMEOUT_MS: String(opts.pingTimeoutS * 1000),
  };
  // --cpu-prof is refused in NODE_OPTIONS, so a profiled server is spawned here with the same command line.
  const server = opts.cpuProf
    ? spawn(
        process.execPath,
        [
          `--cpu-prof-dir=${resolve(opts.cpuProf)}`,
          '--cpu-prof',
          '--import',
          'tsx',
          'server/main.ts',
          ...['--port', String(port), '--data-dir', dataDir, ...serverArgs],
        ],
        { cwd: ROOT, env: { ...process.env, ...serverEnv }, stdio: ['ignore', 'inherit', 'inherit'] },
      )
    : spawnServer({ port, dataDir, args: serverArgs, env: serverEnv });
  const workers: Worker[] = [];
  let flood: ChildProcess | undefined;
  try {
    for (let i = 0; i < 300; i++) {
      if ((await fetch(`${url}/api/health`).catch(() => undefined))?.ok) break;
      await sleep(200);
    }
    const admin = new AdminClient(url, ADMIN);
    await admin.request('POST', '/api/admin/rounds/pause'); // start the round only when everyone is connected
    const hostileTokens: string[] = [];
    if (name === 'flood')
      for (let i = 0; i < opts.hostile; i++) hostileTokens.push((await admin.createJoinToken(`hostile ${i}`)).token);
    const drop = Math.round(opts.dropout * n);
    const specs: ClientWorkerData['clients'] = [];
    for (let i = 0; i < n; i++)
      specs.push({ index: i, token: (await admin.createJoinToken(`load ${i}`)).token, drops: i >= n - drop });
    let x25519 = 'noble';
    const W = Math.max(1, Math.min(opts.workers, n));
    for (let w = 0; w < W; w++) {
      const data: ClientWorkerData = {
        url,
        model: opts.model,
        nodeX25519: !opts.noble,
        clients: specs.filter((_, i) => i % W === w),
      };
      const worker = new Worker(new URL('./load-client-entry.mjs', import.meta.url), { workerData: data });
      worker.on('error', (err) => console.error('client worker failed:', err));
      x25519 = await new Promise<string>((ok) => worker.once('message', (m: { x25519: string }) => ok(m.x25519)));
      workers.push(worker);
    }
    const t0 = Date.now();
    for (;;) {
      const st = await admin.request<{ eligibleClients: number; connectedClients: number }>('GET', '/api/admin/status');
      if (st.eligibleClients >= n) break;
      if (Date.now() - t0 > 900_000)
        throw new Error(
          `only ${st.eligibleClients} of ${n} clients became eligible (${st.connectedClients} connected)`,
        );
      await sleep(500);
    }
    if (name === 'flood') {
      // The flood starts once the honest clients are in, and runs through the whole round.
      flood = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          'bench/load.ts',
          '--flood-worker',
          JSON.stringify({ url, tokens: hostileTokens, rate: opts.rate } satisfies FloodConfig),
        ],
        { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
      );
      await sleep(5000);
    }
    await eventLoop(url); // resets the histogram
    const cpu0 = cpuSeconds(server.pid!);
    const loads: number[] = [];
    const sampler = setInterval(() => loads.push(loadavg()[0]!), 5000);
    await admin.request('POST', '/api/admin/rounds/resume');
    let round: RoundRow | undefined;
    for (;;) {
      round = (await admin.request<RoundRow[]>('GET', '/api/admin/rounds')).find((r) => r.outcome !== null);
      if (round) break;
      await sleep(500);
    }
    clearInterval(sampler);
    loads.push(loadavg()[0]!);
    const loop = await eventLoop(url);
    const handler = await handlerTimes(url);
    const result: Result = {
      scenario: name,
      date: new Date().toISOString(),
      clients: n,
      model: opts.model,
      x25519,
      outcome: round.outcome === RoundOutcome.Committed ? 'committed' : `${round.outcome}: ${round.reason}`,
      survivors: round.survivors,
      latencyMs: round.ended_at! - round.started_at,
      serverCpuS: cpuSeconds(server.pid!) - cpu0,
      peakRssMiB: peakRssMiB(server.pid!),
      eventLoopP99Ms: loop.p99,
      eventLoopMaxMs: loop.max,
      handler,
      loadAvg: loads.reduce((a, b) => a + b, 0) / loads.length,
      cores: cpus().length,
      clientErrors: {},
    };
    if (flood) {
      const out = new Promise<string>((ok) => {
        let buf = '';
        flood!.stdout!.on('data', (c: Buffer) => (buf += c.toString()));
        flood!.once('exit', () => ok(buf));
      });
      flood.kill('SIGTERM');
      result.flood = JSON.parse((await out).trim().split('\n').pop() || '{}') as Result['flood'];
      flood = undefined;
    }
    for (const w of workers) {
      const closed = new Promise<{ errors: Record<string, number> }>((ok) =>
        w.on('message', (m: { type: string; errors: Record<string, number> }) => m.type === 'closed' && ok(m)),
      );
      w.postMessage({ type: 'close' });
      for (const [k, v] of Object.entries((await closed).errors))
        result.clientErrors[k] = (result.clientErrors[k] ?? 0) + v;
    }
    return result;
  } finally {
    flood?.kill('SIGKILL');
    await Promise.all(workers.map((w) => w.terminate()));
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function table(results: Result[]): void {
  console.table(
    results.map((r) => ({
      scenario: r.scenario,
      outcome: r.outcome.slice(0, 60),
      survivors: r.survivors,
      'round latency s': (r.latencyMs / 1000).toFixed(1),
      'server CPU s': r.serverCpuS.toFixed(1),
      'peak RSS MiB': r.peakRssMiB.toFixed(0),
      'loop p99 ms': r.eventLoopP99Ms.toFixed(0),
      'loop max ms': r.eventLoopMaxMs.toFixed(0),
      'longest handler ms': r.handler ? `${r.handler.maxMs.toFixed(0)} (${r.handler.event})` : '-',
      'handlers > 50 ms': r.handler ? `${r.handler.long} of ${r.handler.calls}` : '-',
      'GC pauses > 50 ms': r.handler?.gcOver50 ?? '-',
      'load avg': `${r.loadAvg.toFixed(1)} / ${r.cores} cores`,
      ...(r.flood ? { 'junk sent': r.flood.sent, 'flood cuts': r.flood.cuts } : {}),
    })),
  );
}

async function main(): Promise<void> {
  if (opts.floodWorker) return runFlood(JSON.parse(opts.floodWorker) as FloodConfig);
  const saved: Result[] =
    opts.resume && existsSync(OUT) ? (JSON.parse(readFileSync(OUT, 'utf8')) as { results: Result[] }).results : [];
  const results = [...saved];
  for (const s of opts.scenarios.split(',') as ('quiet' | 'flood')[]) {
    if (results.some((r) => r.scenario === s)) {
      console.log(`scenario ${s}: already in ${OUT} (--resume)`);
      continue;
    }
    console.log(
      `scenario ${s}: ${opts.clients} clients (${opts.model} model, ${opts.workers} client threads), ` +
        `${Math.round(opts.dropout * 100)}% dropping${s === 'flood' ? `, ${opts.hostile} hostile × ${opts.rate} msg/s` : ''}…`,
    );
    const r = await scenario(s);
    results.push(r);
    console.log(JSON.stringify(r));
    mkdirSync(dirname(OUT), { recursive: true });
    writeFileSync(OUT, JSON.stringify({ options: opts, results }, null, 2));
  }
  console.log('\nbench:load');
  table(results);
  const q = results.find((r) => r.scenario === 'quiet');
  const f = results.find((r) => r.scenario === 'flood');
  if (q && f)
    console.log(
      `flood / quiet latency: ${(f.latencyMs / q.latencyMs).toFixed(2)}× (target ≤ 2×); ` +
        `peak RSS under flood ${f.peakRssMiB.toFixed(0)} MiB (target < 1024)`,
    );
}

main().then(
  () => !opts.floodWorker && process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
