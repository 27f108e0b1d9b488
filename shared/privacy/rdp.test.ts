import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  computeEpsilon,
  computeRdp,
  DEFAULT_RDP_ORDERS,
  RdpAccountant,
  rdpToEpsilon,
  rdpToEpsilonClassic,
  solveMaxSteps,
  solveNoiseMultiplier,
} from './rdp';

interface RefCase {
  label: string;
  q: number;
  noise_multiplier: number;
  steps: number;
  delta: number;
  epsilon: number;
  best_order: number;
  [extra: string]: unknown;
}
interface RefFile {
  about: string;
  cases: RefCase[];
  rdp_per_step?: {
    q: number;
    noise_multiplier: number;
    steps: number;
    orders: number[];
    rdp_total: number[];
    note?: string;
  };
}

const refPath = resolve(import.meta.dirname, 'fixtures/rdp_cases.json');
const ref = JSON.parse(readFileSync(refPath, 'utf8')) as RefFile;

const relErr = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);
const KNOWN_FIELDS = new Set([
  'label',
  'q',
  'noise_multiplier',
  'steps',
  'delta',
  'epsilon',
  'best_order',
  'epsilon_classic_conversion',
]);

/** Half a unit in the last printed decimal of a JSON number (e.g. 1.26 → 0.005). */
function halfUlpOfPrinted(x: number): number {
  const decimals = (String(x).split('.')[1] ?? '').length;
  return 0.5 * 10 ** -decimals;
}

/** A_α = E_{x~N(0,σ²)}[((1-q) + q·exp((2x-1)/(2σ²)))^α] by the trapezoid rule (exponentially accurate here). */
function logANumeric(q: number, sigma: number, alpha: number): number {
  const lo = -40 * sigma;
  const hi = 40 * sigma + 2 * alpha;
  const n = 200_000;
  const h = (hi - lo) / n;
  const logNorm = -Math.log(sigma * Math.sqrt(2 * Math.PI));
  let sum = 0;
  for (let k = 0; k <= n; k++) {
    const x = lo + k * h;
    const logMix = Math.log(1 - q + q * Math.exp((2 * x - 1) / (2 * sigma * sigma)));
    const w = k === 0 || k === n ? 0.5 : 1;
    sum += w * Math.exp(logNorm - (x * x) / (2 * sigma * sigma) + alpha * logMix);
  }
  return Math.log(sum * h);
}

describe('reference cases (rdp_cases.json)', () => {
  it('has cases to check', () => {
    expect(ref.cases.length).toBeGreaterThan(0);
  });

  for (const c of ref.cases) {
    it(`matches: ${c.label}`, () => {
      const unknown = Object.keys(c).filter((k) => !KNOWN_FIELDS.has(k));
      expect(unknown, 'reference case has fields this test does not check').toEqual([]);

      const r = computeEpsilon(c.q, c.noise_multiplier, c.steps, c.delta);
      expect(relErr(r.epsilon, c.epsilon)).toBeLessThan(1e-6);
      expect(r.bestOrder).toBeCloseTo(c.best_order, 9);

      if (typeof c.epsilon_classic_conversion === 'number') {
        // Given to few decimals: check it to the precision it was printed with.
        const rdp = computeRdp(c.q, c.noise_multiplier, c.steps);
        const classic = rdpToEpsilonClassic(DEFAULT_RDP_ORDERS, rdp, c.delta);
        expect(Math.abs(classic.epsilon - c.epsilon_classic_conversion)).toBeLessThanOrEqual(
          halfUlpOfPrinted(c.epsilon_classic_conversion),
        );
        expect(classic.epsilon).toBeGreaterThan(r.epsilon); // the improved conversion is tighter
      }
    });
  }

  const per = ref.rdp_per_step;
  if (per) {
    it('matches the per-order RDP totals (integer orders exactly; fractional ones per the note)', () => {
      const signed = computeRdp(per.q, per.noise_multiplier, per.steps, per.orders);
      const absolute = computeRdp(per.q, per.noise_multiplier, per.steps, per.orders, 'absolute');
      per.orders.forEach((a, k) => {
        const want = per.rdp_total[k]!;
        if (Number.isInteger(a)) {
          expect(relErr(signed[k]!, want), `order ${a}`).toBeLessThan(1e-6);
        } else {
          // The reference comes from dp_accounting, which sums |terms| (an upper
          // bound); the exact signed series (Opacus) must sit at or below it.
          expect(relErr(absolute[k]!, want), `order ${a} (absolute terms)`).toBeLessThan(1e-6);
          expect(signed[k]!).toBeLessThanOrEqual(want);
          expect(relErr(signed[k]!, want)).toBeLessThan(1e-3);
        }
      });
    });
  }
});

