import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  decodeStrategyState,
  encodeStrategyState,
  readStrategyState,
  strategyStatePath,
  writeStrategyState,
} from './strategy-state';

describe('strategy-state files', () => {
  it('round-trip scalars and float arrays exactly, and reject damaged files', () => {
    const state = { t: 7, m: Float32Array.from([1.5, -2, 3e-8]), v: Float32Array.from([0, 4]) };
    const bytes = encodeStrategyState(7, 'fedadam', state);
    const back = decodeStrategyState(bytes);
    expect(back).toMatchObject({ version: 7, strategy: 'fedadam' });
    expect(back.state.t).toBe(7);
    expect(Array.from(back.state.m as Float32Array)).toEqual(Array.from(state.m));
    expect(Array.from(back.state.v as Float32Array)).toEqual(Array.from(state.v));
    expect(() => decodeStrategyState(bytes.subarray(0, bytes.length - 4))).toThrow(/past the end/);
    expect(() => decodeStrategyState(Uint8Array.from([...bytes, 0, 0, 0, 0]))).toThrow(/trailing/);
    expect(() => decodeStrategyState(new Uint8Array(20))).toThrow(/not a FedSSL strategy-state file/);
  });

  it("reads back only the same version's state of the same strategy", () => {
    const dir = mkdtempSync(join(tmpdir(), 'fedssl-strategy-state-'));
    try {
      writeStrategyState(dir, 3, 'fedadam', { t: 3 });
      expect(readStrategyState(dir, 3, 'fedadam')).toEqual({ t: 3 });
      expect(readStrategyState(dir, 3, 'fedavg')).toBeUndefined(); // another strategy's moments are not ours
      expect(readStrategyState(dir, 4, 'fedadam')).toBeUndefined();
      writeFileSync(strategyStatePath(dir, 5), encodeStrategyState(3, 'fedadam', { t: 3 }));
      expect(() => readStrategyState(dir, 5, 'fedadam')).toThrow(/state of v3, not v5/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
