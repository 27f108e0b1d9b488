import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initWasmBackendForNode } from '../../shared/tfjs/wasm-node';
import { TINY_MODEL_CONFIG } from '../../shared/model/config';
import { RoundOutcome } from '../../shared/protocol/phases';
import { Registry } from '../registry/registry';
import { NodeFederatedClient } from './node-client';
import { clientShards } from './test-harness';
import { freePort, spawnServer } from '../../e2e/sim/server-process';

const ADMIN = 'fa_restart-test-admin-token';

function startChild(port: number, dataDir: string, roundConfig: string): ChildProcess {
  return spawnServer({
    port,
    dataDir,
    args: ['--model', 'tiny', '--log-level', 'warn', '--round-config', roundConfig],
    env: { FEDSSL_ADMIN_TOKEN: ADMIN },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

async function health(url: string): Promise<{ version: number } | undefined> {
  try {
    const r = await fetch(`${url}/api/health`);
    return r.ok ? ((await r.json()) as { version: number }) : undefined;
  } catch {
    return undefined;
  }
}

async function waitFor<T>(
  fn: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function newToken(url: string): Promise<string> {
  const r = await fetch(`${url}/api/admin/tokens`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json' },
    body: '{}',
  });
  return ((await r.json()) as { token: string }).token;
}

describe('server restart', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'fedssl-restart-'));
  const roundConfig = join(dataDir, 'round.json');
  const children: ChildProcess[] = [];
  const clients: NodeFederatedClient[] = [];

  beforeAll(async () => {
    await initWasmBackendForNode();
    writeFileSync(
      roundConfig,
      JSON.stringify({
        training: { localSteps: 1, batchSize: 8 },
        cohort: { mode: 'fixed', size: 2 },
        minClients: 2,
        minSurvivors: 2,
        trainDeadlineMs: 60_000,
        roundIntervalMs: 0,
        secureAggregation: { enabled: false },
      }),
    );
  });

  afterAll(() => {
    for (const c of clients) c.close();
    for (const ch of children) ch.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('a SIGKILL mid-round loses nothing committed; the restart discards the half-done round and reruns it', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const first = startChild(port, dataDir, roundConfig);
    children.push(first);
    await waitFor(() => health(url), 30_000, 'server start');

    const shards = clientShards(2, 'iid', 5);
    // Every round based on v1 or later stalls in training until the server is gone, so exactly v1 is
    // committed before the kill: decided by the round's base version, not by when the test looks.
    let stall = true;
    let inStalledTraining = 0;
    let nowStalled = () => {};
    const bothStalled = new Promise<void>((r) => (nowStalled = r));
    let release = () => {};
    const stalled = new Promise<void>((r) => (release = r));
    const tokens: string[] = []; // a device keeps its join token across the restart (ids are bound to tokens)
    const mk = async (i: number) => {
      const c = new NodeFederatedClient({
        url,
        token: (tokens[i] ??= await newToken(url)),
        clientId: `restart-${i}-client`,
        modelConfig: TINY_MODEL_CONFIG,
        data: shards[i]!,
      });
      const train = c.train.bind(c);
      c.train = async (global, training, round) => {
        if (stall && round.modelVersion >= 1) {
          if (++inStalledTraining === 2) nowStalled();
          await stalled;
        }
        return train(global, training, round);
      };
      clients.push(c);
      return c;
    };
    await Promise.all([mk(0), mk(1)]);
    await bothStalled; // round 2 (base v1) is open and both cohort members are inside it
    const versionBeforeKill = (await health(url))!.version;
    expect(versionBeforeKill).toBe(1);
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    for (const c of clients.splice(0)) c.close();
    release();

    const second = startChild(port, dataDir, roundConfig);
    children.push(second);
    const h = await waitFor(() => health(url), 30_000, 'restart');
    expect(h.version).toBe(versionBeforeKill);

    const reg = new Registry(dataDir);
    const aborted = reg.listRounds().filter((r) => r.outcome === RoundOutcome.Aborted);
    expect(aborted.length).toBeGreaterThanOrEqual(1);
    expect(aborted[0]!.reason).toMatch(/restarted/);
    reg.close();

    stall = false;
    await Promise.all([mk(0), mk(1)]);
    await waitFor(
      async () => ((await health(url))?.version ?? 0) > versionBeforeKill || undefined,
      60_000,
      'a version after restart',
    );
    const reg2 = new Registry(dataDir);
    const v = reg2.getVersion(versionBeforeKill + 1)!;
    expect(v.parent).toBe(versionBeforeKill);
    reg2.close();
  });
});
