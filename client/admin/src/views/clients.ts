/** The clients table: connection state, backend, last seen, rounds joined, and Remove. */
import { apiSend } from '../api';
import { control } from '../control';
import { byId } from '../dom';
import { ago, button, emptyRow, td } from '../format';
import { serverNow, store, type AdminState } from '../store';

function render({ clients }: Readonly<AdminState>): void {
  const body = byId('clients-table');
  body.replaceChildren(
    ...clients.map((c) => {
      const tr = document.createElement('tr');
      tr.dataset.clientId = c.id;
      if (c.removed) tr.className = 'removed';
      const state = c.removed
        ? 'removed'
        : c.connected
          ? c.eligible
            ? 'connected · eligible'
            : 'connected'
          : 'offline';
      const actions = document.createElement('td');
      if (!c.removed) {
        actions.append(
          button(
            'Remove',
            () =>
              void control(
                'Remove client',
                `Disconnect ${c.name ?? c.id} and refuse it from now on? Its join token stays valid, but the removed device keeps its slot under the token's device limit.`,
                () => apiSend('DELETE', `/api/admin/clients/${encodeURIComponent(c.id)}`),
                `Removed ${c.id}`,
                true,
              ),
            { cls: 'danger', testId: 'remove-client' },
          ),
        );
        actions.append(
          button(
            'Remove + revoke token',
            () =>
              void control(
                'Remove client and revoke its token',
                `Disconnect ${c.name ?? c.id}, refuse it from now on, and revoke its join token (every device using that token is disconnected)?`,
                () => apiSend('DELETE', `/api/admin/clients/${encodeURIComponent(c.id)}?revokeToken=1`),
                `Removed ${c.id} and revoked its token`,
                true,
              ),
            { cls: 'danger', testId: 'remove-client-revoke' },
          ),
        );
      }
      tr.append(
        td(c.name ? `${c.name} (${c.id})` : c.id),
        td(state),
        td(c.backend ?? '–'),
        td(ago(c.last_seen, serverNow())),
        td(c.rounds_joined, 'num'),
        td(c.token_id === null ? '–' : `#${c.token_id}`),
        actions,
      );
      return tr;
    }),
  );
  if (clients.length === 0) {
    body.replaceChildren(
      emptyRow(7, 'No client has connected yet. Create a join token below and open the app with it.'),
    );
  }
}

export function mountClients(): void {
  store.on(['clients'], render);
}
