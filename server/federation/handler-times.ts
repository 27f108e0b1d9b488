/**
 * How long each client event's handler held the event loop: the schema check and the handler's synchronous
 * part (an async handler's later turns are separate turns). The target is that no client request holds the
 * loop more than ~50 ms; /metrics exposes the worst case per event so a load test can check it, where the
 * loop-delay metrics also count GC pauses and the OS descheduling the process.
 */
export interface HandlerStats {
  event: string;
  count: number;
  totalMs: number;
  maxMs: number;
  /** Calls that held the loop longer than LONG_HANDLER_MS. */
  long: number;
}

export const LONG_HANDLER_MS = 50;

export class HandlerTimes {
  private readonly stats = new Map<string, HandlerStats>();

  observe(event: string, ms: number): void {
    let s = this.stats.get(event);
    if (!s) this.stats.set(event, (s = { event, count: 0, totalMs: 0, maxMs: 0, long: 0 }));
    s.count++;
    s.totalMs += ms;
    if (ms > s.maxMs) s.maxMs = ms;
    if (ms > LONG_HANDLER_MS) s.long++;
  }

  /** Runs `fn`, recording how long it ran under `event` (also when it throws). */
  time<T>(event: string, fn: () => T): T {
    const t0 = performance.now();
    try {
      return fn();
    } finally {
      this.observe(event, performance.now() - t0);
    }
  }

  snapshot(): HandlerStats[] {
    return [...this.stats.values()].map((s) => ({ ...s }));
  }
}
