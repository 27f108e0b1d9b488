/**
 * Parallel SecAgg+ unmask on node:worker_threads. The PRG expansions and pair-seed
 * agreements of an unmask plan are split across workers (sized to the cores); the main
 * thread only subtracts the partial totals, so the event loop stays free meanwhile.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { splitPlan, subtractTotal, type UnmaskPlan } from '../../shared/secagg/unmask-plan';
import type { Unmasker } from '../../shared/secagg/server';

interface Reply {
  id: number;
  total?: Uint32Array;
  error?: string;
}

export class UnmaskPool {
  readonly size: number;
  private workers: Worker[] = [];
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (t: Uint32Array) => void; reject: (e: Error) => void }>();

  constructor(size = availableParallelism()) {
    if (!Number.isInteger(size) || size < 1) throw new Error(`unmask pool: size must be a positive integer, got ${size}`);
    this.size = size;
  }

  private spawn(): Worker[] {
    if (this.workers.length) return this.workers;
    for (let i = 0; i < this.size; i++) {
      const w = new Worker(new URL('./unmask-worker-entry.mjs', import.meta.url));
      w.unref(); // an idle pool never keeps the process alive
      w.on('message', (r: Reply) => {
        const p = this.pending.get(r.id);
        if (!p) return;
        this.pending.delete(r.id);
        if (r.total) p.resolve(r.total);
        else p.reject(new Error(`unmask worker: ${r.error ?? 'no result'}`));
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

  /** Σ y minus every mask in the plan, computed across the workers. */
  readonly unmask: Unmasker = async (sumOfY: Uint32Array, plan: UnmaskPlan): Promise<Uint32Array> => {
    const workers = this.spawn();
    const parts = splitPlan(plan, workers.length);
    const totals = await Promise.all(
      parts.map(
        (part, i) =>
          new Promise<Uint32Array>((resolve, reject) => {
            const id = this.nextId++;
            this.pending.set(id, { resolve, reject });
            workers[i]!.postMessage({ id, plan: part, length: sumOfY.length });
          }),
      ),
    );
    let out = sumOfY;
    for (const t of totals) out = subtractTotal(out, t);
    return out === sumOfY ? sumOfY.slice() : out;
  };

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
