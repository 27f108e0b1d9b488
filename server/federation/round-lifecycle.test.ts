import { describe, expect, it } from 'vitest';
import { TINY_MODEL_CONFIG } from '../../shared/model/config';
import { RoundOutcome, RoundPhase } from '../../shared/protocol/phases';
import type { CoordinatorStatus } from '../../shared/protocol/admin';
import { NodeFederatedClient } from './node-client';
import { clientShards, federationFixture, startTestServer } from './test-harness';
import type { RoundEndedEvent } from './coordinator';

const { servers, clients } = federationFixture();

describe('the scheduler moves phases only through the phase table', () => {
  it('a round that cannot start (its DP noise cannot be split) fails from Select: no phase it never had, model kept', async () => {
    // Adaptive clipping under DP with m = 4 expected clients: σ_b = m/20 = 0.2, so z = 1 ≥ 2σ_b cannot be split.
    const s = await startTestServer({
      roundConfig: {
        training: { localSteps: 1, batchSize: 8, learningRate: 1e-3, temperature: 0.5 },
        cohort: { mode: 'poisson', rate: 1 },
        minClients: 4,
        minSurvivors: 3,
        roundIntervalMs: 60_000, // one attempt only
        secureAggregation: { enabled: true, clipNorm: 1, adaptiveClip: { enabled: true } },
        privacy: { enabled: true, noiseMultiplier: 1, targetEpsilon: 1e6, delta: 1e-5 },
      },
    });
    servers.push(s);
    const durations: string[] = [];
    const statuses: string[] = [];
    s.coordinator.on('phase-duration', (p: { phase: string }) => durations.push(p.phase));
    s.coordinator.on('status', (st: CoordinatorStatus) => statuses.push(st.phase));
    const ended = new Promise<RoundEndedEvent>((resolve) => s.coordinator.once('round-ended', resolve));
    clientShards(4, 'iid', 3).forEach((data, i) =>
      clients.push(
        new NodeFederatedClient({
          url: s.url,
          token: s.registry.createToken('client').token,
          clientId: `never-trained-${i}-client`,
          modelConfig: TINY_MODEL_CONFIG,
          data,
        }),
      ),
    );
    const e = await ended;
    s.coordinator.pause();
    expect(e.outcome).toBe(RoundOutcome.Failed);
    expect(e.reason).toMatch(/noise split: the side queries .* would spend the whole budget/);
    // Select was the only phase this round had; the old code jumped to Aggregate to fail it.
    expect(durations).toEqual([RoundPhase.Select]);
    expect(statuses).not.toContain(RoundPhase.Aggregate);
    expect(statuses).not.toContain(RoundPhase.AdvertiseKeys);
    expect(s.coordinator.status().phase).toBe(RoundPhase.Idle);
    expect(s.registry.getRound(e.roundId)!.outcome).toBe(RoundOutcome.Failed);
    expect(s.registry.latestVersion()!.version).toBe(0);
  });
});
