/**
 * Per remote address limits on socket.io handshakes, checked before any parsing or registry work:
 * a token bucket on connection attempts, and a second, slower one on failed authentications (a
 * token-guessing or reconnect storm from one address is refused cheaply, with a clear error).
 * Pure apart from the clock, which is passed in.
 */

export interface AddressLimitConfig {
  /** Handshake attempts per second per address, sustained. */
  handshakesPerSecond: number;
  /** Handshake attempts at once per address (a classroom behind one NAT connects together). */
  handshakeBurst: number;
  /** Failed authentications per minute per address, sustained. */
  failedAuthPerMinute: number;
  /** Failed authentications at once per address; once spent, every handshake from it is refused. */
  failedAuthBurst: number;
}

export const DEFAULT_ADDRESS_LIMIT: AddressLimitConfig = {
  handshakesPerSecond: 20,
  handshakeBurst: 200,
  failedAuthPerMinute: 6,
  failedAuthBurst: 20,
};

/** A token bucket: `rate` tokens per second up to `burst`. */
class Bucket {
  private tokens: number;
  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private last: number,
  ) {
    this.tokens = burst;
  }

  private refill(now: number): void {
    this.tokens = Math.min(this.burst, this.tokens + (Math.max(0, now - this.last) / 1000) * this.rate);
    this.last = now;
  }

  take(now: number): boolean {
    this.refill(now);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** True while no token is left (without spending one). */
  empty(now: number): boolean {
    this.refill(now);
    return this.tokens < 1;
  }

  /** Seconds until one token is back. */
  waitSeconds(): number {
    return this.rate > 0 ? Math.ceil((1 - this.tokens) / this.rate) : Infinity;
  }
}

interface Entry {
  handshakes: Bucket;
  failures: Bucket;
}

export type AddressVerdict = { ok: true } | { ok: false; reason: string };

export class AddressLimiter {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly cfg: AddressLimitConfig = DEFAULT_ADDRESS_LIMIT,
    /** Addresses remembered at once (least recently seen forgotten first). */
    private readonly capacity = 100_000,
  ) {}

  private entry(address: string, now: number): Entry {
    let e = this.entries.get(address);
    if (e) this.entries.delete(address);
    else
      e = {
        handshakes: new Bucket(this.cfg.handshakesPerSecond, this.cfg.handshakeBurst, now),
        failures: new Bucket(this.cfg.failedAuthPerMinute / 60, this.cfg.failedAuthBurst, now),
      };
    this.entries.set(address, e); // most recent last
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
    return e;
  }

  /** One handshake attempt from `address`: refused when the address failed too often or connects too fast. */
  attempt(address: string, now: number): AddressVerdict {
    const e = this.entry(address, now);
    if (e.failures.empty(now))
      return {
        ok: false,
        reason: `rate limited: too many failed handshakes from this address, retry in ${e.failures.waitSeconds()} s`,
      };
    if (!e.handshakes.take(now))
      return {
        ok: false,
        reason: `rate limited: too many connection attempts from this address, retry in ${e.handshakes.waitSeconds()} s`,
      };
    return { ok: true };
  }

  /** A handshake from `address` failed authentication. */
  failed(address: string, now: number): void {
    this.entry(address, now).failures.take(now);
  }
}
