import { io, type Socket } from 'socket.io-client';
import { RoundConfigSchema, type RoundConfig } from '../../../shared/protocol/round-config';
import type { ClientRow, RoundRow, TokenRow, VersionRow } from '../../../server/registry/registry';
import type { CoordinatorStatus } from '../../../server/federation/coordinator';
import type { QualityWarning, StoredHealth } from '../../../server/admin/evaluation';
import { api, ApiError, downloadVersion, session, setUnauthorizedHandler, verifyAdminToken } from './api';
import { LineChart } from './charts';
import { ago, button, bytes, duration, num, pct, td, time } from './format';

type Status = CoordinatorStatus & { privacy?: { epsilon: number; target: number; delta: number }; serverTime?: number };
type ClientView = ClientRow & { connected: boolean; eligible: boolean };
interface EvaluationState {
  enabled: boolean;
  current?: number | null;
  pending?: number | null;
  warnings?: QualityWarning[];
}

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

// --- state -------------------------------------------------------------------
let socket: Socket | undefined;
let status: Status | undefined;
let clockSkew = 0; // serverTime − local time
let config: RoundConfig | undefined;
let versions: VersionRow[] = [];
let rounds: RoundRow[] = [];
let evaluation: EvaluationState = { enabled: false };
const shownWarnings = new Set<string>();

// --- feedback ----------------------------------------------------------------
let toastTimer: number | undefined;
function toast(message: string, error = false): void {
  const el = $('toast');
  el.textContent = message;
  el.className = `toast${error ? ' error' : ''}`;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = window.setTimeout(() => (el.hidden = true), error ? 8000 : 3500);
}

/** A modal confirm for every control; resolves true on Confirm. */
function confirmAction(title: string, text: string, danger = false): Promise<boolean> {
  const dlg = $<HTMLDialogElement>('confirm');
  $('confirm-title').textContent = title;
  $('confirm-text').textContent = text;
  $('confirm-ok').className = danger ? 'danger' : '';
  return new Promise((resolve) => {
    dlg.addEventListener('close', () => resolve(dlg.returnValue === 'ok'), { once: true });
    dlg.returnValue = '';
    dlg.showModal();
  });
}

/** Confirm, run, report, refresh. */
async function control(title: string, text: string, run: () => Promise<unknown>, done: string, danger = false): Promise<boolean> {
  if (!(await confirmAction(title, text, danger))) return false;
  try {
    await run();
    toast(done);
    scheduleRefresh();
    return true;
  } catch (err) {
    toast(`${title} failed: ${err instanceof Error ? err.message : String(err)}`, true);
    return false;
  }
}

// --- sign-in -----------------------------------------------------------------
function showSignedIn(on: boolean): void {
  $('signin').hidden = on;
  $('console').hidden = !on;
  $('nav').hidden = !on;
  $('signout').hidden = !on;
}

function setConn(text: string, cls: '' | 'off' | 'warn'): void {
  const el = $('conn');
  el.textContent = text;
  el.className = `badge ${cls}`;
}

function signOut(message?: string): void {
  session.clear();
  socket?.disconnect();
  socket = undefined;
  showSignedIn(false);
  setConn('signed out', 'off');
  $('signin-error').textContent = message ?? '';
}

setUnauthorizedHandler((m) => signOut(`Signed out: ${m}`));

async function signIn(token: string): Promise<void> {
  $('signin-error').textContent = '';
  try {
    await verifyAdminToken(token);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) session.clear();
    showSignedIn(false);
    $('signin-error').textContent = err instanceof ApiError && err.status === 401 ? `Token refused: ${err.message}` : `Cannot reach the server: ${(err as Error).message}`;
    return;
  }
  session.set(token);
  showSignedIn(true);
  connectSocket(token);
  await refreshAll();
}

