import type { Logger } from 'pino';
import type { Registry } from '../registry/registry';

/** Longest delay Node's timers honour (larger values fire at once). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export interface LiveSession {
  clientId: string;
  /** Join token the session authenticated with (none under open enrollment). */
  tokenId?: number | undefined;
  disconnect(reason: string): void;
}

/**
 * Keeps live federation sockets in step with the registry: a revoked or expired token, or
 * a removed client, loses its socket. Changes made through this process (REST, console)
 * act at once; changes made by another process on the same registry (the admin CLI) and
 * expiries are found by a sweep every `sweepMs` (default 500 ms, so within a second).
 */
export class SessionGuard {
  private readonly sessions = new Set<LiveSession>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly registry: Registry,
    private readonly log: Logger,
    sweepMs = 500,
  ) {
    this.timer = setInterval(() => this.sweep(), Math.min(sweepMs, MAX_TIMER_MS));
    this.timer.unref();
  }

  add(session: LiveSession): () => void {
    this.sessions.add(session);
    return () => this.sessions.delete(session);
  }

  /** Disconnects every session that lost its right to stay; returns how many. Two queries per sweep. */
  sweep(): number {
    if (this.sessions.size === 0) return 0;
    const now = Date.now();
    const all = [...this.sessions];
    const removed = this.registry.removedClients([...new Set(all.map((s) => s.clientId))]);
    const dead = this.registry.deadTokens(
      [...new Set(all.flatMap((s) => (s.tokenId === undefined ? [] : [s.tokenId])))],
      now,
    );
    let n = 0;
    for (const s of all) {
      let why: string | undefined;
      if (removed.has(s.clientId)) why = 'this client was removed by the administrator';
      else if (s.tokenId !== undefined && dead.has(s.tokenId)) {
        const t = this.registry.getToken(s.tokenId);
        why = !t || t.revoked_at !== null ? 'join token revoked' : 'join token expired';
      }
      if (!why) continue;
      this.sessions.delete(s);
      this.log.info({ clientId: s.clientId, tokenId: s.tokenId, why }, 'disconnecting session');
      s.disconnect(why);
      n++;
    }
    return n;
  }

  close(): void {
    clearInterval(this.timer);
  }
}
