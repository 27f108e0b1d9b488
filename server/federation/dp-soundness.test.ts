import { describe, expect, it } from 'vitest';
import { RoundOutcome } from '../../shared/protocol/phases';
import { RoundConfigSchema, type RoundConfigInput } from '../../shared/protocol/round-config';
import { loadVersion } from '../model/global-model';
import type { NodeClientOptions } from './node-client';
import { joinClients, federationFixture, startTestServer, type TestServer } from './test-harness';
import type { RoundEndedEvent } from './coordinator';
import type { SecureMessageKind } from './rounds/round';

const { servers, clients } = federationFixture();

/** Every client sends the same constant delta (norm `norm`), loss `loss`, and claims 100 examples. */
const constantDelta =
  (norm: number, loss = 2.5) =>
  async (global: Float32Array) => ({
    delta: new Float32Array(global.length).fill(norm / Math.sqrt(global.length)),
    meanLoss: loss,
    steps: 1,
    numExamples: 100,
  });

const rounds = (over: Partial<RoundConfigInput>): RoundConfigInput => ({
  training: { localSteps: 1, batchSize: 8, learningRate: 1e-3, temperature: 0.5 },
  cohort: { mode: 'poisson', rate: 1 },
  minClients: 4,
  minSurvivors: 3,
  trainDeadlineMs: 30_000,
  phaseDeadlineMs: 5_000,
  roundIntervalMs: 0,
  ...over,
});

const join = (
  s: TestServer,
  n: number,
  prefix: string,
  extra: (i: number) => Partial<NodeClientOptions> = () => ({}),
) =>
  joinClients(s, clients, { n, prefix, seed: 5, extra: (i) => ({ trainOverride: constantDelta(0.5), ...extra(i) }) });

/** Resolves with the next round-ended event matching `pred` (event-driven, no sleeps). */
function roundEnded(s: TestServer, pred: (e: RoundEndedEvent) => boolean = () => true): Promise<RoundEndedEvent> {
  return new Promise((resolve) => {
    const on = (e: RoundEndedEvent) => {
      if (!pred(e)) return;
      s.coordinator.off('round-ended', on);
      resolve(e);
    };
    s.coordinator.on('round-ended', on);
  });
}

