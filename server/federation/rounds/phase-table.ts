import { RoundPhase } from '../../../shared/protocol/phases';
import type { RoundConfig } from '../../../shared/protocol/round-config';

/**
 * What moves a round from one phase to the next:
 * - `draw`: the scheduler starts drawing a cohort;
 * - `too-few`: the draw (or the eligible pool) cannot run a round; nothing started;
 * - `start-plain` / `start-secure`: the round begins in plain or SecAgg+ mode;
 * - `close`: every expected client answered, or the phase's deadline passed;
 * - `commit`: the aggregate became a new version;
 * - `fail`: the round ends without a version (from any active phase, also one that never trained).
 */
export type RoundEvent = 'draw' | 'too-few' | 'start-plain' | 'start-secure' | 'close' | 'commit' | 'fail';

/** Which config field bounds the phase a transition enters (null: the phase has no deadline of its own). */
export type DeadlineKey = keyof Pick<RoundConfig, 'trainDeadlineMs' | 'phaseDeadlineMs'>;

export interface Transition {
  readonly from: RoundPhase;
  readonly event: RoundEvent;
  readonly to: RoundPhase;
  readonly deadline: DeadlineKey | null;
}

const ACTIVE: readonly RoundPhase[] = [
  RoundPhase.Select,
  RoundPhase.Train,
  RoundPhase.AdvertiseKeys,
  RoundPhase.ShareKeys,
  RoundPhase.MaskedInput,
  RoundPhase.Unmask,
  RoundPhase.Aggregate,
];

/**
 * Every legal transition, for the scheduler, PlainRound and SecureRound alike. Plain mode runs
 * Select → Train → Aggregate; secure mode replaces Train with AdvertiseKeys → ShareKeys →
 * MaskedInput (clients train meanwhile, hence the train deadline) → Unmask.
 */
export const PHASE_TABLE: readonly Transition[] = [
  { from: RoundPhase.Idle, event: 'draw', to: RoundPhase.Select, deadline: null },
  { from: RoundPhase.Select, event: 'too-few', to: RoundPhase.Idle, deadline: null },
  { from: RoundPhase.Select, event: 'start-plain', to: RoundPhase.Train, deadline: 'trainDeadlineMs' },
  { from: RoundPhase.Select, event: 'start-secure', to: RoundPhase.AdvertiseKeys, deadline: 'phaseDeadlineMs' },
  { from: RoundPhase.Train, event: 'close', to: RoundPhase.Aggregate, deadline: null },
  { from: RoundPhase.AdvertiseKeys, event: 'close', to: RoundPhase.ShareKeys, deadline: 'phaseDeadlineMs' },
  { from: RoundPhase.ShareKeys, event: 'close', to: RoundPhase.MaskedInput, deadline: 'trainDeadlineMs' },
  { from: RoundPhase.MaskedInput, event: 'close', to: RoundPhase.Unmask, deadline: 'phaseDeadlineMs' },
  { from: RoundPhase.Unmask, event: 'close', to: RoundPhase.Aggregate, deadline: null },
  { from: RoundPhase.Aggregate, event: 'commit', to: RoundPhase.Idle, deadline: null },
  ...ACTIVE.map((from) => ({ from, event: 'fail' as const, to: RoundPhase.Idle, deadline: null })),
];

export class IllegalTransition extends Error {
  constructor(
    readonly from: RoundPhase,
    readonly event: RoundEvent,
  ) {
    super(`illegal round transition: '${event}' in the ${from} phase`);
    this.name = 'IllegalTransition';
  }
}

const BY_KEY = new Map(PHASE_TABLE.map((t) => [`${t.from}|${t.event}`, t]));

/** The transition `event` causes in phase `from`; throws IllegalTransition when the table has none. */
export function transition(from: RoundPhase, event: RoundEvent): Transition {
  const t = BY_KEY.get(`${from}|${event}`);
  if (!t) throw new IllegalTransition(from, event);
  return t;
}

/** Whether `event` is legal in phase `from`. */
export function canTransition(from: RoundPhase, event: RoundEvent): boolean {
  return BY_KEY.has(`${from}|${event}`);
}

/** How long the phase a transition enters may last under `cfg`, in ms (undefined: no deadline of its own). */
export function deadlineMs(t: Transition, cfg: Pick<RoundConfig, DeadlineKey>): number | undefined {
  return t.deadline === null ? undefined : cfg[t.deadline];
}
