import { describe, expect, it } from 'vitest';
import { TINY_MODEL_CONFIG } from '../../shared/model/config';
import { SecureAggregationConfigSchema } from '../../shared/protocol/round-config';
import { NodeFederatedClient } from '../federation/node-client';
import { clientShards, startTestServer, TEST_ADMIN_TOKEN, waitUntil, federationFixture, type TestServer } from '../federation/test-harness';

const { servers, clients } = federationFixture();

async function scrape(s: TestServer): Promise<string> {
  const res = await fetch(`${s.url}/metrics`, { headers: { Authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
  expect(res.status).toBe(200);
  return res.text();
}

/** The value of one sample (`name{labels} value`), or undefined when absent. */
function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(labels ? `${name}{${labels}} ` : `${name} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('Prometheus /metrics', () => {
  it('counters, histograms and gauges move after a committed round', async () => {
    const s = await startTestServer({
      roundConfig: {
        training: { localSteps: 1, batchSize: 8, learningRate: 1e-3, temperature: 0.5 },
        cohort: { mode: 'fixed', size: 2 }, minClients: 2, minSurvivors: 2, trainDeadlineMs: 30_000, roundIntervalMs: 60_000, maxUpdateNorm: 1e3,
        // Plain rounds: this test is about the metrics, not the masking protocol.
        secureAggregation: SecureAggregationConfigSchema.parse({ enabled: false }),
      },
    });
    servers.push(s);
    const before = await scrape(s);
    expect(sample(before, 'fedssl_rounds_started_total')).toBe(0);
    expect(sample(before, 'fedssl_rounds_completed_total')).toBe(0);
    expect(sample(before, 'fedssl_bytes_received_total')).toBe(0);
    expect(sample(before, 'fedssl_connected_clients')).toBe(0);
    expect(sample(before, 'fedssl_global_model_version')).toBe(0);
    // prom-client's default process metrics are there.
    expect(sample(before, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(before).toMatch(/^nodejs_heap_size_used_bytes /m);

    const shards = clientShards(2, 'iid', 5);
    for (let i = 0; i < 2; i++) {
      clients.push(new NodeFederatedClient({
        url: s.url, token: s.registry.createToken('client').token, clientId: `metrics-client-${i}`, modelConfig: TINY_MODEL_CONFIG, data: shards[i]!,
      }));
    }
    await waitUntil(() => (s.registry.latestVersion()?.version ?? 0) >= 1, 90_000, 'a committed round');
    // The round-ended event follows the commit synchronously; give the loop a tick.
    await new Promise((r) => setTimeout(r, 50));

    // A stale update is rejected and counted by its reason code.
    const ack = s.coordinator.submitUpdate('metrics-client-0', { roundId: 999, modelVersion: 0, numExamples: 1, meanLoss: 0, steps: 1, delta: new Uint8Array(8) }, 8);
    expect(ack.ok).toBe(false);

    const after = await scrape(s);
    expect(sample(after, 'fedssl_rounds_started_total')).toBe(1);
    expect(sample(after, 'fedssl_rounds_completed_total')).toBe(1);
    expect(sample(after, 'fedssl_bytes_received_total')).toBeGreaterThan(2 * s.coordinator.globalModel.layout.totalSize * 4 * 0.99);
    expect(sample(after, 'fedssl_bytes_sent_total')).toBeGreaterThan(0);
    expect(sample(after, 'fedssl_connected_clients')).toBe(2);
    expect(sample(after, 'fedssl_global_model_version')).toBe(1);
    expect(sample(after, 'fedssl_rejected_updates_total', 'reason="stale_round"')).toBe(1);
    expect(sample(after, 'fedssl_round_phase_duration_seconds_count', 'phase="train"')).toBe(1);
    expect(sample(after, 'fedssl_round_phase_duration_seconds_count', 'phase="select"')).toBe(1);
    expect(sample(after, 'fedssl_round_duration_seconds_count', 'outcome="committed"')).toBe(1);
    expect(sample(after, 'fedssl_epsilon_spent')).toBe(0);
  });

  it('several servers in one process keep separate registries', async () => {
    const a = await startTestServer({ manualStart: true });
    servers.push(a);
    const b = await startTestServer({ manualStart: true });
    servers.push(b);
    a.coordinator.emit('round-started', { roundId: 1, cohort: [] });
    expect(sample(await scrape(a), 'fedssl_rounds_started_total')).toBe(1);
    expect(sample(await scrape(b), 'fedssl_rounds_started_total')).toBe(0);
  });

  it('counts failed rounds by outcome', async () => {
    const s = await startTestServer({ manualStart: true });
    servers.push(s);
    s.coordinator.emit('round-ended', { roundId: 1, outcome: 'failed', survivors: 0, dropouts: 2, durationMs: 1500, meanLoss: null, bytesUp: 10, bytesDown: 20 });
    const text = await scrape(s);
    expect(sample(text, 'fedssl_rounds_failed_total', 'outcome="failed"')).toBe(1);
    expect(sample(text, 'fedssl_rounds_completed_total')).toBe(0);
    expect(sample(text, 'fedssl_bytes_received_total')).toBe(10);
    expect(sample(text, 'fedssl_bytes_sent_total')).toBe(20);
  });
});
