import { afterAll, describe, expect, it } from 'vitest';
import { getPriority } from 'node:os';
import { generateKeyPair, pairMaskSeed, randomSeed } from '../../shared/secagg/keys';
import { pairSign, unmaskSum } from '../../shared/secagg/mask';
import { expandMask } from '../../shared/secagg/prg';
import { createWordAccumulator } from '../../shared/secagg/word-add';
import { packJobs, packPlan, unpackJobs, unpackPlan } from './unmask-pack';
import { inThreadUnmasker } from '../../shared/secagg/server';
import { maskTotal, subtractTotal, type UnmaskPlan } from '../../shared/secagg/unmask-plan';
import { UnmaskPool } from './unmask-pool';
import { createNodePrimitives } from './node-primitives';
import { nativeMaskPrg } from '../native/mask-prg';
import { sharedPrimitives } from '../../shared/secagg/unmask-plan';
import { inThreadReconstructor, type ReconstructJob } from '../../shared/secagg/reconstruct-jobs';
import { publicKeyOf, selfSeedCommitment } from '../../shared/secagg/keys';
import { shareSecret } from '../../shared/secagg/shamir';

// Batches of 4 jobs: the 14 reconstruction jobs below wrap round the 3 workers.
const pool = new UnmaskPool(3, { reconstructBatch: 4 });

function firstDiff(a: Uint32Array, b: Uint32Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}
afterAll(() => pool.close());

