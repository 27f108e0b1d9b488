import { describe, expect, it } from 'vitest';
import { SecAggClient } from './client';

describe('client-side roster checks (finding 7)', () => {
  const base = { id: 'me', round: 1, sessionId: 'session-1' };
  it('refuses t ≤ k/2', () => {
    expect(() => new SecAggClient({ ...base, threshold: 5, degree: 10 })).toThrow(/≤ k\/2/);
  });
  it('refuses t > k', () => {
    expect(() => new SecAggClient({ ...base, threshold: 7, degree: 6 })).toThrow(/> degree/);
  });
  it('refuses a degree below what the announced dropout rate needs', () => {
    // k = 2⌈log2 1000⌉ = 20, the old default: each client survives only 9 lost neighbours.
    const announced = { n: 1000, dropoutRate: 0.3, corruptFraction: 0.1, failureTarget: 1e-6 };
    expect(() => new SecAggClient({ ...base, threshold: 11, degree: 20, announced })).toThrow(
      /below the k=\d+ that n=1000, dropout rate 0.3/,
    );
  });
  it('refuses a roster with more neighbours than the announced degree', async () => {
    const c = new SecAggClient({ ...base, threshold: 2, degree: 2 });
    c.advertise();
    const key = (b: number) => new Uint8Array(32).fill(b);
    const roster = [1, 2, 3].map((i) => ({ id: `peer-${i}`, cPk: key(2 * i), sPk: key(2 * i + 1) }));
    await expect(c.shareKeys(roster)).rejects.toThrow(/more than the announced degree 2/);
  });
  it('accepts a sound roster without announced rates (hand-set degree)', () => {
    expect(() => new SecAggClient({ ...base, threshold: 3, degree: 4 })).not.toThrow();
  });
});
