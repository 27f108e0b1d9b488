/**
 * The masks left in the survivors' sum, as a plan that can be split across threads (pure):
 *   Σ_{u ∈ U3} y_u = Σ x_u + Σ_{u ∈ U3} PRG(b_u) + Σ_{v ∈ U3, u dropped, u ~ v} sign(v, u)·PRG(s_uv)
 * (the pairs between two survivors cancel). Each part of a split plan yields a partial
 * total; the server subtracts the sum of the partials. Addition mod 2^32 commutes, so
 * any split gives the same result as one thread.
 */
import { agree, derivePairMaskSeed } from './keys';
import { pairSign } from './mask';
import { expandMask, expandMaskAsync } from './prg';
import { createWordAccumulator, type WordAccumulator } from './word-add';

/**
 * The primitives an unmask needs. Default: the shared (noble) implementations; the Node
 * server passes OpenSSL-backed ones that produce the same bytes (unmask-pool.test.ts).
 */
export interface UnmaskPrimitives {
  /** acc ± the mask PRG's words for `seed` (prg.ts: AES-256-CTR, zero counter block). */
  addMask(acc: WordAccumulator, seed: Uint8Array, sign: 1 | -1): void;
  /** X25519 shared secret. */
  agree(secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array;
}

export const sharedPrimitives: UnmaskPrimitives = {
  addMask(acc, seed, sign) {
    acc.add(expandMask(seed, acc.length), sign);
  },
  agree,
};

export interface DroppedKey {
  /** The dropped client u and its reconstructed mask (s) secret key. */
  id: string;
  maskKey: Uint8Array;
  /** u's neighbours that survived (they masked with u), with their s public keys. */
  survivors: { id: string; sPk: Uint8Array }[];
}

export interface UnmaskPlan {
  round: number;
  sessionId: string;
  /** Reconstructed self-mask seeds of every survivor. */
  selfSeeds: Uint8Array[];
  dropped: DroppedKey[];
}

/** PRG expansions a plan costs (its work). */
export function planCost(p: UnmaskPlan): number {
  return p.selfSeeds.length + p.dropped.reduce((a, u) => a + u.survivors.length, 0);
}

/** Σ of the masks in `plan`, mod 2^32, as a fresh array of `length` words. */
export function maskTotal(
  plan: UnmaskPlan,
  length: number,
  prims: UnmaskPrimitives = sharedPrimitives,
): Uint32Array<ArrayBuffer> {
  const acc = createWordAccumulator(length);
  for (const s of plan.selfSeeds) prims.addMask(acc, s, 1);
  for (const u of plan.dropped) {
    for (const v of u.survivors) {
      // v masked with +sign(v, u)·PRG(s_uv); s_uv from u's secret key and v's public key.
      const maskSeed = derivePairMaskSeed(prims.agree(u.maskKey, v.sPk), {
        round: plan.round,
        sessionId: plan.sessionId,
        a: u.id,
        b: v.id,
      });
      prims.addMask(acc, maskSeed, pairSign(v.id, u.id));
    }
  }
  return acc.words.slice();
}

/**
 * maskTotal with the PRG on WebCrypto (same words): the expansions run off the calling thread,
 * so an in-thread unmask leaves the event loop free between them. Agreements stay noble's.
 */
export async function maskTotalAsync(plan: UnmaskPlan, length: number): Promise<Uint32Array> {
  const acc = createWordAccumulator(length);
  for (const s of plan.selfSeeds) acc.add(await expandMaskAsync(s, length), 1);
  for (const u of plan.dropped)
    for (const v of u.survivors) {
      const seed = derivePairMaskSeed(agree(u.maskKey, v.sPk), {
        round: plan.round,
        sessionId: plan.sessionId,
        a: u.id,
        b: v.id,
      });
      acc.add(await expandMaskAsync(seed, length), pairSign(v.id, u.id));
    }
  return acc.words.slice();
}

/** acc − total (mod 2^32), into a new array. */
export function subtractTotal(acc: Uint32Array, total: Uint32Array): Uint32Array {
  if (acc.length !== total.length) throw new Error(`unmask: lengths differ (${acc.length} vs ${total.length})`);
  const out = new Uint32Array(acc.length);
  for (let i = 0; i < acc.length; i++) out[i] = acc[i]! - total[i]!;
  return out;
}

/**
 * Splits a plan into at most `parts` plans of about equal cost (greedy, largest first).
 * A dropped client's survivors may be split across parts.
 */
export function splitPlan(plan: UnmaskPlan, parts: number): UnmaskPlan[] {
  if (!Number.isInteger(parts) || parts < 1) throw new Error(`unmask: parts must be a positive integer, got ${parts}`);
  const units: { self?: Uint8Array; dropped?: DroppedKey }[] = [
    ...plan.selfSeeds.map((self) => ({ self })),
    // Chunks of ≤ 16 survivors keep the pieces small enough to balance.
    ...plan.dropped.flatMap((u) => {
      const out: { dropped: DroppedKey }[] = [];
      for (let i = 0; i < u.survivors.length; i += 16)
        out.push({ dropped: { ...u, survivors: u.survivors.slice(i, i + 16) } });
      return out;
    }),
  ];
  const cost = (x: { self?: Uint8Array; dropped?: DroppedKey }) => (x.self ? 1 : x.dropped!.survivors.length);
  units.sort((a, b) => cost(b) - cost(a));
  const out: UnmaskPlan[] = Array.from({ length: Math.min(parts, Math.max(1, units.length)) }, () => ({
    round: plan.round,
    sessionId: plan.sessionId,
    selfSeeds: [],
    dropped: [],
  }));
  const load = new Array<number>(out.length).fill(0);
  for (const x of units) {
    let j = 0;
    for (let i = 1; i < out.length; i++) if (load[i]! < load[j]!) j = i;
    if (x.self) out[j]!.selfSeeds.push(x.self);
    else out[j]!.dropped.push(x.dropped!);
    load[j]! += cost(x);
  }
  return out;
}