describe('computeRdp', () => {
  it('uses Opacus default orders', () => {
    expect(DEFAULT_RDP_ORDERS).toHaveLength(99 + 52);
    expect(DEFAULT_RDP_ORDERS[0]).toBeCloseTo(1.1, 12);
    expect(DEFAULT_RDP_ORDERS[98]).toBeCloseTo(10.9, 12);
    expect(DEFAULT_RDP_ORDERS[99]).toBe(12);
    expect(DEFAULT_RDP_ORDERS[150]).toBe(63);
  });

  it('fractional orders: the signed series equals A_α by direct numerical integration', () => {
    const cases: [number, number, number][] = [
      [0.01, 2.5, 2.5],
      [0.004266666666666667, 1.1, 8.1],
      [0.1, 0.8, 3.7],
      [0.5, 1.5, 1.3],
    ];
    for (const [q, sigma, alpha] of cases) {
      const [r] = computeRdp(q, sigma, 1, [alpha]);
      const want = logANumeric(q, sigma, alpha) / (alpha - 1);
      expect(relErr(r!, want), `q=${q} σ=${sigma} α=${alpha}`).toBeLessThan(1e-8);
    }
  });

  it('integer orders agree with numerical integration too', () => {
    const [r] = computeRdp(0.05, 1.3, 1, [7]);
    expect(relErr(r!, logANumeric(0.05, 1.3, 7) / 6)).toBeLessThan(1e-9);
  });

  it('handles the edge cases q = 0, q = 1, σ = 0', () => {
    expect(computeRdp(0, 1.1, 100, [2, 3.5])).toEqual([0, 0]);
    expect(computeRdp(1, 2, 10, [2, 3.5])).toEqual([(10 * 2) / 8, (10 * 3.5) / 8]);
    expect(computeRdp(0.01, 0, 1, [2, 3.5])).toEqual([Infinity, Infinity]);
    expect(computeEpsilon(0.01, 0, 1, 1e-5).epsilon).toBe(Infinity);
  });

  it('rejects bad parameters', () => {
    expect(() => computeRdp(1.5, 1, 1)).toThrow(/q/);
    expect(() => computeRdp(0.1, -1, 1)).toThrow(/noise/);
    expect(() => computeRdp(0.1, 1, 1, [1])).toThrow(/orders/);
    expect(() => rdpToEpsilon([2], [0.1], 0)).toThrow(/delta/);
  });
});

describe('monotonicity', () => {
  const delta = 1e-5;
  it('ε grows with steps', () => {
    const eps = [10, 100, 1000, 10000].map((s) => computeEpsilon(0.01, 1.1, s, delta).epsilon);
    for (let i = 1; i < eps.length; i++) expect(eps[i]!).toBeGreaterThan(eps[i - 1]!);
  });
  it('ε grows with q', () => {
    const eps = [0.001, 0.01, 0.05, 0.2, 1].map((q) => computeEpsilon(q, 1.1, 100, delta).epsilon);
    for (let i = 1; i < eps.length; i++) expect(eps[i]!).toBeGreaterThan(eps[i - 1]!);
  });
  it('ε shrinks with z', () => {
    const eps = [0.6, 0.8, 1.1, 2, 4].map((z) => computeEpsilon(0.01, z, 1000, delta).epsilon);
    for (let i = 1; i < eps.length; i++) expect(eps[i]!).toBeLessThan(eps[i - 1]!);
  });
  it('ε is clamped at 0', () => {
    expect(computeEpsilon(1e-6, 50, 1, 0.5).epsilon).toBe(0);
  });
});

