import { describe, expect, it } from 'vitest';
import { defaultDegree, defaultThreshold, neighbourGraph } from './graph';

const ids = (n: number) => Array.from({ length: n }, (_, i) => `client-${i}`);

function connected(g: Map<string, string[]>): boolean {
  const start = g.keys().next().value as string;
  const seen = new Set([start]);
  const queue = [start];
  while (queue.length)
    for (const nb of g.get(queue.pop()!)!)
      if (!seen.has(nb)) {
        seen.add(nb);
        queue.push(nb);
      }
  return seen.size === g.size;
}

describe('neighbourGraph', () => {
  it('is k-regular, symmetric, loop-free and connected', () => {
    for (const n of [5, 10, 37, 100, 1000]) {
      const k = defaultDegree(n);
      const g = neighbourGraph(ids(n), k);
      expect(g.size).toBe(n);
      for (const [id, nbs] of g) {
        expect(nbs.length).toBe(k);
        expect(new Set(nbs).size).toBe(k);
        expect(nbs).not.toContain(id);
        for (const nb of nbs) expect(g.get(nb)).toContain(id);
      }
      expect(connected(g)).toBe(true);
    }
  });

  it('is deterministic with a seed, random without, independent of input order', () => {
    const seed = new Uint8Array([1, 2, 3]);
    const a = neighbourGraph(ids(50), 6, seed);
    expect(neighbourGraph(ids(50).reverse(), 6, seed)).toEqual(a);
    expect(neighbourGraph(ids(50), 6, new Uint8Array([1, 2, 4]))).not.toEqual(a);
    expect(neighbourGraph(ids(50), 6)).not.toEqual(neighbourGraph(ids(50), 6));
  });

  it('is complete when k ≥ n − 1, and rejects odd k or duplicate ids otherwise', () => {
    const g = neighbourGraph(ids(4), 6);
    for (const nbs of g.values()) expect(nbs.length).toBe(3);
    expect(() => neighbourGraph(ids(10), 3)).toThrow(/even/);
    expect(() => neighbourGraph(['a', 'b', 'a'], 2)).toThrow(/duplicate/);
  });

  it('default degree ≈ 2·ceil(log2 n), threshold > k/2', () => {
    expect(defaultDegree(10)).toBe(8);
    expect(defaultDegree(100)).toBe(14);
    expect(defaultDegree(1000)).toBe(20);
    expect(defaultDegree(4)).toBe(3);
    for (const k of [2, 3, 8, 14, 20]) {
      const t = defaultThreshold(k);
      expect(t).toBeGreaterThan(k / 2);
      expect(t).toBeLessThanOrEqual(k);
    }
  });
});
