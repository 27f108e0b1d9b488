/** Tokens: the create form (the new token is shown once), copy, and the table with Revoke. */
import { CreatedTokenSchema } from '../../../../shared/protocol/admin';
import { api, apiSend } from '../api';
import { control } from '../control';
import { byId } from '../dom';
import { toast } from '../feedback';
import { button, td, time } from '../format';
import { serverNow, store, type AdminState } from '../store';

function render({ tokens }: Readonly<AdminState>): void {
  const now = serverNow();
  byId('tokens-table').replaceChildren(
    ...[...tokens].reverse().map((t) => {
      const tr = document.createElement('tr');
      tr.dataset.tokenId = String(t.id);
      const state = t.revoked_at ? 'revoked' : t.expires_at !== null && t.expires_at <= now ? 'expired' : 'live';
      const actions = document.createElement('td');
      if (state === 'live' && t.kind !== 'admin') {
        actions.append(
          button(
            'Revoke',
            () =>
              void control(
                'Revoke token',
                `Revoke ${t.kind} token #${t.id}${t.label ? ` (${t.label})` : ''}? Devices using it can no longer join.`,
                () => apiSend('DELETE', `/api/admin/tokens/${t.id}`),
                `Revoked token #${t.id}`,
                true,
              ),
            { cls: 'danger', testId: `revoke-${t.id}` },
          ),
        );
      }
      tr.append(
        td(t.id),
        td(t.kind),
        td(t.label ?? ''),
        td(time(t.created_at)),
        td(t.expires_at ? time(t.expires_at) : 'never'),
        td(state),
        actions,
      );
      return tr;
    }),
  );
}

function createToken(): void {
  const kind = byId('token-kind', HTMLSelectElement).value === 'metrics' ? 'metrics' : 'client';
  const label = byId('token-label', HTMLInputElement).value.trim();
  const hours = Number(byId('token-expiry', HTMLInputElement).value);
  const body = { kind, ...(label ? { label } : {}), ...(hours > 0 ? { expiresInHours: hours } : {}) };
  const what = `${kind === 'client' ? 'join' : 'metrics'} token${label ? ` "${label}"` : ''}`;
  void control(
    'Create token',
    `Create a ${what}${hours > 0 ? ` valid for ${hours} h` : ' that never expires'}?`,
    async () => {
      const created = await api('POST', '/api/admin/tokens', CreatedTokenSchema, body);
      byId('new-token').textContent = created.token;
      byId('new-token-box').hidden = false;
      byId('token-label', HTMLInputElement).value = '';
    },
    'Token created: copy it now, it is not shown again',
  );
}

export function mountTokens(): void {
  store.on(['tokens'], render);
  byId('token-form').addEventListener('submit', (e) => {
    e.preventDefault();
    createToken();
  });
  byId('copy-token').addEventListener('click', () => {
    void navigator.clipboard.writeText(byId('new-token').textContent ?? '').then(
      () => toast('Copied'),
      () => toast('Copy failed; select the text instead', true),
    );
  });
}
