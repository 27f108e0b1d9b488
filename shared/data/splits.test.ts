import { describe, expect, it } from 'vitest';
import { createRng } from './rng';
import {
  apportion,
  formatSplitSpec,
  labelHistogram,
  parseSplitSpec,
  partition,
  splitDirichlet,
  splitIid,
  splitShards,
} from './splits';

const NUM_CLASSES = 10;

/** Balanced labels in a shuffled order, like a real training set. */
function balancedLabels(perClass: number, seed = 99): Uint8Array {
  const labels = Array.from({ length: perClass * NUM_CLASSES }, (_, i) => i % NUM_CLASSES);
  return Uint8Array.from(createRng(seed).shuffle(labels));
}

/** Class c has 300 + 40c examples: deliberately unbalanced. */
function unbalancedLabels(): Uint8Array {
  const labels: number[] = [];
  for (let c = 0; c < NUM_CLASSES; c++) for (let i = 0; i < 300 + 40 * c; i++) labels.push(c);
  return Uint8Array.from(createRng(5).shuffle(labels));
}

function expectExactCover(clients: number[][], n: number): void {
  const seen = new Uint8Array(n);
  let total = 0;
  for (const c of clients) {
    for (const i of c) {
      expect(Number.isInteger(i) && i >= 0 && i < n).toBe(true);
      seen[i]! += 1;
      total++;
    }
  }
  expect(total).toBe(n);
  expect(seen.every((v) => v === 1)).toBe(true);
}

function expectSortedAscending(clients: number[][]): void {
  for (const c of clients) for (let i = 1; i < c.length; i++) expect(c[i]! > c[i - 1]!).toBe(true);
}

/** Mean over clients of the fraction held by the client's most common class. */
function meanMaxClassFraction(labels: ArrayLike<number>, clients: number[][]): number {
  const fr = clients.map((c) => Math.max(...labelHistogram(labels, c, NUM_CLASSES)) / c.length);
  return fr.reduce((s, x) => s + x, 0) / fr.length;
}

function distinctLabels(labels: ArrayLike<number>, client: number[]): number {
  return labelHistogram(labels, client, NUM_CLASSES).filter((x) => x > 0).length;
}

describe('splitIid', () => {
  it('gives balanced (±1) sizes, exact cover and sorted indices', () => {
    const labels = balancedLabels(101); // n = 1010, not divisible by 7
    const clients = splitIid(labels, 7, 1);
    expect(clients).toHaveLength(7);
    const sizes = clients.map((c) => c.length);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    expectExactCover(clients, labels.length);
    expectSortedAscending(clients);
  });

  it('is deterministic per seed and roughly label-balanced', () => {
    const labels = balancedLabels(200);
    expect(splitIid(labels, 5, 3)).toEqual(splitIid(labels, 5, 3));
    expect(splitIid(labels, 5, 3)).not.toEqual(splitIid(labels, 5, 4));
    expect(meanMaxClassFraction(labels, splitIid(labels, 5, 3))).toBeLessThan(0.16);
  });

  it('rejects bad client counts', () => {
    const labels = balancedLabels(1);
    expect(() => splitIid(labels, 0, 1)).toThrow(/numClients/);
    expect(() => splitIid(labels, 1.5, 1)).toThrow(/numClients/);
    expect(() => splitIid(labels, 11, 1)).toThrow(/exceeds/);
  });
});

describe('splitDirichlet', () => {
  const labels = balancedLabels(500); // n = 5000

  it('assigns every index exactly once; sizes sum to n', () => {
    for (const alpha of [0.05, 0.3, 1, 100]) {
      const clients = splitDirichlet(labels, 20, alpha, 11);
      expect(clients).toHaveLength(20);
      expect(clients.reduce((s, c) => s + c.length, 0)).toBe(labels.length);
      expectExactCover(clients, labels.length);
      expectSortedAscending(clients);
    }
  });

  it('same seed gives identical splits; different seed differs', () => {
    expect(splitDirichlet(labels, 10, 0.5, 7)).toEqual(splitDirichlet(labels, 10, 0.5, 7));
    expect(splitDirichlet(labels, 10, 0.5, 7)).not.toEqual(splitDirichlet(labels, 10, 0.5, 8));
  });

  it('small alpha gives much more label skew than large alpha', () => {
    const skewed = meanMaxClassFraction(labels, splitDirichlet(labels, 10, 0.1, 1));
    const flat = meanMaxClassFraction(labels, splitDirichlet(labels, 10, 100, 1));
    expect(skewed).toBeGreaterThan(0.45);
    expect(flat).toBeLessThan(0.2);
    expect(skewed).toBeGreaterThan(2.5 * flat);
  });

  it('guarantees minPerClient via retries/repair, still an exact cover', () => {
    // 100 clients with alpha 0.05: a raw draw leaves many clients nearly empty.
    const clients = splitDirichlet(labels, 100, 0.05, 3, { minPerClient: 10 });
    expect(Math.min(...clients.map((c) => c.length))).toBeGreaterThanOrEqual(10);
    expectExactCover(clients, labels.length);
    // The repair keeps the split skewed rather than turning it IID.
    expect(meanMaxClassFraction(labels, clients)).toBeGreaterThan(0.6);
  });

  it('repair path (no retries left) reaches the minimum', () => {
    const clients = splitDirichlet(labels, 50, 0.01, 9, { minPerClient: 40, maxRetries: 1 });
    expect(Math.min(...clients.map((c) => c.length))).toBeGreaterThanOrEqual(40);
    expectExactCover(clients, labels.length);
  });

  it('clamps an infeasible minimum to floor(n / numClients)', () => {
    const small = balancedLabels(5); // n = 50
    const clients = splitDirichlet(small, 10, 0.1, 2, { minPerClient: 10 });
    expect(Math.min(...clients.map((c) => c.length))).toBe(5);
    expectExactCover(clients, small.length);
  });

  it('handles unbalanced labels', () => {
    const ub = unbalancedLabels();
    const clients = splitDirichlet(ub, 13, 0.3, 4);
    expectExactCover(clients, ub.length);
    expect(Math.min(...clients.map((c) => c.length))).toBeGreaterThanOrEqual(10);
  });

  it('validates its arguments', () => {
    expect(() => splitDirichlet(labels, 10, 0, 1)).toThrow(/alpha/);
    expect(() => splitDirichlet(labels, 10, Number.NaN, 1)).toThrow(/alpha/);
    expect(() => splitDirichlet(labels, 10, 1, 1, { minPerClient: -1 })).toThrow(/minPerClient/);
    expect(() => splitDirichlet([0, 1, -1], 2, 1, 1)).toThrow(/labels\[2\]/);
  });
});

