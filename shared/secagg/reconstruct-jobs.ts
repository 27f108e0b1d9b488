/**
 * Reconstruction of the survivors' self seeds and the dropped clients' mask keys as
 * independent jobs (pure), so a server can run them on worker threads. Each job checks
 * its result: a self seed against the client's commitment, a mask key against its public key.
 */
import { bytesEqual } from './encoding';
import { publicKeyOf, selfSeedCommitment } from './keys';
import { ShamirError, reconstructSecret } from './shamir';

export interface ReconstructJob {
  owner: string;
  what: 'self seed' | 'mask key';
  shares: Uint8Array[];
  threshold: number;
  round: number;
  sessionId: string;
  /** The self-seed commitment (self seed) or the s public key (mask key) the result must match. */
  expect: Uint8Array;
}

export type ReconstructOutcome = { secret: Uint8Array } | { error: string };

export type Reconstructor = (jobs: ReconstructJob[]) => Promise<ReconstructOutcome[]>;

export async function runReconstructJob(j: ReconstructJob): Promise<ReconstructOutcome> {
  const verify =
    j.what === 'self seed'
      ? (s: Uint8Array) =>
          bytesEqual(selfSeedCommitment(s, { round: j.round, sessionId: j.sessionId, id: j.owner }), j.expect)
      : (s: Uint8Array) => bytesEqual(publicKeyOf(s), j.expect);
  try {
    return { secret: await reconstructSecret(j.shares, j.threshold, verify) };
  } catch (e) {
    if (e instanceof ShamirError) return { error: `${j.what} of ${j.owner}: ${e.message}` };
    throw e;
  }
}

/** In this thread, yielding to the event loop every ~20 ms so timers and sockets keep running. */
export const inThreadReconstructor: Reconstructor = async (jobs) => {
  const out: ReconstructOutcome[] = [];
  let slice = Date.now();
  for (const j of jobs) {
    out.push(await runReconstructJob(j));
    if (Date.now() - slice >= 20) {
      await new Promise((r) => setTimeout(r, 0));
      slice = Date.now();
    }
  }
  return out;
};
