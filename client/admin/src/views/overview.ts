/** Overview: phase, round, cohort, model version, SecAgg parameters, the deadline countdown and pause/resume. */
import { apiSend } from '../api';
import { control } from '../control';
import { byId } from '../dom';
import { duration } from '../format';
import { serverNow, store, type AdminState } from '../store';

function render({ status: st }: Readonly<AdminState>): void {
  if (!st) return;
  byId('phase').textContent = st.phase;
  byId('round-id').textContent = st.roundId ? `#${st.roundId}` : '–';
  byId('cohort').textContent = String(st.cohort.length);
  byId('survivors').textContent = String(st.delivered.length);
  byId('dropped').textContent = String(st.dropped.length);
  byId('model-version').textContent = `v${st.modelVersion}`;
  byId('connected').textContent = String(st.connectedClients);
  byId('eligible').textContent = String(st.eligibleClients);
  const sa = st.secagg;
  const failure =
    sa?.predictedFailure != null ? ` · P[fail] ≤ ${sa.predictedFailure.toExponential(1)}` : ' · degree set by hand';
  byId('secagg-params').textContent = sa ? `k=${sa.k}, t=${sa.t} (n=${sa.n})${failure}` : '–';
  const paused = byId('paused-state');
  paused.textContent = st.paused ? 'paused' : 'running';
  paused.className = `pill ${st.paused ? 'bad' : 'ok'}`;
  byId('pause', HTMLButtonElement).disabled = st.paused;
  byId('resume', HTMLButtonElement).disabled = !st.paused;
  tickCountdown();
}

function tickCountdown(): void {
  const el = byId('countdown');
  const deadline = store.get().status?.deadline;
  if (!deadline) {
    el.textContent = '–';
    return;
  }
  el.textContent = duration(deadline - serverNow());
}

export function mountOverview(): void {
  store.on(['status', 'clockSkew'], render);
  setInterval(tickCountdown, 250);
  byId('pause').addEventListener(
    'click',
    () =>
      void control(
        'Pause rounds',
        'Stop starting new rounds? A round in progress finishes normally.',
        () => apiSend('POST', '/api/admin/rounds/pause'),
        'Rounds paused',
      ),
  );
  byId('resume').addEventListener(
    'click',
    () =>
      void control(
        'Resume rounds',
        'Start rounds again as soon as enough clients are eligible?',
        () => apiSend('POST', '/api/admin/rounds/resume'),
        'Rounds resumed',
      ),
  );
}