// --- live feed ---------------------------------------------------------------
function connectSocket(token: string): void {
  socket?.disconnect();
  setConn('connecting…', 'warn');
  const s = io('/admin', { auth: { token }, transports: ['websocket'], reconnectionDelayMax: 10_000 });
  socket = s;
  s.on('connect', () => setConn('live', ''));
  s.on('disconnect', () => setConn('reconnecting…', 'warn'));
  s.on('connect_error', (err) => {
    if (err.message === 'unauthenticated') signOut('Signed out: the server refused this admin token.');
    else setConn('offline — retrying', 'warn');
  });
  s.on('auth-expired', () => signOut('Signed out: the admin token was revoked or expired.'));
  s.on('snapshot', (snap: { status: Status; config: RoundConfig; evaluation: EvaluationState; serverTime: number }) => {
    clockSkew = snap.serverTime - Date.now();
    setStatus(snap.status);
    setConfig(snap.config);
    setEvaluation(snap.evaluation);
  });
  s.on('status', (st: Status) => setStatus(st));
  s.on('round-started', () => scheduleRefresh());
  s.on('round-ended', () => scheduleRefresh());
  s.on('version', () => scheduleRefresh());
  s.on('evaluation-started', (v: number) => {
    evaluation = { ...evaluation, current: v };
    renderEvaluationState();
  });
  s.on('evaluated', () => {
    evaluation = { ...evaluation, current: null };
    renderEvaluationState();
    scheduleRefresh();
  });
  s.on('quality-warning', (w: QualityWarning) => showWarning(w));
  s.on('rejected', (r: { clientId: string; code: string; reason: string }) => toast(`Update from ${r.clientId} rejected: ${r.code}`, true));
}

// --- overview ----------------------------------------------------------------
function setStatus(st: Status): void {
  if (st.serverTime) clockSkew = st.serverTime - Date.now();
  status = st;
  $('phase').textContent = st.phase;
  $('round-id').textContent = st.roundId ? `#${st.roundId}` : '–';
  $('cohort').textContent = String(st.cohort.length);
  $('survivors').textContent = String(st.delivered.length);
  $('dropped').textContent = String(st.dropped.length);
  $('model-version').textContent = `v${st.modelVersion}`;
  $('connected').textContent = String(st.connectedClients);
  $('eligible').textContent = String(st.eligibleClients);
  const paused = $('paused-state');
  paused.textContent = st.paused ? 'paused' : 'running';
  paused.className = `pill ${st.paused ? 'bad' : 'ok'}`;
  $<HTMLButtonElement>('pause').disabled = st.paused;
  $<HTMLButtonElement>('resume').disabled = !st.paused;
  tickCountdown();
  renderPrivacy();
  renderVersions(); // the current-version highlight follows the status
}

function tickCountdown(): void {
  const el = $('countdown');
  if (!status?.deadline) {
    el.textContent = '–';
    return;
  }
  el.textContent = duration(status.deadline - (Date.now() + clockSkew));
}
setInterval(tickCountdown, 250);

function renderPrivacy(): void {
  const meter = $('dp-meter');
  const fill = $('dp-fill');
  const text = $('dp-text');
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
  text.textContent = `ε = ${p.epsilon.toFixed(3)} of ${p.target} (δ = ${p.delta.toExponential(1)}) · ${(100 * used).toFixed(0)}% spent`;
}

function setEvaluation(e: EvaluationState): void {
  evaluation = e;
  for (const w of e.warnings ?? []) showWarning(w);
  renderEvaluationState();
}

function renderEvaluationState(): void {
  const el = $('eval-state');
  if (!evaluation.enabled) el.textContent = 'Model-quality evaluation is off on this server.';
  else if (evaluation.current != null) el.textContent = `Evaluating v${evaluation.current} in the background (linear probe, embedding health, drift)…`;
  else el.textContent = 'Model-quality evaluation: idle; every new version is scored in the background.';
}

