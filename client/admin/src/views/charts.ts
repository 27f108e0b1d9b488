/** The charts: per-round loss, participation, duration and traffic; per-version probe accuracy, health, drift and ε. */
import { storedHealthOf } from '../../../../shared/protocol/admin';
import { byId } from '../dom';
import { LineChart } from '../line-chart';
import { store, type AdminState } from '../store';

function createCharts() {
  return {
    loss: new LineChart(byId('chart-loss'), 'round', 'NT-Xent loss', [{ label: 'mean local loss', stroke: '#2563eb' }]),
    participants: new LineChart(byId('chart-participants'), 'round', 'clients', [
      { label: 'cohort', stroke: '#94a3b8', dash: [4, 4] },
      { label: 'survivors', stroke: '#16a34a' },
      { label: 'dropouts', stroke: '#dc2626' },
    ]),
    duration: new LineChart(byId('chart-duration'), 'round', 'seconds', [
      { label: 'round duration', stroke: '#7c3aed' },
    ]),
    bytes: new LineChart(byId('chart-bytes'), 'round', 'KiB per client', [
      { label: 'up (per survivor)', stroke: '#ea580c' },
      { label: 'down (per cohort member)', stroke: '#0891b2' },
    ]),
    probe: new LineChart(byId('chart-probe'), 'version', 'accuracy %', [
      { label: 'global model', stroke: '#2563eb' },
      { label: 'random init', stroke: '#9ca3af', dash: [5, 5] },
      // Per dataset, not per version: a horizontal reference line (same protocol, same images).
      { label: 'raw pixels', stroke: '#dc2626', dash: [2, 4] },
    ]),
    health: new LineChart(
      byId('chart-health'),
      'version',
      'std·√d',
      [
        { label: 'std ratio (1 = isotropic)', stroke: '#0d9488' },
        { label: 'effective rank', stroke: '#c026d3', right: true },
      ],
      'effective rank',
    ),
    drift: new LineChart(byId('chart-drift'), 'version', 'cosine distance', [
      { label: 'drift from parent', stroke: '#b45309' },
    ]),
    epsilon: new LineChart(byId('chart-epsilon'), 'version', 'ε', [{ label: 'ε spent', stroke: '#dc2626' }]),
  };
}

function render(charts: ReturnType<typeof createCharts>, { rounds, versions, evaluation }: Readonly<AdminState>): void {
  // Oldest first; only rounds that ended have a duration and final counts.
  const ended = rounds.flatMap((r) => (r.ended_at === null ? [] : [{ ...r, ended_at: r.ended_at }])).reverse();
  const committed = ended.filter((r) => r.outcome === 'committed');
  charts.loss.set(
    committed.map((r) => r.id),
    [committed.map((r) => r.mean_loss)],
  );
  charts.participants.set(
    ended.map((r) => r.id),
    [ended.map((r) => r.cohort_size), ended.map((r) => r.survivors), ended.map((r) => r.dropouts)],
  );
  charts.duration.set(
    ended.map((r) => r.id),
    [ended.map((r) => (r.ended_at - r.started_at) / 1000)],
  );
  charts.bytes.set(
    ended.map((r) => r.id),
    [
      ended.map((r) => (r.survivors > 0 ? r.bytes_up / r.survivors / 1024 : null)),
      ended.map((r) => (r.cohort_size > 0 ? r.bytes_down / r.cohort_size / 1024 : null)),
    ],
  );
  const vs = [...versions].reverse();
  const evaluated = vs.flatMap((v) =>
    v.probe_accuracy === null ? [] : [{ version: v.version, acc: v.probe_accuracy, random: v.probe_random }],
  );
  const raw = evaluation.baselines?.raw ?? null;
  charts.probe.set(
    evaluated.map((v) => v.version),
    [
      evaluated.map((v) => 100 * v.acc),
      evaluated.map((v) => (v.random === null ? null : 100 * v.random)),
      evaluated.map(() => (raw === null ? null : 100 * raw)),
    ],
  );
  const protocol = byId('probe-protocol');
  protocol.textContent = evaluation.baselines
    ? `Probe: ${evaluation.baselines.protocol}.` +
      (raw === null ? '' : ` Raw pixels: ${(100 * raw).toFixed(1)}%; an encoder is worth having above that line.`)
    : '';
  protocol.dataset.raw = raw === null ? '' : String(raw);
  const withHealth = vs.flatMap((v) => {
    const h = storedHealthOf(v);
    return h ? [{ version: v.version, h }] : [];
  });
  charts.health.set(
    withHealth.map((x) => x.version),
    [withHealth.map((x) => x.h.health.stdRatio), withHealth.map((x) => x.h.health.effectiveRank)],
  );
  const latest = withHealth[withHealth.length - 1];
  byId('collapse-flag').hidden = !latest?.h.health.collapsed;
  const drifted = withHealth.filter((x) => x.h.drift !== null);
  charts.drift.set(
    drifted.map((x) => x.version),
    [drifted.map((x) => x.h.drift)],
  );
  const withEps = vs.filter((v) => v.epsilon !== null);
  charts.epsilon.set(
    withEps.map((v) => v.version),
    [withEps.map((v) => v.epsilon)],
  );
}

export function mountCharts(): void {
  const charts = createCharts();
  store.on(['rounds', 'versions', 'evaluation'], (state) => render(charts, state));
}
