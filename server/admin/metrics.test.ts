import { describe, expect, it } from 'vitest';
import { TINY_MODEL_CONFIG } from '../../shared/model/config';
import { EVENTS } from '../../shared/protocol/messages';
import { SecureAggregationConfigSchema } from '../../shared/protocol/round-config';
import { NodeFederatedClient } from '../federation/node-client';
import {
  clientShards,
  startTestServer,
  TEST_ADMIN_TOKEN,
  federationFixture,
  type TestServer,
} from '../federation/test-harness';

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
        cohort: { mode: 'fixed', size: 2 },
        minClients: 2,
        minSurvivors: 2,
        trainDeadlineMs: 30_000,
        roundIntervalMs: 60_000,
        maxUpdateNorm: 1e3,
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
      clients.push(
        new NodeFederatedClient({
          url: s.url,
          token: s.registry.createToken('client').token,
          clientId: `metrics-client-${i}`,
          modelConfig: TINY_MODEL_CONFIG,
          data: shards[i]!,
        }),
      );
    }
    await new Promise<void>((r) => s.coordinator.once('round-ended', () => r()));
    expect(s.registry.latestVersion()!.version).toBe(1);

    // A stale update is rejected and counted by its reason code.
    const ack = s.coordinator.submitUpdate(
      'metrics-client-0',
      { roundId: 999, modelVersion: 0, numExamples: 1, meanLoss: 0, steps: 1, delta: new Uint8Array(8) },
      8,
    );
    expect(ack.ok).toBe(false);

    const after = await scrape(s);
    expect(sample(after, 'fedssl_rounds_started_total')).toBe(1);
    expect(sample(after, 'fedssl_rounds_completed_total')).toBe(1);
    expect(sample(after, 'fedssl_bytes_received_total')).toBeGreaterThan(
      2 * s.coordinator.globalModel.layout.totalSize * 4 * 0.99,
    );
    expect(sample(after, 'fedssl_bytes_sent_total')).toBeGreaterThan(0);
    expect(sample(after, 'fedssl_connected_clients')).toBe(2);
    expect(sample(after, 'fedssl_global_model_version')).toBe(1);
    expect(sample(after, 'fedssl_rejected_updates_total', 'reason="stale_round"')).toBe(1);
    expect(sample(after, 'fedssl_round_phase_duration_seconds_count', 'phase="train"')).toBe(1);
    expect(sample(after, 'fedssl_round_phase_duration_seconds_count', 'phase="select"')).toBe(1);
    expect(sample(after, 'fedssl_round_duration_seconds_count', 'outcome="committed"')).toBe(1);
    expect(sample(after, 'fedssl_epsilon_spent')).toBe(0);
    // Each client's events were timed as they held the event loop (the REST-side stale update above was not).
    expect(sample(after, 'fedssl_handler_calls_total', 'event="handshake"')).toBe(2);
    expect(sample(after, 'fedssl_handler_calls_total', 'event="connect"')).toBe(2);
    expect(sample(after, 'fedssl_handler_calls_total', 'event="client:ready"')).toBeGreaterThanOrEqual(2);
    expect(sample(after, 'fedssl_handler_calls_total', `event="${EVENTS.submitUpdate}"`)).toBe(2);
    const longest = sample(after, 'fedssl_handler_max_seconds', `event="${EVENTS.submitUpdate}"`)!;
    expect(longest).toBeGreaterThan(0);
    const long = sample(after, 'fedssl_handler_long_total', `event="${EVENTS.submitUpdate}"`)!;
    expect(long > 0).toBe(longest > 0.05); // a call counts as long exactly when it passed 50 ms
  });

  it("counts a real failed round by outcome, in its own server's registry only", async () => {
    // Plain rounds of 2 that need 2 survivors; one cohort member disconnects as soon as it is asked to train.
    const plain = {
      training: { localSteps: 1, batchSize: 8, learningRate: 1e-3, temperature: 0.5 },
      cohort: { mode: 'fixed' as const, size: 2 },
      minClients: 2,
      minSurvivors: 2,
      trainDeadlineMs: 60_000,
      roundIntervalMs: 60_000,
      secureAggregation: SecureAggregationConfigSchema.parse({ enabled: false }),
    };
    const a = await startTestServer({ roundConfig: plain });
    servers.push(a);
    const b = await startTestServer({ manualStart: true });
    servers.push(b);
    const shards = clientShards(2, 'iid', 6);
    const made = shards.map(
      (data, i) =>
        new NodeFederatedClient({
          url: a.url,
          token: a.registry.createToken('client').token,
          clientId: `failing-round-client-${i}`,
          modelConfig: TINY_MODEL_CONFIG,
          data,
        }),
    );
    clients.push(...made);
    const quitter = made[0]!;
    quitter.train = () => {
      quitter.close();
      return new Promise(() => {}); // never delivers
    };
    const ended = await new Promise<{ outcome: string }>((r) => a.coordinator.once('round-ended', r));
    expect(ended.outcome).toBe('failed');

    const text = await scrape(a);
    expect(sample(text, 'fedssl_rounds_started_total')).toBe(1);
    expect(sample(text, 'fedssl_rounds_failed_total', 'outcome="failed"')).toBe(1);
    expect(sample(text, 'fedssl_rounds_completed_total')).toBe(0);
    expect(sample(text, 'fedssl_global_model_version')).toBe(0);
    // The survivor's delta was received and counted; the model went out to both.
    expect(sample(text, 'fedssl_bytes_received_total')).toBeGreaterThan(
      a.coordinator.globalModel.layout.totalSize * 4 * 0.99,
    );
    expect(sample(text, 'fedssl_bytes_sent_total')).toBeGreaterThan(0);
    expect(a.registry.listRounds()[0]).toMatchObject({ outcome: 'failed' });

    const other = await scrape(b);
    expect(sample(other, 'fedssl_rounds_started_total')).toBe(0);
    expect(sample(other, 'fedssl_rounds_failed_total', 'outcome="failed"') ?? 0).toBe(0);
  });
});
