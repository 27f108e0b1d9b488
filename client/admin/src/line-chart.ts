import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface SeriesSpec {
  label: string;
  stroke: string;
  /** Right-hand axis (a second scale). */
  right?: boolean;
  dash?: number[];
}

/** A small uPlot line chart with an x axis of round ids or version numbers. */
export class LineChart {
  private readonly plot: uPlot;

  constructor(
    private readonly el: HTMLElement,
    xLabel: string,
    yLabel: string,
    series: SeriesSpec[],
    rightLabel?: string,
  ) {
    const height = 200;
    this.plot = new uPlot(
      {
        width: Math.max(320, el.clientWidth || 480),
        height,
        scales: { x: { time: false }, ...(rightLabel ? { r: {} } : {}) },
        axes: [
          { label: xLabel, size: 36 },
          { label: yLabel, size: 56 },
          ...(rightLabel ? [{ label: rightLabel, scale: 'r', side: 1 as const, grid: { show: false }, size: 56 }] : []),
        ],
        series: [
          {},
          ...series.map((s) => ({
            label: s.label,
            stroke: s.stroke,
            width: 2,
            points: { show: true, size: 5 },
            ...(s.right ? { scale: 'r' } : {}),
            ...(s.dash ? { dash: s.dash } : {}),
          })),
        ],
        legend: { live: false },
      },
      [[], ...series.map(() => [])],
      el,
    );
    new ResizeObserver(() => this.plot.setSize({ width: Math.max(320, el.clientWidth), height })).observe(el);
  }

  /** xs ascending; each series aligned with xs (null = gap). */
  set(xs: number[], ys: (number | null)[][]): void {
    const data: uPlot.AlignedData = [xs, ...ys];
    this.plot.setData(data);
    // How many real points are drawn (tests read it).
    this.el.dataset.points = String(
      ys.reduce((n, s) => n + s.filter((v) => v !== null && Number.isFinite(v)).length, 0),
    );
  }
}