describe('splitShards', () => {
  it('with label-aligned shards each client sees at most shardsPerClient labels', () => {
    const labels = balancedLabels(100); // 1000 examples, 100 shards of 10, all label-pure
    const clients = splitShards(labels, 50, 2, 1);
    expectExactCover(clients, labels.length);
    expectSortedAscending(clients);
    for (const c of clients) {
      expect(c).toHaveLength(20);
      expect(distinctLabels(labels, c)).toBeLessThanOrEqual(2);
    }
  });

  it('with unbalanced classes stays close to shardsPerClient labels', () => {
    const labels = unbalancedLabels();
    const spc = 2;
    const clients = splitShards(labels, 30, spc, 2);
    expectExactCover(clients, labels.length);
    const distinct = clients.map((c) => distinctLabels(labels, c));
    // A shard can straddle one class boundary, so each shard has <= 2 labels.
    expect(Math.max(...distinct)).toBeLessThanOrEqual(2 * spc);
    expect(distinct.reduce((s, x) => s + x, 0) / distinct.length).toBeLessThanOrEqual(spc + 1);
    const sizes = clients.map((c) => c.length);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(spc);
  });

  it('is deterministic and seed-dependent', () => {
    const labels = balancedLabels(100);
    expect(splitShards(labels, 10, 2, 5)).toEqual(splitShards(labels, 10, 2, 5));
    expect(splitShards(labels, 10, 2, 5)).not.toEqual(splitShards(labels, 10, 2, 6));
  });

  it('validates its arguments', () => {
    const labels = balancedLabels(1);
    expect(() => splitShards(labels, 5, 0, 1)).toThrow(/shardsPerClient/);
    expect(() => splitShards(labels, 5, 3, 1)).toThrow(/shards requested/);
  });
});

describe('parseSplitSpec / partition', () => {
  it('parses the three forms', () => {
    expect(parseSplitSpec('iid')).toEqual({ kind: 'iid' });
    expect(parseSplitSpec('dirichlet:0.3')).toEqual({ kind: 'dirichlet', alpha: 0.3 });
    expect(parseSplitSpec(' dirichlet:1e-1 ')).toEqual({ kind: 'dirichlet', alpha: 0.1 });
    expect(parseSplitSpec('shards:2')).toEqual({ kind: 'shards', shardsPerClient: 2 });
  });

  it.each([
    ['', /unknown kind/],
    ['random', /unknown kind "random"/],
    ['iid:3', /no parameter/],
    ['dirichlet', /missing alpha/],
    ['dirichlet:', /missing alpha/],
    ['dirichlet:abc', /not a number/],
    ['dirichlet:0.3x', /not a number/],
    ['dirichlet:-1', /not a number/],
    ['dirichlet:0', /> 0/],
    ['shards', /missing/],
    ['shards:1.5', /positive integer/],
    ['shards:0', />= 1/],
  ])('rejects %j', (spec, msg) => {
    expect(() => parseSplitSpec(spec)).toThrow(msg);
  });

  it('formatSplitSpec round-trips', () => {
    for (const s of ['iid', 'dirichlet:0.3', 'shards:4']) expect(formatSplitSpec(parseSplitSpec(s))).toBe(s);
  });

  it('partition dispatches to the matching splitter', () => {
    const labels = balancedLabels(50);
    expect(partition(labels, 4, 'iid', 1)).toEqual(splitIid(labels, 4, 1));
    expect(partition(labels, 4, 'dirichlet:0.5', 1)).toEqual(splitDirichlet(labels, 4, 0.5, 1));
    expect(partition(labels, 4, { kind: 'shards', shardsPerClient: 3 }, 1)).toEqual(splitShards(labels, 4, 3, 1));
    expect(() => partition(labels, 4, 'bogus', 1)).toThrow(/invalid split spec/);
  });
});

describe('labelHistogram / apportion', () => {
  it('counts classes of the selected indices', () => {
    const labels = [0, 1, 1, 2, 2, 2];
    expect(labelHistogram(labels, [1, 3, 4, 5], 4)).toEqual([0, 1, 3, 0]);
    expect(labelHistogram(labels, [], 3)).toEqual([0, 0, 0]);
    expect(() => labelHistogram(labels, [6], 3)).toThrow(/out of range/);
    expect(() => labelHistogram(labels, [3], 2)).toThrow(/label 2/);
  });

  it('apportion sums to the total and follows the proportions', () => {
    const counts = apportion([0.5, 0.3, 0.2], 7);
    expect(counts.reduce((s, c) => s + c, 0)).toBe(7);
    expect(counts).toEqual([4, 2, 1]);
    expect(apportion([1 / 3, 1 / 3, 1 / 3], 10).reduce((s, c) => s + c, 0)).toBe(10);
  });
});
