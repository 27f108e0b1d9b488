import { describe, expect, it } from 'vitest';
import { clipToNorm } from '../../shared/privacy/clip';
import { createRng } from '../../shared/data/rng';
import { quantStep } from '../../shared/secagg/quantize';
import { layerDivergenceWeights, scaleByLayer } from '../../shared/federation/divergence-weights';
import type { LocalRoundResult } from '../../shared/federation/local-round';
import type { RoundStart } from '../../shared/protocol/messages';
import { readCheckpoint } from '../registry/checkpoints';
import { federationFixture, joinClients, startTestServer, waitUntil } from './test-harness';

const CLIP = 4;
const WEIGHT_CAP = 100;
const N = 4;

/**
 * Protocol-level clients with seeded deltas of very different sizes, so their layer
 * cosines (and hence the divergence weights) differ: the divergence-aware mean and the
 * FedAvg mean of the same round are far apart, and the test can tell which one committed.
 */
describe('divergence-aware aggregation over a real secure round', () => {
  const fx = federationFixture();

  it("commits the per-layer a-weighted mean of the survivors' scaled, clipped deltas; the server sees only sums", async () => {
    const maskedPayloads: unknown[] = [];
    const s = await startTestServer({
      roundConfig: {
        training: { localSteps: 1, batchSize: 8, learningRate: 1e-3, temperature: 0.5 },
        cohort: { mode: 'fixed', size: N },
        minClients: N,
        minSurvivors: 3,
        trainDeadlineMs: 30_000,
        phaseDeadlineMs: 10_000,
        roundIntervalMs: 0,
        secureAggregation: { enabled: true, clipNorm: CLIP, weightCap: WEIGHT_CAP },
        aggregation: 'divergence',
      },
      onSecureReceive: (_id, kind, payload) => kind === 'maskedInput' && void maskedPayloads.push(payload),
    });
    fx.servers.push(s);
    const sizes = s.coordinator.globalModel.layout.entries.map((e) => e.size);
    const results = new Map<number, { r: LocalRoundResult; global: Float32Array }>();
    joinClients(s, fx.clients, {
      n: N,
      prefix: 'div',
      clientId: (i) => `div-client-${i}-xyz`,
      seed: 3,
      extra: (i) => {
        const rng = createRng(100 + i);
        return {
          trainOverride: async (global: Float32Array, _t, round: RoundStart) => {
            // Client i's delta is (0.02·4^i)·‖layer‖-scaled noise: small for 0, comparable to the weights for 3.
            const scale = 0.02 * 4 ** i;
            const delta = new Float32Array(global.length);
            let o = 0;
            for (const size of sizes) {
              let ss = 0;
              for (let j = o; j < o + size; j++) ss += global[j]! * global[j]!;
              const rms = Math.sqrt(ss / size) || 0.05;
              for (let j = o; j < o + size; j++) delta[j] = scale * rms * rng.normal();
              o += size;
            }
            const r = { delta, meanLoss: 3, steps: 1, numExamples: 20 + 20 * i };
            if (round.modelVersion === 0) results.set(i, { r, global });
            return r;
          },
        };
      },
    });
    await waitUntil(() => (s.registry.latestVersion()?.version ?? 0) >= 1, 60_000, 'divergence-aware secure round');
    s.coordinator.pause();
    const prev = readCheckpoint(s.registry.getVersion(0)!.checkpoint_path).weights;
    const next = readCheckpoint(s.registry.getVersion(1)!.checkpoint_path).weights;
    expect(results.size).toBe(N);

    const d = prev.length;
    const S = new Float64Array(d);
    const A = new Float64Array(sizes.length);
    const plain = new Float64Array(d);
    let W = 0;
    for (const { r, global } of results.values()) {
      const w = Math.min(r.numExamples, WEIGHT_CAP) / WEIGHT_CAP;
      W += w;
      const a = layerDivergenceWeights(global, r.delta, sizes);
      const scaled = clipToNorm(scaleByLayer(r.delta, a, sizes), CLIP).clipped;
      for (let j = 0; j < d; j++) S[j]! += w * scaled[j]!;
      a.forEach((v, l) => (A[l]! += w * v));
    }
    for (const { r } of results.values()) {
      const w = Math.min(r.numExamples, WEIGHT_CAP) / WEIGHT_CAP;
      const c = clipToNorm(r.delta, CLIP).clipped;
      for (let j = 0; j < d; j++) plain[j]! += (w * c[j]!) / W;
    }
    const expected = new Float64Array(d);
    let o = 0;
    sizes.forEach((size, l) => {
      for (let j = o; j < o + size; j++) expected[j] = S[j]! / A[l]!;
      o += size;
    });
    // Quantization: ≤ n steps on each S_ℓ coordinate and ≤ n/(2^b − 1) on each A_ℓ.
    const bits = 24;
    const step = quantStep({ clipNorm: CLIP, bits });
    const Amin = Math.min(...A);
    let maxErr = 0;
    let tol = 0;
    let fromFedAvg = 0;
    for (let j = 0; j < d; j++) {
      const got = next[j]! - prev[j]!;
      maxErr = Math.max(maxErr, Math.abs(got - expected[j]!));
      tol = Math.max(tol, (N * step + (Math.abs(expected[j]!) * N) / (2 ** bits - 1)) / Amin);
      fromFedAvg = Math.max(fromFedAvg, Math.abs(plain[j]! - expected[j]!));
    }
    expect(maxErr).toBeLessThan(2 * tol + 1e-6);
    // The weights mattered: FedAvg's answer is far outside the tolerance.
    expect(fromFedAvg).toBeGreaterThan(100 * (2 * tol + 1e-6));
    // What the server received: only masked vectors of the layout's length (d + weight + loss + one per layer).
    expect(maskedPayloads.length).toBe(N);
  });
});
