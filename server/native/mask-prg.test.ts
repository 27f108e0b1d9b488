import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { expandMask } from '../../shared/secagg/prg';
import { nativeMaskPrg, nativeMaskPrgStatus } from './mask-prg';

const headers = resolve(dirname(process.execPath), '..', 'include', 'node');
const canBuild =
  process.env.FEDSSL_NATIVE_PRG !== '0' &&
  process.platform !== 'win32' &&
  existsSync(join(headers, 'node_api.h')) &&
  spawnSync(process.env.CC || 'cc', ['--version']).status === 0;

describe('native mask PRG (server/native/mask-prg.c)', () => {
  it.runIf(canBuild)('is built and loaded where a C compiler and node headers exist', () => {
    // `npm test` and `npm install` build it; a compile error or a stale build fails here.
    expect(nativeMaskPrgStatus()).toMatch(/^native/);
    expect(nativeMaskPrg()).not.toBeNull();
  });

  it.runIf(canBuild)('adds the mask PRG words of every seed with its sign, mod 2^32', () => {
    const prg = nativeMaskPrg()!;
    const seeds = new Uint8Array(64).map((_, i) => (i * 37 + 11) & 255);
    const acc = new Uint32Array(20_001).fill(0xfffffff0);
    prg.addMasks(acc, seeds, Int8Array.of(1, -1));
    const a = expandMask(seeds.subarray(0, 32), acc.length);
    const b = expandMask(seeds.subarray(32), acc.length);
    let bad = -1;
    for (let i = 0; i < acc.length && bad < 0; i++) if (acc[i] !== (0xfffffff0 + a[i]! - b[i]!) >>> 0) bad = i;
    expect(bad).toBe(-1);
  });

  it.runIf(canBuild)('refuses malformed arguments with a clear error and leaves the accumulator alone', () => {
    const prg = nativeMaskPrg()!;
    const acc = new Uint32Array(8).fill(7);
    const seed = new Uint8Array(32).fill(1);
    const call = (...args: unknown[]) => (prg.addMasks as (...a: unknown[]) => void)(...args);
    expect(() => call(new Float64Array(8), seed, Int8Array.of(1))).toThrow(/acc must be a Uint32Array/);
    expect(() => call(acc, new Uint8Array(31), Int8Array.of(1))).toThrow(/32-byte seeds/);
    expect(() => call(acc, seed, Int8Array.of(1, 1))).toThrow(/one sign per seed/);
    expect(() => call(acc, seed, Int8Array.of(0))).toThrow(/1 or -1/);
    expect(() => call(acc, seed)).toThrow(/3 arguments/);
    expect([...acc]).toEqual(new Array(8).fill(7));
  });
});
