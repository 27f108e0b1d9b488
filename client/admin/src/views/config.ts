/** The round-config editor: JSON checked against the shared schema before it is sent; never overwrites an edit in progress. */
import { RoundConfigSchema, type RoundConfig } from '../../../../shared/protocol/round-config';
import { api } from '../api';
import { control } from '../control';
import { byId } from '../dom';
import { errorMessage } from '../format';
import { store } from '../store';
import { formatIssues } from '../../../../shared/protocol/issues';

const area = (): HTMLTextAreaElement => byId('config-json', HTMLTextAreaElement);
const show = (c: RoundConfig): void => void (area().value = JSON.stringify(c, null, 2));

async function saveConfig(): Promise<void> {
  const errEl = byId('config-error');
  errEl.textContent = '';
  let raw: unknown;
  try {
    raw = JSON.parse(area().value);
  } catch (err) {
    errEl.textContent = `Not valid JSON: ${errorMessage(err)}`;
    return;
  }
  const parsed = RoundConfigSchema.safeParse(raw);
  if (!parsed.success) {
    errEl.textContent = formatIssues(parsed.error, { root: 'config', max: 20, separator: '\n' });
    return;
  }
  await control(
    'Update round config',
    'Apply this round config? It takes effect at the next round.',
    async () => {
      const saved = await api('PUT', '/api/admin/config', RoundConfigSchema, parsed.data);
      store.set({ config: saved });
      show(saved);
    },
    'Round config saved',
  );
}

export function mountConfig(): void {
  store.on(['config'], ({ config }) => {
    // Do not overwrite an edit in progress.
    if (config && document.activeElement !== area()) show(config);
  });
  byId('save-config').addEventListener('click', () => void saveConfig());
  byId('config-json').addEventListener('input', () => (byId('config-error').textContent = ''));
  byId('reset-config').addEventListener('click', () => {
    const { config } = store.get();
    if (config) show(config);
    byId('config-error').textContent = '';
  });
}
