import type Database from 'better-sqlite3';
import type { VersionRow } from '../../shared/protocol/admin';

export type NewVersion = Omit<
  VersionRow,
  'created_at' | 'probe_accuracy' | 'probe_random' | 'health_json' | 'note' | 'pinned' | 'pruned_at'
> & {
  note?: string | null;
};

/** Rows of committed global model versions: lineage, pinning, pruning marks and evaluation scores. */
export class VersionTable {
  constructor(private readonly db: Database.Database) {}

  latest(): VersionRow | undefined {
    return this.db.prepare('SELECT * FROM versions ORDER BY version DESC LIMIT 1').get() as VersionRow | undefined;
  }

  get(version: number): VersionRow | undefined {
    return this.db.prepare('SELECT * FROM versions WHERE version = ?').get(version) as VersionRow | undefined;
  }

  list(limit = 1000): VersionRow[] {
    return this.db.prepare('SELECT * FROM versions ORDER BY version DESC LIMIT ?').all(limit) as VersionRow[];
  }

  insert(v: NewVersion): void {
    this.db
      .prepare(
        `INSERT INTO versions (version, parent, round_id, created_at, participants, survivors, examples, mean_loss,
          config_hash, layout_hash, weights_hash, checkpoint_path, epsilon, clip_norm, noise_multiplier, note)
         VALUES (@version, @parent, @round_id, @created_at, @participants, @survivors, @examples, @mean_loss,
          @config_hash, @layout_hash, @weights_hash, @checkpoint_path, @epsilon, @clip_norm, @noise_multiplier, @note)`,
      )
      .run({ ...v, note: v.note ?? null, created_at: Date.now() });
  }

  setPinned(version: number, pinned: boolean): boolean {
    return this.db.prepare('UPDATE versions SET pinned = ? WHERE version = ?').run(pinned ? 1 : 0, version).changes > 0;
  }

  /** Versions whose checkpoint retention may delete: unpinned, not pruned, older than the newest `keep`. */
  prunable(keep: number): { version: number; checkpoint_path: string }[] {
    return this.db
      .prepare(
        `SELECT version, checkpoint_path FROM versions
         WHERE pinned = 0 AND pruned_at IS NULL AND version <= (SELECT MAX(version) FROM versions) - ?
         ORDER BY version`,
      )
      .all(keep) as { version: number; checkpoint_path: string }[];
  }

  markPruned(version: number): void {
    this.db.prepare('UPDATE versions SET pruned_at = ? WHERE version = ?').run(Date.now(), version);
  }

  setEvaluation(version: number, probeAccuracy: number, probeRandom: number, health: unknown): void {
    this.db
      .prepare('UPDATE versions SET probe_accuracy = ?, probe_random = ?, health_json = ? WHERE version = ?')
      .run(probeAccuracy, probeRandom, JSON.stringify(health), version);
  }

  /** The newest version below `version` that has a probe accuracy. */
  previousEvaluated(version: number): { version: number; acc: number } | undefined {
    return this.db
      .prepare(
        `SELECT version, probe_accuracy AS acc FROM versions
         WHERE version < ? AND probe_accuracy IS NOT NULL ORDER BY version DESC LIMIT 1`,
      )
      .get(version) as { version: number; acc: number } | undefined;
  }
}
