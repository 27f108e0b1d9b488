import { describe, expect, it } from 'vitest';
import { RoundOutcome } from '../../shared/protocol/phases';
import { SECAGG_EVENTS } from '../../shared/protocol/secagg-messages';
import { clipToNorm } from '../../shared/privacy/clip';
import { quantStep } from '../../shared/secagg/quantize';
import { readCheckpoint } from '../registry/checkpoints';
import type { NodeFederatedClient } from './node-client';
import { federationFixture, startTestServer, waitUntil, type TestServer } from './test-harness';
import { CLIP, WEIGHT_CAP, addSecAggClients, secureRounds } from './secagg-fixture';
import type { LocalRoundResult } from '../../shared/federation/local-round';
import type { RoundStart } from '../../shared/protocol/messages';

const { servers, clients } = federationFixture();

const addClients = (
  s: TestServer,
  n: number,
  opts?: (i: number) => Partial<ConstructorParameters<typeof NodeFederatedClient>[0]>,
) => addSecAggClients(s, n, clients, opts);

describe('secure aggregation over real socket.io', () => {
  it('commits a round whose update equals the plain weighted mean of clipped deltas (within the quantization bound)', async () => {
    const s = await startTestServer({ roundConfig: secureRounds(4, 3) });
    servers.push(s);
    const deltas = new Map<string, LocalRoundResult>();
    addClients(s, 4, (i) => ({
      onTrained: (r: RoundStart, res: LocalRoundResult) =>
        r.modelVersion === 0 && void deltas.set(`sa-client-${i}-xyz`, res),
    }));
    await waitUntil(() => (s.registry.latestVersion()?.version ?? 0) >= 1, 20_000, 'secure round commit').catch((e) => {
      console.log(
        JSON.stringify(
          clients.map((c) =>
            c.client.events.map(
              (ev) =>
                ev.type +
                ('reason' in ev ? ':' + String(ev.reason) : '') +
                ('message' in ev ? ':' + String(ev.message) : ''),
            ),
          ),
          null,
          0,
        ),
      );
      console.log(JSON.stringify(s.registry.listRounds()));
      throw e;
    });
    s.coordinator.pause();
    const v1 = s.registry.getVersion(1)!;
    const prev = readCheckpoint(s.registry.getVersion(0)!.checkpoint_path).weights;
    const next = readCheckpoint(v1.checkpoint_path).weights;
    let wsum = 0;
    const expected = new Float64Array(prev.length);
    for (const r of deltas.values()) {
      const w = Math.min(r.numExamples, WEIGHT_CAP) / WEIGHT_CAP;
      const { clipped } = clipToNorm(r.delta, CLIP);
      wsum += w;
      for (let i = 0; i < expected.length; i++) expected[i]! += w * clipped[i]!;
    }
    const n = deltas.size;
    // Quantization error: n·step on the weighted sum and n/(2^b−1) on the weight sum.
    const bits = 24;
    const step = quantStep({ clipNorm: CLIP, bits });
    let maxErr = 0;
    for (let i = 0; i < prev.length; i++)
      maxErr = Math.max(maxErr, Math.abs(next[i]! - prev[i]! - expected[i]! / wsum));
    expect(maxErr).toBeLessThan((2 * n * step) / wsum + 1e-6);
    expect(v1.survivors).toBe(4);
  });

  /** Expected update: Σ w·clip(Δ) / Σ w over the given clients. */
  function plainMean(results: LocalRoundResult[], d: number): { mean: Float64Array; wsum: number } {
    const mean = new Float64Array(d);
    let wsum = 0;
    for (const r of results) {
      const w = Math.min(r.numExamples, WEIGHT_CAP) / WEIGHT_CAP;
      const { clipped } = clipToNorm(r.delta, CLIP);
      wsum += w;
      for (let i = 0; i < d; i++) mean[i]! += w * clipped[i]!;
    }
    for (let i = 0; i < d; i++) mean[i]! /= wsum;
    return { mean, wsum };
  }

  it("dropout matrix (n = 10): drops after AdvertiseKeys, after ShareKeys and after MaskedInput; the sum is the survivors' plain sum", async () => {
    const s = await startTestServer({ roundConfig: secureRounds(10, 5) });
    servers.push(s);
    const results = new Map<number, LocalRoundResult>();
    const dropAt: Record<number, string> = {
      7: SECAGG_EVENTS.shareKeys,
      8: SECAGG_EVENTS.maskedInput,
      9: SECAGG_EVENTS.unmask,
    };
    addClients(s, 10, (i) => ({
      onTrained: (r: RoundStart, res: LocalRoundResult) => r.modelVersion === 0 && void results.set(i, res),
      dropBefore: (event: string) => event === dropAt[i],
    }));
    await waitUntil(() => (s.registry.latestVersion()?.version ?? 0) >= 1, 20_000, 'secure round with dropouts').catch(
      (e) => {
        console.log('rounds', JSON.stringify(s.registry.listRounds().map((r) => [r.id, r.outcome, r.reason])));
        throw e;
      },
    );
    s.coordinator.pause();
    const round = s.registry.listRounds().find((r) => r.new_version === 1)!;
    // Survivors = clients whose masked input arrived: 0..6 and 9 (9 vanished only before Unmask).
    expect(round.survivors).toBe(8);
    const survivors = [0, 1, 2, 3, 4, 5, 6, 9].map((i) => results.get(i)!);
    const prev = readCheckpoint(s.registry.getVersion(0)!.checkpoint_path).weights;
    const next = readCheckpoint(s.registry.getVersion(1)!.checkpoint_path).weights;
    const { mean, wsum } = plainMean(survivors, prev.length);
    const step = quantStep({ clipNorm: CLIP, bits: 24 });
    let maxErr = 0;
    for (let i = 0; i < prev.length; i++) maxErr = Math.max(maxErr, Math.abs(next[i]! - prev[i]! - mean[i]!));
    expect(maxErr).toBeLessThan((2 * 8 * step) / wsum + 1e-6);
    // Leaving client 8 (dropped after ShareKeys, trained but never sent) in would change the answer.
    const withDropped = plainMean([...survivors, results.get(8)!], prev.length).mean;
    let diff = 0;
    for (let i = 0; i < prev.length; i++) diff = Math.max(diff, Math.abs(withDropped[i]! - mean[i]!));
    expect(diff).toBeGreaterThan(100 * maxErr);
  });

  it('fails cleanly, keeping the global model, when fewer than t survive', async () => {
    const s = await startTestServer({ roundConfig: secureRounds(5, 2) });
    servers.push(s);
    const before = s.coordinator.globalModel.hash;
    // n = 5 ⇒ everyone is a neighbour (k = 4), t = 3. Three clients vanish after ShareKeys.
    addClients(s, 5, (i) => ({ dropBefore: (event: string) => i >= 2 && event === SECAGG_EVENTS.maskedInput }));
    await waitUntil(
      () => s.registry.listRounds().some((r) => r.outcome === RoundOutcome.Failed),
      60_000,
      'failed round',
    );
    s.coordinator.pause();
    const failed = s.registry.listRounds().find((r) => r.outcome === RoundOutcome.Failed)!;
    expect(failed.reason).toMatch(/secure aggregation failed/);
    expect(failed.new_version).toBeNull();
    expect(s.registry.latestVersion()!.version).toBe(0);
    expect(s.coordinator.globalModel.hash).toBe(before);
  });

  it('adaptive clipping: the masked "not clipped" bit moves C down when updates fit and up when they are clipped', async () => {
    for (const [startC, direction] of [
      [10, -1],
      [1e-6, 1],
    ] as const) {
      const s = await startTestServer({
        roundConfig: {
          ...secureRounds(4, 3),
          secureAggregation: {
            enabled: true,
            clipNorm: startC,
            weightCap: WEIGHT_CAP,
            adaptiveClip: { enabled: true },
          },
        },
      });
      servers.push(s);
      addClients(s, 4);
      await waitUntil(() => (s.registry.latestVersion()?.version ?? 0) >= 3, 60_000, 'three adaptive rounds');
      s.coordinator.pause();
      const used = [1, 2, 3].map((v) => s.registry.getVersion(v)!.clip_norm!);
      // b̄ = 1 (nothing clipped) or 0 (everything clipped), γ = 0.5, η = 0.2, no DP noise on the bit.
      used.forEach((c, k) => expect(c / (startC * Math.exp(direction * 0.1 * k))).toBeCloseTo(1, 4));
      for (const c of clients.splice(0)) c.close();
      await servers.pop()!.cleanup();
    }
  });
});
