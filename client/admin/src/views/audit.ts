/** The audit log: who did what, newest first. */
import { byId } from '../dom';
import { td, time } from '../format';
import { store, type AdminState } from '../store';

function render({ audit }: Readonly<AdminState>): void {
  byId('audit-table').replaceChildren(
    ...audit.map((a) => {
      const tr = document.createElement('tr');
      tr.append(td(time(a.at)), td(a.actor), td(a.action), td(a.details ?? ''));
      return tr;
    }),
  );
}

export function mountAudit(): void {
  store.on(['audit'], render);
}
