/**
 * npm run simulate -- --clients 8 --rounds 3 --dataset fashion-mnist --split dirichlet:0.3 [--dropout 0.2]
 * Drives headless Chromium clients through federated rounds and prints a per-round table.
 */
import { Command, InvalidArgumentError } from 'commander';
import cliProgress from 'cli-progress';
import { runSimulation } from './sim/simulation';
import { parseSplitSpec } from '../shared/data/splits';
import { isDatasetName } from '../shared/data/dataset';

const int = (name: string, min: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}`);
  return n;
};
const fraction = (v: string) => {
  const n = Number(v);
  if (!(n >= 0 && n < 1)) throw new InvalidArgumentError('must be in [0, 1)');
  return n;
};

const program = new Command()
  .name('simulate')
  .description('Federated SimCLR with N headless browser clients')
  .option('--clients <n>', 'number of browser clients', int('clients', 1), 8)
  .option('--rounds <n>', 'rounds to run', int('rounds', 1), 3)
  .option('--dataset <name>', 'mnist or fashion-mnist', 'fashion-mnist')
  .option('--split <spec>', 'iid | dirichlet:<alpha> | shards:<k>', 'dirichlet:0.3')
  .option(
    '--dropout <fraction>',
    "fraction of each round's cohort closed mid-round, just before uploading",
    fraction,
    0,
  )
  .option('--seed <n>', 'data split seed', int('seed', 0), 1)
  .option(
    '--model <size>',
    "server model when starting one: 'default' (trained with the recipe: τ 0.2, jitter, schedule over --rounds) or 'tiny'",
    'default',
  )
  .option('--local-steps <n>', 'local SimCLR steps per round', int('local-steps', 1), 5)
  .option('--batch-size <n>', 'local batch size', int('batch-size', 2), 32)
  .option(
    '--lr <x>',
    "client learning rate: the peak of the default model's warm-up + cosine schedule (default 2e-3), or tiny's constant rate (1e-3)",
    (v) => Number(v),
  )
  .option('--clients-per-browser <n>', 'browser contexts per Chromium process', int('clients-per-browser', 1), 8)
  .option('--backend <name>', 'client backend: wasm, cpu or webgpu', 'wasm')
  .option('--url <url>', 'target a running server instead of starting one')
  .option('--admin-token <token>', 'admin token of the running server (or env FEDSSL_ADMIN_TOKEN)')
  .option('--no-probe', 'skip the final linear probe')
  .action(async (o: Record<string, unknown>) => {
    if (!isDatasetName(String(o.dataset))) throw new InvalidArgumentError(`unknown dataset ${String(o.dataset)}`);
    parseSplitSpec(String(o.split)); // fail early on a bad spec
    const bar = new cliProgress.SingleBar(
      {
        format: ' rounds {bar} {value}/{total} | round {roundId} {phase} | delivered {delivered}/{cohort} | v{version}',
        hideCursor: true,
        noTTYOutput: true,
        notTTYSchedule: 5000,
      },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    const result = await runSimulation({
      clients: o.clients as number,
      rounds: o.rounds as number,
      dataset: o.dataset as 'mnist' | 'fashion-mnist',
      split: String(o.split),
      dropout: o.dropout as number,
      seed: o.seed as number,
      ...(o.url ? { url: String(o.url) } : {}),
      ...((o.adminToken ?? process.env.FEDSSL_ADMIN_TOKEN)
        ? { adminToken: String(o.adminToken ?? process.env.FEDSSL_ADMIN_TOKEN) }
        : {}),
      model: o.model === 'tiny' ? 'tiny' : 'default',
      localSteps: o.localSteps as number,
      batchSize: o.batchSize as number,
      ...(o.lr !== undefined ? { learningRate: o.lr as number } : {}),
      clientsPerBrowser: o.clientsPerBrowser as number,
      backend: o.backend as 'wasm',
      probe: o.probe as boolean,
      log: (line) => (started ? process.stdout.write(`\n${line}\n`) : console.log(line)),
      onProgress: (p) => {
        const payload = {
          roundId: p.status.roundId,
          phase: p.status.phase,
          delivered: p.status.delivered.length,
          cohort: p.status.cohort.length,
          version: p.status.modelVersion,
        };
        if (!started) {
          bar.start(p.targetRounds, p.committedRounds, payload);
          started = true;
        } else bar.update(p.committedRounds, payload);
      },
    });
    bar.stop();
    console.log(
      `\nServer ${result.url} · ${result.rounds.length} rounds in ${(result.wallMs / 1000).toFixed(1)} s · ${result.closedPages} pages closed mid-round\n`,
    );
    const rows = result.rounds.map((r) => ({
      round: r.id,
      outcome: r.outcome ?? 'open',
      cohort: r.cohort_size,
      survivors: r.survivors,
      dropouts: r.dropouts,
      'mean loss': r.mean_loss === null ? '–' : r.mean_loss.toFixed(4),
      'duration s': r.ended_at ? ((r.ended_at - r.started_at) / 1000).toFixed(1) : '–',
      'KiB up/client': r.survivors ? (r.bytes_up / r.survivors / 1024).toFixed(1) : '–',
      'KiB down/client': r.cohort_size ? (r.bytes_down / r.cohort_size / 1024).toFixed(1) : '–',
      version: r.new_version ?? '–',
    }));
    console.table(rows);
    if (result.probe) {
      const p = result.probe;
      console.log(
        `\nLinear probe (v${p.version}; ${p.protocol}): ` +
          `federated ${(100 * p.trained).toFixed(1)}% vs its random init (v0) ${(100 * p.randomInit).toFixed(1)}% ` +
          `(${p.gain >= 0 ? '+' : ''}${(100 * p.gain).toFixed(1)} points) vs raw pixels ${(100 * p.rawPixels).toFixed(1)}%`,
      );
    }
  });

program.parseAsync().catch((err: unknown) => {
  console.error(`simulate: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
