import { describe, expect, it } from 'vitest';
import { ClientPool } from './client-pool';
import { PacedSender } from './wire-out';

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A pool of recording clients, and a clock that each send moves forward by `costMs`. */
function fixture(ids: string[], costMs: number) {
  let clock = 0;
  const received: string[] = [];
  const pool = new ClientPool();
  for (const id of ids)
    pool.add({
      id,
      connectedAt: 0,
      send: (event) => {
        received.push(`${id}:${event}`);
        clock += costMs;
      },
      disconnect: () => undefined,
    });
  return { pool, received, now: () => clock };
}

describe('PacedSender', () => {
  it('spreads sends over turns by time: each turn stops once its budget is used, order is kept', async () => {
    const ids = Array.from({ length: 10 }, (_, i) => `c${i}`);
    const f = fixture(ids, 3);
    let bytes = 0;
    const sender = new PacedSender(f.pool, (b) => (bytes += b), 8, f.now);
    for (const id of ids) sender.send(id, 'secagg:x', { n: 1, key: new Uint8Array(4) });
    expect(f.received).toHaveLength(0); // nothing is sent in the caller's turn
    const perTurn: number[] = [];
    while (sender.pending > 0) {
      await nextTurn();
      perTurn.push(f.received.length - perTurn.reduce((a, b) => a + b, 0));
    }
    // 3 ms per message against an 8 ms budget: 3 messages a turn (the clock passes 8 ms on the third).
    expect(perTurn.filter((n) => n > 0)).toEqual([3, 3, 3, 1]);
    expect(f.received).toEqual(ids.map((id) => `${id}:secagg:x`));
    expect(bytes).toBeGreaterThan(0);
  });

  it('always sends at least one message per turn, even when one costs more than the budget', async () => {
    const f = fixture(['a', 'b', 'c'], 50);
    const sender = new PacedSender(f.pool, () => undefined, 8, f.now);
    for (const id of ['a', 'b', 'c']) sender.send(id, 'e', {});
    const counts: number[] = [];
    while (sender.pending > 0) {
      await nextTurn();
      counts.push(f.received.length);
    }
    expect(counts.filter((n, i) => n !== (counts[i - 1] ?? 0))).toEqual([1, 2, 3]);
  });

  it('paces plain JSON fan-outs with the packed messages, in order, counting bytes only for connected ids', async () => {
    const f = fixture(['a', 'b'], 1);
    let bytes = 0;
    const sender = new PacedSender(f.pool, (b) => (bytes += b), 8, f.now);
    const start = { roundId: 1 };
    sender.sendToEach(['a', 'gone', 'b'], 'round:start', start);
    sender.send('a', 'secagg:share-keys', { k: new Uint8Array(3) });
    while (sender.pending > 0) await nextTurn();
    expect(f.received).toEqual(['a:round:start', 'b:round:start', 'a:secagg:share-keys']);
    expect(bytes).toBeGreaterThanOrEqual(2 * JSON.stringify(start).length + 3);
    expect(bytes).toBeLessThan(3 * JSON.stringify(start).length + 100);
  });

  it('starts again after the outbox drained', async () => {
    const f = fixture(['a'], 1);
    const sender = new PacedSender(f.pool, () => undefined, 8, f.now);
    sender.send('a', 'first', {});
    while (sender.pending > 0) await nextTurn();
    sender.send('a', 'second', {});
    while (sender.pending > 0) await nextTurn();
    expect(f.received).toEqual(['a:first', 'a:second']);
  });
});