describe('RdpAccountant', () => {
  const delta = 1e-5;
  it('equals the closed form for repeated homogeneous steps', () => {
    const acc = new RdpAccountant();
    for (let i = 0; i < 1000; i++) acc.step(0.01, 1.1);
    const direct = computeEpsilon(0.01, 1.1, 1000, delta);
    expect(relErr(acc.epsilon(delta).epsilon, direct.epsilon)).toBeLessThan(1e-9);
    expect(acc.epsilon(delta).bestOrder).toBe(direct.bestOrder);
    expect(acc.steps).toBe(1000);
  });

  it('composes heterogeneous steps by summing RDP vectors', () => {
    const acc = new RdpAccountant();
    acc.step(0.01, 1.1, 300);
    acc.step(0.02, 2.0, 200);
    acc.step(0.01, 1.1, 100);
    const a = computeRdp(0.01, 1.1, 400);
    const b = computeRdp(0.02, 2.0, 200);
    const want = rdpToEpsilon(
      DEFAULT_RDP_ORDERS,
      a.map((v, k) => v + b[k]!),
      delta,
    );
    expect(relErr(acc.epsilon(delta).epsilon, want.epsilon)).toBeLessThan(1e-9);
    const onlyA = computeEpsilon(0.01, 1.1, 400, delta).epsilon;
    expect(acc.epsilon(delta).epsilon).toBeGreaterThan(onlyA);
  });

  it('epsilonAfter is a what-if that does not commit', () => {
    const acc = new RdpAccountant();
    acc.step(0.01, 1.1, 500);
    const before = acc.epsilon(delta).epsilon;
    const after = acc.epsilonAfter(0.01, 1.1, 500, delta).epsilon;
    expect(acc.epsilon(delta).epsilon).toBe(before);
    expect(relErr(after, computeEpsilon(0.01, 1.1, 1000, delta).epsilon)).toBeLessThan(1e-9);
    acc.step(0.01, 1.1, 500);
    expect(acc.epsilon(delta).epsilon).toBeCloseTo(after, 12);
  });

  it('round-trips through JSON', () => {
    const acc = new RdpAccountant();
    acc.step(0.01, 1.1, 7);
    acc.step(0.05, 0.9, 3);
    const copy = RdpAccountant.fromJSON(JSON.parse(JSON.stringify(acc)));
    expect(copy.epsilon(delta)).toEqual(acc.epsilon(delta));
    expect(copy.steps).toBe(10);
    expect(copy.orders).toEqual(acc.orders);
    expect(() => RdpAccountant.fromJSON({ orders: [], history: [] })).toThrow();
  });

  it('JSON survives an infinite RDP (σ = 0)', () => {
    const acc = new RdpAccountant([2, 4]);
    acc.step(0.1, 0, 1);
    const copy = RdpAccountant.fromJSON(JSON.parse(JSON.stringify(acc)));
    expect(copy.epsilon(delta).epsilon).toBe(Infinity);
  });
});

describe('solvers', () => {
  const delta = 1e-5;
  it('solveNoiseMultiplier returns the smallest z meeting the target', () => {
    for (const target of [0.5, 2, 8]) {
      const r = solveNoiseMultiplier({ targetEpsilon: target, q: 0.01, steps: 1000, delta });
      expect(r.epsilon).toBeLessThanOrEqual(target);
      expect(computeEpsilon(0.01, r.noiseMultiplier, 1000, delta).epsilon).toBeLessThanOrEqual(target);
      // A slightly smaller z overshoots, so the answer is tight.
      expect(computeEpsilon(0.01, r.noiseMultiplier * (1 - 1e-4), 1000, delta).epsilon).toBeGreaterThan(target);
    }
  });

  it('solveMaxSteps returns the largest step count meeting the target', () => {
    const r = solveMaxSteps({ targetEpsilon: 3, q: 0.01, noiseMultiplier: 1.1, delta });
    expect(r.steps).toBeGreaterThan(0);
    expect(computeEpsilon(0.01, 1.1, r.steps, delta).epsilon).toBeLessThanOrEqual(3);
    expect(computeEpsilon(0.01, 1.1, r.steps + 1, delta).epsilon).toBeGreaterThan(3);
  });

  it('round-trips: ε(steps) → z → ε, and z → steps → ε', () => {
    const eps = computeEpsilon(0.02, 1.3, 500, delta).epsilon;
    const z = solveNoiseMultiplier({ targetEpsilon: eps, q: 0.02, steps: 500, delta }).noiseMultiplier;
    expect(Math.abs(z - 1.3) / 1.3).toBeLessThan(1e-5);
    const steps = solveMaxSteps({ targetEpsilon: eps, q: 0.02, noiseMultiplier: 1.3, delta }).steps;
    expect(steps).toBe(500);
  });

  it('edge cases: a target too small for one step, q = 0', () => {
    expect(solveMaxSteps({ targetEpsilon: 1e-3, q: 0.5, noiseMultiplier: 0.5, delta }).steps).toBe(0);
    expect(solveMaxSteps({ targetEpsilon: 1, q: 0, noiseMultiplier: 0.5, delta }).steps).toBe(Infinity);
    expect(() => solveNoiseMultiplier({ targetEpsilon: -1, q: 0.1, steps: 10, delta })).toThrow(/targetEpsilon/);
  });
});
