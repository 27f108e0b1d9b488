import { describe, expect, it } from 'vitest';
import { RoundPhase } from '../../../shared/protocol/phases';
import { RoundConfigSchema } from '../../../shared/protocol/round-config';
import { IllegalTransition, PHASE_TABLE, canTransition, deadlineMs, transition, type RoundEvent } from './phase-table';

const cfg = RoundConfigSchema.parse({ trainDeadlineMs: 111_000, phaseDeadlineMs: 22_000 });

/** Follows `events` from Idle; returns every phase visited. */
function walk(events: RoundEvent[]): RoundPhase[] {
  const seen = [RoundPhase.Idle];
  for (const e of events) seen.push(transition(seen.at(-1)!, e).to);
  return seen;
}

describe('the round phase table', () => {
  it('runs a plain round Select → Train → Aggregate and a secure one through the four SecAgg+ phases', () => {
    expect(walk(['draw', 'start-plain', 'close', 'commit'])).toEqual([
      RoundPhase.Idle,
      RoundPhase.Select,
      RoundPhase.Train,
      RoundPhase.Aggregate,
      RoundPhase.Idle,
    ]);
    expect(walk(['draw', 'start-secure', 'close', 'close', 'close', 'close', 'commit'])).toEqual([
      RoundPhase.Idle,
      RoundPhase.Select,
      RoundPhase.AdvertiseKeys,
      RoundPhase.ShareKeys,
      RoundPhase.MaskedInput,
      RoundPhase.Unmask,
      RoundPhase.Aggregate,
      RoundPhase.Idle,
    ]);
    // A draw too small goes back to Idle without a round; a round that never trained fails from Select.
    expect(walk(['draw', 'too-few'])).toEqual([RoundPhase.Idle, RoundPhase.Select, RoundPhase.Idle]);
    expect(walk(['draw', 'fail'])).toEqual([RoundPhase.Idle, RoundPhase.Select, RoundPhase.Idle]);
  });

  it('lets every active phase fail to Idle, and nothing else', () => {
    for (const phase of Object.values(RoundPhase)) {
      expect(canTransition(phase, 'fail')).toBe(phase !== RoundPhase.Idle);
      if (phase !== RoundPhase.Idle) expect(transition(phase, 'fail').to).toBe(RoundPhase.Idle);
    }
  });

  it('refuses illegal transitions with an error naming the phase and the event', () => {
    const illegal: [RoundPhase, RoundEvent][] = [
      [RoundPhase.Idle, 'close'],
      [RoundPhase.Idle, 'fail'],
      [RoundPhase.Idle, 'start-plain'],
      [RoundPhase.Select, 'close'],
      [RoundPhase.Select, 'commit'],
      [RoundPhase.Train, 'start-secure'],
      [RoundPhase.Train, 'commit'], // the old jump: a round that never aggregated cannot commit
      [RoundPhase.Unmask, 'commit'],
      [RoundPhase.Aggregate, 'close'],
      [RoundPhase.AdvertiseKeys, 'too-few'],
    ];
    for (const [from, event] of illegal) {
      expect(canTransition(from, event)).toBe(false);
      expect(() => transition(from, event)).toThrow(IllegalTransition);
      expect(() => transition(from, event)).toThrow(`'${event}' in the ${from} phase`);
    }
  });

  it('looks deadlines up from the config: train-length for Train and MaskedInput, phase-length for key phases', () => {
    const dl = (from: RoundPhase, event: RoundEvent) => deadlineMs(transition(from, event), cfg);
    expect(dl(RoundPhase.Select, 'start-plain')).toBe(111_000);
    expect(dl(RoundPhase.Select, 'start-secure')).toBe(22_000);
    expect(dl(RoundPhase.AdvertiseKeys, 'close')).toBe(22_000);
    expect(dl(RoundPhase.ShareKeys, 'close')).toBe(111_000); // clients finish training before masking
    expect(dl(RoundPhase.MaskedInput, 'close')).toBe(22_000);
    expect(dl(RoundPhase.Train, 'close')).toBeUndefined();
    expect(dl(RoundPhase.Idle, 'draw')).toBeUndefined();
  });

  it('has one row per (phase, event), and every phase is reachable from Idle', () => {
    const keys = PHASE_TABLE.map((t) => `${t.from}|${t.event}`);
    expect(new Set(keys).size).toBe(keys.length);
    const reached = new Set([RoundPhase.Idle]);
    for (let grew = true; grew;) {
      grew = false;
      for (const t of PHASE_TABLE)
        if (reached.has(t.from) && !reached.has(t.to)) {
          reached.add(t.to);
          grew = true;
        }
    }
    expect([...reached].sort()).toEqual(Object.values(RoundPhase).sort());
  });
});
