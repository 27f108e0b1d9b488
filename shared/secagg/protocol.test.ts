import { describe, expect, it } from 'vitest';
import { RoundFailed } from './messages';
import { decodeSum, encodeWeightedUpdate, quantStep, type QuantConfig } from './quantize';
import { simulateRound, type DropPoint } from './simulate';

const N = 10;
const D = 2000;
const cfg: QuantConfig = { clipNorm: 1, bits: 20 };
const ids = Array.from({ length: N }, (_, i) => `client-${String(i).padStart(2, '0')}`);

function lcg(s: number) {
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
}

/** Per-client clipped delta (L2 ≤ C) and weight in [0, 1]. */
function clientData(i: number): { delta: Float32Array; weight: number } {
  const r = lcg(1000 + i);
  const delta = new Float32Array(D).map(() => r() * 2 - 1);
  let norm = 0;
  for (const v of delta) norm += v * v;
  norm = Math.sqrt(norm);
  if (norm > cfg.clipNorm) for (let j = 0; j < D; j++) delta[j]! *= cfg.clipNorm / norm;
  // A few large coordinates so the bound is exercised away from 0.
  delta[0] = 0.9;
  delta[1] = -0.95;
  return { delta, weight: 0.2 + 0.8 * r() };
}

async function run(drops: [string, DropPoint][], round = 1) {
  const data = new Map(ids.map((id, i) => [id, clientData(i)]));
  const encoded = new Map<string, Uint32Array>();
  const out = await simulateRound({
    round,
    sessionId: 'sess-A',
    clientIds: ids,
    vectorLength: D + 1,
    graphSeed: new Uint8Array([round]),
    drops: new Map(drops),
    input: (id) => {
      const { delta, weight } = data.get(id)!;
      const x = encodeWeightedUpdate(delta, weight, cfg);
      encoded.set(id, x);
      return x;
    },
  });
  return { ...out, data, encoded };
}

function checkSum(o: Awaited<ReturnType<typeof run>>, expectedSurvivors: string[]) {
  const { result, data, encoded } = o;
  expect(result.survivors).toEqual(expectedSurvivors);
  // Exact in the integer domain.
  const plainInt = new Uint32Array(D + 1);
  for (const id of expectedSurvivors) {
    const x = encoded.get(id)!;
    for (let i = 0; i <= D; i++) plainInt[i] = plainInt[i]! + x[i]!;
  }
  expect(result.sum).toEqual(plainInt);
  // Within the quantization bound after decoding.
  const n = expectedSurvivors.length;
  const dec = decodeSum(result.sum, n, cfg);
  const step = quantStep(cfg);
  let wTrue = 0;
  let maxErr = 0;
  for (let i = 0; i < D; i++) {
    let t = 0;
    for (const id of expectedSurvivors) t += data.get(id)!.weight * data.get(id)!.delta[i]!;
    maxErr = Math.max(maxErr, Math.abs(dec.weightedSum[i]! - t) - Math.abs(t) * 2 ** -23);
  }
  for (const id of expectedSurvivors) wTrue += data.get(id)!.weight;
  expect(maxErr).toBeLessThanOrEqual(n * step);
  expect(Math.abs(dec.weightSum - wTrue)).toBeLessThanOrEqual(n / (2 ** cfg.bits - 1));
}

describe('full SecAgg+ round, n = 10, in memory', () => {
  it('no dropouts: sum is exact and decodes within n·step', async () => {
    const o = await run([]);
    expect(o.server.degree).toBe(8);
    expect(o.server.threshold).toBe(5);
    checkSum(o, ids);
    expect(o.result.dropped).toEqual([]);
  });

  it('(a) dropouts after AdvertiseKeys (and one before)', async () => {
    const o = await run([
      ['client-03', 'afterAdvertise'],
      ['client-07', 'afterAdvertise'],
      ['client-05', 'beforeAdvertise'],
    ]);
    checkSum(
      o,
      ids.filter((id) => !['client-03', 'client-05', 'client-07'].includes(id)),
    );
    expect(o.result.dropped).toEqual([]); // they never shared keys, so no masks to remove
  });

  it('(b) dropouts after ShareKeys: their pair masks are reconstructed and removed', async () => {
    const o = await run([
      ['client-01', 'afterShareKeys'],
      ['client-08', 'afterShareKeys'],
    ]);
    checkSum(
      o,
      ids.filter((id) => id !== 'client-01' && id !== 'client-08'),
    );
    expect(o.result.dropped).toEqual(['client-01', 'client-08']);
  });

  it('(c) dropouts after MaskedInput, before Unmask: their inputs count', async () => {
    const o = await run([
      ['client-02', 'afterMaskedInput'],
      ['client-09', 'afterMaskedInput'],
    ]);
    checkSum(o, ids);
  });

  it('mixed dropouts at every phase', async () => {
    const o = await run([
      ['client-00', 'afterAdvertise'],
      ['client-04', 'afterShareKeys'],
      ['client-06', 'afterMaskedInput'],
    ]);
    checkSum(
      o,
      ids.filter((id) => id !== 'client-00' && id !== 'client-04'),
    );
    expect(o.result.dropped).toEqual(['client-04']);
  });

  it('fails cleanly with fewer than t survivors', async () => {
    const six: [string, DropPoint][] = ids.slice(0, 6).map((id) => [id, 'afterShareKeys']);
    const err = await run(six).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RoundFailed);
    expect((err as RoundFailed).code).toBe('too_few_survivors');
    expect((err as Error).message).toMatch(/only 4 clients sent masked inputs, threshold is 5/);
  });

  it('fails cleanly when too few clients answer Unmask to reconstruct a seed', async () => {
    const six: [string, DropPoint][] = ids.slice(0, 6).map((id) => [id, 'afterMaskedInput']);
    const err = await run(six).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RoundFailed);
    expect((err as RoundFailed).code).toBe('reconstruction_failed');
  });

  it('fails cleanly when too few advertise', async () => {
    const drops: [string, DropPoint][] = ids.slice(0, 6).map((id) => [id, 'beforeAdvertise']);
    await expect(run(drops)).rejects.toThrow(RoundFailed);
  });
});
