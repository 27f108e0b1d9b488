/**
 * npm run bench:train — SimCLR training-step speed in headless Chromium, per backend,
 * against PyTorch CPU (bench/fixtures/torch_simclr_step.py) measured in the same run.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command } from 'commander';
import cliProgress from 'cli-progress';
import { chromium, type Page } from '@playwright/test';
import { CHROMIUM_ARGS, ensureChromium } from '../e2e/chromium';
import { startLocalAppServer } from '../e2e/sim/app-server';
import type { TrainBenchmarkResult } from '../shared/ssl/train-benchmark';
import type { BackendChoice } from '../client/src/backend';

const BACKENDS = ['webgpu', 'wasm', 'cpu'] as const;
type Backend = (typeof BACKENDS)[number];

const opts = new Command()
  .description(
    'Times SimCLR training steps (default encoder) per tfjs backend in headless Chromium, next to PyTorch CPU.',
  )
  .option('--backends <list>', 'comma-separated subset of webgpu,wasm,cpu', 'webgpu,wasm,cpu')
  .option('--pairs <n>', 'positive pairs per step (2n images); the torch reference uses 128', (v) => Number(v), 128)
  .option('--warmup <n>', 'untimed warm-up steps', (v) => Number(v), 3)
  .option('--steps <n>', 'timed steps', (v) => Number(v), 10)
  .option(
    '--budget-s <s>',
    'stop timing a backend after this long (at least 2 timed steps; 1 when a warm-up step took > 20 s)',
    (v) => Number(v),
    90,
  )
  .option(
    '--model <name>',
    'encoder to time: default (the product model: GroupNorm, 512-d) or compact (the old 265k default)',
    'default',
  )
  .option('--augment', 'also time a step that includes the on-device augmentations')
  .option('--no-profile', 'skip the per-kernel profile')
  .option('--torch-runs <n>', 'runs of the PyTorch reference (median of run medians)', (v) => Number(v), 3)
  .option('--no-torch', 'skip the PyTorch reference')
  .option('--no-build', 'use the existing dist/ build')
  .option('--json <file>', 'also write all results as JSON')
  .parse()
  .opts<{
    backends: string;
    model: string;
    pairs: number;
    warmup: number;
    steps: number;
    budgetS: number;
    augment?: boolean;
    profile: boolean;
    torchRuns: number;
    torch: boolean;
    build: boolean;
    json?: string;
  }>();

const ROOT = resolve(import.meta.dirname, '..');
const MODELS = ['default', 'compact'] as const;
const MODEL = ((name: string) => {
  const m = MODELS.find((x) => x === name);
  if (!m) throw new Error(`--model must be one of ${MODELS.join(', ')}, got "${name}"`);
  return m;
})(opts.model);
const TORCH_SCRIPT = resolve(ROOT, 'bench/fixtures/torch_simclr_step.py');
const PYTHON = '/usr/bin/python3';

interface TorchResult {
  ms_per_step_median: number;
  images_per_s: number;
  torch_version: string;
  torch_num_threads: number;
  ms_per_step_run_medians: number[];
}

interface Row {
  backend: Backend;
  augment: boolean;
  result?: TrainBenchmarkResult & { choice: BackendChoice };
  skipped?: string;
}

function parseBackends(list: string): Backend[] {
  const out = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const b of out) {
    if (!(BACKENDS as readonly string[]).includes(b))
      throw new Error(`unknown backend "${b}" (use ${BACKENDS.join(', ')})`);
  }
  return out as Backend[];
}

function torchAvailable(): string | undefined {
  if (!existsSync(PYTHON)) return `${PYTHON} not found`;
  if (!existsSync(TORCH_SCRIPT)) return `${TORCH_SCRIPT} not found`;
  const r = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  return r.status === 0
    ? undefined
    : 'PyTorch is not installed for /usr/bin/python3 (Debian: apt-get install -y python3-torch)';
}

function runTorch(runs: number): TorchResult {
  const out = execFileSync(PYTHON, [TORCH_SCRIPT, '--runs', String(runs), '--model', MODEL], {
    encoding: 'utf8',
    maxBuffer: 16 << 20,
  });
  return JSON.parse(out) as TorchResult;
}

async function benchBackend(url: string, executablePath: string, backend: Backend, augment: boolean): Promise<Row> {
  const args = backend === 'webgpu' ? [...CHROMIUM_ARGS, '--enable-unsafe-webgpu'] : CHROMIUM_ARGS;
  const browser = await chromium.launch({ executablePath, args });
  const bar = new cliProgress.SingleBar(
    {
      format: `  ${backend.padEnd(6)} ${augment ? '+aug' : '    '} [{bar}] {value}/{total} steps · {status}`,
      hideCursor: true,
      // Logs without a terminal still get a line every 15 s (a software-WebGPU step takes minutes).
      noTTYOutput: true,
      notTTYSchedule: 15_000,
    },
    cliProgress.Presets.shades_classic,
  );
  try {
    const page = await browser.newPage();
    page.on('pageerror', (e) => console.error(`  [page error] ${e.message}`));
    await page.goto(`${url}/?backend=${backend}&model=${MODEL}&debug=1`);
    const chosen = await waitForBackend(page);
    if (chosen !== backend) return { backend, augment, skipped: `page fell back to ${chosen}` };
    const run = {
      pairs: opts.pairs,
      warmupSteps: opts.warmup,
      timedSteps: opts.steps,
      budgetMs: opts.budgetS * 1000,
      minTimedSteps: 2,
      // Software WebGPU and plain CPU take minutes per step here: one warm-up and one timed step do.
      slowStepMs: 20_000,
      augment,
      profile: opts.profile,
      model: MODEL,
    };
    bar.start(run.warmupSteps + run.timedSteps, 0, { status: 'warming up' });
    await page.exposeFunction('__benchStep', (phase: string, i: number, ms: number) => {
      bar.increment(1, { status: `${phase} step ${i + 1}: ${(ms / 1000).toFixed(2)} s` });
    });
    const result = await page.evaluate(async (r) => {
      const w = window as unknown as {
        fedssl: {
          Comlink: { proxy<T>(f: T): T };
          trainer: { benchmark(o: unknown, cb: unknown): Promise<unknown> };
        };
        __benchStep(phase: string, i: number, ms: number): void;
      };
      return w.fedssl.trainer.benchmark(
        r,
        w.fedssl.Comlink.proxy((p: string, i: number, ms: number) => w.__benchStep(p, i, ms)),
      );
    }, run);
    bar.update(bar.getTotal(), { status: 'done' });
    return { backend, augment, result: result as Row['result'] & object };
  } finally {
    bar.stop();
    await browser.close();
  }
}

async function waitForBackend(page: Page): Promise<string> {
  const el = page.getByTestId('backend');
  // The page exposes `fedssl` once the worker is initialised.
  await page.waitForFunction(
    () => 'fedssl' in window && document.querySelector('[data-testid="backend"]')?.getAttribute('data-backend'),
    null,
    { timeout: 120_000 },
  );
  return (await el.getAttribute('data-backend')) ?? '';
}

function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function detail(r: NonNullable<Row['result']>): string {
  const base = backendDetail(r.choice);
  return r.slow ? `${base}; slow: ${r.stepMs.length} timed step(s)` : base;
}

function backendDetail(c: BackendChoice): string {
  if (c.backend === 'webgpu')
    return `${c.adapter?.architecture || c.adapter?.vendor || 'adapter'}${c.adapter?.isFallback ? ' (fallback)' : ''}`;
  if (c.backend === 'wasm') return `SIMD ${c.wasmSimd ? 'on' : 'off'}, threads ${c.wasmThreads ? 'on' : 'off'}`;
  return '';
}

async function main(): Promise<void> {
  const backends = parseBackends(opts.backends);
  const torchMissing = opts.torch ? torchAvailable() : 'skipped (--no-torch)';
  if (opts.build) {
    console.log('building the web app (npm run build; --no-build skips)…');
    execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  }
  const executablePath = ensureChromium(console.log);
  const server = await startLocalAppServer(
    { dataDirPrefix: 'fedssl-bench-train-' },
    { evaluation: false, manualStart: true },
  );
  const rows: Row[] = [];
  try {
    console.log(
      `\nSimCLR step, default encoder, ${opts.pairs} pairs = ${2 * opts.pairs} images/step, headless Chromium`,
    );
    for (const augment of opts.augment ? [false, true] : [false]) {
      for (const b of backends) rows.push(await benchBackend(server.url, executablePath, b, augment));
    }
  } finally {
    await server.close();
  }

  let torch: TorchResult | undefined;
  if (!torchMissing) {
    if (opts.pairs !== 128) console.log(`note: the PyTorch reference always uses 128 pairs; ours used ${opts.pairs}`);
    console.log(`\nPyTorch reference (${opts.torchRuns} runs × 20 timed steps, 2 threads)…`);
    torch = runTorch(opts.torchRuns);
  }

  console.log(
    '\n| backend | detail | augment | median ms/step | images/s | vs PyTorch CPU | tensors after | MiB after |',
  );
  console.log('|---|---|---|---:|---:|---:|---:|---:|');
  for (const row of rows) {
    const r = row.result;
    if (!r) {
      console.log(`| ${row.backend} | ${row.skipped} | | | | | | |`);
      continue;
    }
    const ratio = torch ? `${fmt(r.imagesPerSec / torch.images_per_s, 3)}×` : 'n/a';
    console.log(
      `| ${row.backend} | ${detail(r)} | ${row.augment ? 'yes' : 'no'} | ${fmt(r.medianMs)} | ${fmt(r.imagesPerSec, 1)} | ${ratio} | ` +
        `${r.memoryAfter.numTensors} | ${fmt(r.memoryAfter.numBytes / 2 ** 20, 2)} |`,
    );
  }
  if (torch) {
    console.log(
      `| pytorch ${torch.torch_version} | CPU, ${torch.torch_num_threads} threads | no | ${fmt(torch.ms_per_step_median)} | ` +
        `${fmt(torch.images_per_s, 1)} | 1.000× | | |`,
    );
  } else {
    console.log(`\nPyTorch reference not run: ${torchMissing}`);
  }

  const wasm = rows.find((r) => r.backend === 'wasm' && !r.augment && r.result)?.result;
  if (wasm && torch) {
    const ratio = wasm.imagesPerSec / torch.images_per_s;
    console.log(
      `\nDESIGN §5 target: WASM ≥ 1/3 of PyTorch CPU images/s → ${fmt(ratio, 3)} (${ratio >= 1 / 3 ? 'met' : 'NOT met'})`,
    );
  }
  for (const row of rows) {
    const r = row.result;
    if (!r?.kernels.length) continue;
    console.log(
      `\nTop kernels, ${row.backend}${row.augment ? ' +aug' : ''} (one profiled step, ${fmt(r.profiledStepMs ?? 0)} ms wall):`,
    );
    for (const k of r.kernels.slice(0, 10)) {
      console.log(
        `  ${k.name.padEnd(24)} ${fmt(k.ms, 1).padStart(8)} ms  ${fmt(100 * k.share, 1).padStart(5)}%  ×${k.calls}`,
      );
    }
  }
  if (opts.json) {
    writeFileSync(opts.json, JSON.stringify({ options: opts, rows, torch }, null, 1));
    console.log(`\nwrote ${opts.json}`);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`bench:train failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