describe('parallel unmask on worker threads', () => {
  it('the OpenSSL primitives give the same bytes as the shared (noble) ones', () => {
    const native = nativeMaskPrg();
    const variants = [
      // node:crypto in 64 KB chunks (fallback default) and 48-byte chunks (many chunk borders, a partial last one)
      createNodePrimitives({ native: null }),
      createNodePrimitives({ native: null, chunkBytes: 48 }),
      ...(native ? [createNodePrimitives({ native })] : []),
    ];
    // Lengths around the AES block (4 words) and the native addon's cache block (16,384 words).
    for (const nodePrimitives of variants) {
      for (const len of [1, 15, 16, 17, 1000, 16_384, 16_385, 40_003]) {
        for (const signs of [[1], [-1], [1, -1, -1]] as const) {
          const seeds = new Uint8Array(32 * signs.length);
          for (let j = 0; j < signs.length; j++) seeds.set(randomSeed(), 32 * j);
          const a = createWordAccumulator(len);
          const b = createWordAccumulator(len);
          const start = Uint32Array.from({ length: len }, (_, i) => (i * 2654435761) >>> 0);
          a.words.set(start);
          b.words.set(start);
          sharedPrimitives.addMasks(a, seeds, Int8Array.from(signs));
          nodePrimitives.addMasks(b, seeds, Int8Array.from(signs));
          // First differing index (-1: equal); a failing toEqual on 65k words takes minutes to diff.
          expect(firstDiff(b.words, a.words)).toBe(-1);
          // …and both are start ± the reference expansions.
          const want = start.slice();
          for (let j = 0; j < signs.length; j++) {
            const m = expandMask(seeds.subarray(32 * j, 32 * j + 32), len);
            for (let i = 0; i < len; i++) want[i] = want[i]! + signs[j]! * m[i]!;
          }
          expect(firstDiff(a.words, want)).toBe(-1);
        }
      }
    }
    const nodePrimitives = createNodePrimitives();
    for (let i = 0; i < 5; i++) {
      const me = generateKeyPair();
      const peer = generateKeyPair();
      expect(nodePrimitives.agree(me.secretKey, peer.publicKey)).toEqual(
        sharedPrimitives.agree(me.secretKey, peer.publicKey),
      );
      // Second use of the same (cached) private key with another peer.
      const other = generateKeyPair();
      expect(nodePrimitives.agree(me.secretKey, other.publicKey)).toEqual(
        sharedPrimitives.agree(me.secretKey, other.publicKey),
      );
    }
    expect(() => nodePrimitives.agree(generateKeyPair().secretKey, new Uint8Array(32))).toThrow();
  });

  it('gives exactly the in-thread result', async () => {
    const keys = Array.from({ length: 8 }, () => generateKeyPair());
    const plan: UnmaskPlan = {
      round: 1,
      sessionId: 'pool-test',
      selfSeeds: Array.from({ length: 5 }, () => randomSeed()),
      dropped: [0, 1, 2].map((u) => ({
        id: `c${u}`,
        maskKey: keys[u]!.secretKey,
        survivors: [3, 4, 5, 6, 7].map((v) => ({ id: `c${v}`, sPk: keys[v]!.publicKey })),
      })),
    };
    const acc = new Uint32Array(5000).map((_, i) => (i * 2654435761) >>> 0);
    const want = await inThreadUnmasker(acc, plan);
    expect(firstDiff(await pool.unmask(acc, plan), want)).toBe(-1);
    // …which is the reference unmaskSum (pure-JS PRG, scalar adds) over the same seeds.
    const droppedPairSeeds = plan.dropped.flatMap((u) =>
      u.survivors.map((v) => ({
        seed: pairMaskSeed(u.maskKey, v.sPk, { round: 1, sessionId: 'pool-test', a: u.id, b: v.id }),
        sign: pairSign(v.id, u.id),
      })),
    );
    expect(firstDiff(want, unmaskSum(acc, { survivorSelfSeeds: plan.selfSeeds, droppedPairSeeds }))).toBe(-1);
    expect(unpackPlan(packPlan(plan))).toEqual(plan);
    // The input is not modified.
    expect(acc[1]).toBe(2654435761);
  });

  it('runs its worker threads below the main thread (nicer by the configured step; the main thread keeps its own)', async () => {
    const main = getPriority();
    const niceOf = (p: UnmaskPool) => p.warm();
    const lowered = new UnmaskPool(2, { nice: 7 });
    const level = new UnmaskPool(1, { nice: 0 });
    try {
      expect(await niceOf(lowered)).toEqual([Math.min(19, main + 7), Math.min(19, main + 7)]);
      expect(await niceOf(level)).toEqual([main]);
      expect((await pool.warm()).every((n) => n === Math.min(19, main + 10))).toBe(true); // the default step
      expect(getPriority()).toBe(main); // per-thread on Linux: the event loop's thread is untouched
    } finally {
      await Promise.all([lowered.close(), level.close()]);
    }
  });

  it('keeps the event loop running while the workers unmask (the in-thread unmask blocks it)', async () => {
    const keys = Array.from({ length: 4 }, () => generateKeyPair());
    const plan: UnmaskPlan = {
      round: 1,
      sessionId: 'pool-loop',
      selfSeeds: Array.from({ length: 24 }, () => randomSeed()),
      dropped: [
        {
          id: 'c0',
          maskKey: keys[0]!.secretKey,
          survivors: [1, 2, 3].map((v) => ({ id: `c${v}`, sPk: keys[v]!.publicKey })),
        },
      ],
    };
    const acc = new Uint32Array(200_000);
    const ticksDuring = async (run: () => Promise<Uint32Array>) => {
      let ticks = 0;
      let on = true;
      const tick = () => {
        ticks++;
        if (on) setImmediate(tick);
      };
      setImmediate(tick);
      const before = ticks;
      const out = await run();
      const during = ticks - before;
      on = false;
      return { out, during };
    };
    // The synchronous reference (pure-JS PRG) holds the loop for the whole unmask.
    const inThread = await ticksDuring(async () => subtractTotal(acc, maskTotal(plan, acc.length)));
    const pooled = await ticksDuring(() => pool.unmask(acc, plan));
    expect(firstDiff(pooled.out, inThread.out)).toBe(-1);
    expect(inThread.during).toBe(0);
    expect(pooled.during).toBeGreaterThan(0);
    // The server's in-thread unmasker (small plans) expands on WebCrypto, off the thread: the loop runs too.
    const webCrypto = await ticksDuring(() => inThreadUnmasker(acc, plan));
    expect(firstDiff(webCrypto.out, inThread.out)).toBe(-1);
    expect(webCrypto.during).toBeGreaterThan(0);
  });

  it('reconstructs (and verifies) on the workers exactly as in the thread, failures included', async () => {
    const holders = Array.from({ length: 9 }, (_, i) => `h${i}`);
    const ctx = { round: 2, sessionId: 'pool-rec' };
    const jobs: ReconstructJob[] = [];
    for (let i = 0; i < 7; i++) {
      const seed = randomSeed();
      const shares = [...(await shareSecret(seed, holders, 5)).values()];
      jobs.push({
        ...ctx,
        owner: `s${i}`,
        what: 'self seed',
        shares,
        threshold: 5,
        expect: selfSeedCommitment(seed, { ...ctx, id: `s${i}` }),
      });
      const key = generateKeyPair().secretKey;
      const keyShares = [...(await shareSecret(key, holders, 5)).values()];
      // The last mask key is checked against the wrong public key: it must fail, naming the owner.
      jobs.push({
        ...ctx,
        owner: `d${i}`,
        what: 'mask key',
        shares: keyShares,
        threshold: 5,
        expect: i === 6 ? publicKeyOf(randomSeed()) : publicKeyOf(key),
      });
    }
    const want = await inThreadReconstructor(jobs);
    expect(unpackJobs(packJobs(jobs))).toEqual(jobs);
    expect(await pool.reconstruct(jobs)).toEqual(want);
    expect(want.filter((r) => 'error' in r)).toEqual([
      { error: 'mask key of d6: shamir: reconstructed secret failed verification' },
    ]);
  });
});
