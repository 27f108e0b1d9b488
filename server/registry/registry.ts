import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ADDED_COLUMNS, SCHEMA_SQL } from './schema';
import type { RoundOutcome } from '../../shared/protocol/phases';
import type { AuditRow, ClientRow, RoundRow, TokenKind, TokenRow, VersionRow } from '../../shared/protocol/admin';
import { TokenTable } from './tokens';
import { VersionTable, type NewVersion } from './versions';
import { RoundTable, type RoundStats } from './rounds';
import { AuditLog, ClientTable } from './clients';

export type { ClientRow, RoundRow, TokenKind, TokenRow, VersionRow } from '../../shared/protocol/admin';
export type { NewVersion } from './versions';
export type { RoundStats } from './rounds';
export { hashToken } from './tokens';

/**
 * The server's durable state in one SQLite file: model versions, rounds, clients, tokens, audit log.
 * Opens and migrates the database; each table's queries live in its own module (tokens, versions,
 * rounds, clients), and this facade keeps the one API the rest of the server uses.
 */
export class Registry {
  readonly db: Database.Database;
  readonly tokens: TokenTable;
  readonly versions: VersionTable;
  readonly rounds: RoundTable;
  readonly clients: ClientTable;
  readonly auditLog: AuditLog;

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
    this.tokens = new TokenTable(this.db);
    this.versions = new VersionTable(this.db);
    this.rounds = new RoundTable(this.db, this.versions);
    this.clients = new ClientTable(this.db);
    this.auditLog = new AuditLog(this.db);
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

  // --- tokens (./tokens.ts) -----------------------------------------------
  /** Creates a token and returns its only plaintext copy; only the hash is stored. */
  createToken(kind: TokenKind, label?: string, expiresAt?: number): { id: number; token: string } {
    return this.tokens.create(kind, label, expiresAt);
  }
  /** Stores a token chosen by the operator (e.g. FEDSSL_ADMIN_TOKEN). */
  importToken(kind: TokenKind, token: string, label?: string): number {
    return this.tokens.import(kind, token, label);
  }
  /** The live token of `kind` matching `token`, or undefined (unknown, revoked, expired, other kind). */
  verifyToken(token: string | undefined, kinds: TokenKind[]): TokenRow | undefined {
    return this.tokens.verify(token, kinds);
  }
  revokeToken(id: number): boolean {
    return this.tokens.revoke(id);
  }
  getToken(id: number): TokenRow | undefined {
    return this.tokens.get(id);
  }
  /** Live (not revoked, not expired) tokens of `kind`. */
  countLiveTokens(kind: TokenKind): number {
    return this.tokens.countLive(kind);
  }
  /** Of `ids`, the tokens that are revoked, expired or gone (one query for many live sessions). */
  deadTokens(ids: number[], now = Date.now()): Set<number> {
    return this.tokens.dead(ids, now);
  }
  listTokens(kind?: TokenKind): TokenRow[] {
    return this.tokens.list(kind);
  }
  countTokens(kind: TokenKind): number {
    return this.tokens.count(kind);
  }

  // --- versions (./versions.ts) -------------------------------------------
  latestVersion(): VersionRow | undefined {
    return this.versions.latest();
  }
  getVersion(version: number): VersionRow | undefined {
    return this.versions.get(version);
  }
  listVersions(limit = 1000): VersionRow[] {
    return this.versions.list(limit);
  }
  insertVersion(v: NewVersion): void {
    this.versions.insert(v);
  }
  setPinned(version: number, pinned: boolean): boolean {
    return this.versions.setPinned(version, pinned);
  }
  /** Versions whose checkpoint retention may delete: unpinned, not pruned, older than the newest `keep`. */
  prunableVersions(keep: number): { version: number; checkpoint_path: string }[] {
    return this.versions.prunable(keep);
  }
  markPruned(version: number): void {
    this.versions.markPruned(version);
  }
  setVersionEvaluation(version: number, probeAccuracy: number, probeRandom: number, health: unknown): void {
    this.versions.setEvaluation(version, probeAccuracy, probeRandom, health);
  }

  // --- rounds (./rounds.ts) -----------------------------------------------
  startRound(r: { baseVersion: number; sampling: string; cohort: string[]; config: unknown }): number {
    return this.rounds.start(r);
  }
  markDelivered(roundId: number, clientId: string, numExamples: number, meanLoss: number): void {
    this.rounds.markDelivered(roundId, clientId, numExamples, meanLoss);
  }
  /** Ends a round without a new version. */
  failRound(
    id: number,
    outcome: RoundOutcome.Failed | RoundOutcome.Aborted,
    reason: string,
    stats: Partial<RoundStats> = {},
  ): void {
    this.rounds.fail(id, outcome, reason, stats);
  }
  /** Commits a round and its new version atomically. */
  commitRound(id: number, version: NewVersion, stats: RoundStats, survivors: string[]): void {
    this.rounds.commit(id, version, stats, survivors);
  }
  /** Rounds left open by a crash are discarded; they will be rerun. */
  abortUnfinishedRounds(): number {
    return this.rounds.abortUnfinished();
  }
  listRounds(limit = 200): RoundRow[] {
    return this.rounds.list(limit);
  }
  getRound(id: number): RoundRow | undefined {
    return this.rounds.get(id);
  }

  // --- clients and audit (./clients.ts) -----------------------------------
  clientSeen(c: {
    id: string;
    name?: string | undefined;
    tokenId?: number | undefined;
    backend?: string | undefined;
  }): void {
    this.clients.seen(c);
  }
  getClient(id: string): ClientRow | undefined {
    return this.clients.get(id);
  }
  countClients(): number {
    return this.clients.count();
  }
  listClients(): ClientRow[] {
    return this.clients.list();
  }
  /** Devices (client ids) ever bound to a token, removed ones included: removal does not free a slot. */
  countClientsForToken(tokenId: number): number {
    return this.clients.countForToken(tokenId);
  }
  setClientRemoved(id: string, removed: boolean): boolean {
    return this.clients.setRemoved(id, removed);
  }
  /** Of `ids`, the clients the administrator removed. */
  removedClients(ids: string[]): Set<string> {
    return this.clients.removed(ids);
  }
  audit(actor: string, action: string, details?: unknown): void {
    this.auditLog.add(actor, action, details);
  }
  listAudit(limit = 200): AuditRow[] {
    return this.auditLog.list(limit);
  }
}
