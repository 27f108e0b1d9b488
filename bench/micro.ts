/**
 * npm run bench:micro — the timings that used to sit inside unit tests, as figures and ratios to their targets:
 * PRG mask expansion, Gaussian noise, batched augmentation (cpu vs wasm) and the event-loop gap while the
 * server evaluates a version in the background. Nothing here passes or fails; it prints.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { expandMask } from '../shared/secagg/prg';
import { gaussianNoise } from '../shared/privacy/gaussian';
import { augmentBatch, defaultPolicy } from '../shared/ssl/augment';
import { initWasmBackendForNode } from '../shared/tfjs/wasm-node';
import { startServer } from '../server/app';
import { loadServerConfig } from '../server/config';

/** Median wall time (ms) of `runs` calls after one warm-up. */
function median(fn: () => void, runs: number): number {
  fn();
  const times = Array.from({ length: runs }, () => {
    const t0 = performance.now();
    fn();
    return performance.now() - t0;
  }).sort((a, b) => a - b);
  return times[Math.floor(runs / 2)]!;
}

function row(what: string, ms: number, targetMs: number): void {
  const ratio = ms / targetMs;
  console.log(
    `${what.padEnd(52)} ${ms.toFixed(1).padStart(9)} ms   ceiling ${String(targetMs).padStart(5)} ms   ${ratio.toFixed(2)}× of ceiling`,
  );
}

async function main(): Promise<void> {
  console.log(`bench:micro on ${process.version}, ${(await import('node:os')).cpus().length} cores\n`);
  const out = new Uint32Array(1_000_000);
  const seed = new Uint8Array(32).fill(3);
  row(
    'expandMask: 1M words (AES-256-CTR mask PRG, pure-JS reference)',
    median(() => expandMask(seed, out.length, out), 7),
    250,
  );
  row(
    'gaussianNoise: 1M coordinates',
    median(() => gaussianNoise(1_000_000, 1), 7),
    400,
  );

  await initWasmBackendForNode();
  for (const backend of ['cpu', 'wasm']) {
    await tf.setBackend(backend);
    const x = tf.randomUniform([128, 28, 28, 1]) as tf.Tensor4D;
    const ms = median(() => {
      const y = augmentBatch(x, defaultPolicy(1));
      y.dataSync();
      y.dispose();
    }, 7);
    x.dispose();
    row(`augmentBatch [128,28,28,1] default policy, ${backend}`, ms, 5000);
  }
  await tf.setBackend('wasm');

  const dataDir = mkdtempSync(join(tmpdir(), 'fedssl-bench-micro-'));
  let maxGap = 0;
  try {
    const cfg = loadServerConfig(
      { port: 0, host: '127.0.0.1', dataDir, model: 'tiny', logLevel: 'silent', openEnrollment: false },
      {},
    );
    const server = await startServer(cfg, {
      logger: pino({ level: 'silent' }),
      manualStart: true,
      evaluation: { trainImages: 200, testImages: 100, referenceImages: 64, probeEpochs: 60, batchSize: 50 },
    });
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
    }, 5);
    await server.adminServices.evaluation!.whenIdle();
    clearInterval(timer);
    await server.close();
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
  row('event-loop gap while evaluating v0 (tiny model)', maxGap, 1500);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