describe('DP rounds over real socket.io (findings 3–6)', () => {
  it('finding 5: under DP a client with 100 examples moves the model by its full clipped delta / q·N (uniform weights), not 10× less', async () => {
    const s = await startTestServer({
      roundConfig: rounds({
        secureAggregation: { enabled: true, clipNorm: 1, weightCap: 1000 },
        // z small enough that the (unseeded, by design) noise cannot move the mean by a measurable fraction.
        privacy: { enabled: true, noiseMultiplier: 0.002, targetEpsilon: 1e6, delta: 1e-5 },
      }),
    });
    servers.push(s);
    const ended = roundEnded(s);
    join(s, 4, 'fixed-denominator');
    const e = await ended;
    s.coordinator.pause();
    expect(e.outcome).toBe(RoundOutcome.Committed);
    const before = loadVersion(s.registry, 0).weights;
    const after = loadVersion(s.registry, 1).weights;
    let mean = 0;
    for (let i = 0; i < before.length; i++) mean += after[i]! - before[i]!;
    mean /= before.length;
    // q = 1, N = 4: the four equal deltas average to themselves. The noise on this mean has sd zC/(m·√d), i.e.
    // zC/(0.5·m) = 0.1% of it (z = 0.05 made that 2.5%, and the 5% bound failed about one run in twenty).
    const each = 0.5 / Math.sqrt(before.length);
    expect(Math.abs(mean - each) / each).toBeLessThan(0.05);
  });

  it('finding 4: under DP the server never receives a loss or an example count; the masked vector is the noised delta alone', async () => {
    const seen: { kind: SecureMessageKind; payload: unknown }[] = [];
    const s = await startTestServer({
      roundConfig: rounds({
        secureAggregation: { enabled: true, clipNorm: 1 },
        privacy: { enabled: true, mode: 'distributed', noiseMultiplier: 1, targetEpsilon: 1e6, delta: 1e-5 },
      }),
      onSecureReceive: (_id, kind, payload) => seen.push({ kind, payload }),
    });
    servers.push(s);
    const ended = roundEnded(s);
    join(s, 4, 'no-metadata');
    expect((await ended).outcome).toBe(RoundOutcome.Committed);
    s.coordinator.pause();
    const d = s.coordinator.globalModel.weights.length;
    const masked = seen.filter((m) => m.kind === 'maskedInput');
    expect(masked).toHaveLength(4);
    for (const m of masked) {
      expect(Object.keys(m.payload as object).sort()).toEqual(['from', 'round', 'sessionId', 'type', 'y']);
      expect((m.payload as { y: Uint32Array }).y.length).toBe(d);
    }
    for (const c of clients) expect(s.coordinator.pool.get(c.id)?.ready?.numExamples).toBeUndefined();
    expect(s.registry.getVersion(1)!.mean_loss).toBeNull();
    // Distributed: 4 survivors of m = 4 expected; the other 3 clients' noise protects each one: z·√(3/4).
    expect(s.registry.getVersion(1)!.noise_multiplier).toBeCloseTo(Math.sqrt(3 / 4), 12);
  });

  it('finding 4: in plain secure mode the loss travels inside the masked vector and only its mean is stored', async () => {
    const seen: unknown[] = [];
    const s = await startTestServer({
      roundConfig: rounds({
        cohort: { mode: 'fixed', size: 4 },
        secureAggregation: { enabled: true, clipNorm: 1, lossMax: 20 },
      }),
      onSecureReceive: (_id, kind, payload) => kind === 'maskedInput' && seen.push(payload),
    });
    servers.push(s);
    const ended = roundEnded(s);
    // Losses 1, 2, 3 and 30 (clipped to lossMax = 20): mean 6.5.
    join(s, 4, 'loss-inside', (i) => ({ trainOverride: constantDelta(0.5, [1, 2, 3, 30][i]!) }));
    expect((await ended).outcome).toBe(RoundOutcome.Committed);
    s.coordinator.pause();
    for (const p of seen) expect(p).not.toHaveProperty('meanLoss');
    expect(s.registry.getVersion(1)!.mean_loss).toBeCloseTo(6.5, 4);
  });

  it('finding 3: a round that fails after its noised sum was unmasked still counts as an accountant step, at the realised noise', async () => {
    const s = await startTestServer({
      roundConfig: rounds({
        minSurvivors: 4,
        secureAggregation: { enabled: true, clipNorm: 1 },
        privacy: { enabled: true, mode: 'distributed', noiseMultiplier: 1, targetEpsilon: 1e6, delta: 1e-5 },
      }),
    });
    servers.push(s);
    const ended = roundEnded(s);
    // One client vanishes before its masked input: the other three are unmasked, then the round fails (3 < minSurvivors).
    join(s, 4, 'failed-after-unmask', (i) =>
      i === 0 ? { dropBefore: (ev: string) => ev === 'secagg:masked-input' } : {},
    );
    const e = await ended;
    s.coordinator.pause();
    expect(e.outcome).toBe(RoundOutcome.Failed);
    expect(e.reason).toMatch(/3 of 4 survived/);
    const privacy = s.coordinator.status().privacy!;
    expect(privacy.steps).toBe(1);
    expect(privacy.epsilon).toBeGreaterThan(0);
  });

  it('finding 6: adaptive clipping started without DP keeps working when DP is turned on later', async () => {
    const plain = rounds({ secureAggregation: { enabled: true, clipNorm: 1, adaptiveClip: { enabled: true } } });
    const s = await startTestServer({ roundConfig: plain });
    servers.push(s);
    const first = roundEnded(s);
    join(s, 4, 'clip-then-dp');
    expect((await first).outcome).toBe(RoundOutcome.Committed);
    // σ_b = m/20 = 0.2 with m = 4, so z must stay below 2σ_b = 0.4.
    const withDp = RoundConfigSchema.parse({
      ...plain,
      privacy: { enabled: true, noiseMultiplier: 0.3, targetEpsilon: 1e6, delta: 1e-5 },
    });
    const next = roundEnded(s, (ev) => ev.roundId > 1);
    s.coordinator.updateConfig(withDp);
    const e = await next;
    s.coordinator.pause();
    expect(e.reason ?? '').not.toMatch(/bit noise std/);
    expect(e.outcome).toBe(RoundOutcome.Committed);
  });
});
