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
