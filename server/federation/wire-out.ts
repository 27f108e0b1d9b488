import { EVENTS, type RoundEnd, type RoundStart } from '../../shared/protocol/messages';
import type { RoundOutcome } from '../../shared/protocol/phases';
import { packBinary } from '../../shared/protocol/binary-pack';
import type { SecAggRoundInfo } from '../../shared/protocol/secagg-messages';
import type { RoundModel } from './rounds/round';
import type { RoundConfig } from '../../shared/protocol/round-config';
import type { ClientPool } from './client-pool';
import { TurnQueue } from './turn-queue';

/** Every message the server sends during a round is built here; rounds and the scheduler only say what and to whom. */

export function roundStartMessage(
  roundId: number,
  model: RoundModel,
  training: RoundConfig['training'],
  deadline: number,
  secagg?: SecAggRoundInfo,
): RoundStart {
  return {
    roundId,
    modelVersion: model.version,
    modelHash: model.hash,
    layoutHash: model.layout.hash,
    training,
    deadline,
    ...(secagg ? { secagg } : {}),
  };
}

export function roundEndMessage(
  roundId: number,
  outcome: RoundOutcome,
  reason?: string,
  newVersion?: number,
): RoundEnd {
  return {
    roundId,
    outcome,
    ...(reason ? { reason } : {}),
    ...(newVersion !== undefined ? { newVersion } : {}),
  };
}

/** Sends one JSON message to each connected id; returns the bytes sent (JSON length per recipient). */
export function sendToEach(pool: ClientPool, ids: Iterable<string>, event: string, msg: object): number {
  const size = JSON.stringify(msg).length;
  let bytes = 0;
  for (const id of ids) {
    const c = pool.get(id);
    if (!c) continue;
    c.send(event, msg);
    bytes += size;
  }
  return bytes;
}

export function sendRoundStart(pool: ClientPool, ids: Iterable<string>, msg: RoundStart): number {
  return sendToEach(pool, ids, EVENTS.roundStart, msg);
}

export function sendRoundEnd(pool: ClientPool, ids: Iterable<string>, msg: RoundEnd): number {
  return sendToEach(pool, ids, EVENTS.roundEnd, msg);
}

/** Sends a SecAgg+ message with its binary fields packed in one attachment; returns its size. */
export function sendPacked(pool: ClientPool, id: string, event: string, payload: object): number {
  const packed = packBinary(payload);
  pool.get(id)?.send(event, packed);
  return packed.b.byteLength + JSON.stringify(packed.p).length;
}

/**
 * Sends packed messages in order, spread over event-loop turns by time (a TurnQueue, 8 ms a turn). A phase
 * change at n = 1000 sends 1,000 messages of up to ~25 KB each; packed and emitted in one turn they held the
 * loop 1.3–1.4 s, and 64 per turn still held it 170–400 ms on a busy 2-core VM (bench:load CPU profile),
 * because one message's cost varies with the machine.
 */
export class PacedSender {
  private readonly queue: TurnQueue;

  constructor(
    private readonly pool: ClientPool,
    private readonly onBytes: (bytes: number) => void,
    turnBudgetMs = 8,
    now?: () => number,
  ) {
    // Outbound messages belong to a round whose cohort bounds them: no overflow flush.
    this.queue = new TurnQueue({ budgetMs: turnBudgetMs, maxPending: Infinity, ...(now ? { now } : {}) });
  }

  /** Messages queued and not yet sent. */
  get pending(): number {
    return this.queue.pending;
  }

  /**
   * Queues a SecAgg+ message, its binary fields packed into one attachment. A function payload is built
   * when its turn comes (a roster or share bundle per client is itself O(k) work); `undefined` sends nothing.
   */
  send(id: string, event: string, payload: object | (() => object | undefined)): void {
    this.queue.run(() => {
      const p = typeof payload === 'function' ? payload() : payload;
      this.onBytes(p ? sendPacked(this.pool, id, event, p) : 0);
    });
  }

  /** Queues one plain JSON message per id (the same object for each). */
  sendToEach(ids: Iterable<string>, event: string, msg: object): void {
    const size = JSON.stringify(msg).length;
    for (const id of ids)
      this.queue.run(() => {
        const c = this.pool.get(id);
        c?.send(event, msg);
        this.onBytes(c ? size : 0);
      });
  }
}
