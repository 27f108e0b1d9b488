import type Database from 'better-sqlite3';
import { RoundOutcome } from '../../shared/protocol/phases';
import type { RoundRow } from '../../shared/protocol/admin';
import type { NewVersion, VersionTable } from './versions';

export interface RoundStats {
  aggregateMs?: number;
  survivors: number;
  dropouts: number;
  meanLoss: number | null;
  bytesUp: number;
  bytesDown: number;
}

/** Rounds and their participants; a commit writes the round, its new version and the join counts together. */
export class RoundTable {
  constructor(
    private readonly db: Database.Database,
    private readonly versions: VersionTable,
  ) {}

  start(r: { baseVersion: number; sampling: string; cohort: string[]; config: unknown }): number {
    return this.db.transaction(() => {
      const res = this.db
        .prepare(
          'INSERT INTO rounds (base_version, started_at, sampling, cohort_size, config_json) VALUES (?, ?, ?, ?, ?)',
        )
        .run(r.baseVersion, Date.now(), r.sampling, r.cohort.length, JSON.stringify(r.config));
      const id = Number(res.lastInsertRowid);
      const ins = this.db.prepare('INSERT INTO round_participants (round_id, client_id) VALUES (?, ?)');
      for (const c of r.cohort) ins.run(id, c);
      return id;
    })();
  }

  markDelivered(roundId: number, clientId: string, numExamples: number, meanLoss: number): void {
    this.db
      .prepare(
        `UPDATE round_participants SET delivered = 1, num_examples = ?, mean_loss = ?
         WHERE round_id = ? AND client_id = ?`,
      )
      .run(numExamples, meanLoss, roundId, clientId);
  }

  /** Ends a round without a new version. */
  fail(
    id: number,
    outcome: RoundOutcome.Failed | RoundOutcome.Aborted,
    reason: string,
    stats: Partial<RoundStats> = {},
  ): void {
    this.db
      .prepare(
        `UPDATE rounds SET ended_at = ?, outcome = ?, reason = ?, survivors = ?, dropouts = ?,
           bytes_up = ?, bytes_down = ?
         WHERE id = ? AND outcome IS NULL`,
      )
      .run(
        Date.now(),
        outcome,
        reason,
        stats.survivors ?? 0,
        stats.dropouts ?? 0,
        stats.bytesUp ?? 0,
        stats.bytesDown ?? 0,
        id,
      );
  }

  /** Commits a round and its new version atomically. */
  commit(id: number, version: NewVersion, stats: RoundStats, survivors: string[]): void {
    this.db.transaction(() => {
      this.versions.insert(version);
      this.db
        .prepare(
          `UPDATE rounds SET ended_at = ?, outcome = ?, new_version = ?, survivors = ?, dropouts = ?, mean_loss = ?,
           bytes_up = ?, bytes_down = ?, aggregate_ms = ? WHERE id = ?`,
        )
        .run(
          Date.now(),
          RoundOutcome.Committed,
          version.version,
          stats.survivors,
          stats.dropouts,
          stats.meanLoss,
          stats.bytesUp,
          stats.bytesDown,
          stats.aggregateMs ?? null,
          id,
        );
      const inc = this.db.prepare('UPDATE clients SET rounds_joined = rounds_joined + 1 WHERE id = ?');
      for (const c of survivors) inc.run(c);
    })();
  }

  /** Rounds left open by a crash are discarded; they will be rerun. */
  abortUnfinished(): number {
    return this.db
      .prepare(
        "UPDATE rounds SET ended_at = ?, outcome = ?, reason = 'server restarted mid-round' WHERE outcome IS NULL",
      )
      .run(Date.now(), RoundOutcome.Aborted).changes;
  }

  list(limit = 200): RoundRow[] {
    return this.db.prepare('SELECT * FROM rounds ORDER BY id DESC LIMIT ?').all(limit) as RoundRow[];
  }

  get(id: number): RoundRow | undefined {
    return this.db.prepare('SELECT * FROM rounds WHERE id = ?').get(id) as RoundRow | undefined;
  }
}
