/**
 * npm run bench:server — 200 protocol-level Node clients (no training) each send a
 * default-size delta; prints round latency, aggregation time, peak RSS and bytes.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import cliProgress from 'cli-progress';
import { NodeFederatedClient } from '../server/federation/node-client';
import { DEFAULT_MODEL_CONFIG } from '../shared/model/config';
import { countParameters, createSimclrModel, disposeSimclrModel } from '../shared/model/encoder';
import { placeholderDataset } from '../shared/data/dataset';
import { AdminClient } from '../e2e/sim/admin-client';
import { freePort, spawnServer } from '../e2e/sim/server-process';
import type { RoundRow } from '../server/registry/registry';
import { RoundOutcome } from '../shared/protocol/phases';

const opts = new Command()
  .option('--clients <n>', 'protocol-level clients', (v) => Number(v), 200)
  .option('--rounds <n>', 'rounds to time', (v) => Number(v), 5)
  .parse()
  .opts<{ clients: number; rounds: number }>();

const ADMIN = 'fa_bench-admin-token';

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

function rssKiB(pid: number): number {
  try {
    return (
      Number(
        execFileSync('ps', ['-o', 'rss=', '-p', String(pid)])
          .toString()
          .trim(),
      ) || 0
    );
  } catch {
    return 0;
  }
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'fedssl-bench-'));
  const cfgFile = join(dataDir, 'round.json');
  writeFileSync(
    cfgFile,
    JSON.stringify({
      cohort: { mode: 'fixed', size: opts.clients },
      minClients: opts.clients,
      minSurvivors: Math.ceil(0.9 * opts.clients),
      trainDeadlineMs: 300_000,
      roundIntervalMs: 200,
      // Plain mode measures the transport and aggregation path; bench:secagg covers masking.
      secureAggregation: { enabled: process.env.BENCH_SECAGG === '1' },
    }),
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  // The server runs in its own process so its RSS is measured alone.
  const child = spawnServer({
    port,
    dataDir,
    args: ['--log-level', 'warn', '--round-config', cfgFile],
    // All clients connect from 127.0.0.1: the per-address handshake burst must admit them at once.
    env: {
      FEDSSL_ADMIN_TOKEN: ADMIN,
      FEDSSL_DEVICES_PER_TOKEN: String(opts.clients),
      FEDSSL_HANDSHAKE_BURST: String(opts.clients + 100),
    },
  });
  let peakRss = 0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssKiB(child.pid!))), 100);
  const clients: NodeFederatedClient[] = [];
  try {
    for (let i = 0; i < 100; i++) {
      if ((await fetch(`${url}/api/health`).catch(() => undefined))?.ok) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const admin = new AdminClient(url, ADMIN);
    const status = await admin.request<{ modelVersion: number }>('GET', '/api/admin/status');
    const model = createSimclrModel(DEFAULT_MODEL_CONFIG);
    const paramCount = countParameters(model);
    disposeSimclrModel(model);
    console.log(
      `server pid ${child.pid} at ${url}, model v${status.modelVersion}, ${paramCount.toLocaleString()} parameters, ${opts.clients} clients`,
    );
    const dummy = placeholderDataset(100);
    // One token for every simulated device (the server allows as many devices per token as clients).
    const token = (await admin.createJoinToken('bench')).token;
    const bar = new cliProgress.SingleBar(
      { format: ' {task} {bar} {value}/{total}', noTTYOutput: true, notTTYSchedule: 2000 },
      cliProgress.Presets.shades_classic,
    );
    bar.start(opts.clients, 0, { task: 'connecting' });
    for (let i = 0; i < opts.clients; i++) {
      clients.push(
        new NodeFederatedClient({
          url,
          token,
          clientId: `bench-${String(i).padStart(4, '0')}-x`,
          modelConfig: DEFAULT_MODEL_CONFIG,
          data: dummy,
          // No training: a small random delta of the model's size.
          trainOverride: async () => {
            const delta = new Float32Array(paramCount);
            for (let j = 0; j < delta.length; j += 97) delta[j] = (Math.random() - 0.5) * 1e-3;
            return { delta, meanLoss: 1, steps: 1, numExamples: 100 };
          },
        }),
      );
      bar.update(i + 1);
    }
    bar.stop();
    const t0 = Date.now();
    let rounds: RoundRow[] = [];
    for (;;) {
      rounds = (await admin.request<RoundRow[]>('GET', '/api/admin/rounds')).filter(
        (r) => r.outcome === RoundOutcome.Committed,
      );
      if (rounds.length >= opts.rounds) break;
      if (Date.now() - t0 > 600_000) throw new Error('bench timed out');
      await new Promise((r) => setTimeout(r, 200));
    }
    await admin.request('POST', '/api/admin/rounds/pause');
    const timed = rounds.slice(0, opts.rounds).reverse();
    const latency = timed.map((r) => r.ended_at! - r.started_at);
    const agg = timed.map((r) => r.aggregate_ms ?? NaN);
    const upPerClient = timed.map((r) => r.bytes_up / r.survivors);
    const raw = 4 * paramCount;
    console.log('\nbench:server');
    console.table(
      timed.map((r, i) => ({
        round: r.id,
        survivors: r.survivors,
        'latency ms': latency[i],
        'aggregate ms': agg[i]!.toFixed(1),
        'KiB up/client': (upPerClient[i]! / 1024).toFixed(1),
      })),
    );
    console.log(`clients:                 ${opts.clients}`);
    console.log(`round latency p50 / p95: ${percentile(latency, 50)} ms / ${percentile(latency, 95)} ms`);
    console.log(
      `aggregation per round:   median ${percentile(agg, 50).toFixed(1)} ms (Σ ${opts.clients} deltas → FedAvg → checkpoint)`,
    );
    console.log(`peak server RSS:         ${(peakRss / 1024).toFixed(0)} MiB`);
    console.log(
      `bytes up per client:     ${percentile(upPerClient, 50).toFixed(0)} B vs raw 4×params ${raw} B (ratio ${(percentile(upPerClient, 50) / raw).toFixed(3)})`,
    );
  } finally {
    clearInterval(sampler);
    for (const c of clients) c.close();
    child.kill('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
