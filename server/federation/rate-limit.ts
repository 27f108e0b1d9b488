/** Per-client token bucket: `ratePerSecond` sustained, `burst` at once. Pure; time is passed in. */
export interface RateLimitConfig {
  eventsPerSecond: number;
  burst: number;
  /**
   * Disconnect a client once it has this many strikes: each refused event is one, and strikes
   * decay at half the sustained rate, so a client that keeps sending well over its rate is cut
   * even when some of its events still get through.
   */
  disconnectAfter: number;
}

export const DEFAULT_RATE_LIMIT: RateLimitConfig = { eventsPerSecond: 20, burst: 60, disconnectAfter: 200 };

/** Longest cool-down after repeated cuts for flooding. */
export const MAX_COOLDOWN_MS = 10 * 60_000;

export class TokenBucket {
  private tokens: number;
  private last: number;
  /** Refused events, decaying at half the sustained rate. */
  strikes = 0;
  /** Times this client was cut for flooding. */
  cuts = 0;
  private blockedUntil = 0;

  constructor(
    private readonly cfg: RateLimitConfig,
    now: number,
  ) {
    this.tokens = cfg.burst;
    this.last = now;
  }

  private advance(now: number): void {
    const dt = Math.max(0, now - this.last) / 1000;
    // Each cut halves the burst a client comes back with: returning flooders arrive together when their
    // cool-downs end, and their fresh bursts were the event loop's longest stalls under the flood.
    const burst = this.cfg.burst / 2 ** Math.min(this.cuts, 8);
    this.tokens = Math.min(burst, this.tokens + dt * this.cfg.eventsPerSecond);
    // Strikes do not decay during a cool-down (it would let the client back below the gate's threshold).
    const decay = Math.max(0, now - Math.max(this.last, this.blockedUntil)) / 1000;
    this.strikes = Math.max(0, this.strikes - (decay * this.cfg.eventsPerSecond) / 2);
    this.last = now;
  }

  /** Takes one token; false when the client is over its rate. */
  take(now: number): boolean {
    this.advance(now);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    this.strikes++;
    return false;
  }

  /** A strike without a refusal: a malformed message or an unknown event, which no honest client sends. */
  strike(now: number): void {
    this.advance(now);
    this.strikes++;
  }

  get exhausted(): boolean {
    return this.strikes >= this.cfg.disconnectAfter;
  }

  /**
   * The client is being cut for flooding: it may reconnect only after a cool-down, the time
   * half its burst takes to refill, doubled at each further cut (up to MAX_COOLDOWN_MS), so a
   * reconnect storm gains nothing. Until then its handshakes are refused before any registry work.
   */
  cut(now: number): void {
    this.advance(now);
    this.cuts++;
    const base = (this.cfg.burst / 2 / this.cfg.eventsPerSecond) * 1000;
    this.blockedUntil = now + Math.min(MAX_COOLDOWN_MS, base * 2 ** (this.cuts - 1));
    // It comes back already past the gate's threshold: its events over the rate are dropped undecoded at once.
    this.strikes = this.cfg.disconnectAfter / 2;
    this.tokens = 0;
  }

  /** Milliseconds until a client cut for flooding may reconnect; 0 when it may. */
  blocksReconnect(now: number): number {
    return Math.max(0, this.blockedUntil - now);
  }
}
