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

  constructor(private readonly registry: Registry, private readonly log: Logger, sweepMs = 500) {
    this.timer = setInterval(() => this.sweep(), Math.min(sweepMs, MAX_TIMER_MS));
    this.timer.unref();
  }

  add(session: LiveSession): () => void {
    this.sessions.add(session);
    return () => this.sessions.delete(session);
  }

  /** Why this session may no longer stay, or undefined. */
  private verdict(s: LiveSession, now: number): string | undefined {
    if (this.registry.getClient(s.clientId)?.removed) return 'this client was removed by the administrator';
    if (s.tokenId === undefined) return undefined;
    const t = this.registry.getToken(s.tokenId);
    if (!t || t.revoked_at !== null) return 'join token revoked';
    if (t.expires_at !== null && t.expires_at <= now) return 'join token expired';
    return undefined;
  }

  /** Disconnects every session that lost its right to stay; returns how many. */
  sweep(): number {
    const now = Date.now();
    let n = 0;
    for (const s of [...this.sessions]) {
      const why = this.verdict(s, now);
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
