/** Worker-thread entry: runs one bench:quality job and posts progress and the result. */
import { parentPort, workerData } from 'node:worker_threads';
import { initWasmBackendForNode } from '../../shared/tfjs/wasm-node';
import { loadNpmDataset } from '../../server/data/npm-datasets';
import { runJob, type JobOptions } from './arms';

export type WorkerMessage =
  | { type: 'progress'; done: number; total: number; info: string }
  | { type: 'result'; result: Awaited<ReturnType<typeof runJob>> }
  | { type: 'error'; message: string };

const port = parentPort;
if (!port) throw new Error('bench/quality/worker.ts must run in a worker thread');
const post = (m: WorkerMessage) => port.postMessage(m);

try {
  await initWasmBackendForNode();
  // The whole bundled Fashion-MNIST: 12,000 train / 3,000 test.
  const split = loadNpmDataset('fashion-mnist');
  const result = await runJob(workerData as JobOptions, split, (done, total, info) =>
    post({ type: 'progress', done, total, info }),
  );
  post({ type: 'result', result });
} catch (err) {
  post({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
}
