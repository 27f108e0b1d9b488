import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

/** A live line chart of the training loss. */
export class LossChart {
  private readonly plot: uPlot;
  private xs: number[] = [];
  private ys: number[] = [];

  constructor(el: HTMLElement) {
    this.plot = new uPlot(
      {
        width: Math.max(300, el.clientWidth || 600),
        height: 220,
        scales: { x: { time: false } },
        // Steps are integers: no fractional ticks on the x axis.
        axes: [
          { label: 'step', incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000] },
          { label: 'NT-Xent loss' },
        ],
        series: [{}, { label: 'loss', stroke: '#2563eb', width: 2 }],
      },
      [[], []],
      el,
    );
    new ResizeObserver(() => this.plot.setSize({ width: Math.max(300, el.clientWidth), height: 220 })).observe(el);
  }

  reset(history: number[]): void {
    this.ys = [...history];
    this.xs = history.map((_, i) => i + 1);
    this.plot.setData([this.xs, this.ys]);
  }

  push(step: number, loss: number): void {
    this.xs.push(step);
    this.ys.push(loss);
    this.plot.setData([this.xs, this.ys]);
  }
}
