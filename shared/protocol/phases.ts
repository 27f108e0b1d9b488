/**
 * Round phases. Plain mode: Select → Train → Aggregate. Secure aggregation
 * replaces Train with AdvertiseKeys → ShareKeys → MaskedInput → Unmask.
 * Every active phase has a deadline from the round config.
 */
export enum RoundPhase {
  Idle = 'idle',
  Select = 'select',
  AdvertiseKeys = 'advertise-keys',
  ShareKeys = 'share-keys',
  Train = 'train',
  MaskedInput = 'masked-input',
  Unmask = 'unmask',
  Aggregate = 'aggregate',
}

export enum RoundOutcome {
  Committed = 'committed',
  Failed = 'failed',
  Aborted = 'aborted',
}
