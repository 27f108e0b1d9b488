import { afterAll, describe, expect, it } from 'vitest';
import { generateKeyPair, randomSeed } from '../../shared/secagg/keys';
import { inThreadUnmasker } from '../../shared/secagg/server';
import type { UnmaskPlan } from '../../shared/secagg/unmask-plan';
import { UnmaskPool } from './unmask-pool';
import { createNodePrimitives } from './node-primitives';
import { sharedPrimitives } from '../../shared/secagg/unmask-plan';
import { inThreadReconstructor, type ReconstructJob } from '../../shared/secagg/reconstruct-jobs';
import { publicKeyOf, selfSeedCommitment } from '../../shared/secagg/keys';
import { shareSecret } from '../../shared/secagg/shamir';

const pool = new UnmaskPool(3);
afterAll(() => pool.close());

describe('parallel unmask on worker threads', () => {
  it('the OpenSSL primitives give the same bytes as the shared (noble) ones', () => {
    const nodePrimitives = createNodePrimitives();
    for (const len of [1, 15, 16, 17, 1000, 65_537]) {
      const seed = randomSeed();
      const a = new Uint32Array(len);
      const b = new Uint32Array(len);
      sharedPrimitives.expand(seed, a);
      nodePrimitives.expand(seed, b);
      expect(b).toEqual(a);
    }
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
    expect(await pool.unmask(acc, plan)).toEqual(want);
    // The input is not modified.
    expect(acc[1]).toBe(2654435761);
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
    const inThread = await ticksDuring(() => inThreadUnmasker(acc, plan));
    const pooled = await ticksDuring(() => pool.unmask(acc, plan));
    expect(pooled.out).toEqual(inThread.out);
    expect(inThread.during).toBe(0);
    expect(pooled.during).toBeGreaterThan(0);
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
    expect(await pool.reconstruct(jobs)).toEqual(want);
    expect(want.filter((r) => 'error' in r)).toEqual([
      { error: 'mask key of d6: shamir: reconstructed secret failed verification' },
    ]);
  });
});
