/**
 * Process policy, uncaught exceptions (README, "Crash policy"): an error thrown from a round callback that
 * nothing can catch ends the process cleanly (fatal log, sockets and SQLite closed, exit code 1); nothing
 * committed is lost, and a restart on the same data resumes from the last committed version and commits
 * the next one. Real server processes, sockets, SQLite.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TINY_MODEL_CONFIG } from '../../shared/model/config';
import { RoundOutcome } from '../../shared/protocol/phases';
import { NodeFederatedClient } from '../federation/node-client';
import { clientShards } from '../federation/test-harness';
import { Registry } from '../registry/registry';
import { readCheckpoint } from '../registry/checkpoints';
import { freePort, spawnServer, whenHealthy } from '../../e2e/sim/server-process';

const ROOT = resolve(import.meta.dirname, '../..');
const ADMIN = 'fa_crash-policy-admin-token';

async function version(url: string): Promise<number> {
  return ((await (await fetch(`${url}/api/health`)).json()) as { version: number }).version;
}

async function token(url: string): Promise<string> {
  const r = await fetch(`${url}/api/admin/tokens`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json' },
    body: '{}',
  });
  return ((await r.json()) as { token: string }).token;
}

describe('crash policy', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'fedssl-crash-'));
  const roundConfig = join(dataDir, 'round.json');
  writeFileSync(
    roundConfig,
    JSON.stringify({
      cohort: { mode: 'fixed', size: 2 },
      minClients: 2,
      minSurvivors: 2,
      trainDeadlineMs: 60_000,
      roundIntervalMs: 0,
      secureAggregation: { enabled: false },
    }),
  );
  const env = {
    FEDSSL_ADMIN_TOKEN: ADMIN,
    FEDSSL_EVAL: '0',
    FEDSSL_DATA_DIR: dataDir,
    FEDSSL_MODEL: 'tiny',
    FEDSSL_ROUND_CONFIG: roundConfig,
    FEDSSL_LOG_LEVEL: 'info',
  };
  const children: ChildProcess[] = [];
  const clients: NodeFederatedClient[] = [];
  afterAll(() => {
    for (const c of clients) c.close();
    for (const ch of children) ch.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('a rejection in a round callback is logged and serving goes on; a throw: fatal log, clean close, exit 1; the restart resumes', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const crashing = spawn(process.execPath, ['--import', 'tsx', 'server/security/fixtures/crash-on-round.ts'], {
      cwd: ROOT,
      env: { ...process.env, ...env, FEDSSL_PORT: String(port), REJECT_AT_ROUND: '2', CRASH_AT_ROUND: '3' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(crashing);
    let output = '';
    crashing.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    crashing.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    const exited = new Promise<number | null>((ok) => crashing.once('exit', (code) => ok(code)));
    await whenHealthy(url, crashing);
    const tokens = [await token(url), await token(url)];
    const shards = clientShards(2, 'iid', 11);
    const connect = () =>
      shards.map((data, i) => {
        const c = new NodeFederatedClient({
          url,
          token: tokens[i]!,
          clientId: `crash-policy-${i}`,
          modelConfig: TINY_MODEL_CONFIG,
          data,
          trainOverride: async (g) => ({
            delta: new Float32Array(g.length).fill(1e-3),
            meanLoss: 1,
            steps: 1,
            numExamples: 10,
          }),
        });
        clients.push(c);
        return c;
      });
    connect();
    // Rounds 1 and 2 commit v1 and v2; round 3 starts, and its callback's throw ends the process.
    // (Before the policy removed the tfjs WASM runtime's rethrowing listeners, either error exited with code 7.)
    // Round 2's unhandled rejection is logged and the server keeps serving: round 2 still commits v2.
    expect(await exited).toBe(1);
    expect(output).toMatch(/unhandled promise rejection \(policy: log and keep serving\)/);
    expect(output).toMatch(/rejection in a round callback \(round 2\)/);
    expect(output).toMatch(/uncaught exception \(policy: close and exit 1/);
    expect(output).toMatch(/bug in a round callback \(round 3\)/);
    // Closed cleanly: SQLite checkpointed and removed its write-ahead log on close.
    expect(existsSync(join(dataDir, 'registry.sqlite-wal'))).toBe(false);
    for (const c of clients.splice(0)) c.close();

    const reg = new Registry(dataDir);
    expect(reg.latestVersion()!.version).toBe(2);
    for (const v of [1, 2]) {
      const row = reg.getVersion(v)!;
      expect(row.parent).toBe(v - 1);
      expect(readCheckpoint(row.checkpoint_path, row.weights_hash).version).toBe(v); // file and hash intact
    }
    // Round 3 was cut off (closing disconnected its cohort, so it may be recorded as failed); it made no version.
    expect(reg.getRound(3)?.outcome).not.toBe(RoundOutcome.Committed);
    expect(reg.getRound(3)?.new_version ?? null).toBeNull();
    reg.close();

    // The supervisor's restart: the real entry point on the same data.
    const restarted = spawnServer({ port, dataDir, args: [], env, stdio: ['ignore', 'ignore', 'ignore'] });
    children.push(restarted);
    await whenHealthy(url, restarted);
    expect(await version(url)).toBe(2);
    const [a] = connect();
    await a!.waitFor((e) => e.type === 'round-end' && e.end.outcome === RoundOutcome.Committed, 60_000);
    const after = new Registry(dataDir);
    const v3 = after.getVersion(3)!;
    expect(v3.parent).toBe(2);
    expect(after.getRound(v3.round_id!)!.id).toBeGreaterThan(3);
    after.close();
  });
});
