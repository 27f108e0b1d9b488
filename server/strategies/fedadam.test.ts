import { describe, expect, it } from 'vitest';
import { FedAdam } from './fedadam';

const ctx = { round: 0, survivors: 1, expectedClients: 1 };

function expectClose(actual: Float32Array, expected: number[], rel = 1e-6): void {
  expect(actual.length).toBe(expected.length);
  expected.forEach((e, i) => expect(Math.abs(actual[i]! - e) / Math.max(Math.abs(e), 1e-12)).toBeLessThan(rel));
}

describe('FedAdam', () => {
  it('matches a hand-computed 2-step reference', () => {
    // lr 0.1, β1 0.9, β2 0.99, τ 1e-3; m₀ = 0, v₀ = τ².
    // Step 1, Δ = [0.5, -0.2]: m = [0.05, -0.02], v = [0.00250099, 0.00040099],
    //   x = [1,-1] + 0.1·m/(√v + τ) = [1.0980201901, -1.0951260517].
    // Step 2, Δ = [0.1, 0.3]: m = [0.055, 0.012], v = [0.0025759801, 0.0012969801],
    //   x = [1.2042919348, -1.0627055447].
    const s = new FedAdam({ lr: 0.1, beta1: 0.9, beta2: 0.99, tau: 1e-3 });
    let x: Float32Array = new Float32Array([1, -1]);
    x = s.step(x, new Float32Array([0.5, -0.2]), ctx);
    expectClose(x, [1.0980201901209485, -1.0951260516755887]);
    const st = s.saveState();
    expectClose(st.m as Float32Array, [0.05, -0.02]);
    expectClose(st.v as Float32Array, [0.00250099, 0.00040099]);
    x = s.step(x, new Float32Array([0.1, 0.3]), ctx);
    expectClose(x, [1.204291934766376, -1.0627055446687055]);
    expect(s.steps).toBe(2);
  });

  it('uses the paper defaults lr 1e-2, β1 0.9, β2 0.99, τ 1e-3', () => {
    const s = new FedAdam();
    expect([s.lr, s.beta1, s.beta2, s.tau]).toEqual([1e-2, 0.9, 0.99, 1e-3]);
  });

  it('average is the weighted mean', () => {
    const s = new FedAdam();
    const avg = s.average(
      { weightedSum: new Float32Array([3, -6]), weightSum: 3 },
      { round: 1, survivors: 3, expectedClients: 3 },
    );
    expect(Array.from(avg)).toEqual([1, -2]);
  });

  it('state round-trips: a restored optimiser continues identically', () => {
    const a = new FedAdam({ lr: 0.05 });
    let xa: Float32Array = new Float32Array([0.1, 0.2, 0.3]);
    xa = a.step(xa, new Float32Array([0.3, -0.1, 0.02]), ctx);
    xa = a.step(xa, new Float32Array([-0.2, 0.4, 0.01]), ctx);

    const b = new FedAdam({ lr: 0.05 });
    b.loadState(a.saveState());
    expect(b.steps).toBe(2);
    const next = new Float32Array([0.05, 0.05, -0.3]);
    expect(Array.from(b.step(xa, next, ctx))).toEqual(Array.from(a.step(xa, next, ctx)));

    // A fresh optimiser (no momentum) would have stepped differently.
    const fresh = new FedAdam({ lr: 0.05 });
    expect(Array.from(fresh.step(xa, next, ctx))).not.toEqual(Array.from(b.step(xa, next, ctx)));
  });

  it('saved state is a copy; bad state and shapes are rejected', () => {
    const s = new FedAdam();
    expect(s.saveState()).toEqual({ t: 0 });
    s.step(new Float32Array(2), new Float32Array([1, 1]), ctx);
    const st = s.saveState();
    (st.m as Float32Array)[0] = 99;
    expect((s.saveState().m as Float32Array)[0]).not.toBe(99);
    expect(() => s.step(new Float32Array(3), new Float32Array(3), ctx)).toThrow(/state has 2/);
    expect(() => s.loadState({ t: 1, m: new Float32Array(2) })).toThrow(/both/);
    expect(() => s.loadState({ t: -1 })).toThrow(/state.t/);
  });
});
