import { describe, expect, it } from 'vitest';
import { RoundOutcome } from '../../shared/protocol/phases';
import { computeEpsilon } from '../../shared/privacy/rdp';
import { RoundConfigSchema, type RoundConfigInput } from '../../shared/protocol/round-config';
import { loadVersion } from '../model/global-model';
import { joinClients, startTestServer, waitUntil, federationFixture, type TestServer } from './test-harness';
import { clipToNorm } from '../../shared/privacy/clip';
import type { LocalRoundResult } from '../../shared/federation/local-round';
import type { RoundStart } from '../../shared/protocol/messages';

const DELTA = 1e-5;
const dpRounds = (over: Partial<RoundConfigInput> & { privacy: RoundConfigInput['privacy'] }): RoundConfigInput => ({
  training: { localSteps: 2, batchSize: 16, learningRate: 2e-3, temperature: 0.5 },
  cohort: { mode: 'poisson', rate: 1 },
  minClients: 4,
  minSurvivors: 3,
  trainDeadlineMs: 30_000,
  phaseDeadlineMs: 5_000,
  roundIntervalMs: 0,
  secureAggregation: { enabled: true, clipNorm: 1, weightCap: 100 },
  ...over,
});

const { servers, clients } = federationFixture();

const join = (s: TestServer, n: number, prefix: string) =>
  joinClients(s, clients, { n, prefix, split: 'dirichlet:0.5', seed: 21 });

