import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Registry } from './registry';
import { strategyStatePath } from './strategy-state';

/**
 * Checkpoint retention: keeps the files of the newest `keep` versions, pinned versions and
 * `protect` (the live global model); deletes the others' files (weights and optimiser state) but keeps their registry rows
 * (provenance stays queryable). Returns the pruned versions.
 */
export function pruneCheckpoints(registry: Registry, keep: number, protect: number[] = []): number[] {
  const pruned: number[] = [];
  for (const v of registry.prunableVersions(keep)) {
    if (protect.includes(v.version)) continue;
    rmSync(v.checkpoint_path, { force: true });
    rmSync(strategyStatePath(dirname(v.checkpoint_path), v.version), { force: true }); // its optimiser state goes too
    registry.markPruned(v.version);
    pruned.push(v.version);
  }
  return pruned;
}
