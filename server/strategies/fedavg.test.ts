import { describe, expect, it } from 'vitest';
import { FedAvg } from './fedavg';
import type { AggregateInput } from './strategy';

const ctx = (round: number, survivors: number) => ({ round, survivors, expectedClients: survivors });

/** Σ wᵢΔᵢ and Σ wᵢ, as secure aggregation would deliver them. */
function sumOf(clients: { delta: number[]; w: number }[]): AggregateInput {
  const n = clients[0]!.delta.length;
  const weightedSum = new Float32Array(n);
  let weightSum = 0;
  for (const { delta, w } of clients) {
    delta.forEach((d, i) => (weightedSum[i] = weightedSum[i]! + w * d));
    weightSum += w;
  }
  return { weightedSum, weightSum };
}

describe('FedAvg', () => {
  it('takes the weighted mean and a server-lr step, over 3 rounds (hand-computed)', () => {
    const s = new FedAvg({ serverLearningRate: 0.5 });
    let global: Float32Array = new Float32Array([0, 1]);

    // Round 1: ([1,2]·1 + [3,-2]·3) / 4 = [2.5, -1]; x = [0,1] + 0.5·[2.5,-1] = [1.25, 0.5]
    let avg = s.average(
      sumOf([
        { delta: [1, 2], w: 1 },
        { delta: [3, -2], w: 3 },
      ]),
      ctx(1, 2),
    );
    expect(Array.from(avg)).toEqual([2.5, -1]);
    global = s.step(global, avg, ctx(1, 2));
    expect(Array.from(global)).toEqual([1.25, 0.5]);

    // Round 2: ([2,2]·2 + [-1,4]·2) / 4 = [0.5, 3]; x = [1.5, 2]
    avg = s.average(
      sumOf([
        { delta: [2, 2], w: 2 },
        { delta: [-1, 4], w: 2 },
      ]),
      ctx(2, 2),
    );
    expect(Array.from(avg)).toEqual([0.5, 3]);
    global = s.step(global, avg, ctx(2, 2));
    expect(Array.from(global)).toEqual([1.5, 2]);

    // Round 3: one client, weight 0.5: mean is its own delta [-4,-8]; x = [-0.5, -2]
    avg = s.average(sumOf([{ delta: [-4, -8], w: 0.5 }]), ctx(3, 1));
    expect(Array.from(avg)).toEqual([-4, -8]);
    global = s.step(global, avg, ctx(3, 1));
    expect(Array.from(global)).toEqual([-0.5, -2]);
  });

  it('defaults to server lr 1, does not mutate inputs, and is stateless', () => {
    const s = new FedAvg();
    const g = new Float32Array([1, 1]);
    const u = new Float32Array([0.25, -0.5]);
    expect(Array.from(s.step(g, u, ctx(0, 1)))).toEqual([1.25, 0.5]);
    expect(Array.from(g)).toEqual([1, 1]);
    expect(s.saveState()).toEqual({});
  });

  it('rejects a zero weight sum, mismatched shapes and a bad lr', () => {
    const s = new FedAvg();
    expect(() => s.average({ weightedSum: new Float32Array(2), weightSum: 0 }, ctx(0, 0))).toThrow(/weight sum/);
    expect(() => s.step(new Float32Array(2), new Float32Array(3), ctx(0, 1))).toThrow(/3 values/);
    expect(() => new FedAvg({ serverLearningRate: 0 })).toThrow(/serverLearningRate/);
  });
});