describe('differential privacy in federated rounds', () => {
  it('refuses configs the accountant cannot cover', () => {
    const bad = RoundConfigSchema.safeParse({ cohort: { mode: 'fixed', size: 4 }, privacy: { enabled: true } });
    expect(bad.success).toBe(false);
    expect(JSON.stringify(bad.error?.issues)).toMatch(/Poisson sampling/);
    const plain = RoundConfigSchema.safeParse({
      cohort: { mode: 'poisson', rate: 0.5 },
      secureAggregation: { enabled: false },
      privacy: { enabled: true },
    });
    expect(plain.success).toBe(false);
  });

  it('refuses a secure-aggregation width that could overflow, naming the numbers', () => {
    const r = RoundConfigSchema.safeParse({ cohort: { mode: 'fixed', size: 300 }, secureAggregation: { bits: 24 } });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]!.message).toMatch(/n=300 clients × \(2\^24 − 1 = 16777215\) = 5033164500 ≥ 2\^32/);
    expect(
      RoundConfigSchema.safeParse({ cohort: { mode: 'fixed', size: 200 }, secureAggregation: { bits: 24 } }).success,
    ).toBe(true);
  });

  it('budget enforcement stops training at the right round', async () => {
    const z = 2;
    // A target between ε after 3 and after 4 rounds (q = 1): exactly 3 rounds fit.
    const e3 = computeEpsilon(1, z, 3, DELTA).epsilon;
    const e4 = computeEpsilon(1, z, 4, DELTA).epsilon;
    const target = (e3 + e4) / 2;
    const s = await startTestServer({
      roundConfig: dpRounds({ privacy: { enabled: true, noiseMultiplier: z, targetEpsilon: target, delta: DELTA } }),
    });
    servers.push(s);
    join(s, 4, 'budget');
    const started: number[] = [];
    s.coordinator.on('round-started', (e: { roundId: number }) => started.push(e.roundId));
    await waitUntil(() => s.coordinator.status().privacy?.exhausted !== undefined, 60_000, 'budget exhaustion');
    const roundsAtExhaustion = started.length;
    // Ask for another round and wait for the coordinator's answer: it must refuse, not start one.
    const answer = new Promise<string>((r) => {
      s.coordinator.once('start-refused', (e: { reason: string }) => r(`refused: ${e.reason}`));
      s.coordinator.once('round-started', () => r('a round started'));
    });
    s.coordinator.resume();
    expect(await answer).toMatch(/^refused: privacy budget reached/);
    expect(started.length).toBe(roundsAtExhaustion);
    expect(s.coordinator.status().phase).toBe('idle');
    const committed = s.registry.listRounds().filter((r) => r.outcome === RoundOutcome.Committed);
    expect(committed).toHaveLength(3);
    expect(s.registry.latestVersion()!.version).toBe(3);
    const v3 = s.registry.getVersion(3)!;
    expect(v3.epsilon).toBeCloseTo(e3, 6);
    expect(v3.noise_multiplier).toBe(z);
    expect(v3.clip_norm).toBe(1);
    expect(s.coordinator.status().privacy!.exhausted).toMatch(/privacy budget reached/);
    expect(s.coordinator.status().privacy!.epsilon).toBeLessThanOrEqual(target);
  });

  it('distributed DP: clients add their share of the noise before masking, so the unmasked sum carries N(0, (zC)²)', async () => {
    const z = 0.5;
    const C = 1;
    const s = await startTestServer({
      roundConfig: dpRounds({
        secureAggregation: { enabled: true, clipNorm: C, weightCap: 100 },
        privacy: { enabled: true, mode: 'distributed', noiseMultiplier: z, targetEpsilon: 1e6, delta: DELTA },
      }),
    });
    servers.push(s);
    const recorded: LocalRoundResult[] = [];
    joinClients(s, clients, {
      n: 4,
      prefix: 'ddp',
      seed: 31,
      extra: () => ({
        onTrained: (r: RoundStart, res: LocalRoundResult) => r.modelVersion === 0 && void recorded.push(res),
      }),
    });
    await waitUntil(() => (s.registry.latestVersion()?.version ?? 0) >= 1, 60_000, 'distributed-DP round');
    s.coordinator.pause();
    const prev = loadVersion(s.registry, 0).weights;
    const next = loadVersion(s.registry, 1).weights;
    const n = recorded.length; // q = 1: every client is sampled, n_expected = 4
    expect(n).toBe(4);
    let sq = 0;
    for (let i = 0; i < prev.length; i++) {
      let mean = 0;
      for (const r of recorded) mean += (Math.min(r.numExamples, 100) / 100) * clipToNorm(r.delta, C).clipped[i]!;
      const residual = next[i]! - prev[i]! - mean / n;
      sq += residual * residual;
    }
    const std = Math.sqrt(sq / prev.length);
    // Σ of n client noises N(0, (zC)²/n) is N(0, (zC)²); divided by n_expected.
    expect(std).toBeGreaterThan(0.9 * ((z * C) / n));
    expect(std).toBeLessThan(1.1 * ((z * C) / n));
    expect(s.registry.getVersion(1)!.epsilon).toBeGreaterThan(0);
  });

  it("end to end: DP-FedAvg (z = 1, ε target 8) on Fashion-MNIST commits versions whose recorded ε is the accountant's, and a non-DP run records none", async () => {
    // Model quality under DP (probe vs random init and vs non-DP) is decided in `npm run bench:privacy`, not here.
    const run = async (privacy: boolean, prefix: string) => {
      const s = await startTestServer({
        roundConfig: dpRounds({
          cohort: { mode: 'poisson', rate: 0.5 },
          minClients: 10,
          privacy: { enabled: privacy, noiseMultiplier: 1, targetEpsilon: 8, delta: DELTA },
        }),
      });
      servers.push(s);
      join(s, 10, prefix);
      await waitUntil(() => (s.registry.latestVersion()?.version ?? 0) >= 3, 120_000, `${prefix}: three versions`);
      s.coordinator.pause();
      const v = s.registry.latestVersion()!;
      const m = loadVersion(s.registry, v.version);
      const v0 = loadVersion(s.registry, 0);
      return { v, weights: m.weights, v0: v0.weights, status: s.coordinator.status() };
    };
    const dp = await run(true, 'dp');
    const plain = await run(false, 'nodp');
    expect(dp.v.epsilon).toBeGreaterThan(0);
    expect(dp.v.epsilon).toBeLessThanOrEqual(8);
    expect(dp.v.noise_multiplier).toBe(1);
    // The version's ε is the accountant's ε for the steps counted so far (a too-small Poisson draw counts too).
    const steps = dp.status.privacy!.steps;
    expect(steps).toBeGreaterThanOrEqual(3);
    expect(dp.status.privacy!.epsilon).toBeCloseTo(computeEpsilon(0.5, 1, steps, DELTA).epsilon, 9);
    expect(dp.status.privacy!.epsilon).toBeGreaterThanOrEqual(dp.v.epsilon! - 1e-9);
    expect(dp.status.privacy!.epsilon).toBeLessThanOrEqual(8);
    expect(plain.v.epsilon ?? 0).toBe(0);
    expect(plain.v.noise_multiplier ?? 0).toBe(0);
    // Both runs moved the model, and every weight stayed finite.
    for (const r of [dp, plain]) {
      expect(r.weights.every(Number.isFinite)).toBe(true);
      let moved = 0;
      for (let i = 0; i < r.v0.length; i++) moved += (r.weights[i]! - r.v0[i]!) ** 2;
      expect(Math.sqrt(moved)).toBeGreaterThan(0);
    }
  }, 240_000);
});