function showWarning(w: QualityWarning): void {
  const key = `${w.kind}:${w.version}`;
  if (shownWarnings.has(key)) return;
  shownWarnings.add(key);
  const box = document.createElement('div');
  box.className = `warning ${w.kind}`;
  box.dataset.testid = 'quality-warning';
  const msg = document.createElement('span');
  msg.textContent = `⚠ ${w.kind === 'collapse' ? 'Embedding collapse' : 'Quality drop'}: ${w.message}`;
  box.append(msg, button('Dismiss', () => box.remove(), { cls: 'ghost' }));
  $('warnings').append(box);
}

// --- data --------------------------------------------------------------------
let refreshTimer: number | undefined;
function scheduleRefresh(): void {
  clearTimeout(refreshTimer);
  refreshTimer = window.setTimeout(() => void refreshAll(), 250);
}

async function refreshAll(): Promise<void> {
  if (!session.token) return;
  try {
    const [st, vs, rs, cs, ts, audit] = await Promise.all([
      api<Status & { config: RoundConfig }>('GET', '/api/admin/status'),
      api<VersionRow[]>('GET', '/api/admin/versions'),
      api<RoundRow[]>('GET', '/api/admin/rounds'),
      api<ClientView[]>('GET', '/api/admin/clients'),
      api<TokenRow[]>('GET', '/api/admin/tokens'),
      api<{ id: number; at: number; actor: string; action: string; details: string | null }[]>('GET', '/api/admin/audit'),
    ]);
    versions = vs;
    rounds = rs;
    setStatus(st);
    if (!config) setConfig(st.config);
    renderCharts();
    renderClients(cs);
    renderRounds();
    renderTokens(ts);
    renderAudit(audit);
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 401)) toast(`Refresh failed: ${(err as Error).message}`, true);
  }
}
// Last-seen times and client lists age; refresh them now and then.
setInterval(() => {
  if (session.token && !document.hidden) void refreshAll();
}, 15_000);

function health(v: VersionRow): StoredHealth | undefined {
  if (!v.health_json) return undefined;
  try {
    return JSON.parse(v.health_json) as StoredHealth;
  } catch {
    return undefined;
  }
}

// --- charts ------------------------------------------------------------------
const charts = {
  loss: new LineChart($('chart-loss'), 'round', 'NT-Xent loss', [{ label: 'mean local loss', stroke: '#2563eb' }]),
  participants: new LineChart($('chart-participants'), 'round', 'clients', [
    { label: 'cohort', stroke: '#94a3b8', dash: [4, 4] },
    { label: 'survivors', stroke: '#16a34a' },
    { label: 'dropouts', stroke: '#dc2626' },
  ]),
  duration: new LineChart($('chart-duration'), 'round', 'seconds', [{ label: 'round duration', stroke: '#7c3aed' }]),
  bytes: new LineChart($('chart-bytes'), 'round', 'KiB per client', [
    { label: 'up (per survivor)', stroke: '#ea580c' },
    { label: 'down (per cohort member)', stroke: '#0891b2' },
  ]),
  probe: new LineChart($('chart-probe'), 'version', 'accuracy %', [
    { label: 'global model', stroke: '#2563eb' },
    { label: 'random-init baseline', stroke: '#9ca3af', dash: [5, 5] },
  ]),
  health: new LineChart($('chart-health'), 'version', 'std·√d', [
    { label: 'std ratio (1 = isotropic)', stroke: '#0d9488' },
    { label: 'effective rank', stroke: '#c026d3', right: true },
  ], 'effective rank'),
  drift: new LineChart($('chart-drift'), 'version', 'cosine distance', [{ label: 'drift from parent', stroke: '#b45309' }]),
  epsilon: new LineChart($('chart-epsilon'), 'version', 'ε', [{ label: 'ε spent', stroke: '#dc2626' }]),
};

