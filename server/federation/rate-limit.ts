/** Per-client token bucket: `ratePerSecond` sustained, `burst` at once. Pure; time is passed in. */
export interface RateLimitConfig {
  eventsPerSecond: number;
  burst: number;
  /** Disconnect a client after this many refused events in a row (it ignores the refusals). */
  disconnectAfter: number;
}

export const DEFAULT_RATE_LIMIT: RateLimitConfig = { eventsPerSecond: 20, burst: 60, disconnectAfter: 200 };

export class TokenBucket {
  private tokens: number;
  private last: number;
  /** Refused events since the last accepted one. */
  refusedInARow = 0;

  constructor(
    private readonly cfg: RateLimitConfig,
    now: number,
  ) {
    this.tokens = cfg.burst;
    this.last = now;
  }

  /** Takes one token; false when the client is over its rate. */
  take(now: number): boolean {
    this.tokens = Math.min(this.cfg.burst, this.tokens + ((now - this.last) / 1000) * this.cfg.eventsPerSecond);
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      this.refusedInARow = 0;
      return true;
    }
    this.refusedInARow++;
    return false;
  }

  get exhausted(): boolean {
    return this.refusedInARow >= this.cfg.disconnectAfter;
  }

  /**
   * A client cut for flooding may reconnect only once half its burst has refilled; until
   * then its handshakes are refused before any registry work (a reconnect storm costs more
   * than the messages it carries).
   */
  blocksReconnect(now: number): boolean {
    if (!this.exhausted) return false;
    this.tokens = Math.min(this.cfg.burst, this.tokens + ((now - this.last) / 1000) * this.cfg.eventsPerSecond);
    this.last = now;
    if (this.tokens < this.cfg.burst / 2) return true;
    this.refusedInARow = 0;
    return false;
  }
}
