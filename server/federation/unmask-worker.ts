/** Worker side of UnmaskPool: reconstruction jobs and mask totals of one part of an unmask plan (no I/O besides the port). */
import { parentPort, workerData } from 'node:worker_threads';
import { maskTotal } from '../../shared/secagg/unmask-plan';
import { runReconstructJob } from '../../shared/secagg/reconstruct-jobs';
import { createNodePrimitives } from './node-primitives';
import { lowerThisThread } from '../thread-priority';
import { unpackJobs, unpackPlan, type PackedJobs, type PackedPlan } from './unmask-pack';

/**
 * Below the main thread's priority: while an unmask runs, the event loop (sockets, other rounds' messages,
 * health checks) is scheduled first and the workers take the cycles it leaves. On Linux the nice value is
 * per thread, so this lowers only this worker.
 */
const nice = lowerThisThread((workerData as { nice?: number } | undefined)?.nice ?? 0);

type Job =
  | { id: number; kind: 'unmask'; plan: PackedPlan; length: number }
  | { id: number; kind: 'reconstruct'; jobs: PackedJobs }
  | { id: number; kind: 'ping' };

parentPort!.on('message', (job: Job) => {
  void (async () => {
    try {
      if (job.kind === 'ping') {
        parentPort!.postMessage({ id: job.id, nice });
        return;
      }
      if (job.kind === 'reconstruct') {
        const outcomes = [];
        for (const j of unpackJobs(job.jobs)) outcomes.push(await runReconstructJob(j));
        parentPort!.postMessage({ id: job.id, outcomes });
        return;
      }
      const total = maskTotal(unpackPlan(job.plan), job.length, createNodePrimitives());
      parentPort!.postMessage({ id: job.id, total }, [total.buffer]);
    } catch (err) {
      parentPort!.postMessage({ id: job.id, error: (err as Error).message });
    }
  })();
});
