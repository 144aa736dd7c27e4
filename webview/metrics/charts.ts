// The metrics panel's plots as data: which metrics go on which chart, the series of a run's metrics
// lines, and each chart's ECharts option in the editor's theme. Pure (no DOM), tested as it is.
import type { MetricRow } from '../contract';

/** Colours and fonts from the VS Code theme (CSS variables of the webview's body). */
export interface Theme {
  foreground: string;
  muted: string;
  grid: string;
  background: string;
  fontFamily: string;
  fontSize: number;
  colors: { blue: string; red: string; green: string; orange: string; purple: string };
}

export interface ChartSpec {
  id: string;
  title: string;
  series: { key: string; name: string; color: keyof Theme['colors'] }[];
  /** Fixed y range (accuracy is a fraction). */
  yMin?: number;
  yMax?: number;
}

/** The four plots (docs/training.md "metrics.jsonl"; under the mask these are the masked sums). */
export const CHARTS: readonly ChartSpec[] = [
  { id: 'loss', title: 'Loss', series: [{ key: 'loss', name: 'loss', color: 'blue' }] },
  {
    id: 'rewards',
    title: 'Rewards: chosen vs rejected',
    series: [
      { key: 'rewards/chosen', name: 'chosen', color: 'green' },
      { key: 'rewards/rejected', name: 'rejected', color: 'red' },
    ],
  },
  { id: 'margins', title: 'Reward margin (chosen − rejected)', series: [{ key: 'rewards/margins', name: 'margin', color: 'orange' }] },
  { id: 'accuracy', title: 'Reward accuracy (margin > 0)', series: [{ key: 'rewards/accuracies', name: 'accuracy', color: 'purple' }], yMin: 0, yMax: 1 },
];

/** [step, value] of every training log line that has the metric (null where it was not finite: a
 * gap in the line). The closing summary line (no per-step metrics) is left out. */
export function seriesData(rows: readonly MetricRow[], key: string): [number, number | null][] {
  const out: [number, number | null][] = [];
  for (const r of rows) {
    const step = r.step;
    if (typeof step !== 'number' || !(key in r)) continue;
    out.push([step, r[key]]);
  }
  return out;
}

/** The last value of a metric, or undefined. */
export function lastValue(rows: readonly MetricRow[], key: string): number | undefined {
  for (let i = rows.length - 1; i >= 0; i--) {
    const v = rows[i][key];
    if (typeof v === 'number') return v;
  }
  return undefined;
}

/** A chart's ECharts option (a plain object: the panel passes it to setOption). */
export function chartOption(spec: ChartSpec, rows: readonly MetricRow[], theme: Theme): Record<string, unknown> {
  const axis = {
    axisLine: { lineStyle: { color: theme.grid } },
    axisLabel: { color: theme.muted, fontFamily: theme.fontFamily },
    splitLine: { lineStyle: { color: theme.grid, opacity: 0.5 } },
    nameTextStyle: { color: theme.muted, fontFamily: theme.fontFamily },
  };
  return {
    backgroundColor: 'transparent',
    animation: false,
    textStyle: { color: theme.foreground, fontFamily: theme.fontFamily, fontSize: theme.fontSize },
    title: { text: spec.title, left: 8, top: 4, textStyle: { color: theme.foreground, fontSize: theme.fontSize + 1, fontWeight: 'normal', fontFamily: theme.fontFamily } },
    legend: spec.series.length > 1 ? { top: 4, right: 8, textStyle: { color: theme.muted, fontFamily: theme.fontFamily } } : { show: false },
    grid: { left: 56, right: 16, top: 36, bottom: 36 },
    tooltip: {
      trigger: 'axis',
      backgroundColor: theme.background,
      borderColor: theme.grid,
      textStyle: { color: theme.foreground, fontFamily: theme.fontFamily },
      valueFormatter: (v: unknown) => (typeof v === 'number' ? v.toPrecision(4) : String(v)),
    },
    xAxis: { type: 'value', name: 'step', nameLocation: 'middle', nameGap: 24, minInterval: 1, ...axis },
    yAxis: { type: 'value', scale: spec.yMin === undefined, ...(spec.yMin !== undefined ? { min: spec.yMin, max: spec.yMax } : {}), ...axis },
    series: spec.series.map((s) => ({
      name: s.name,
      type: 'line',
      data: seriesData(rows, s.key),
      showSymbol: rows.length <= 40,
      symbolSize: 5,
      connectNulls: false,
      lineStyle: { width: 2, color: theme.colors[s.color] },
      itemStyle: { color: theme.colors[s.color] },
    })),
  };
}
