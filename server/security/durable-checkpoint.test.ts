/**
 * Process policy, checkpoints: a round's checkpoint is written off the event loop, durably: tmp file,
 * fsync, rename, then an fsync of the directory (where the rename lives) before the registry row.
 * Real files and SQLite; the file operations are the real node:fs/promises ones, wrapped to record
 * their order.
 */
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, open, rename, writeFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DurableFs } from '../federation/durable-write';
import { readCheckpoint, weightsHash } from '../registry/checkpoints';
import { federationFixture, startTestServer } from '../federation/test-harness';

const { servers } = federationFixture();

/** node:fs/promises, recording each operation as "op name" (file names only). */
function recordingFs(log: string[]): DurableFs {
  const n = (p: string) => basename(p).replace(/\.tmp-.*/, '.tmp');
  return {
    mkdir: (p, o) => mkdir(p, o),
    writeFile: async (p, d) => {
      log.push(`write ${n(p)}`);
      await writeFile(p, d);
    },
    open: async (p, f) => {
      const fh = await open(p, f);
      return {
        sync: async () => {
          log.push(`fsync ${n(p)}`);
          await fh.sync();
        },
        close: () => fh.close(),
      };
    },
    rename: async (a, b) => {
      log.push(`rename ${n(a)} ${n(b)}`);
      await rename(a, b);
    },
  };
}

describe('durable, asynchronous checkpoint commits', () => {
  it('tmp + fsync + rename, then the directory is fsynced, and only then is the version in the registry', async () => {
    const s = await startTestServer({ manualStart: true });
    servers.push(s);
    const base = s.coordinator.globalModel;
    const weights = base.weights.map((w) => w + 0.5);
    const round = s.registry.startRound({ baseVersion: base.version, sampling: 'fixed', cohort: [], config: {} });
    const log: string[] = [];
    const committing = s.coordinator.versions.commitRoundAsync(
      round,
      base,
      weights,
      {
        parent: base.version,
        round_id: round,
        participants: 0,
        survivors: 0,
        examples: 0,
        mean_loss: null,
        config_hash: 'x',
        epsilon: null,
        clip_norm: null,
        noise_multiplier: null,
      },
      { survivors: 0, dropouts: 0, meanLoss: null, bytesUp: 0, bytesDown: 0, aggregateMs: 0 },
      [],
      recordingFs(log),
    );
    // Nothing is in the registry while the files are being written.
    expect(s.registry.getVersion(base.version + 1)).toBeUndefined();
    const model = await committing;
    const dir = basename(dirname(s.registry.getVersion(model.version)!.checkpoint_path));
    const ckpt = `v${String(model.version).padStart(6, '0')}.ckpt`;
    const ops = log.filter((l) => l.includes(ckpt) || l === `fsync ${dir}`);
    // (The strategy-state file is written the same way, concurrently; its directory fsync counts for both.)
    expect(ops.filter((l) => l !== `fsync ${dir}`)).toEqual([
      `write ${ckpt}.tmp`,
      `fsync ${ckpt}.tmp`,
      `rename ${ckpt}.tmp ${ckpt}`,
    ]);
    expect(log.lastIndexOf(`fsync ${dir}`)).toBeGreaterThan(log.indexOf(`rename ${ckpt}.tmp ${ckpt}`));
    const row = s.registry.getVersion(model.version)!;
    expect(row.weights_hash).toBe(weightsHash(weights)); // the native hash equals the shared one
    expect(readCheckpoint(row.checkpoint_path, row.weights_hash).weights).toEqual(weights);
    expect(readdirSync(dirname(row.checkpoint_path)).filter((f) => f.includes('.tmp-'))).toEqual([]);
    expect(existsSync(row.checkpoint_path)).toBe(true);
  });
});