function renderCharts(): void {
  const ended = [...rounds].filter((r) => r.ended_at !== null).reverse();
  const committed = ended.filter((r) => r.outcome === 'committed');
  charts.loss.set(committed.map((r) => r.id), [committed.map((r) => r.mean_loss)]);
  charts.participants.set(ended.map((r) => r.id), [ended.map((r) => r.cohort_size), ended.map((r) => r.survivors), ended.map((r) => r.dropouts)]);
  charts.duration.set(ended.map((r) => r.id), [ended.map((r) => (r.ended_at! - r.started_at) / 1000)]);
  charts.bytes.set(ended.map((r) => r.id), [
    ended.map((r) => (r.survivors > 0 ? r.bytes_up / r.survivors / 1024 : null)),
    ended.map((r) => (r.cohort_size > 0 ? r.bytes_down / r.cohort_size / 1024 : null)),
  ]);
  const vs = [...versions].reverse();
  const evaluated = vs.filter((v) => v.probe_accuracy !== null);
  charts.probe.set(evaluated.map((v) => v.version), [evaluated.map((v) => 100 * v.probe_accuracy!), evaluated.map((v) => (v.probe_random === null ? null : 100 * v.probe_random))]);
  const withHealth = vs.map((v) => ({ v, h: health(v) })).filter((x) => x.h);
  charts.health.set(withHealth.map((x) => x.v.version), [withHealth.map((x) => x.h!.health.stdRatio), withHealth.map((x) => x.h!.health.effectiveRank)]);
  const latest = withHealth[withHealth.length - 1];
  $('collapse-flag').hidden = !latest?.h!.health.collapsed;
  const drifted = withHealth.filter((x) => x.h!.drift !== null);
  charts.drift.set(drifted.map((x) => x.v.version), [drifted.map((x) => x.h!.drift)]);
  const withEps = vs.filter((v) => v.epsilon !== null);
  charts.epsilon.set(withEps.map((v) => v.version), [withEps.map((v) => v.epsilon)]);
}

// --- tables ------------------------------------------------------------------
function renderClients(list: ClientView[]): void {
  const body = $('clients-table');
  body.replaceChildren(
    ...list.map((c) => {
      const tr = document.createElement('tr');
      tr.dataset.clientId = c.id;
      if (c.removed) tr.className = 'removed';
      const state = c.removed ? 'removed' : c.connected ? (c.eligible ? 'connected · eligible' : 'connected') : 'offline';
      const actions = document.createElement('td');
      if (!c.removed) {
        actions.append(button('Remove', () => void control(
          'Remove client', `Disconnect ${c.name ?? c.id} and refuse it from now on? Its join token stays valid, but the removed device keeps its slot under the token's device limit.`,
          () => api('DELETE', `/api/admin/clients/${encodeURIComponent(c.id)}`), `Removed ${c.id}`, true,
        ), { cls: 'danger', testId: 'remove-client' }));
        actions.append(button('Remove + revoke token', () => void control(
          'Remove client and revoke its token', `Disconnect ${c.name ?? c.id}, refuse it from now on, and revoke its join token (every device using that token is disconnected)?`,
          () => api('DELETE', `/api/admin/clients/${encodeURIComponent(c.id)}?revokeToken=1`), `Removed ${c.id} and revoked its token`, true,
        ), { cls: 'danger', testId: 'remove-client-revoke' }));
      }
      tr.append(td(c.name ? `${c.name} (${c.id})` : c.id), td(state), td(c.backend ?? '–'), td(ago(c.last_seen, Date.now() + clockSkew)), td(c.rounds_joined, 'num'), td(c.token_id === null ? '–' : `#${c.token_id}`), actions);
      return tr;
    }),
  );
  if (list.length === 0) body.replaceChildren(emptyRow(7, 'No client has connected yet. Create a join token below and open the app with it.'));
}

