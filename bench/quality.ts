/**
 * npm run bench:quality -- [--quick] [--arms raw,random,central,...] [--seeds 1,2,3] [--budget 256000] [--jobs 2] [--report-only]
 *
 * The one place where "how good is the encoder" is decided. Every arm gets the same
 * probe protocol (shared/ssl/probe-protocol.ts: standardised frozen features,
 * multinomial logistic regression by L-BFGS to convergence, 10,000 labelled train /
 * all 3,000 test Fashion-MNIST images, plus a 1,000-label regime) and the same budget
 * of images processed by SimCLR steps. Jobs (arm × seed) run on worker threads, one
 * tfjs WASM instance each; each finished job is saved, so a rerun resumes.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { Command, InvalidArgumentError } from 'commander';
import cliProgress from 'cli-progress';
import {
  ARM_LABELS,
  ARM_NAMES,
  federationDefaults,
  MODEL_CHOICES,
  type ArmName,
  type JobOptions,
  type JobResult,
  type ModelChoice,
} from './quality/arms';
import { centralBatchOfItsOwn, jobFiles } from './quality/job-files';
import { removeJobCheckpoint } from './quality/job-checkpoint';
import { SIMCLR_RECIPE } from '../shared/ssl/recipe';
import { curveSvg, formatTable, summarize } from './quality/report';
import type { WorkerMessage } from './quality/worker';

const int = (name: string, min: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}`);
  return n;
};
const list =
  <T>(parse: (s: string) => T) =>
  (v: string) =>
    v.split(',').map((s) => parse(s.trim()));
const armName = (s: string): ArmName => {
  const a = ARM_NAMES.find((n) => n === s);
  if (!a) throw new InvalidArgumentError(`unknown arm "${s}" (one of ${ARM_NAMES.join(', ')})`);
  return a;
};

const modelChoice = (s: string): ModelChoice => {
  const m = MODEL_CHOICES.find((n) => n === s);
  if (!m) throw new InvalidArgumentError(`unknown model "${s}" (one of ${MODEL_CHOICES.join(', ')})`);
  return m;
};

interface Cli {
  quick: boolean;
  model: ModelChoice;
  arms?: ArmName[];
  seeds?: number[];
  budget?: number;
  jobs: number;
  out: string;
  labels: number;
  lowLabels: number;
  clients: number;
  localSteps?: number;
  clientBatch?: number;
  centralBatch?: number;
  dropout: number;
  dpNoise: number;
  curveProbes?: number;
  fresh: boolean;
  reportOnly: boolean;
}

const program = new Command()
  .name('bench:quality')
  .description(
    'Linear-probe quality of the SimCLR encoder: raw pixels, random init, centralized, federated (IID, Dirichlet+dropout+SecAgg, +DP)',
  )
  .option('--quick', 'one seed, 25,600 images per arm, no intermediate probes (about 20 min on 2 cores)', false)
  .option('--arms <list>', `comma-separated subset of ${ARM_NAMES.join(',')}`, list(armName))
  .option('--seeds <list>', 'comma-separated seeds (default 1,2,3; --quick: 1)', list(int('seed', 0)))
  .option(
    '--budget <images>',
    'images processed by SimCLR steps per arm (default 256000; --quick: 25600)',
    int('budget', 2),
  )
  .option(
    '--model <name>',
    "what the trained arms train, as the server's --model: 'default' (the recipe) or 'compact' (the old default encoder with constant lr 1e-3, τ 0.5, default augmentations)",
    modelChoice,
    'default' as ModelChoice,
  )
  .option('--jobs <n>', 'worker threads (jobs run in parallel)', int('jobs', 1), Math.max(1, cpus().length))
  .option('--out <dir>', 'results directory (one JSON per finished job, summary, SVGs)', 'bench/results/quality')
  .option('--labels <n>', 'labelled training images for the main probe', int('labels', 10), 10_000)
  .option('--low-labels <n>', 'labelled training images for the low-label probe', int('low-labels', 10), 1_000)
  .option('--clients <n>', 'federated clients', int('clients', 3), 10)
  .option('--local-steps <n>', 'local SimCLR steps per round (default 10; --quick: 5)', int('local-steps', 1))
  .option(
    '--client-batch <n>',
    "client batch size (default 32, the round config's; --quick: 64)",
    int('client-batch', 2),
  )
  .option(
    '--central-batch <n>',
    `the centralized arm's batch (default ${SIMCLR_RECIPE.batchSize}, the recipe's); the budget in images stays`,
    int('central-batch', 2),
  )
  .option('--dropout <fraction>', 'fraction of the cohort that vanishes before uploading (Dirichlet arms)', Number, 0.3)
  .option('--dp-noise <z>', 'DP noise multiplier for fed-dir-dp (ε is reported by the accountant)', Number, 1)
  .option(
    '--curve-probes <n>',
    'intermediate 1,000-label probes per job (default 3; --quick: 0)',
    int('curve-probes', 0),
  )
  .option('--fresh', 'ignore saved job results in --out', false)
  .option(
    '--report-only',
    'run nothing: table, curves and summary from the saved jobs, listing the missing ones',
    false,
  );

async function runWorker(
  job: JobOptions,
  onProgress: (m: Extract<WorkerMessage, { type: 'progress' }>) => void,
): Promise<JobResult> {
  return new Promise((resolvePromise, reject) => {
    // The worker is TypeScript too: its plain-JS entry registers tsx first.
    const w = new Worker(new URL('./quality/worker-entry.mjs', import.meta.url), { workerData: job });
    let settled = false;
    w.on('message', (m: WorkerMessage) => {
      if (m.type === 'progress') onProgress(m);
      else if (m.type === 'result') {
        settled = true;
        resolvePromise(m.result);
        void w.terminate();
      } else {
        settled = true;
        reject(new Error(m.message));
        void w.terminate();
      }
    });
    w.on('error', (err) => !settled && reject(err));
    w.on('exit', (code) => !settled && reject(new Error(`worker exited with code ${code}`)));
  });
}

async function main(o: Cli): Promise<void> {
  if (o.reportOnly && o.fresh)
    throw new Error('--report-only reads the saved jobs; it cannot be combined with --fresh');
  const arms = o.arms ?? [...ARM_NAMES];
  const seeds = o.seeds ?? (o.quick ? [1] : [1, 2, 3]);
  const budget = o.budget ?? (o.quick ? 25_600 : 256_000);
  const curveProbes = o.curveProbes ?? (o.quick ? 0 : 3);
  const federation = federationDefaults(o.quick);
  const localSteps = o.localSteps ?? federation.localSteps;
  const clientBatch = o.clientBatch ?? federation.clientBatch;
  const out = resolve(o.out);
  mkdirSync(out, { recursive: true });
  if (o.model !== 'default' && arms.includes('supervised'))
    throw new Error('the supervised ceiling is measured for the default encoder only: leave it out of --arms');
  const settings = {
    model: o.model,
    budget,
    labels: o.labels,
    lowLabels: o.lowLabels,
    clients: o.clients,
    localSteps,
    clientBatch,
    dropout: o.dropout,
    dpNoiseMultiplier: o.dpNoise,
    curveProbes,
    ...(o.centralBatch !== undefined ? { centralBatch: o.centralBatch } : {}),
  };
  // A saved job is reused only when it was run with exactly these settings.
  const names = jobFiles(settings);
  const tagOf = names.tagOf;
  const file = (arm: ArmName, seed: number) => join(out, `${arm}-seed${seed}-${tagOf(arm)}.json`);
  const jobs: JobOptions[] = [];
  const results = new Map<string, JobResult>();
  for (const arm of arms) {
    // Raw pixels involve no randomness: one job stands for every seed.
    for (const seed of arm === 'raw' ? [seeds[0]!] : seeds) {
      const f = file(arm, seed);
      if (!o.fresh && existsSync(f)) results.set(f, JSON.parse(readFileSync(f, 'utf8')) as JobResult);
      else
        jobs.push({
          arm,
          seed,
          ...settings,
          // Trained jobs checkpoint mid-run (outside git: partial/ is ignored) and resume from it: centralized
          // every 25 steps, federated after every committed round.
          ...(arm !== 'raw' && arm !== 'random'
            ? { checkpointFile: join(out, 'partial', basename(f, '.json') + '.ckpt') }
            : {}),
        });
    }
  }
  // Report-only: the missing jobs are named, not run (a partial table while other seeds still train).
  const missing = o.reportOnly ? jobs.splice(0).map((j) => `${j.arm} seed ${j.seed}`) : [];
  console.log(
    `bench:quality · model ${o.model} · ${arms.length} arms × seeds [${seeds.join(', ')}] · budget ${budget.toLocaleString('en-US')} images · ${jobs.length} jobs to run (${results.size} resumed) · ${o.jobs} worker threads`,
  );
  if (missing.length) console.log(`report only; not in ${out} yet: ${missing.join(', ')}`);
  const multibar = new cliProgress.MultiBar(
    {
      format: ' {job} {bar} {percentage}% | {info}',
      hideCursor: true,
      noTTYOutput: true,
      notTTYSchedule: 30_000,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  const queue = [...jobs];
  const failures: string[] = [];
  const runNext = async (): Promise<void> => {
    const job = queue.shift();
    if (!job) return;
    const name = `${job.arm}/seed${job.seed}`.padEnd(18);
    const bar = multibar.create(job.budget, 0, { job: name, info: 'starting' });
    try {
      const r = await runWorker(job, (m) => bar.update(Math.min(m.done, m.total), { info: m.info }));
      writeFileSync(file(job.arm, job.seed), JSON.stringify(r, null, 1));
      if (job.checkpointFile) removeJobCheckpoint(job.checkpointFile); // the result supersedes it
      results.set(file(job.arm, job.seed), r);
      bar.update(job.budget, {
        info: `done: ${(100 * r.probe.testAccuracy).toFixed(1)}% (${o.labels}) / ${(100 * r.probeLow.testAccuracy).toFixed(1)}% (${o.lowLabels}) in ${r.wallSeconds.toFixed(0)} s`,
      });
    } catch (err) {
      failures.push(`${job.arm} seed ${job.seed}: ${(err as Error).message}`);
      bar.update({ info: 'FAILED' });
    }
    bar.stop();
    return runNext();
  };
  await Promise.all(Array.from({ length: Math.min(o.jobs, Math.max(1, jobs.length)) }, runNext));
  multibar.stop();

  const byArm = new Map<ArmName, JobResult[]>();
  for (const r of results.values()) byArm.set(r.arm, [...(byArm.get(r.arm) ?? []), r]);
  const label = (a: ArmName) =>
    ARM_LABELS[a] + (a === 'central' && centralBatchOfItsOwn(o.centralBatch) ? `, batch ${o.centralBatch}` : '');
  const summaries = arms.filter((a) => byArm.has(a)).map((a) => summarize(a, label(a), byArm.get(a)!));
  const table = formatTable(summaries, o.labels, o.lowLabels);
  console.log(
    `\nLinear probe on frozen features (${o.model} encoder), Fashion-MNIST (bundled: 12,000 train / 3,000 test), mean ± sd over seeds\n\n${table}\n`,
  );
  for (const [arm, rs] of byArm) {
    if (arm === 'raw' || arm === 'random') continue;
    writeFileSync(
      join(out, `${arm}-${tagOf(arm)}.svg`),
      curveSvg(
        `${label(arm)} (${o.model}) · budget ${budget.toLocaleString('en-US')} images`,
        rs.map((r) => ({ seed: r.seed, points: r.curve })),
        arm === 'supervised' ? 'cross-entropy' : 'NT-Xent loss',
      ),
    );
  }
  const summary = {
    date: new Date().toISOString(),
    settings: { ...settings, seeds, arms },
    summaries,
    table,
    failures,
    ...(missing.length ? { missing } : {}),
  };
  writeFileSync(join(out, names.summary), JSON.stringify(summary, null, 1));
  console.log(`results: ${out} (${names.summary}, per-job JSON, per-arm SVG curves)`);
  if (failures.length) {
    console.error(`\n${failures.length} job(s) failed:\n${failures.join('\n')}`);
    process.exitCode = 1;
  }
}

program.action((o: Cli) => main(o));
program.parseAsync().catch((err: unknown) => {
  console.error(`bench:quality: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
