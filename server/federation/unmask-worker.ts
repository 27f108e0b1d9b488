/** Worker side of UnmaskPool: computes the mask total of one part of an unmask plan (no I/O besides the port). */
import { parentPort } from 'node:worker_threads';
import { maskTotal, type UnmaskPlan } from '../../shared/secagg/unmask-plan';
import { createNodePrimitives } from './node-primitives';

interface Job {
  id: number;
  plan: UnmaskPlan;
  length: number;
}

parentPort!.on('message', (job: Job) => {
  try {
    const buffer = new ArrayBuffer(job.length * 4);
    const total = maskTotal(job.plan, job.length, new Uint32Array(buffer), createNodePrimitives());
    parentPort!.postMessage({ id: job.id, total }, [buffer]);
  } catch (err) {
    parentPort!.postMessage({ id: job.id, error: (err as Error).message });
  }
});
