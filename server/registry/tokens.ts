import type Database from 'better-sqlite3';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { TokenKind, TokenRow } from '../../shared/protocol/admin';

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Join, admin and metrics tokens: only SHA-256 hashes are stored; plaintext leaves once, at creation. */
export class TokenTable {
  constructor(private readonly db: Database.Database) {}

  /** Creates a token and returns its only plaintext copy; only the hash is stored. */
  create(kind: TokenKind, label?: string, expiresAt?: number): { id: number; token: string } {
    const prefix = kind === 'client' ? 'fj' : kind === 'admin' ? 'fa' : 'fm';
    const token = `${prefix}_${randomBytes(24).toString('base64url')}`;
    return { id: this.insertHash(kind, hashToken(token), label, expiresAt), token };
  }

  /** Stores a token chosen by the operator (e.g. FEDSSL_ADMIN_TOKEN). */
  import(kind: TokenKind, token: string, label?: string): number {
    const hash = hashToken(token);
    const existing = this.db.prepare('SELECT id FROM tokens WHERE hash = ?').get(hash) as { id: number } | undefined;
    return existing?.id ?? this.insertHash(kind, hash, label);
  }

  private insertHash(kind: TokenKind, hash: string, label?: string, expiresAt?: number): number {
    const r = this.db
      .prepare('INSERT INTO tokens (kind, hash, label, created_at, expires_at) VALUES (?, ?, ?, ?, ?)')
      .run(kind, hash, label ?? null, Date.now(), expiresAt ?? null);
    return Number(r.lastInsertRowid);
  }

  /** The live token of `kind` matching `token`, or undefined (unknown, revoked, expired, other kind). */
  verify(token: string | undefined, kinds: TokenKind[]): TokenRow | undefined {
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

  revoke(id: number): boolean {
    return (
      this.db.prepare('UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(Date.now(), id)
        .changes > 0
    );
  }

  get(id: number): TokenRow | undefined {
    return this.db
      .prepare('SELECT id, kind, label, created_at, expires_at, revoked_at FROM tokens WHERE id = ?')
      .get(id) as TokenRow | undefined;
  }

  /** Live (not revoked, not expired) tokens of `kind`. */
  countLive(kind: TokenKind): number {
    return (
      this.db
        .prepare(
          `SELECT COUNT(*) AS n FROM tokens
           WHERE kind = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)`,
        )
        .get(kind, Date.now()) as { n: number }
    ).n;
  }

  /** Of `ids`, the tokens that are revoked, expired or gone (one query for many live sessions). */
  dead(ids: number[], now = Date.now()): Set<number> {
    if (ids.length === 0) return new Set();
    const live = this.db
      .prepare(
        `SELECT id FROM tokens WHERE id IN (SELECT value FROM json_each(?))
           AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)`,
      )
      .all(JSON.stringify(ids), now) as { id: number }[];
    const liveIds = new Set(live.map((r) => r.id));
    return new Set(ids.filter((id) => !liveIds.has(id)));
  }

  list(kind?: TokenKind): TokenRow[] {
    const sql =
      'SELECT id, kind, label, created_at, expires_at, revoked_at FROM tokens' +
      (kind ? ' WHERE kind = ?' : '') +
      ' ORDER BY id';
    return (kind ? this.db.prepare(sql).all(kind) : this.db.prepare(sql).all()) as TokenRow[];
  }

  count(kind: TokenKind): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM tokens WHERE kind = ?').get(kind) as { n: number }).n;
  }
}
