import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { ADDED_COLUMNS, SCHEMA_SQL } from './schema';
import { RoundOutcome } from '../../shared/protocol/phases';

import type { AuditRow, ClientRow, RoundRow, TokenKind, TokenRow, VersionRow } from '../../shared/protocol/admin';
export type { ClientRow, RoundRow, TokenKind, TokenRow, VersionRow } from '../../shared/protocol/admin';

export type NewVersion = Omit<
  VersionRow,
  'created_at' | 'probe_accuracy' | 'probe_random' | 'health_json' | 'note' | 'pinned' | 'pruned_at'
> & {
  note?: string | null;
};

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** The server's durable state: model versions, rounds, clients, tokens, audit log. */
export class Registry {
  readonly db: Database.Database;

  constructor(readonly dataDir: string) {
    mkdirSync(dataDir, { recursive: true });
    this.db = new Database(join(dataDir, 'registry.sqlite'));
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    this.db.exec(SCHEMA_SQL);
    for (const [table, column, type] of ADDED_COLUMNS) {
      const cols = this.db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[];
      if (!cols.some((c) => c.name === column)) this.db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${type}`);
    }
  }

  close(): void {
    this.db.close();
  }

  // --- settings -----------------------------------------------------------
  getSetting(key: string): string | undefined {
    const row = this.db.prepare('SELECT value FROM settings WHERE key = ?').get(key) as { value: string } | undefined;
    return row?.value;
  }

  setSetting(key: string, value: string): void {
    this.db
      .prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value')
      .run(key, value);
  }

  // --- tokens -------------------------------------------------------------
  /** Creates a token and returns its only plaintext copy; only the hash is stored. */
  createToken(kind: TokenKind, label?: string, expiresAt?: number): { id: number; token: string } {
    const token = `${kind === 'client' ? 'fj' : kind === 'admin' ? 'fa' : 'fm'}_${randomBytes(24).toString('base64url')}`;
    return { id: this.insertTokenHash(kind, hashToken(token), label, expiresAt), token };
  }

  /** Stores a token chosen by the operator (e.g. FEDSSL_ADMIN_TOKEN). */
  importToken(kind: TokenKind, token: string, label?: string): number {
    const hash = hashToken(token);
    const existing = this.db.prepare('SELECT id FROM tokens WHERE hash = ?').get(hash) as { id: number } | undefined;
    return existing?.id ?? this.insertTokenHash(kind, hash, label);
  }

  private insertTokenHash(kind: TokenKind, hash: string, label?: string, expiresAt?: number): number {
    const r = this.db
      .prepare('INSERT INTO tokens (kind, hash, label, created_at, expires_at) VALUES (?, ?, ?, ?, ?)')
      .run(kind, hash, label ?? null, Date.now(), expiresAt ?? null);
    return Number(r.lastInsertRowid);
  }

  /** The live token of `kind` matching `token`, or undefined (unknown, revoked, expired, other kind). */
  verifyToken(token: string | undefined, kinds: TokenKind[]): TokenRow | undefined {
    if (!token || token.length > 512) return undefined;
    const hash = hashToken(token);
    const row = this.db.prepare('SELECT * FROM tokens WHERE hash = ?').get(hash) as
      (TokenRow & { hash: string }) | undefined;
    if (!row) return undefined;
    // Constant-time compare of the stored hash (defence in depth; lookup is by hash already).
    if (!timingSafeEqual(Buffer.from(row.hash, 'hex'), Buffer.from(hash, 'hex'))) return undefined;
    if (!kinds.includes(row.kind)) return undefined;
    if (row.revoked_at !== null) return undefined;
    if (row.expires_at !== null && row.expires_at <= Date.now()) return undefined;
    const { hash: _h, ...rest } = row;
    return rest;
  }

  revokeToken(id: number): boolean {
    return (
      this.db.prepare('UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(Date.now(), id)
        .changes > 0
    );
  }

  getToken(id: number): TokenRow | undefined {
    return this.db
      .prepare('SELECT id, kind, label, created_at, expires_at, revoked_at FROM tokens WHERE id = ?')
      .get(id) as TokenRow | undefined;
  }

  /** Live (not revoked, not expired) tokens of `kind`. */
  countLiveTokens(kind: TokenKind): number {
    return (
      this.db
        .prepare(
          'SELECT COUNT(*) AS n FROM tokens WHERE kind = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)',
        )
        .get(kind, Date.now()) as { n: number }
    ).n;
  }

  /** Of `ids`, the tokens that are revoked, expired or gone (one query for many live sessions). */
  deadTokens(ids: number[], now = Date.now()): Set<number> {
    if (ids.length === 0) return new Set();
    const live = this.db
      .prepare(
        'SELECT id FROM tokens WHERE id IN (SELECT value FROM json_each(?)) AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)',
      )
      .all(JSON.stringify(ids), now) as { id: number }[];
    const liveIds = new Set(live.map((r) => r.id));
    return new Set(ids.filter((id) => !liveIds.has(id)));
  }

  /** Of `ids`, the clients the administrator removed. */
  removedClients(ids: string[]): Set<string> {
    if (ids.length === 0) return new Set();
    const rows = this.db
      .prepare('SELECT id FROM clients WHERE removed = 1 AND id IN (SELECT value FROM json_each(?))')
      .all(JSON.stringify(ids)) as { id: string }[];
    return new Set(rows.map((r) => r.id));
  }

  listTokens(kind?: TokenKind): TokenRow[] {
    const sql =
      'SELECT id, kind, label, created_at, expires_at, revoked_at FROM tokens' +
      (kind ? ' WHERE kind = ?' : '') +
      ' ORDER BY id';
    return (kind ? this.db.prepare(sql).all(kind) : this.db.prepare(sql).all()) as TokenRow[];
  }

  countTokens(kind: TokenKind): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM tokens WHERE kind = ?').get(kind) as { n: number }).n;
  }

  // --- versions -----------------------------------------------------------
  latestVersion(): VersionRow | undefined {
    return this.db.prepare('SELECT * FROM versions ORDER BY version DESC LIMIT 1').get() as VersionRow | undefined;
  }

  getVersion(version: number): VersionRow | undefined {
    return this.db.prepare('SELECT * FROM versions WHERE version = ?').get(version) as VersionRow | undefined;
  }

  listVersions(limit = 1000): VersionRow[] {
    return this.db.prepare('SELECT * FROM versions ORDER BY version DESC LIMIT ?').all(limit) as VersionRow[];
  }

  insertVersion(v: NewVersion): void {
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
  prunableVersions(keep: number): { version: number; checkpoint_path: string }[] {
    return this.db
      .prepare(
        'SELECT version, checkpoint_path FROM versions WHERE pinned = 0 AND pruned_at IS NULL AND version <= (SELECT MAX(version) FROM versions) - ? ORDER BY version',
      )
      .all(keep) as { version: number; checkpoint_path: string }[];
  }

  markPruned(version: number): void {
    this.db.prepare('UPDATE versions SET pruned_at = ? WHERE version = ?').run(Date.now(), version);
  }

  setVersionEvaluation(version: number, probeAccuracy: number, probeRandom: number, health: unknown): void {
    this.db
      .prepare('UPDATE versions SET probe_accuracy = ?, probe_random = ?, health_json = ? WHERE version = ?')
      .run(probeAccuracy, probeRandom, JSON.stringify(health), version);
  }

  // --- rounds -------------------------------------------------------------
  startRound(r: { baseVersion: number; sampling: string; cohort: string[]; config: unknown }): number {
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
        'UPDATE round_participants SET delivered = 1, num_examples = ?, mean_loss = ? WHERE round_id = ? AND client_id = ?',
      )
      .run(numExamples, meanLoss, roundId, clientId);
  }

  /** Ends a round without a new version. */
  failRound(
    id: number,
    outcome: RoundOutcome.Failed | RoundOutcome.Aborted,
    reason: string,
    stats: Partial<RoundStats> = {},
  ): void {
    this.db
      .prepare(
        `UPDATE rounds SET ended_at = ?, outcome = ?, reason = ?, survivors = ?, dropouts = ?, bytes_up = ?, bytes_down = ?
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
  commitRound(id: number, version: NewVersion, stats: RoundStats, survivors: string[]): void {
    this.db.transaction(() => {
      this.insertVersion(version);
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
  abortUnfinishedRounds(): number {
    return this.db
      .prepare(
        "UPDATE rounds SET ended_at = ?, outcome = ?, reason = 'server restarted mid-round' WHERE outcome IS NULL",
      )
      .run(Date.now(), RoundOutcome.Aborted).changes;
  }

  listRounds(limit = 200): RoundRow[] {
    return this.db.prepare('SELECT * FROM rounds ORDER BY id DESC LIMIT ?').all(limit) as RoundRow[];
  }

  getRound(id: number): RoundRow | undefined {
    return this.db.prepare('SELECT * FROM rounds WHERE id = ?').get(id) as RoundRow | undefined;
  }

  // --- clients ------------------------------------------------------------
  clientSeen(c: {
    id: string;
    name?: string | undefined;
    tokenId?: number | undefined;
    backend?: string | undefined;
  }): void {
    const now = Date.now();
    this.db
      .prepare(
        `INSERT INTO clients (id, name, token_id, first_seen, last_seen, backend) VALUES (@id, @name, @tokenId, @now, @now, @backend)
         ON CONFLICT(id) DO UPDATE SET last_seen = @now, name = COALESCE(@name, name), token_id = COALESCE(@tokenId, token_id),
           backend = COALESCE(@backend, backend)`,
      )
      .run({ id: c.id, name: c.name ?? null, tokenId: c.tokenId ?? null, backend: c.backend ?? null, now });
  }

  getClient(id: string): ClientRow | undefined {
    return this.db.prepare('SELECT * FROM clients WHERE id = ?').get(id) as ClientRow | undefined;
  }

  countClients(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM clients WHERE removed = 0').get() as { n: number }).n;
  }

  listClients(): ClientRow[] {
    return this.db.prepare('SELECT * FROM clients ORDER BY last_seen DESC').all() as ClientRow[];
  }

  /** Devices (client ids) ever bound to a token, removed ones included: removal does not free a slot. */
  countClientsForToken(tokenId: number): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM clients WHERE token_id = ?').get(tokenId) as { n: number }).n;
  }

  setClientRemoved(id: string, removed: boolean): boolean {
    return this.db.prepare('UPDATE clients SET removed = ? WHERE id = ?').run(removed ? 1 : 0, id).changes > 0;
  }

  // --- audit --------------------------------------------------------------
  audit(actor: string, action: string, details?: unknown): void {
    this.db
      .prepare('INSERT INTO audit_log (at, actor, action, details) VALUES (?, ?, ?, ?)')
      .run(Date.now(), actor, action, details === undefined ? null : JSON.stringify(details));
  }

  listAudit(limit = 200): AuditRow[] {
    return this.db.prepare('SELECT * FROM audit_log ORDER BY id DESC LIMIT ?').all(limit) as AuditRow[];
  }
}

export interface RoundStats {
  aggregateMs?: number;
  survivors: number;
  dropouts: number;
  meanLoss: number | null;
  bytesUp: number;
  bytesDown: number;
}
