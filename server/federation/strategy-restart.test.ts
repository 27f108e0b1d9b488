import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createStrategy } from '../strategies/index';
import type { Strategy } from '../strategies/strategy';
import { joinClients, federationFixture, startTestServer, waitUntil, type TestServer } from './test-harness';

const { servers, clients } = federationFixture();
const dataDir = mkdtempSync(join(tmpdir(), 'fedssl-strategy-restart-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const plainRounds = {
  training: { localSteps: 1, batchSize: 8, learningRate: 1e-3, temperature: 0.5 },
  cohort: { mode: 'fixed' as const, size: 2 },
  minClients: 2,
  minSurvivors: 2,
  trainDeadlineMs: 60_000,
  roundIntervalMs: 0,
  secureAggregation: { enabled: false },
};

async function serverWith(strategy: Strategy, manualStart: boolean): Promise<TestServer> {
  const s = await startTestServer({ roundConfig: plainRounds, strategy, manualStart }, { dataDir });
  servers.push(s);
  return s;
}

const join2 = (s: TestServer, tag: string) => joinClients(s, clients, { n: 2, prefix: tag, seed: 4 });

const same = (a: Record<string, Float32Array | number>, b: Record<string, Float32Array | number>) => {
  expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
  for (const k of Object.keys(a)) {
    const x = a[k]!;
    const y = b[k]!;
    if (typeof x === 'number') expect(y).toBe(x);
    else expect(Array.from(y as Float32Array)).toEqual(Array.from(x));
  }
};

describe('strategy state is checkpointed with each version', () => {
  it("FedAdam continues after a restart with the moments it had, and a rollback restores the target version's moments", async () => {
    const first = createStrategy({ name: 'fedadam' });
    const a = await serverWith(first, false);
    join2(a, 'before');
    await waitUntil(() => (a.registry.latestVersion()?.version ?? 0) >= 2, 60_000, 'two FedAdam rounds');
    a.coordinator.pause();
    await waitUntil(() => a.coordinator.status().phase === 'idle', 60_000, 'the round in flight to end');
    const atStop = first.saveState();
    const version = a.registry.latestVersion()!.version;
    expect(atStop.t).toBe(version); // one FedAdam step per committed round
    expect(atStop.m).toBeInstanceOf(Float32Array);
    for (const c of clients.splice(0)) c.close();
    await a.cleanup();
    servers.splice(servers.indexOf(a), 1);

    // A fresh process would build a fresh FedAdam; the server must hand it the saved moments.
    const second = createStrategy({ name: 'fedadam' });
    const b = await serverWith(second, true);
    expect(b.coordinator.globalModel.version).toBe(version);
    same(second.saveState(), atStop);

    // Rolling back to v1 brings back the moments that produced v1 (t = 1), not the latest ones.
    await b.coordinator.rollback(1);
    const afterRollback = second.saveState();
    expect(afterRollback.t).toBe(1);
    expect(Array.from(afterRollback.m as Float32Array)).not.toEqual(Array.from(atStop.m as Float32Array));

    // A rollback to v0 (saved before any step) resets the optimiser.
    await b.coordinator.rollback(0);
    expect(second.saveState()).toEqual({ t: 0 });
  });
});
