/**
 * Masking in Z_2^32 (Bonawitz et al. 2017):
 *   y_u = x_u + PRG(b_u) + Σ_{v ∈ N(u)} sign(u, v)·PRG(s_uv)   (mod 2^32)
 * with sign(u, v) = +1 if u < v else −1 under JS string comparison
 * (UTF-16 code-unit order), so each pair's masks cancel in the sum.
 *
 * Uint32Array stores are ToUint32, i.e. already mod 2^32, and sums of two
 * words stay exact in float64, so plain `a[i] + b[i]` / `a[i] - b[i]` suffice.
 *
 * maskInput / unmaskSum are the synchronous references (pure-JS PRG and adds);
 * maskInputAsync is what clients run: the same words from WebCrypto AES-CTR and SIMD adds.
 */
import { expandMask, expandMaskAsync } from './prg';
import { createWordAccumulator } from './word-add';

export type Sign = 1 | -1;

export function pairSign(myId: string, peer: string): Sign {
  if (myId === peer) throw new Error('pairSign: ids must differ');
  return myId < peer ? 1 : -1;
}

/** target += sign·PRG(seed), in place. `scratch` (same length) avoids reallocating. */
export function addMaskInPlace(target: Uint32Array, seed: Uint8Array, sign: Sign, scratch?: Uint32Array): void {
  const m = expandMask(seed, target.length, scratch);
  const n = target.length;
  if (sign === 1) for (let i = 0; i < n; i++) target[i] = target[i]! + m[i]!;
  else for (let i = 0; i < n; i++) target[i] = target[i]! - m[i]!;
}

export interface PairSeed {
  peer: string;
  seed: Uint8Array;
}

/** Masks x (not modified) with the self seed and the pairwise seeds. */
export function maskInput(
  x: Uint32Array,
  selfSeed: Uint8Array,
  pairSeeds: readonly PairSeed[],
  myId: string,
): Uint32Array {
  const y = x.slice();
  const scratch = new Uint32Array(x.length);
  addMaskInPlace(y, selfSeed, 1, scratch);
  for (const { peer, seed } of pairSeeds) addMaskInPlace(y, seed, pairSign(myId, peer), scratch);
  return y;
}

/** Expansions kept in flight by maskInputAsync (WebCrypto runs them off the calling thread). */
const IN_FLIGHT = 4;

/** maskInput on WebCrypto AES-CTR with SIMD adds (same result); x is not modified. */
export async function maskInputAsync(
  x: Uint32Array,
  selfSeed: Uint8Array,
  pairSeeds: readonly PairSeed[],
  myId: string,
): Promise<Uint32Array> {
  const signs = pairSeeds.map(({ peer }) => pairSign(myId, peer));
  const jobs: { seed: Uint8Array; sign: Sign }[] = [
    { seed: selfSeed, sign: 1 },
    ...pairSeeds.map(({ seed }, i) => ({ seed, sign: signs[i]! })),
  ];
  const acc = createWordAccumulator(x.length);
  acc.words.set(x);
  let next = 0;
  // Addition commutes, so expansions are added in whatever order they finish.
  const lane = async () => {
    while (next < jobs.length) {
      const j = jobs[next++]!;
      acc.add(await expandMaskAsync(j.seed, x.length), j.sign);
    }
  };
  await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, jobs.length) }, lane));
  return acc.words.slice();
}

export interface UnmaskSeeds {
  /** Reconstructed self-mask seeds of every client whose y is in the sum. */
  survivorSelfSeeds: readonly Uint8Array[];
  /**
   * Pairwise seeds between a surviving client v and a dropped neighbour u,
   * with the sign v applied: sign = pairSign(v, u).
   */
  droppedPairSeeds: readonly { seed: Uint8Array; sign: Sign }[];
}

/** Removes the remaining masks from Σ y over survivors; returns a new array Σ x. */
export function unmaskSum(sumOfY: Uint32Array, seeds: UnmaskSeeds): Uint32Array {
  const out = sumOfY.slice();
  const scratch = new Uint32Array(out.length);
  for (const s of seeds.survivorSelfSeeds) addMaskInPlace(out, s, -1, scratch);
  for (const { seed, sign } of seeds.droppedPairSeeds) addMaskInPlace(out, seed, sign === 1 ? -1 : 1, scratch);
  return out;
}
