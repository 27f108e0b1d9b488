/**
 * npm run bench:load — 1,000 protocol-level clients in one secure (SecAgg+) round, 10% of
 * them dropping after ShareKeys (before their masked input), first quiet, then under a flood
 * of 100 hostile clients sending junk at 50 messages/s each (from a separate process, so the
 * flood does not slow the honest clients' process). Prints round latency, server CPU time,
 * peak server RSS and event-loop delay p99 (prom-client's histogram, reset at each scrape).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { io } from 'socket.io-client';
import { NodeFederatedClient } from '../server/federation/node-client';
import { DEFAULT_MODEL_CONFIG, TINY_MODEL_CONFIG } from '../shared/model/config';
import { placeholderDataset } from '../shared/data/dataset';
import { createRng } from '../shared/data/rng';
import { AdminClient } from '../e2e/sim/admin-client';
import { freePort, spawnServer } from '../e2e/sim/server-process';
import type { RoundRow } from '../server/registry/registry';
import { RoundOutcome } from '../shared/protocol/phases';
import { SECAGG_EVENTS } from '../shared/protocol/secagg-messages';
import { EVENTS } from '../shared/protocol/messages';

const opts = new Command()
  .option('--clients <n>', 'honest protocol-level clients', (v) => Number(v), 1000)
  .option('--dropout <f>', 'fraction dropping after ShareKeys', (v) => Number(v), 0.1)
  .option('--hostile <n>', 'hostile clients in the flood scenario', (v) => Number(v), 100)
  .option('--rate <n>', 'junk messages per second per hostile client', (v) => Number(v), 50)
  .option('--model <size>', 'tiny or default', 'default')
  .option('--scenarios <list>', 'quiet,flood', 'quiet,flood')
  .option('--cpu-prof <dir>', 'write a V8 CPU profile of the server process into <dir>')
  .option('--flood-worker <json>', '(internal) run the hostile clients')
  .parse()
  .opts<{
    clients: number;
    dropout: number;
    hostile: number;
    rate: number;
    model: string;
    scenarios: string;
    cpuProf?: string;
    floodWorker?: string;
  }>();

const ROOT = resolve(import.meta.dirname, '..');
const ADMIN = 'fa_bench-load-admin-token';
const TICKS = 100; // USER_HZ on Linux

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

async function eventLoopP99(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`, { headers: { Authorization: `Bearer ${ADMIN}` } })).text();
  const m = /^nodejs_eventloop_lag_p99_seconds (\S+)$/m.exec(text);
  return m ? Number(m[1]) * 1000 : NaN;
}

// ---- hostile flood (child process) ----------------------------------------------------------
async function floodWorker(cfg: { url: string; tokens: string[]; rate: number }): Promise<void> {
  const rng = createRng(7);
  const junk = (): [string, unknown] => {
    const events = [
      EVENTS.ready,
      EVENTS.getModel,
      EVENTS.submitUpdate,
      SECAGG_EVENTS.advertise,
      SECAGG_EVENTS.shareKeys,
      SECAGG_EVENTS.maskedInput,
      SECAGG_EVENTS.unmask,
      'x:junk',
    ];
    const event = events[rng.int(events.length)]!;
    switch (rng.int(4)) {
      case 0:
        return [
          event,
          {
            p: {
              type: 'advertise',
              round: 1,
              sessionId: 'x'.repeat(12),
              from: 'y',
              cPk: Array.from({ length: 800 }, () => ({ $b: [0, 4096] })),
            },
            b: new Uint8Array(4096),
          },
        ];
      case 1:
        return [event, { version: rng.int(3) }];
      case 2:
        return [event, new Uint8Array(2048)];
      default:
        return [event, { a: [[[[[[1]]]]]], s: 'z'.repeat(rng.int(512)) }];
    }
  };
  let sent = 0;
  const sockets = cfg.tokens.map((token, i) => {
    const s = io(cfg.url, {
      auth: { token, clientId: `hostile-${String(i).padStart(4, '0')}` },
      transports: ['websocket'],
      reconnection: false,
    });
    // The server cuts clients that ignore rate limiting: come back at once, like a real attacker.
    s.on('disconnect', () => setTimeout(() => s.connect(), 50));
    return s;
  });
  const timer = setInterval(() => {
    for (const s of sockets) {
      if (!s.connected) continue;
      for (let k = 0; k < cfg.rate / 10; k++) {
        const [event, payload] = junk();
        s.emit(event, payload, () => undefined);
        sent++;
      }
    }
  }, 100);
  process.on('SIGTERM', () => {
    clearInterval(timer);
    process.stdout.write(JSON.stringify({ sent }) + '\n');
    process.exit(0);
  });
}

// ---- one scenario ---------------------------------------------------------------------------
interface Result {
  scenario: string;
  outcome: string;
  survivors: number;
  latencyMs: number;
  serverCpuS: number;
  peakRssMiB: number;
  eventLoopP99Ms: number;
  junkSent?: number;
}

async function scenario(name: 'quiet' | 'flood'): Promise<Result> {
  const n = opts.clients;
  const modelConfig = opts.model === 'tiny' ? TINY_MODEL_CONFIG : DEFAULT_MODEL_CONFIG;
  const dataDir = mkdtempSync(join(tmpdir(), 'fedssl-load-'));
  const cfgFile = join(dataDir, 'round.json');
  writeFileSync(
    cfgFile,
    JSON.stringify({
      cohort: { mode: 'fixed', size: n },
      minClients: n,
      minSurvivors: Math.floor((1 - opts.dropout) * n * 0.95),
      trainDeadlineMs: 1_200_000,
      phaseDeadlineMs: 600_000,
      roundIntervalMs: 2 ** 31 - 1, // one round
      secureAggregation: { enabled: true, clipNorm: 1, weightCap: 100 },
    }),
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const serverArgs = ['--log-level', 'error', '--round-config', cfgFile, '--model', opts.model];
  const serverEnv = { FEDSSL_ADMIN_TOKEN: ADMIN, FEDSSL_EVAL: '0', FEDSSL_DEVICES_PER_TOKEN: '1' };
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
  const clients: NodeFederatedClient[] = [];
  let flood: ChildProcess | undefined;
  try {
    for (let i = 0; i < 300; i++) {
      if ((await fetch(`${url}/api/health`).catch(() => undefined))?.ok) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const admin = new AdminClient(url, ADMIN);
    await admin.request('POST', '/api/admin/rounds/pause'); // start the round only when everyone is connected
    const hostileTokens: string[] = [];
    if (name === 'flood')
      for (let i = 0; i < opts.hostile; i++) hostileTokens.push((await admin.createJoinToken(`hostile ${i}`)).token);
    const dummy = placeholderDataset(100);
    const drop = Math.round(opts.dropout * n);
    for (let i = 0; i < n; i++) {
      const token = (await admin.createJoinToken(`load ${i}`)).token;
      const rng = createRng(1000 + i);
      clients.push(
        new NodeFederatedClient({
          url,
          token,
          clientId: `load-${String(i).padStart(5, '0')}`,
          modelConfig,
          data: dummy,
          trainOverride: async (global) => {
            const delta = new Float32Array(global.length);
            for (let j = 0; j < delta.length; j += 97) delta[j] = (rng.uniform() - 0.5) * 1e-3;
            return { delta, meanLoss: 1, steps: 1, numExamples: 100 };
          },
          // The last 10% vanish after sharing keys: the server must reconstruct their mask keys.
          ...(i >= n - drop ? { dropBefore: (e: string) => e === SECAGG_EVENTS.maskedInput } : {}),
        }),
      );
    }
    const t0 = Date.now();
    for (;;) {
      const st = await admin.request<{ eligibleClients: number; connectedClients: number }>('GET', '/api/admin/status');
      if (st.eligibleClients >= n) break;
      if (Date.now() - t0 > 900_000)
        throw new Error(
          `only ${st.eligibleClients} of ${n} clients became eligible (${st.connectedClients} connected)`,
        );
      await new Promise((r) => setTimeout(r, 500));
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
          JSON.stringify({ url, tokens: hostileTokens, rate: opts.rate }),
        ],
        { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
      );
      await new Promise((r) => setTimeout(r, 3000));
    }
    await eventLoopP99(url); // resets the histogram
    const cpu0 = cpuSeconds(server.pid!);
    await admin.request('POST', '/api/admin/rounds/resume');
    let round: RoundRow | undefined;
    for (;;) {
      round = (await admin.request<RoundRow[]>('GET', '/api/admin/rounds')).find((r) => r.outcome !== null);
      if (round) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const p99 = await eventLoopP99(url);
    const result: Result = {
      scenario: name,
      outcome: round.outcome === RoundOutcome.Committed ? 'committed' : `${round.outcome}: ${round.reason}`,
      survivors: round.survivors,
      latencyMs: round.ended_at! - round.started_at,
      serverCpuS: cpuSeconds(server.pid!) - cpu0,
      peakRssMiB: peakRssMiB(server.pid!),
      eventLoopP99Ms: p99,
    };
    if (flood) {
      const out = new Promise<string>((ok) => {
        let buf = '';
        flood!.stdout!.on('data', (c: Buffer) => (buf += c.toString()));
        flood!.once('exit', () => ok(buf));
      });
      flood.kill('SIGTERM');
      result.junkSent = (JSON.parse((await out).trim().split('\n').pop() || '{}') as { sent?: number }).sent ?? 0;
      flood = undefined;
    }
    return result;
  } finally {
    flood?.kill('SIGKILL');
    for (const c of clients) c.close();
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (opts.floodWorker)
    return floodWorker(JSON.parse(opts.floodWorker) as { url: string; tokens: string[]; rate: number });
  const results: Result[] = [];
  for (const s of opts.scenarios.split(',') as ('quiet' | 'flood')[]) {
    console.log(
      `scenario ${s}: ${opts.clients} clients (${opts.model} model), ${Math.round(opts.dropout * 100)}% dropping${s === 'flood' ? `, ${opts.hostile} hostile × ${opts.rate} msg/s` : ''}…`,
    );
    results.push(await scenario(s));
    console.log(JSON.stringify(results[results.length - 1]));
  }
  console.log('\nbench:load');
  console.table(
    results.map((r) => ({
      scenario: r.scenario,
      outcome: r.outcome,
      survivors: r.survivors,
      'round latency s': (r.latencyMs / 1000).toFixed(1),
      'server CPU s': r.serverCpuS.toFixed(1),
      'peak RSS MiB': r.peakRssMiB.toFixed(0),
      'event-loop p99 ms': r.eventLoopP99Ms.toFixed(0),
      ...(r.junkSent !== undefined ? { 'junk sent': r.junkSent } : {}),
    })),
  );
  const q = results.find((r) => r.scenario === 'quiet');
  const f = results.find((r) => r.scenario === 'flood');
  if (q && f)
    console.log(
      `flood / quiet latency: ${(f.latencyMs / q.latencyMs).toFixed(2)}× (target ≤ 2×); peak RSS under flood ${f.peakRssMiB.toFixed(0)} MiB (target < 1024)`,
    );
}

main().then(
  () => !opts.floodWorker && process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
