import { rmSync } from 'node:fs';
import type { Registry } from './registry';

/**
 * Checkpoint retention: keeps the files of the newest `keep` versions, pinned versions and
 * `protect` (the live global model); deletes the others' files but keeps their registry rows
 * (provenance stays queryable). Returns the pruned versions.
 */
export function pruneCheckpoints(registry: Registry, keep: number, protect: number[] = []): number[] {
  const pruned: number[] = [];
  for (const v of registry.prunableVersions(keep)) {
    if (protect.includes(v.version)) continue;
    rmSync(v.checkpoint_path, { force: true });
    registry.markPruned(v.version);
    pruned.push(v.version);
  }
  return pruned;
}
