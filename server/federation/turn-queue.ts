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
      /**
       * Run an item at once when nothing is queued and this turn's budget is not used up (inbound messages:
       * no added latency, nothing held in memory under light load); otherwise items always wait a turn.
       */
      inline?: boolean;
      /**
       * Past this many waiting items, the backlog runs at once, then the new item (order kept): memory stays
       * bounded under a flood, at the price of one long turn. Default 10,000.
       */
      maxPending?: number;
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
    const now = this.opts.now ?? (() => performance.now());
    const budget = this.opts.budgetMs ?? 8;
    if (this.pending >= (this.opts.maxPending ?? 10_000)) {
      while (this.pending > 0) {
        const queued = this.items[this.head]!;
        this.items[this.head++] = DONE;
        this.runOne(queued);
      }
      this.runOne(work);
      return; // the scheduled drain finds nothing and settles
    }
    if (this.opts.inline && this.pending === 0 && this.spent < budget) {
      const t0 = now();
      this.runOne(work);
      this.spent += now() - t0;
      if (!this.resetScheduled) {
        this.resetScheduled = true;
        setImmediate(() => {
          this.spent = 0;
          this.resetScheduled = false;
        });
      }
      return;
    }
    this.items.push(work);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.drain);
    }
  }

  /** Time spent running inline items in the current turn (reset at the next turn). */
  private spent = 0;
  private resetScheduled = false;

  private runOne(work: () => void): void {
    try {
      work();
    } catch (err) {
      if (this.opts.onError) this.opts.onError(err);
      else
        queueMicrotask(() => {
          throw err; // no handler: surface it as an uncaught error, as running it directly would have
        });
    }
  }

  private readonly drain = (): void => {
    const now = this.opts.now ?? (() => performance.now());
    const until = now() + (this.opts.budgetMs ?? 8);
    while (this.pending > 0) {
      const work = this.items[this.head]!;
      this.items[this.head++] = DONE; // let its closure go as soon as it ran
      this.runOne(work);
      if (now() >= until) break; // at least one item per turn
    }
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
