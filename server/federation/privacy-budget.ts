import { RdpAccountant } from '../../shared/privacy/rdp';
import type { PrivacyConfig } from '../../shared/protocol/round-config';
import type { Registry } from '../registry/registry';

const KEY = 'privacy_accountant';

/** The RDP accountant of a data directory, persisted in the registry after every step. */
export class PrivacyBudget {
  private accountant: RdpAccountant;

  constructor(private readonly registry: Registry) {
    const stored = registry.getSetting(KEY);
    this.accountant = stored ? RdpAccountant.fromJSON(JSON.parse(stored)) : new RdpAccountant();
  }

  /** δ: the configured one, else comfortably below 1/N for N enrolled clients. */
  delta(cfg: PrivacyConfig): number {
    const enrolled = Math.max(1, this.registry.countClients());
    return cfg.delta ?? Math.min(1e-5, 0.1 / enrolled);
  }

  get steps(): number {
    return this.accountant.steps;
  }

  epsilon(delta: number): number {
    return this.accountant.steps === 0 ? 0 : this.accountant.epsilon(delta).epsilon;
  }

  /** ε after one more round at (q, z), without recording it. */
  epsilonAfterNext(q: number, z: number, delta: number): { epsilon: number; bestOrder: number } {
    return this.accountant.epsilonAfter(q, z, 1, delta);
  }

  record(q: number, z: number): void {
    this.accountant.step(q, z);
    this.registry.setSetting(KEY, JSON.stringify(this.accountant.toJSON()));
  }
}
