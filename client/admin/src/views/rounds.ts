/** The rounds table: outcome, base → new version, sampling, participation, loss, duration, traffic. */
import { byId } from '../dom';
import { bytes, duration, num, td } from '../format';
import { store, type AdminState } from '../store';

function render({ rounds }: Readonly<AdminState>): void {
  byId('rounds-table').replaceChildren(
    ...rounds.map((r) => {
      const tr = document.createElement('tr');
      tr.dataset.round = String(r.id);
      tr.append(
        td(`#${r.id}`),
        td(r.outcome ?? 'running'),
        td(`v${r.base_version} → ${r.new_version === null ? '–' : `v${r.new_version}`}`),
        td(r.sampling),
        td(r.cohort_size, 'num'),
        td(r.survivors, 'num'),
        td(r.dropouts, 'num'),
        td(num(r.mean_loss, 4), 'num'),
        td(r.ended_at ? duration(r.ended_at - r.started_at) : '…', 'num'),
        td(`${bytes(r.bytes_up)} / ${bytes(r.bytes_down)}`, 'num'),
        td(r.reason ?? ''),
      );
      return tr;
    }),
  );
}

export function mountRounds(): void {
  store.on(['rounds'], render);
}
