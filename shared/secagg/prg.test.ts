import { describe, expect, it } from 'vitest';
import { expandMask } from './prg';

describe('expandMask', () => {
  it('matches the RFC 8439 ChaCha20 keystream (test vector A.1 #1: zero key, zero nonce, counter 0)', () => {
    const w = expandMask(new Uint8Array(32), 4);
    // Keystream bytes 76 b8 e0 ad a0 f1 3d 90 40 5d 6a e5 53 86 bd 28, read little-endian.
    expect([...w].map((x) => x.toString(16))).toEqual(['ade0b876', '903df1a0', 'e56a5d40', '28bd8653']);
  });

  it('is deterministic and depends on seed and nonce', () => {
    const s = new Uint8Array(32).fill(9);
    const a = expandMask(s, 1000);
    expect(expandMask(s, 1000)).toEqual(a);
    const s2 = s.slice();
    s2[31] = 1 ^ s2[31]!;
    expect(expandMask(s2, 1000)).not.toEqual(a);
    const nonce = new Uint8Array(12);
    nonce[0] = 1;
    expect(expandMask(s, 1000, nonce)).not.toEqual(a);
    // Prefix property: a shorter expansion is a prefix of a longer one.
    expect(expandMask(s, 10)).toEqual(a.subarray(0, 10));
  });

  it('reuses an output buffer and rejects bad seeds', () => {
    const out = new Uint32Array(64).fill(123);
    const s = new Uint8Array(32).fill(1);
    expect(expandMask(s, 64, undefined, out)).toBe(out);
    expect(out).toEqual(expandMask(s, 64));
    expect(() => expandMask(new Uint8Array(16), 4)).toThrow(/32 bytes/);
  });

  it('a 1M-word expansion starts with the shorter expansion of the same seed (one keystream)', () => {
    const s = new Uint8Array(32).fill(3);
    const long = expandMask(s, 1_000_000);
    expect(long.length).toBe(1_000_000);
    expect(long.subarray(0, 1000)).toEqual(expandMask(s, 1000));
    // Timing lives in `npm run bench:micro`.
  });
});
