/**
 * Compact forms of unmask plans and reconstruction jobs for postMessage. A plan at n = 1000 with
 * 30% dropout holds ~45k public keys and a job list ~150k shares; cloning that many small
 * Uint8Arrays one by one stalls the event loop for tens of milliseconds, so keys and shares
 * travel concatenated in one buffer per list (pure; no I/O).
 */
import type { ReconstructJob } from '../../shared/secagg/reconstruct-jobs';
import type { UnmaskPlan } from '../../shared/secagg/unmask-plan';

const KEY = 32;

export interface PackedPlan {
  round: number;
  sessionId: string;
  selfSeeds: Uint8Array;
  droppedIds: string[];
  maskKeys: Uint8Array;
  /** Surviving neighbours per dropped entry, in order. */
  counts: Uint32Array;
  survivorIds: string[];
  survivorKeys: Uint8Array;
}

function concat(parts: readonly Uint8Array[], size: number, what: string): Uint8Array {
  const out = new Uint8Array(parts.length * size);
  parts.forEach((p, i) => {
    if (p.length !== size) throw new Error(`unmask pack: ${what} must be ${size} bytes`);
    out.set(p, i * size);
  });
  return out;
}

const piece = (buf: Uint8Array, i: number, size: number) => buf.slice(i * size, (i + 1) * size);

export function packPlan(p: UnmaskPlan): PackedPlan {
  let total = 0;
  for (const u of p.dropped) total += u.survivors.length;
  const survivorIds = new Array<string>(total);
  const survivorKeys = new Uint8Array(total * KEY);
  let j = 0;
  for (const u of p.dropped)
    for (const v of u.survivors) {
      if (v.sPk.length !== KEY) throw new Error(`unmask pack: public keys must be ${KEY} bytes`);
      survivorIds[j] = v.id;
      survivorKeys.set(v.sPk, j++ * KEY);
    }
  return {
    round: p.round,
    sessionId: p.sessionId,
    selfSeeds: concat(p.selfSeeds, KEY, 'self seeds'),
    droppedIds: p.dropped.map((u) => u.id),
    maskKeys: concat(
      p.dropped.map((u) => u.maskKey),
      KEY,
      'mask keys',
    ),
    counts: Uint32Array.from(p.dropped, (u) => u.survivors.length),
    survivorIds,
    survivorKeys,
  };
}

export function unpackPlan(p: PackedPlan): UnmaskPlan {
  let next = 0;
  return {
    round: p.round,
    sessionId: p.sessionId,
    selfSeeds: Array.from({ length: p.selfSeeds.length / KEY }, (_, i) => piece(p.selfSeeds, i, KEY)),
    dropped: p.droppedIds.map((id, i) => ({
      id,
      maskKey: piece(p.maskKeys, i, KEY),
      survivors: Array.from({ length: p.counts[i]! }, () => {
        const j = next++;
        return { id: p.survivorIds[j]!, sPk: piece(p.survivorKeys, j, KEY) };
      }),
    })),
  };
}

export interface PackedJobs {
  /** The jobs without their share lists. */
  jobs: Omit<ReconstructJob, 'shares'>[];
  /** Shares per job, in order. */
  counts: Uint32Array;
  /** Byte length of each job's shares (all shares of a job have one length, checked here). */
  shareBytes: Uint32Array;
  shares: Uint8Array;
}

export function packJobs(jobs: readonly ReconstructJob[]): PackedJobs {
  let total = 0;
  const shareBytes = new Uint32Array(jobs.length);
  jobs.forEach((j, i) => {
    const len = j.shares[0]?.length ?? 0;
    for (const s of j.shares)
      if (!(s instanceof Uint8Array) || s.length !== len)
        throw new Error(`unmask pack: shares of ${j.owner} differ in length`);
    shareBytes[i] = len;
    total += len * j.shares.length;
  });
  const shares = new Uint8Array(total);
  let at = 0;
  for (const j of jobs)
    for (const s of j.shares) {
      shares.set(s, at);
      at += s.length;
    }
  return {
    jobs: jobs.map(({ shares: _shares, ...rest }) => rest),
    counts: Uint32Array.from(jobs, (j) => j.shares.length),
    shareBytes,
    shares,
  };
}

export function unpackJobs(p: PackedJobs): ReconstructJob[] {
  let at = 0;
  return p.jobs.map((j, i) => {
    const len = p.shareBytes[i]!;
    const shares = Array.from({ length: p.counts[i]! }, () => {
      const s = p.shares.slice(at, at + len);
      at += len;
      return s;
    });
    return { ...j, shares };
  });
}
