import { describe, expect, it } from 'vitest';
import { TurnQueue } from './turn-queue';

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('TurnQueue', () => {
  it('runs items in order, none in the caller turn, stopping each turn once the budget is used', async () => {
    let clock = 0;
    const q = new TurnQueue({ budgetMs: 10, now: () => clock });
    const ran: number[] = [];
    for (let i = 0; i < 7; i++)
      q.run(() => {
        ran.push(i);
        clock += 4; // 4 ms each against 10: three a turn
      });
    expect(ran).toEqual([]);
    const perTurn: number[] = [];
    while (q.pending > 0) {
      const before = ran.length;
      await nextTurn();
      perTurn.push(ran.length - before);
    }
    expect(perTurn.filter((n) => n > 0)).toEqual([3, 3, 1]);
    expect(ran).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('idle() waits for items queued meanwhile too; a throwing item is reported and the rest still run', async () => {
    const errors: unknown[] = [];
    const q = new TurnQueue({ budgetMs: 0, onError: (e) => errors.push(e) });
    const ran: string[] = [];
    await q.idle(); // nothing queued: resolves at once
    q.run(() => {
      ran.push('a');
      q.run(() => ran.push('c')); // queued while draining
    });
    q.run(() => {
      throw new Error('boom');
    });
    q.run(() => ran.push('b'));
    await q.idle();
    expect(ran).toEqual(['a', 'b', 'c']);
    expect(errors.map((e) => (e as Error).message)).toEqual(['boom']);
    expect(q.pending).toBe(0);
  });
});

describe('TurnQueue, inline (inbound messages)', () => {
  it('runs at once while the turn has budget and nothing waits; then queues, keeping the order', async () => {
    let clock = 0;
    const q = new TurnQueue({ budgetMs: 10, inline: true, now: () => clock });
    const ran: number[] = [];
    const item = (i: number) => () => {
      ran.push(i);
      clock += 4;
    };
    q.run(item(0));
    q.run(item(1));
    q.run(item(2)); // 8 ms spent before it: still under budget, runs now
    expect(ran).toEqual([0, 1, 2]);
    q.run(item(3)); // 12 ms spent: waits for the next turn
    q.run(item(4));
    expect(ran).toEqual([0, 1, 2]);
    await q.idle();
    expect(ran).toEqual([0, 1, 2, 3, 4]);
    await nextTurn(); // a new turn: the budget is back
    q.run(item(5));
    expect(ran).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('past maxPending the backlog runs at once, in order, before the new item', () => {
    let clock = 0;
    const q = new TurnQueue({ budgetMs: 1, inline: true, maxPending: 3, now: () => clock });
    const ran: number[] = [];
    for (let i = 0; i < 5; i++)
      q.run(() => {
        ran.push(i);
        clock += 5;
      });
    // 0 ran inline and used the turn; 1, 2, 3 waited; the 5th call found 3 waiting and flushed them first.
    expect(ran).toEqual([0, 1, 2, 3, 4]);
    expect(q.pending).toBe(0);
  });
});
