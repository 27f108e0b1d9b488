/**
 * In-memory Monte Carlo of SecAgg+ round completion under independent dropouts (pure, seeded).
 *
 * What it simulates: the real neighbour graph (neighbourGraph, a fresh random ring per round)
 * and each client dropping independently with probability δ at some point of the round.
 * The round completes iff at least t clients survive and EVERY cohort member keeps ≥ t
 * surviving neighbours: the server needs t shares of each survivor's self seed and of each
 * dropped client's mask key, and a survivor needs t live neighbours to mask at all. This is
 * conservative: a client that dropped before ShareKeys needs no reconstruction, but the
 * simulation demands it anyway. No cryptography runs (bench:secagg times that separately).
 */
import { createRng } from '../data/rng';
import { neighbourGraph } from './graph';

export interface DropoutSimOptions {
  n: number;
  k: number;
  t: number;
  dropoutRate: number;
  rounds: number;
  seed: number;
}

export function simulateDropoutRounds(o: DropoutSimOptions): {
  rounds: number;
  completed: number;
  successRate: number;
} {
  const rng = createRng(o.seed);
  const ids = Array.from({ length: o.n }, (_, i) => `c${String(i).padStart(6, '0')}`);
  const index = new Map(ids.map((id, i) => [id, i]));
  const graphSeed = new Uint8Array(32);
  const view = new DataView(graphSeed.buffer);
  let completed = 0;
  const alive = new Uint8Array(o.n);
  for (let r = 0; r < o.rounds; r++) {
    view.setUint32(0, o.seed >>> 0, true);
    view.setUint32(4, r, true);
    const adj = neighbourGraph(ids, o.k, graphSeed);
    let survivors = 0;
    for (let i = 0; i < o.n; i++) {
      alive[i] = rng.uniform() >= o.dropoutRate ? 1 : 0;
      survivors += alive[i]!;
    }
    let ok = survivors >= o.t;
    for (let i = 0; ok && i < o.n; i++) {
      let live = 0;
      for (const nb of adj.get(ids[i]!)!) live += alive[index.get(nb)!]!;
      if (live < o.t) ok = false;
    }
    if (ok) completed++;
  }
  return { rounds: o.rounds, completed, successRate: completed / o.rounds };
}
