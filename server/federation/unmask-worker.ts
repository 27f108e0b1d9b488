/** Worker side of UnmaskPool: reconstruction jobs and mask totals of one part of an unmask plan (no I/O besides the port). */
import { parentPort } from 'node:worker_threads';
import { maskTotal, type UnmaskPlan } from '../../shared/secagg/unmask-plan';
import { runReconstructJob, type ReconstructJob } from '../../shared/secagg/reconstruct-jobs';
import { createNodePrimitives } from './node-primitives';

type Job =
  | { id: number; kind: 'unmask'; plan: UnmaskPlan; length: number }
  | { id: number; kind: 'reconstruct'; jobs: ReconstructJob[] };

parentPort!.on('message', (job: Job) => {
  void (async () => {
    try {
      if (job.kind === 'reconstruct') {
        const outcomes = [];
        for (const j of job.jobs) outcomes.push(await runReconstructJob(j));
        parentPort!.postMessage({ id: job.id, outcomes });
        return;
      }
      const buffer = new ArrayBuffer(job.length * 4);
      const total = maskTotal(job.plan, job.length, new Uint32Array(buffer), createNodePrimitives());
      parentPort!.postMessage({ id: job.id, total }, [buffer]);
    } catch (err) {
      parentPort!.postMessage({ id: job.id, error: (err as Error).message });
    }
  })();
});
