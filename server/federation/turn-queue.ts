/**
 * Runs queued work in order, spread over event-loop turns by time: a turn stops once it has used `budgetMs`
 * (always after at least one item), and the next turn is a setImmediate away, so timers and other sockets'
 * I/O are served in between. Outbound fan-outs (PacedSender) and inbound client messages go through one each.
 */
export class TurnQueue {
  private items: (() => void)[] = [];
  private head = 0;
  private scheduled = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly opts: {
      budgetMs?: number;
      /** Called when an item throws; the queue goes on with the next one. */
      onError?: (err: unknown) => void;
      now?: () => number;
    } = {},
  ) {}

  /** Items queued and not yet run. */
  get pending(): number {
    return this.items.length - this.head;
  }

  /** Resolves once everything queued so far (and queued meanwhile) has run. */
  idle(): Promise<void> {
    if (!this.scheduled) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  run(work: () => void): void {
    this.items.push(work);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.drain);
    }
  }

  private readonly drain = (): void => {
    const now = this.opts.now ?? (() => performance.now());
    const until = now() + (this.opts.budgetMs ?? 8);
    do {
      const work = this.items[this.head]!;
      this.items[this.head++] = DONE; // let its closure go as soon as it ran
      try {
        work();
      } catch (err) {
        if (this.opts.onError) this.opts.onError(err);
        else
          queueMicrotask(() => {
            throw err; // no handler: surface it as an uncaught error, as running it directly would have
          });
      }
    } while (this.pending > 0 && now() < until);
    if (this.pending > 0) setImmediate(this.drain);
    else {
      this.items = [];
      this.head = 0;
      this.scheduled = false;
      for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  };
}

const DONE = () => undefined;
