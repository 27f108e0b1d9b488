/** The privacy-budget meter: ε spent against the target, or what the latest version records when DP is off. */
import { byId } from '../dom';
import { store, type AdminState } from '../store';

function render({ status, versions }: Readonly<AdminState>): void {
  const meter = byId('dp-meter');
  const fill = byId('dp-fill');
  const text = byId('dp-text');
  const p = status?.privacy;
  if (!p) {
    const eps = versions.find((v) => v.version === status?.modelVersion)?.epsilon;
    meter.className = 'meter off';
    fill.style.width = '0';
    text.textContent = eps ? `DP off (latest version records ε = ${eps.toFixed(3)}, no budget configured)` : 'DP off';
    meter.dataset.state = 'off';
    return;
  }
  const used = p.target > 0 ? p.epsilon / p.target : 1;
  const state = used >= 0.9 ? 'danger' : used >= 0.75 ? 'warn' : 'ok';
  meter.className = `meter ${state === 'ok' ? '' : state}`;
  meter.dataset.state = state;
  fill.style.width = `${Math.min(100, 100 * used).toFixed(1)}%`;
  const spent = `${(100 * used).toFixed(0)}% spent`;
  text.textContent = `ε = ${p.epsilon.toFixed(3)} of ${p.target} (δ = ${p.delta.toExponential(1)}) · ${spent}`;
}

export function mountPrivacy(): void {
  store.on(['status'], render);
}
