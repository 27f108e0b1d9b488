import type Database from 'better-sqlite3';
import type { AuditRow, ClientRow } from '../../shared/protocol/admin';

/** Devices that joined: first/last seen, the join token they are bound to, removal by the administrator. */
export class ClientTable {
  /**
   * Removed ids, read once and kept in step by setRemoved (this process is the table's only writer): the
   * scheduler asks "which of these are removed?" on every connect, ready and disconnect, and one SQL query per
   * event over the whole pool was O(n²) per round (60 ms per ready message at n = 1000, bench:load profile).
   */
  private readonly removedIds: Set<string>;

  constructor(private readonly db: Database.Database) {
    const rows = db.prepare('SELECT id FROM clients WHERE removed = 1').all() as { id: string }[];
    this.removedIds = new Set(rows.map((r) => r.id));
  }

  seen(c: { id: string; name?: string | undefined; tokenId?: number | undefined; backend?: string | undefined }): void {
    const now = Date.now();
    this.db
      .prepare(
        `INSERT INTO clients (id, name, token_id, first_seen, last_seen, backend)
           VALUES (@id, @name, @tokenId, @now, @now, @backend)
         ON CONFLICT(id) DO UPDATE SET last_seen = @now, name = COALESCE(@name, name),
           token_id = COALESCE(@tokenId, token_id), backend = COALESCE(@backend, backend)`,
      )
      .run({ id: c.id, name: c.name ?? null, tokenId: c.tokenId ?? null, backend: c.backend ?? null, now });
  }

  get(id: string): ClientRow | undefined {
    return this.db.prepare('SELECT * FROM clients WHERE id = ?').get(id) as ClientRow | undefined;
  }

  count(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM clients WHERE removed = 0').get() as { n: number }).n;
  }

  list(): ClientRow[] {
    return this.db.prepare('SELECT * FROM clients ORDER BY last_seen DESC').all() as ClientRow[];
  }

  /** Devices (client ids) ever bound to a token, removed ones included: removal does not free a slot. */
  countForToken(tokenId: number): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM clients WHERE token_id = ?').get(tokenId) as { n: number }).n;
  }

  setRemoved(id: string, removed: boolean): boolean {
    const changed = this.db.prepare('UPDATE clients SET removed = ? WHERE id = ?').run(removed ? 1 : 0, id).changes > 0;
    if (changed) {
      if (removed) this.removedIds.add(id);
      else this.removedIds.delete(id);
    }
    return changed;
  }

  /** Of `ids`, the clients the administrator removed. */
  removed(ids: Iterable<string>): Set<string> {
    const out = new Set<string>();
    for (const id of ids) if (this.removedIds.has(id)) out.add(id);
    return out;
  }
}

/** Append-only record of administrative actions. */
export class AuditLog {
  constructor(private readonly db: Database.Database) {}

  add(actor: string, action: string, details?: unknown): void {
    this.db
      .prepare('INSERT INTO audit_log (at, actor, action, details) VALUES (?, ?, ?, ?)')
      .run(Date.now(), actor, action, details === undefined ? null : JSON.stringify(details));
  }

  list(limit = 200): AuditRow[] {
    return this.db.prepare('SELECT * FROM audit_log ORDER BY id DESC LIMIT ?').all(limit) as AuditRow[];
  }
}
