// The metrics panel's plots as data (webview/metrics/charts.ts): pure.
import { describe, expect, it } from 'vitest';
import type { MetricRow } from '../../../webview/contract';
import { CHARTS, chartOption, lastValue, seriesData, type Theme } from '../../../webview/metrics/charts';

const rows: MetricRow[] = [
  { step: 1, epoch: 0.17, loss: 0.6931, 'rewards/chosen': 0, 'rewards/rejected': 0, 'rewards/margins': 0, 'rewards/accuracies': 0 },
  { step: 2, epoch: 0.33, loss: 0.6282, 'rewards/chosen': 0.47, 'rewards/rejected': 0.33, 'rewards/margins': 0.14, 'rewards/accuracies': 1 },
  { step: 3, epoch: 0.5, loss: null, 'rewards/chosen': 0.1, 'rewards/rejected': 0.2, 'rewards/margins': -0.1, 'rewards/accuracies': 0.5 },
  // TRL's closing line: no per-step metrics.
  { step: 3, epoch: 0.5, train_runtime: 1.4, train_loss: 0.5 },
];

const theme: Theme = {
  foreground: '#111111',
  muted: '#222222',
  grid: '#333333',
  background: '#ffffff',
  fontFamily: 'Segoe WPC',
  fontSize: 13,
  colors: { blue: '#0000ff', red: '#ff0000', green: '#00ff00', orange: '#ff8800', purple: '#8800ff' },
};

describe('metrics plots', () => {
  it('loss, rewards chosen vs rejected, margin, accuracy', () => {
    expect(CHARTS.map((c) => c.series.map((s) => s.key))).toEqual([['loss'], ['rewards/chosen', 'rewards/rejected'], ['rewards/margins'], ['rewards/accuracies']]);
  });

  it('a series: [step, value] of the lines that have the metric, null as a gap, the closing line left out', () => {
    expect(seriesData(rows, 'loss')).toEqual([[1, 0.6931], [2, 0.6282], [3, null]]);
    expect(seriesData(rows, 'rewards/margins')).toEqual([[1, 0], [2, 0.14], [3, -0.1]]);
    expect(seriesData([{ epoch: 1, loss: 0.5 }], 'loss')).toEqual([]);
    expect(lastValue(rows, 'loss')).toBe(0.6282);
    expect(lastValue(rows, 'eval_loss')).toBeUndefined();
  });

  it("each chart in the theme's colours and font, accuracy on [0, 1]", () => {
    const rewards = chartOption(CHARTS[1], rows, theme) as { series: { name: string; lineStyle: { color: string }; data: unknown[] }[]; legend: { show?: boolean }; textStyle: { fontFamily: string } };
    expect(rewards.series.map((s) => [s.name, s.lineStyle.color, s.data.length])).toEqual([['chosen', '#00ff00', 3], ['rejected', '#ff0000', 3]]);
    expect(rewards.legend.show).toBeUndefined();
    expect(rewards.textStyle.fontFamily).toBe('Segoe WPC');
    const accuracy = chartOption(CHARTS[3], rows, theme) as { yAxis: { min: number; max: number }; legend: { show: boolean } };
    expect([accuracy.yAxis.min, accuracy.yAxis.max]).toEqual([0, 1]);
    expect(accuracy.legend.show).toBe(false);
  });
});
