import { describe, expect, it } from 'vitest';
import { generateKeyPair, pairMaskSeed } from './keys';
import { maskInput, maskInputAsync, pairSign, unmaskSum } from './mask';
import { encodeWeightedUpdate, seededUniformSource } from './quantize';

const seed = (b: number) => new Uint8Array(32).fill(b);

/** Chi-square statistic of the byte values of a vector against uniform (256 bins). */
function chiSquareBytes(v: Uint32Array): number {
  const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  const counts = new Float64Array(256);
  for (const b of bytes) counts[b]! += 1;
  const expected = bytes.length / 256;
  let chi = 0;
  for (const c of counts) chi += (c - expected) ** 2 / expected;
  return chi;
}
const CHI2_255_999 = 330.52; // 99.9% quantile of chi-square with 255 dof

function randomInputs(n: number, d: number): Uint32Array[] {
  return Array.from({ length: n }, (_, u) => {
    const r = seededUniformSource(seed(100 + u))(d);
    return r.map((w) => w >>> 16); // 16-bit values, like a quantized update
  });
}

describe('pairwise + self masking', () => {
  it('maskInputAsync (WebCrypto PRG, SIMD adds) gives the same y as the synchronous reference', async () => {
    const d = 20_003;
    const [x] = randomInputs(1, d);
    const pairs = ['a', 'c', 'd', 'e', 'f'].map((peer, i) => ({ peer, seed: seed(40 + i) }));
    const y = await maskInputAsync(x!, seed(7), pairs, 'b');
    expect(y).toEqual(maskInput(x!, seed(7), pairs, 'b'));
    // Both signs occur ('b' < 'c'… but 'b' > 'a'), and x itself is untouched.
    expect(new Set(pairs.map((p) => pairSign('b', p.peer)))).toEqual(new Set([1, -1]));
    expect(x).toEqual(randomInputs(1, d)[0]);
  });

  it('masked vectors of several clients sum exactly to the plain sum (after removing self masks)', () => {
    const ids = ['c0', 'c1', 'c2', 'c3', 'c4'];
    const d = 10_001;
    const xs = randomInputs(ids.length, d);
    const s = ids.map(() => generateKeyPair());
    const ctx = { round: 1, sessionId: 's' };
    const selfSeeds = ids.map((_, i) => seed(i + 1));
    const sumY = new Uint32Array(d);
    ids.forEach((id, u) => {
      const pairs = ids
        .filter((p) => p !== id)
        .map((peer) => ({
          peer,
          seed: pairMaskSeed(s[u]!.secretKey, s[ids.indexOf(peer)]!.publicKey, { ...ctx, a: id, b: peer }),
        }));
      const y = maskInput(xs[u]!, selfSeeds[u]!, pairs, id);
      expect(y).not.toEqual(xs[u]);
      for (let i = 0; i < d; i++) sumY[i] = sumY[i]! + y[i]!;
    });
    const plain = new Uint32Array(d);
    for (const x of xs) for (let i = 0; i < d; i++) plain[i] = plain[i]! + x[i]!;
    expect(sumY).not.toEqual(plain);
    expect(unmaskSum(sumY, { survivorSelfSeeds: selfSeeds, droppedPairSeeds: [] })).toEqual(plain);
  });

  it('unmaskSum removes the pair masks of a dropped client with the survivor’s sign', () => {
    const d = 1000;
    const [x0, x1] = randomInputs(2, d);
    const ids = ['a', 'b', 'z'];
    const pair = (i: number, j: number) => seed(10 * Math.min(i, j) + Math.max(i, j) + 50);
    const y = [0, 1].map((u) =>
      maskInput(
        [x0!, x1!][u]!,
        seed(u + 1),
        [0, 1, 2].filter((p) => p !== u).map((p) => ({ peer: ids[p]!, seed: pair(u, p) })),
        ids[u]!,
      ),
    );
    const sumY = new Uint32Array(d);
    for (const v of y) for (let i = 0; i < d; i++) sumY[i] = sumY[i]! + v[i]!;
    // 'z' (index 2) dropped: its masks with a and b remain.
    const out = unmaskSum(sumY, {
      survivorSelfSeeds: [seed(1), seed(2)],
      droppedPairSeeds: [
        { seed: pair(0, 2), sign: pairSign('a', 'z') },
        { seed: pair(1, 2), sign: pairSign('b', 'z') },
      ],
    });
    const plain = new Uint32Array(d);
    for (let i = 0; i < d; i++) plain[i] = x0![i]! + x1![i]!;
    expect(out).toEqual(plain);
  });

  it('a masked vector is indistinguishable from uniform bytes; the unmasked one is not', () => {
    const d = 10_000;
    const delta = new Float32Array(d).map((_, i) => Math.sin(i) * 0.01);
    const x = encodeWeightedUpdate(delta, 0.8, { clipNorm: 1, bits: 16 }, seededUniformSource(seed(42)));
    const y = maskInput(
      x,
      seed(7),
      [
        { peer: 'b', seed: seed(8) },
        { peer: 'c', seed: seed(9) },
      ],
      'a',
    );
    const chiMasked = chiSquareBytes(y);
    const chiPlain = chiSquareBytes(x);
    expect(chiMasked).toBeLessThan(CHI2_255_999);
    expect(chiPlain).toBeGreaterThan(CHI2_255_999);
  });

  it('the same keys in two rounds never give the same mask', () => {
    const u = generateKeyPair();
    const v = generateKeyPair();
    const x = new Uint32Array(1000);
    const masks = [1, 2].map((round) => {
      const ps = pairMaskSeed(u.secretKey, v.publicKey, { round, sessionId: 's', a: 'u', b: 'v' });
      return { ps, y: maskInput(x, seed(1), [{ peer: 'v', seed: ps }], 'u') };
    });
    expect(masks[0]!.ps).not.toEqual(masks[1]!.ps);
    expect(masks[0]!.y).not.toEqual(masks[1]!.y);
    let equalWords = 0;
    for (let i = 0; i < x.length; i++) if (masks[0]!.y[i] === masks[1]!.y[i]) equalWords++;
    expect(equalWords).toBeLessThan(3);
  });

  it('pairSign is antisymmetric', () => {
    expect(pairSign('a', 'b')).toBe(1);
    expect(pairSign('b', 'a')).toBe(-1);
    expect(() => pairSign('a', 'a')).toThrow();
  });
});
