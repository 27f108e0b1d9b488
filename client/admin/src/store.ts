/** The console's one piece of mutable state: what the server last told it. Views subscribe to the keys they show. */
import type { RoundConfig } from '../../../shared/protocol/round-config';
import type {
  AdminClientView,
  AuditRow,
  CoordinatorStatus,
  EvaluationState,
  QualityWarning,
  RoundRow,
  TokenRow,
  VersionRow,
} from '../../../shared/protocol/admin';

export interface AdminState {
  status?: CoordinatorStatus;
  /** serverTime − local time, so countdowns and ages follow the server's clock. */
  clockSkew: number;
  /** The round config in force (the editor's Revert target). */
  config?: RoundConfig;
  versions: VersionRow[];
  rounds: RoundRow[];
  clients: AdminClientView[];
  tokens: TokenRow[];
  audit: AuditRow[];
  evaluation: EvaluationState;
  /** Every quality warning received so far (the view shows each once). */
  warnings: QualityWarning[];
}

export type StateKey = keyof AdminState;
type Listener = (state: Readonly<AdminState>) => void;

export interface Store {
  get(): Readonly<AdminState>;
  /** Replaces the given keys and notifies each listener of those keys once. */
  set(patch: Partial<AdminState>): void;
  /** Calls `fn` after every `set` that touches one of `keys`; returns an unsubscribe function. */
  on(keys: readonly StateKey[], fn: Listener): () => void;
}

export function createStore(initial: AdminState): Store {
  let state: Readonly<AdminState> = initial;
  const listeners = new Set<{ keys: readonly StateKey[]; fn: Listener }>();
  return {
    get: () => state,
    set(patch) {
      state = { ...state, ...patch };
      const changed = new Set(Object.keys(patch));
      for (const l of [...listeners]) if (l.keys.some((k) => changed.has(k))) l.fn(state);
    },
    on(keys, fn) {
      const entry = { keys, fn };
      listeners.add(entry);
      return () => listeners.delete(entry);
    },
  };
}

export const store = createStore({
  clockSkew: 0,
  versions: [],
  rounds: [],
  clients: [],
  tokens: [],
  audit: [],
  evaluation: { enabled: false },
  warnings: [],
});

/** The server's clock now, as far as this page knows. */
export const serverNow = (): number => Date.now() + store.get().clockSkew;
