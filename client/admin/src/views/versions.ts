/** The model-versions table: lineage, ε, probe accuracy, health, and Download / Roll back per version. */
import { storedHealthOf } from '../../../../shared/protocol/admin';
import { apiSend, downloadVersion } from '../api';
import { control } from '../control';
import { byId } from '../dom';
import { toast } from '../feedback';
import { button, errorMessage, num, pct, td, time } from '../format';
import { store, type AdminState } from '../store';

function render({ versions, status }: Readonly<AdminState>): void {
  const current = status?.modelVersion;
  byId('versions-table').replaceChildren(
    ...versions.map((v) => {
      const tr = document.createElement('tr');
      tr.dataset.version = String(v.version);
      if (v.version === current) tr.className = 'current';
      const h = storedHealthOf(v);
      const healthText = h
        ? `rank ${num(h.health.effectiveRank, 1)} · std ${num(h.health.stdRatio, 2)}` +
          `${h.drift !== null ? ` · drift ${num(h.drift, 4)}` : ''}${h.health.collapsed ? ' · COLLAPSED' : ''}`
        : '–';
      const actions = document.createElement('td');
      actions.append(
        button(
          'Download',
          () =>
            void downloadVersion(v.version).then(
              () => toast(`Downloading v${v.version} (tfjs layers format)`),
              (e: unknown) => toast(`Download failed: ${errorMessage(e)}`, true),
            ),
          { cls: 'ghost', testId: `download-${v.version}` },
        ),
        document.createTextNode(' '),
        button(
          'Roll back',
          () =>
            void control(
              'Roll back the global model',
              `Make v${v.version} the global model again? It is recorded as a new version with parent v${v.version}. Rounds must be idle (pause first).`,
              () => apiSend('POST', '/api/admin/rollback', { version: v.version }),
              `Rolled back to v${v.version}`,
              true,
            ),
          { testId: `rollback-${v.version}`, disabled: v.version === current },
        ),
      );
      tr.append(
        td(`v${v.version}${v.version === current ? ' (current)' : ''}`),
        td(v.parent === null ? '–' : `v${v.parent}`),
        td(v.round_id ?? '–'),
        td(v.participants ? `${v.survivors}/${v.participants}` : '–', 'num'),
        td(num(v.epsilon, 3), 'num'),
        td(pct(v.probe_accuracy), 'num'),
        td(pct(v.probe_random), 'num'),
        td(healthText),
        td(v.config_hash.slice(0, 10)),
        td(time(v.created_at)),
        td(v.note ?? ''),
        actions,
      );
      return tr;
    }),
  );
}

export function mountVersions(): void {
  // The current-version highlight follows the status.
  store.on(['versions', 'status'], render);
}