function renderVersions(): void {
  const body = $('versions-table');
  const current = status?.modelVersion;
  body.replaceChildren(
    ...versions.map((v) => {
      const tr = document.createElement('tr');
      tr.dataset.version = String(v.version);
      if (v.version === current) tr.className = 'current';
      const h = health(v);
      const healthText = h ? `rank ${num(h.health.effectiveRank, 1)} · std ${num(h.health.stdRatio, 2)}${h.drift !== null ? ` · drift ${num(h.drift, 4)}` : ''}${h.health.collapsed ? ' · COLLAPSED' : ''}` : '–';
      const actions = document.createElement('td');
      actions.append(
        button('Download', () => void downloadVersion(v.version).then(() => toast(`Downloading v${v.version} (tfjs layers format)`), (e: Error) => toast(`Download failed: ${e.message}`, true)), { cls: 'ghost', testId: `download-${v.version}` }),
        document.createTextNode(' '),
        button('Roll back', () => void control(
          'Roll back the global model',
          `Make v${v.version} the global model again? It is recorded as a new version with parent v${v.version}. Rounds must be idle (pause first).`,
          () => api('POST', '/api/admin/rollback', { version: v.version }), `Rolled back to v${v.version}`, true,
        ), { testId: `rollback-${v.version}`, disabled: v.version === current }),
      );
      tr.append(
        td(`v${v.version}${v.version === current ? ' (current)' : ''}`), td(v.parent === null ? '–' : `v${v.parent}`), td(v.round_id ?? '–'),
        td(v.participants ? `${v.survivors}/${v.participants}` : '–', 'num'), td(num(v.epsilon, 3), 'num'), td(pct(v.probe_accuracy), 'num'),
        td(pct(v.probe_random), 'num'), td(healthText), td(v.config_hash.slice(0, 10)), td(time(v.created_at)), td(v.note ?? ''), actions,
      );
      return tr;
    }),
  );
}

function renderRounds(): void {
  $('rounds-table').replaceChildren(
    ...rounds.map((r) => {
      const tr = document.createElement('tr');
      tr.dataset.round = String(r.id);
      tr.append(
        td(`#${r.id}`), td(r.outcome ?? 'running'), td(`v${r.base_version} → ${r.new_version === null ? '–' : `v${r.new_version}`}`), td(r.sampling),
        td(r.cohort_size, 'num'), td(r.survivors, 'num'), td(r.dropouts, 'num'), td(num(r.mean_loss, 4), 'num'),
        td(r.ended_at ? duration(r.ended_at - r.started_at) : '…', 'num'), td(`${bytes(r.bytes_up)} / ${bytes(r.bytes_down)}`, 'num'), td(r.reason ?? ''),
      );
      return tr;
    }),
  );
}

function renderTokens(list: TokenRow[]): void {
  const now = Date.now() + clockSkew;
  $('tokens-table').replaceChildren(
    ...[...list].reverse().map((t) => {
      const tr = document.createElement('tr');
      tr.dataset.tokenId = String(t.id);
      const state = t.revoked_at ? 'revoked' : t.expires_at !== null && t.expires_at <= now ? 'expired' : 'live';
      const actions = document.createElement('td');
      if (state === 'live' && t.kind !== 'admin') {
        actions.append(button('Revoke', () => void control(
          'Revoke token', `Revoke ${t.kind} token #${t.id}${t.label ? ` (${t.label})` : ''}? Devices using it can no longer join.`,
          () => api('DELETE', `/api/admin/tokens/${t.id}`), `Revoked token #${t.id}`, true,
        ), { cls: 'danger', testId: `revoke-${t.id}` }));
      }
      tr.append(td(t.id), td(t.kind), td(t.label ?? ''), td(time(t.created_at)), td(t.expires_at ? time(t.expires_at) : 'never'), td(state), actions);
      return tr;
    }),
  );
}

