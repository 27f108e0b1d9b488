/** Background model-quality evaluation: its state line and the quality warnings (each shown once, dismissible). */
import type { QualityWarning } from '../../../../shared/protocol/admin';
import { byId } from '../dom';
import { button } from '../format';
import { store, type AdminState } from '../store';

function renderState({ evaluation }: Readonly<AdminState>): void {
  const el = byId('eval-state');
  if (!evaluation.enabled) el.textContent = 'Model-quality evaluation is off on this server.';
  else if (evaluation.current != null) {
    el.textContent = `Evaluating v${evaluation.current} in the background (linear probe, embedding health, drift)…`;
  } else el.textContent = 'Model-quality evaluation: idle; every new version is scored in the background.';
}

const shown = new Set<string>();
function showWarning(w: QualityWarning): void {
  const key = `${w.kind}:${w.version}`;
  if (shown.has(key)) return;
  shown.add(key);
  const box = document.createElement('div');
  box.className = `warning ${w.kind}`;
  box.dataset.testid = 'quality-warning';
  const msg = document.createElement('span');
  msg.textContent = `⚠ ${w.kind === 'collapse' ? 'Embedding collapse' : 'Quality drop'}: ${w.message}`;
  box.append(
    msg,
    button('Dismiss', () => box.remove(), { cls: 'ghost' }),
  );
  byId('warnings').append(box);
}

export function mountEvaluation(): void {
  store.on(['warnings'], ({ warnings }) => warnings.forEach(showWarning));
  store.on(['evaluation'], renderState);
  renderState(store.get());
}
