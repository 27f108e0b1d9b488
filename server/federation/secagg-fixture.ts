import type { NodeClientOptions, NodeFederatedClient } from './node-client';
import { joinClients, type TestServer } from './test-harness';

/** Shared setup of the SecAgg+ suites over real socket.io (secagg.test.ts, secagg-privacy.test.ts). */

export const CLIP = 0.5;
export const WEIGHT_CAP = 1000;

export const secureRounds = (n: number, minSurvivors: number) => ({
  training: { localSteps: 1, batchSize: 8, learningRate: 1e-3, temperature: 0.5 },
  cohort: { mode: 'fixed' as const, size: n },
  minClients: n,
  minSurvivors,
  trainDeadlineMs: 30_000,
  phaseDeadlineMs: 5_000,
  roundIntervalMs: 0,
  secureAggregation: { enabled: true, clipNorm: CLIP, weightCap: WEIGHT_CAP },
});

/** n clients `sa-client-<i>-xyz` with IID shards, each with its own join token; also pushed to `sink` for cleanup. */
export function addSecAggClients(
  s: TestServer,
  n: number,
  sink: NodeFederatedClient[],
  opts: (i: number) => Partial<NodeClientOptions> = () => ({}),
): NodeFederatedClient[] {
  return joinClients(s, sink, { n, prefix: 'sa', clientId: (i) => `sa-client-${i}-xyz`, seed: 9, extra: opts });
}
