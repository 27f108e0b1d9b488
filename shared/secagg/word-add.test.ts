import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { chachaWords } from './prg';
import { WORD_ADD_WASM_BASE64 } from './word-add-wasm';
import { createWordAccumulator, hasSimdAdd } from './word-add';

/** Seeded random words (ChaCha20 stream), with extremes mixed in so sums wrap mod 2^32. */
function words(seed: number, n: number): Uint32Array {
  const key = new Uint8Array(32).fill(seed);
  const w = chachaWords(key, n);
  for (let i = 0; i < n; i += 7) w[i] = i % 2 ? 0xffffffff : 0xfffffff0 + (i % 16);
  return w;
}

/** Plain BigInt arithmetic mod 2^32: an oracle independent of both accumulators. */
function reference(init: Uint32Array, ops: { src: Uint32Array; sign: 1 | -1; at: number }[]): Uint32Array {
  const out = init.slice();
  for (const { src, sign, at } of ops)
    for (let i = 0; i < src.length; i++)
      out[at + i] = Number(BigInt.asUintN(32, BigInt(out[at + i]!) + BigInt(sign) * BigInt(src[i]!)));
  return out;
}

describe('word accumulator (WebAssembly SIMD add/sub mod 2^32)', () => {
  it('has the SIMD kernel in this runtime', () => {
    expect(hasSimdAdd()).toBe(true);
  });

  for (const simd of [true, false]) {
    it(`${simd ? 'SIMD' : 'scalar'}: matches BigInt mod 2^32 on random data with wraparound, at odd offsets and lengths`, () => {
      const n = 10_007;
      // A small chunk forces multi-piece adds whose last piece is not a multiple of 64 bytes.
      const acc = createWordAccumulator(n, { simd, chunkBytes: 256 });
      const init = words(1, n);
      acc.words.set(init);
      const ops = [
        { src: words(2, n), sign: 1 as const, at: 0 },
        { src: words(3, n), sign: -1 as const, at: 0 },
        { src: words(4, 333), sign: 1 as const, at: 5 },
        { src: words(5, 17), sign: -1 as const, at: n - 17 },
        { src: words(6, 1), sign: 1 as const, at: 4_001 },
      ];
      for (const o of ops) acc.add(o.src, o.sign, o.at);
      expect(acc.words).toEqual(reference(init, ops));
      // Some sums really wrapped (else the test would not exercise mod 2^32).
      expect(init.some((v, i) => v + ops[0]!.src[i]! >= 2 ** 32)).toBe(true);
    });
  }

  it('adds byte sources (keystream chunks) with an unaligned byte offset like word sources', () => {
    const n = 4_099;
    const src = words(7, 1000);
    const buf = new Uint8Array(4 * 1000 + 1);
    buf.set(new Uint8Array(src.buffer), 1);
    const a = createWordAccumulator(n);
    const b = createWordAccumulator(n, { simd: false });
    a.add(buf.subarray(1), 1, 3_000);
    b.add(src, 1, 3_000);
    expect(a.words).toEqual(b.words);
    expect(a.words[2_999]).toBe(0);
    expect(a.words[3_000]).toBe(src[0]);
  });

  it('rejects sources that overrun the accumulator or hold partial words', () => {
    const acc = createWordAccumulator(10);
    expect(() => acc.add(new Uint32Array(11), 1)).toThrow(/overrun/);
    expect(() => acc.add(new Uint32Array(2), 1, 9)).toThrow(/overrun/);
    expect(() => acc.add(new Uint8Array(6), 1)).toThrow(/whole words/);
    expect(() => createWordAccumulator(10, { chunkBytes: 100 })).toThrow(/multiple of 64/);
  });

  it('the committed bytes are wabt’s build of word-add.wat', async (ctx) => {
    let wabtInit: (() => Promise<{ parseWat: (f: string, s: string) => WabtModule }>) | undefined;
    try {
      wabtInit = createRequire(import.meta.url)('wabt') as typeof wabtInit;
    } catch {
      // wabt is a devDependency; without it installed there is nothing to rebuild with.
      ctx.skip();
      return;
    }
    const wabt = await wabtInit!();
    const wat = readFileSync(new URL('./word-add.wat', import.meta.url), 'utf8');
    const m = wabt.parseWat('word-add.wat', wat);
    m.validate();
    const built = Buffer.from(m.toBinary({}).buffer).toString('base64');
    m.destroy();
    expect(built).toBe(WORD_ADD_WASM_BASE64);
  });
});

interface WabtModule {
  validate(): void;
  toBinary(o: object): { buffer: Uint8Array };
  destroy(): void;
}
