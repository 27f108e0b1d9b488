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
  /**
   * acc ± the mask PRG's words for each seed (prg.ts: AES-256-CTR, zero counter block): `seeds`
   * holds 32-byte seeds back to back, `signs` one ±1 per seed. Batched, so an implementation can
   * walk the accumulator once per batch instead of once per seed.
   */
  addMasks(acc: WordAccumulator, seeds: Uint8Array, signs: Int8Array): void;
  /** X25519 shared secret. */
  agree(secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array;
}

export const sharedPrimitives: UnmaskPrimitives = {
  addMasks(acc, seeds, signs) {
    checkBatch(seeds, signs);
    const scratch = new Uint32Array(acc.length);
    for (let j = 0; j < signs.length; j++)
      acc.add(expandMask(seeds.subarray(32 * j, 32 * j + 32), acc.length, scratch), signs[j] === 1 ? 1 : -1);
  },
  agree,
};

/** Throws unless `seeds` holds one 32-byte seed per sign and every sign is ±1. */
export function checkBatch(seeds: Uint8Array, signs: Int8Array): void {
  if (seeds.length !== 32 * signs.length)
    throw new Error(`addMasks: ${seeds.length} seed bytes for ${signs.length} signs (32 each)`);
  for (const s of signs) if (s !== 1 && s !== -1) throw new Error(`addMasks: sign ${s} is not ±1`);
}

/** Seeds per addMasks call: a few hundred make the accumulator's traffic negligible. */
export const MASK_BATCH = 512;

/** Collects (seed, sign) pairs and hands them to addMasks MASK_BATCH at a time. */
class MaskBatch {
  private readonly seeds = new Uint8Array(32 * MASK_BATCH);
  private readonly signs = new Int8Array(MASK_BATCH);
  private n = 0;

  constructor(
    private readonly acc: WordAccumulator,
    private readonly prims: UnmaskPrimitives,
  ) {}

  push(seed: Uint8Array, sign: 1 | -1): void {
    if (seed.length !== 32) throw new Error('unmask: a mask seed must be 32 bytes');
    this.seeds.set(seed, 32 * this.n);
    this.signs[this.n++] = sign;
    if (this.n === MASK_BATCH) this.flush();
  }

  flush(): void {
    if (this.n === 0) return;
    this.prims.addMasks(this.acc, this.seeds.subarray(0, 32 * this.n), this.signs.subarray(0, this.n));
    this.n = 0;
  }
}

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
  const batch = new MaskBatch(acc, prims);
  for (const s of plan.selfSeeds) batch.push(s, 1);
  for (const u of plan.dropped) {
    for (const v of u.survivors) {
      // v masked with +sign(v, u)·PRG(s_uv); s_uv from u's secret key and v's public key.
      const maskSeed = derivePairMaskSeed(prims.agree(u.maskKey, v.sPk), {
        round: plan.round,
        sessionId: plan.sessionId,
        a: u.id,
        b: v.id,
      });
      batch.push(maskSeed, pairSign(v.id, u.id));
    }
  }
  batch.flush();
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
