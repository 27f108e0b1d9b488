/**
 * Parallel SecAgg+ unmask on node:worker_threads. The PRG expansions and pair-seed
 * agreements of an unmask plan are split across workers (sized to the cores); the main
 * thread only subtracts the partial totals, so the event loop stays free meanwhile.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { splitPlan, subtractTotal, type UnmaskPlan } from '../../shared/secagg/unmask-plan';
import type { Unmasker } from '../../shared/secagg/server';
import type { ReconstructJob, ReconstructOutcome, Reconstructor } from '../../shared/secagg/reconstruct-jobs';
import { packJobs, packPlan } from './unmask-pack';

interface Reply {
  id: number;
  total?: Uint32Array;
  outcomes?: ReconstructOutcome[];
  error?: string;
  /** The worker thread's nice value (answer to a ping). */
  nice?: number;
}

/** Jobs per reconstruction message (~7k shares at t ≈ 150: a few ms to pack). */
const RECONSTRUCT_BATCH = 50;
/**
 * How much nicer than the process the workers run. With as many workers as cores, equal priority let the
 * unmask take the event loop's core for 60–160 ms at a time (bench:load, n = 1000, 2 cores).
 */
const WORKER_NICE = 10;

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export class UnmaskPool {
  readonly size: number;
  private workers: Worker[] = [];
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();

  /**
   * @param opts.reconstructBatch jobs per reconstruction message (default 50).
   * @param opts.nice how much nicer than the process the worker threads run (default 10; 0 keeps its priority).
   */
  constructor(
    size = availableParallelism(),
    private readonly opts: { reconstructBatch?: number; nice?: number } = {},
  ) {
    if (!Number.isInteger(size) || size < 1)
      throw new Error(`unmask pool: size must be a positive integer, got ${size}`);
    this.size = size;
  }

  private spawn(): Worker[] {
    if (this.workers.length) return this.workers;
    for (let i = 0; i < this.size; i++) {
      const w = new Worker(new URL('./unmask-worker-entry.mjs', import.meta.url), {
        workerData: { nice: this.opts.nice ?? WORKER_NICE },
      });
      w.unref(); // an idle pool never keeps the process alive
      w.on('message', (r: Reply) => {
        const p = this.pending.get(r.id);
        if (!p) return;
        this.pending.delete(r.id);
        if (r.error !== undefined) p.reject(new Error(`unmask worker: ${r.error}`));
        else p.resolve(r);
      });
      w.on('error', (err: Error) => this.failAll(err));
      this.workers.push(w);
    }
    return this.workers;
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    for (const w of this.workers) void w.terminate();
    this.workers = [];
  }

  private call(worker: Worker, msg: object): Promise<Reply> {
    return new Promise<Reply>((resolve, reject) => {
      const id = this.nextId++;
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, ...msg });
    });
  }

  /** Σ y minus every mask in the plan, computed across the workers. */
  readonly unmask: Unmasker = async (sumOfY: Uint32Array, plan: UnmaskPlan): Promise<Uint32Array> => {
    const workers = this.spawn();
    const parts = splitPlan(plan, workers.length);
    const replies: Promise<Reply>[] = [];
    for (const [i, part] of parts.entries()) {
      replies.push(this.call(workers[i]!, { kind: 'unmask', plan: packPlan(part), length: sumOfY.length }));
      await yieldToLoop(); // pack the next part in a later turn: the loop is never held for all of them
    }
    let out = sumOfY;
    for (const r of await Promise.all(replies)) {
      if (!r.total) throw new Error('unmask worker: no total');
      out = subtractTotal(out, r.total);
    }
    return out === sumOfY ? sumOfY.slice() : out;
  };

  /**
   * Shamir reconstruction (with verification) of every job, in batches dealt round-robin across the
   * workers (self seeds and the costlier mask keys come in runs), outcomes in the jobs' order. Each
   * batch is packed and posted in its own event-loop turn.
   */
  readonly reconstruct: Reconstructor = async (jobs: ReconstructJob[]): Promise<ReconstructOutcome[]> => {
    const workers = this.spawn();
    const replies: Promise<Reply>[] = [];
    const per = this.opts.reconstructBatch ?? RECONSTRUCT_BATCH;
    for (let b = 0; b * per < jobs.length; b++) {
      const batch = jobs.slice(b * per, (b + 1) * per);
      replies.push(this.call(workers[b % workers.length]!, { kind: 'reconstruct', jobs: packJobs(batch) }));
      await yieldToLoop();
    }
    return (await Promise.all(replies)).flatMap((r) => {
      if (!r.outcomes) throw new Error('unmask worker: no outcomes');
      return r.outcomes;
    });
  };

  /**
   * Starts the workers and waits until each has loaded (the first round then pays no start-up); returns
   * each worker thread's nice value.
   */
  async warm(): Promise<number[]> {
    const replies = await Promise.all(this.spawn().map((w) => this.call(w, { kind: 'ping' })));
    return replies.map((r) => r.nice ?? 0);
  }

  async close(): Promise<void> {
    const ws = this.workers;
    this.workers = [];
    await Promise.all(ws.map((w) => w.terminate()));
  }
}

let shared: UnmaskPool | undefined;
/** The process-wide pool (one worker per core), created on first use. */
export function sharedUnmaskPool(): UnmaskPool {
  shared ??= new UnmaskPool();
  return shared;
}
