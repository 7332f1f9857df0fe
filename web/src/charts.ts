// The two metric plots of the detail page (uPlot): CPU % and memory MB with the limit as a
// dashed line. Data comes from GET /metrics (default range: the last 3 days).
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { Sample } from './api';

type Series = (number | null)[];

function baseOpts(width: number, title: string): Partial<uPlot.Options> {
  return {
    width,
    height: 220,
    title: undefined,
    cursor: { drag: { x: true, y: false } },
    legend: { show: true, live: true },
    scales: { x: { time: true } },
    axes: [
      { stroke: '#5b6672', grid: { stroke: '#eceff2' } },
      { stroke: '#5b6672', grid: { stroke: '#eceff2' }, size: 56, label: title, labelSize: 18 },
    ],
  };
}

export class MetricCharts {
  private cpu: uPlot | null = null;
  private mem: uPlot | null = null;

  constructor(
    private readonly cpuBox: HTMLElement,
    private readonly memBox: HTMLElement,
  ) {
    const ro = new ResizeObserver(() => this.resize());
    ro.observe(cpuBox);
    ro.observe(memBox);
  }

  private width(box: HTMLElement): number {
    return Math.max(240, Math.floor(box.clientWidth));
  }

  private resize(): void {
    if (this.cpu) this.cpu.setSize({ width: this.width(this.cpuBox), height: 220 });
    if (this.mem) this.mem.setSize({ width: this.width(this.memBox), height: 220 });
  }

  /** Replaces the plotted samples; records the point count in data-points for tests. */
  update(samples: Sample[]): void {
    const sorted = samples
      .map((s) => ({ ...s, t: Date.parse(s.sampledAt) / 1000 }))
      .filter((s) => Number.isFinite(s.t))
      .sort((a, b) => a.t - b.t);
    const xs = sorted.map((s) => s.t);
    const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
    const cpu: Series = sorted.map((s) => num(s.cpuPct));
    const used: Series = sorted.map((s) => num(s.memUsedMb));
    const limit: Series = sorted.map((s) => num(s.memLimitMb));
    const cpuData: uPlot.AlignedData = [xs, cpu];
    const memData: uPlot.AlignedData = [xs, used, limit];

    const points = xs.length < 60;
    this.cpu = draw(this.cpu, this.cpuBox, cpuData, {
      ...baseOpts(this.width(this.cpuBox), '%'),
      series: [{}, measured('CPU %', '26,95,180', '%', points)],
    } as uPlot.Options);
    this.mem = draw(this.mem, this.memBox, memData, {
      ...baseOpts(this.width(this.memBox), 'MB'),
      series: [
        {},
        measured('used MB', '31,138,59', 'MB', points),
        {
          label: 'limit MB',
          stroke: '#c01c28',
          width: 1.5,
          dash: [6, 4],
          points: { show: false },
          value: (_u, v) => (v == null ? '—' : v.toFixed(0) + ' MB'),
        },
      ],
    } as uPlot.Options);
    this.cpuBox.dataset.points = String(cpu.filter((v) => v != null).length);
    this.memBox.dataset.points = String(used.filter((v) => v != null).length);
  }
}

/** A measured series: a line in colour `rgb` ("r,g,b") with a light fill, one decimal. */
function measured(label: string, rgb: string, unit: string, points: boolean): uPlot.Series {
  return {
    label,
    stroke: `rgb(${rgb})`,
    fill: `rgba(${rgb},0.12)`,
    width: 1.5,
    points: { show: points },
    value: (_u, v) => (v == null ? '—' : v.toFixed(1) + ' ' + unit),
  };
}

/** The chart in `box` showing `data`: `chart` with new data, or a new one made with `opts`. */
function draw(
  chart: uPlot | null,
  box: HTMLElement,
  data: uPlot.AlignedData,
  opts: uPlot.Options,
): uPlot {
  if (chart) {
    chart.setData(data);
    return chart;
  }
  return new uPlot(opts, data, box);
}
