/**
 * SecAgg+ neighbour graph (Bell et al. 2020): a random k-regular Harary
 * graph. Ids are sorted, randomly permuted onto a ring, and each node is
 * joined to its k/2 nearest ring neighbours on each side. For k ≥ n − 1 the
 * graph is complete (degree n − 1). The Harary graph H(k, n) is k-connected.
 *
 * Threshold: t = floor(k/2) + 1 (> k/2). An honest neighbour reveals at most
 * one of the two shares (self seed or mask key) of a client, so a server
 * that splits the neighbours' views would need 2t ≤ k shares to learn both;
 * t > k/2 rules that out. Each client tolerates k − t dropped neighbours.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { randomBytes } from './encoding';
import { chachaWords } from './prg';

/** ≈ 2·ceil(log2 n) (always even), capped at n − 1. */
export function defaultDegree(n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new Error(`defaultDegree: n must be a positive integer, got ${n}`);
  if (n === 1) return 0;
  return Math.min(n - 1, 2 * Math.ceil(Math.log2(n)));
}

/** Degree actually used for n clients with requested degree k. */
export function effectiveDegree(n: number, k: number): number {
  return Math.min(k, n - 1);
}

/** floor(k/2) + 1, at least 2 (the Shamir library's minimum). */
export function defaultThreshold(k: number): number {
  return Math.max(2, Math.floor(k / 2) + 1);
}

/** Uniform integers from a ChaCha20 stream, by rejection sampling (no modulo bias). */
function intStream(key: Uint8Array): (m: number) => number {
  let block = 0;
  let buf: Uint32Array = new Uint32Array(0);
  let pos = 0;
  const next = () => {
    if (pos >= buf.length) {
      const nonce = new Uint8Array(12);
      new DataView(nonce.buffer).setUint32(0, block++, true);
      buf = chachaWords(key, 1024, nonce);
      pos = 0;
    }
    return buf[pos++]!;
  };
  return (m: number) => {
    const limit = Math.floor(4294967296 / m) * m;
    for (;;) {
      const w = next();
      if (w < limit) return w % m;
    }
  };
}

/**
 * Random k-regular neighbour graph. Deterministic given (set of ids, k, seed);
 * random (CSPRNG) without a seed. k must be even unless k ≥ n − 1.
 * Returns a symmetric adjacency with each neighbour list sorted.
 */
export function neighbourGraph(clientIds: readonly string[], k: number, seed?: Uint8Array): Map<string, string[]> {
  const n = clientIds.length;
  const ids = [...clientIds].sort();
  for (let i = 1; i < n; i++) if (ids[i] === ids[i - 1]) throw new Error(`neighbourGraph: duplicate id ${ids[i]}`);
  if (!Number.isInteger(k) || k < 0) throw new Error(`neighbourGraph: k must be a non-negative integer, got ${k}`);
  const adj = new Map<string, string[]>();
  if (k >= n - 1) {
    for (const id of ids)
      adj.set(
        id,
        ids.filter((o) => o !== id),
      );
    return adj;
  }
  if (k % 2 !== 0) throw new Error(`neighbourGraph: k must be even when k < n − 1 (got k=${k}, n=${n})`);
  const int = intStream(seed ? sha256(seed) : randomBytes(32));
  // Fisher–Yates: ring[p] is the index (into the sorted ids) of the node at ring position p.
  const ring = new Int32Array(n).map((_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = int(i + 1);
    const tmp = ring[i]!;
    ring[i] = ring[j]!;
    ring[j] = tmp;
  }
  // Neighbours sorted as indices into the sorted ids, i.e. in id order: numeric sorts instead of
  // string sorts (n = 1000, k = 212: ~5× faster, and this runs in the round's start turn).
  const half = k / 2;
  const nb = new Int32Array(k);
  for (let p = 0; p < n; p++) {
    for (let s = 1; s <= half; s++) {
      nb[2 * s - 2] = ring[(p + s) % n]!;
      nb[2 * s - 1] = ring[(p - s + n) % n]!;
    }
    nb.sort();
    adj.set(
      ids[ring[p]!]!,
      Array.from(nb, (i) => ids[i]!),
    );
  }
  return adj;
}
