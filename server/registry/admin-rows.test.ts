import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { Registry } from './registry';
import { RoundOutcome } from '../../shared/protocol/phases';
import {
  AuditRowSchema,
  ClientRowSchema,
  RoundRowSchema,
  TokenRowSchema,
  VersionRowSchema,
  storedHealthOf,
  type StoredHealth,
} from '../../shared/protocol/admin';

// The admin console parses every REST response with these schemas; a row SQLite really returns must pass
// unchanged (nothing refused, nothing stripped), or the console would refuse the refresh.
describe('registry rows parse with the shared admin schemas', () => {
  let dir: string;
  let reg: Registry;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fedssl-admin-rows-'));
    reg = new Registry(dir);
  });
  afterEach(() => {
    reg.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const version = (v: number, parent: number | null, roundId: number | null) => ({
    version: v,
    parent,
    round_id: roundId,
    participants: 3,
    survivors: 2,
    examples: 96,
    mean_loss: roundId === null ? null : 4.2,
    config_hash: 'c'.repeat(64),
    layout_hash: 'l'.repeat(64),
    weights_hash: 'w'.repeat(64),
    checkpoint_path: `v${v}.bin`,
    epsilon: v === 1 ? 0.5 : null,
    clip_norm: null,
    noise_multiplier: null,
    note: v === 0 ? 'initial' : null,
  });

  it('tokens, versions, rounds, clients and audit entries, with their nullable columns both set and unset', () => {
    reg.createToken('client', 'laptop', Date.now() + 3600_000);
    const { id: revoked } = reg.createToken('metrics');
    reg.revokeToken(revoked);
    reg.insertVersion(version(0, null, null));
    const failed = reg.startRound({ baseVersion: 0, sampling: 'fixed:2', cohort: ['a', 'b'], config: {} });
    reg.failRound(failed, RoundOutcome.Failed, 'too few survivors', { survivors: 1, dropouts: 1 });
    const committed = reg.startRound({ baseVersion: 0, sampling: 'poisson:0.5', cohort: ['a', 'b'], config: { x: 1 } });
    reg.clientSeen({ id: 'a', name: 'alice', tokenId: 1, backend: 'wasm' });
    reg.clientSeen({ id: 'b' });
    reg.setClientRemoved('b', true);
    reg.commitRound(
      committed,
      version(1, 0, committed),
      { survivors: 2, dropouts: 0, meanLoss: 4.2, bytesUp: 10, bytesDown: 20, aggregateMs: 3 },
      ['a'],
    );
    reg.startRound({ baseVersion: 1, sampling: 'fixed:2', cohort: ['a'], config: {} }); // still running
    reg.audit('admin#1', 'rounds.pause');
    reg.audit('admin#1', 'token.create', { id: 1 });

    const cases: [string, z.ZodType, unknown[]][] = [
      ['tokens', TokenRowSchema, reg.listTokens()],
      ['versions', VersionRowSchema, reg.listVersions()],
      ['rounds', RoundRowSchema, reg.listRounds()],
      ['clients', ClientRowSchema, reg.listClients()],
      ['audit', AuditRowSchema, reg.listAudit()],
    ];
    for (const [name, schema, rows] of cases) {
      expect(rows.length, name).toBeGreaterThanOrEqual(2);
      for (const row of rows) expect(schema.parse(row), name).toEqual(row);
    }
    // The nullable columns really were null in some rows and set in others.
    const rounds = reg.listRounds();
    expect(rounds.map((r) => r.outcome)).toEqual([null, RoundOutcome.Committed, RoundOutcome.Failed]);
    expect(reg.listTokens().map((t) => t.revoked_at === null)).toEqual([true, false]);
  });

  it('storedHealthOf reads back what the evaluation stores, and nothing malformed', () => {
    reg.insertVersion(version(0, null, null));
    const health: StoredHealth = {
      health: { meanStd: 0.1, stdRatio: 0.9, effectiveRank: 7.5, collapsed: false, n: 64, d: 32 },
      drift: null,
      driftFrom: null,
      trainCount: 100,
      testCount: 50,
      referenceCount: 64,
      ms: 12,
      evaluatedAt: 1,
    };
    expect(storedHealthOf(reg.getVersion(0)!)).toBeUndefined();
    reg.setVersionEvaluation(0, 0.7, 0.5, health);
    expect(storedHealthOf(reg.getVersion(0)!)).toEqual(health);
    expect(storedHealthOf({ health_json: '{not json' })).toBeUndefined();
    expect(
      storedHealthOf({ health_json: JSON.stringify({ ...health, health: { ...health.health, collapsed: 'no' } }) }),
    ).toBeUndefined();
  });
});
