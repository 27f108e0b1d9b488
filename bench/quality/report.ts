/** Pure formatting for bench:quality: the summary table and a per-arm SVG curve. */
import { meanSd } from '../../shared/ssl/probe-protocol';
import type { CurvePoint, JobResult } from './arms';

export interface ArmSummary {
  arm: string;
  label: string;
  seeds: number[];
  acc: { mean: number; sd: number };
  accLow: { mean: number; sd: number };
  images: number;
  dim: number;
  epsilon?: number;
}

export function summarize(arm: string, label: string, results: JobResult[]): ArmSummary {
  const a = meanSd(results.map((r) => r.probe.testAccuracy));
  const b = meanSd(results.map((r) => r.probeLow.testAccuracy));
  const eps = results.map((r) => r.epsilon).filter((e): e is number => e !== undefined);
  return {
    arm,
    label,
    seeds: results.map((r) => r.seed),
    acc: a,
    accLow: b,
    images: Math.round(meanSd(results.map((r) => r.imagesProcessed)).mean),
    dim: results[0]?.featureDim ?? 0,
    ...(eps.length ? { epsilon: Math.max(...eps) } : {}),
  };
}

const pct = (m: { mean: number; sd: number }) => `${(100 * m.mean).toFixed(1)} ± ${(100 * m.sd).toFixed(1)}`;

/** A Markdown table (also readable in a terminal). */
export function formatTable(rows: ArmSummary[], labels: number, lowLabels: number): string {
  const head = `| arm | seeds | images processed | dim | probe acc. % (${labels} labels) | probe acc. % (${lowLabels} labels) |`;
  const lines = [head, '|---|---|---|---|---|---|'];
  for (const r of rows) {
    const name = r.epsilon !== undefined ? `${r.label} (ε = ${r.epsilon.toFixed(1)})` : r.label;
    lines.push(
      `| ${name} | ${r.seeds.length} | ${r.images.toLocaleString('en-US')} | ${r.dim} | ${pct(r.acc)} | ${pct(r.accLow)} |`,
    );
  }
  return lines.join('\n');
}

/** Loss (left axis) and 1,000-label probe accuracy (right axis) against images processed. */
export function curveSvg(
  title: string,
  curves: { seed: number; points: CurvePoint[] }[],
  lossName = 'NT-Xent loss',
): string {
  const W = 640,
    H = 360,
    L = 60,
    R = 60,
    T = 40,
    B = 50;
  const all = curves.flatMap((c) => c.points);
  const maxX = Math.max(1, ...all.map((p) => p.images));
  const losses = all.map((p) => p.loss).filter((v): v is number => v !== undefined);
  const accs = all.map((p) => p.probe1k).filter((v): v is number => v !== undefined);
  const lo = losses.length ? Math.min(...losses) : 0,
    hi = losses.length ? Math.max(...losses) : 1;
  const aLo = accs.length ? Math.min(...accs) - 0.02 : 0,
    aHi = accs.length ? Math.max(...accs) + 0.02 : 1;
  const x = (v: number) => L + ((W - L - R) * v) / maxX;
  const yL = (v: number) => T + (H - T - B) * (1 - (v - lo) / Math.max(1e-9, hi - lo));
  const yA = (v: number) => T + (H - T - B) * (1 - (v - aLo) / Math.max(1e-9, aHi - aLo));
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${esc(title)}</text>`,
    `<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="black"/>`,
    `<line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="#1f77b4"/>`,
    `<line x1="${W - R}" y1="${T}" x2="${W - R}" y2="${H - B}" stroke="#d62728"/>`,
    `<text x="${W / 2}" y="${H - 12}" text-anchor="middle">images processed (max ${maxX.toLocaleString('en-US')})</text>`,
    `<text x="${L - 6}" y="${T}" text-anchor="end" fill="#1f77b4">${hi.toFixed(2)}</text>`,
    `<text x="${L - 6}" y="${H - B}" text-anchor="end" fill="#1f77b4">${lo.toFixed(2)}</text>`,
    `<text x="14" y="${(T + H - B) / 2}" fill="#1f77b4" transform="rotate(-90 14 ${(T + H - B) / 2})" text-anchor="middle">${esc(lossName)}</text>`,
    `<text x="${W - R + 6}" y="${T}" fill="#d62728">${(100 * aHi).toFixed(1)}%</text>`,
    `<text x="${W - R + 6}" y="${H - B}" fill="#d62728">${(100 * aLo).toFixed(1)}%</text>`,
    `<text x="${W - 14}" y="${(T + H - B) / 2}" fill="#d62728" transform="rotate(90 ${W - 14} ${(T + H - B) / 2})" text-anchor="middle">probe acc. (1,000 labels)</text>`,
  ];
  for (const c of curves) {
    const lp = c.points.filter((p) => p.loss !== undefined);
    if (lp.length > 1)
      parts.push(
        `<polyline fill="none" stroke="#1f77b4" stroke-opacity="0.7" points="${lp.map((p) => `${x(p.images).toFixed(1)},${yL(p.loss!).toFixed(1)}`).join(' ')}"/>`,
      );
    const ap = c.points.filter((p) => p.probe1k !== undefined);
    if (ap.length > 1)
      parts.push(
        `<polyline fill="none" stroke="#d62728" points="${ap.map((p) => `${x(p.images).toFixed(1)},${yA(p.probe1k!).toFixed(1)}`).join(' ')}"/>`,
      );
    for (const p of ap)
      parts.push(`<circle cx="${x(p.images).toFixed(1)}" cy="${yA(p.probe1k!).toFixed(1)}" r="3" fill="#d62728"/>`);
  }
  parts.push('</svg>');
  return parts.join('\n');
}