function renderAudit(list: { id: number; at: number; actor: string; action: string; details: string | null }[]): void {
  $('audit-table').replaceChildren(
    ...list.map((a) => {
      const tr = document.createElement('tr');
      tr.append(td(time(a.at)), td(a.actor), td(a.action), td(a.details ?? ''));
      return tr;
    }),
  );
}

function emptyRow(cols: number, text: string): HTMLTableRowElement {
  const tr = document.createElement('tr');
  const cell = td(text, 'muted');
  cell.colSpan = cols;
  tr.append(cell);
  return tr;
}

// --- config ------------------------------------------------------------------
function setConfig(c: RoundConfig): void {
  config = c;
  const area = $<HTMLTextAreaElement>('config-json');
  // Do not overwrite an edit in progress.
  if (document.activeElement !== area) area.value = JSON.stringify(c, null, 2);
}

async function saveConfig(): Promise<void> {
  const errEl = $('config-error');
  errEl.textContent = '';
  let raw: unknown;
  try {
    raw = JSON.parse($<HTMLTextAreaElement>('config-json').value);
  } catch (err) {
    errEl.textContent = `Not valid JSON: ${(err as Error).message}`;
    return;
  }
  const parsed = RoundConfigSchema.safeParse(raw);
  if (!parsed.success) {
    errEl.textContent = parsed.error.issues.map((i) => `${i.path.join('.') || 'config'}: ${i.message}`).join('\n');
    return;
  }
  await control('Update round config', 'Apply this round config? It takes effect at the next round.', async () => {
    const saved = await api<RoundConfig>('PUT', '/api/admin/config', parsed.data);
    config = saved;
    $<HTMLTextAreaElement>('config-json').value = JSON.stringify(saved, null, 2);
  }, 'Round config saved');
}

// --- wiring ------------------------------------------------------------------
$('signin-form').addEventListener('submit', (e) => {
  e.preventDefault();
  void signIn($<HTMLInputElement>('signin-token').value.trim());
});
$('signout').addEventListener('click', () => signOut());
$('pause').addEventListener('click', () => void control('Pause rounds', 'Stop starting new rounds? A round in progress finishes normally.', () => api('POST', '/api/admin/rounds/pause'), 'Rounds paused'));
$('resume').addEventListener('click', () => void control('Resume rounds', 'Start rounds again as soon as enough clients are eligible?', () => api('POST', '/api/admin/rounds/resume'), 'Rounds resumed'));
$('save-config').addEventListener('click', () => void saveConfig());
$('config-json').addEventListener('input', () => ($('config-error').textContent = ''));
$('reset-config').addEventListener('click', () => {
  if (config) $<HTMLTextAreaElement>('config-json').value = JSON.stringify(config, null, 2);
  $('config-error').textContent = '';
});
$('token-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const kind = $<HTMLSelectElement>('token-kind').value as 'client' | 'metrics';
  const label = $<HTMLInputElement>('token-label').value.trim();
  const hours = Number($<HTMLInputElement>('token-expiry').value);
  const body = { kind, ...(label ? { label } : {}), ...(hours > 0 ? { expiresInHours: hours } : {}) };
  void control(
    'Create token', `Create a ${kind === 'client' ? 'join' : 'metrics'} token${label ? ` "${label}"` : ''}${hours > 0 ? ` valid for ${hours} h` : ' that never expires'}?`,
    async () => {
      const created = await api<{ id: number; token: string }>('POST', '/api/admin/tokens', body);
      $('new-token').textContent = created.token;
      $('new-token-box').hidden = false;
      $<HTMLInputElement>('token-label').value = '';
    },
    'Token created: copy it now, it is not shown again',
  );
});
$('copy-token').addEventListener('click', () => {
  void navigator.clipboard.writeText($('new-token').textContent ?? '').then(() => toast('Copied'), () => toast('Copy failed; select the text instead', true));
});

renderEvaluationState();
const saved = session.token;
if (saved) void signIn(saved);
else showSignedIn(false);
