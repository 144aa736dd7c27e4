// The training metrics panel (a webview): a run's facts and four plots of its metrics (loss,
// rewards chosen vs rejected, margin, accuracy), drawn with ECharts' SVG renderer in the editor's
// theme and redrawn when the theme changes. It talks only to the extension, through
// webview/contract.ts; everything it shows is set as text.
import { LineChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TitleComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';
import type { FromMetrics, MetricRow, MetricsRun, MetricsState, ToMetrics } from '../contract';
import { el, setChildren } from '../review/dom';
import { CHARTS, chartOption, lastValue, type Theme } from './charts';
import './metrics.css';

echarts.use([LineChart, GridComponent, LegendComponent, TitleComponent, TooltipComponent, SVGRenderer]);

interface VsCodeApi {
  postMessage(m: FromMetrics): void;
  getState(): MetricsState | undefined;
  setState(s: MetricsState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;
const vscode = acquireVsCodeApi();

const head = el('header', { className: 'pf-metrics-head' });
const grid = el('div', { className: 'pf-metrics-grid' });
const body = el('div', { className: 'pf-metrics-empty' }, 'Waiting for the run\u2019s metrics\u2026');
document.body.append(el('div', { className: 'pf-metrics' }, head, body));

const charts = new Map<string, echarts.ECharts>();
let last: { run: MetricsRun; rows: MetricRow[] } | undefined;

/** The theme's colours, read from the CSS variables VS Code sets on the body. */
function theme(): Theme {
  const css = getComputedStyle(document.body);
  const v = (name: string, fallback: string) => css.getPropertyValue(name).trim() || fallback;
  return {
    foreground: v('--vscode-foreground', '#cccccc'),
    muted: v('--vscode-descriptionForeground', '#999999'),
    grid: v('--vscode-panel-border', '#80808059'),
    background: v('--vscode-editorWidget-background', '#252526'),
    fontFamily: v('--vscode-font-family', 'sans-serif'),
    fontSize: Number.parseFloat(v('--vscode-font-size', '13')) || 13,
    colors: {
      blue: v('--vscode-charts-blue', '#3794ff'),
      red: v('--vscode-charts-red', '#f14c4c'),
      green: v('--vscode-charts-green', '#89d185'),
      orange: v('--vscode-charts-orange', '#d18616'),
      purple: v('--vscode-charts-purple', '#b180d7'),
    },
  };
}

function fact(label: string, value: string): HTMLElement {
  return el('span', { className: 'pf-metrics-fact' }, `${label} `, el('b', {}, value));
}

function renderHead(run: MetricsRun, rows: MetricRow[]): void {
  const loss = lastValue(rows, 'loss');
  const margin = lastValue(rows, 'rewards/margins');
  const steps = run.step !== null ? `${run.step}${run.maxSteps ? `/${run.maxSteps}` : ''}` : '\u2013';
  setChildren(
    head,
    el('span', { className: 'pf-metrics-name' }, run.name),
    el('span', { className: `pf-metrics-status pf-status-${run.status}` }, `${run.status}${run.exitCode !== null ? ` (exit ${run.exitCode})` : ''}`),
    fact('host', run.host),
    fact('steps', steps),
    run.pairs !== null ? fact('pairs', String(run.pairs)) : null,
    loss !== undefined ? fact('loss', loss.toFixed(4)) : null,
    margin !== undefined ? fact('margin', margin.toFixed(4)) : null,
    run.scoreRunId !== null ? fact('held-out results', `scoring run ${run.scoreRunId}`) : null,
    run.message ? el('div', { className: 'pf-metrics-message' }, run.message) : null,
  );
}

function render(): void {
  if (!last) return;
  const { run, rows } = last;
  renderHead(run, rows);
  if (!rows.some((r) => typeof r.loss === 'number')) {
    body.className = 'pf-metrics-empty';
    setChildren(body, run.status === 'running' || run.status === 'uploading' ? 'No metrics yet: the trainer writes a line at each logging step.' : 'This run wrote no metrics.');
    if (grid.isConnected) grid.replaceWith(body);
    return;
  }
  if (!grid.isConnected) body.replaceWith(grid);
  const t = theme();
  for (const spec of CHARTS) {
    let c = charts.get(spec.id);
    if (!c) {
      const div = el('div', { className: 'pf-chart', attrs: { 'data-chart': spec.id } });
      grid.append(div);
      c = echarts.init(div, undefined, { renderer: 'svg' });
      charts.set(spec.id, c);
    }
    c.setOption(chartOption(spec, rows, t), { notMerge: true });
  }
}

window.addEventListener('message', (e: MessageEvent<ToMetrics>) => {
  const m = e.data;
  if (m.type === 'metrics') {
    last = { run: m.run, rows: m.rows };
    vscode.setState({ runId: m.run.id });
    render();
  } else if (m.type === 'error') {
    setChildren(body, m.message);
    body.className = 'pf-metrics-error';
    if (grid.isConnected) grid.replaceWith(body);
  }
});

window.addEventListener('resize', () => {
  for (const c of charts.values()) c.resize();
});

// A theme change replaces the body's classes (vscode-dark, vscode-light, ...): draw again.
new MutationObserver(() => render()).observe(document.body, { attributes: true, attributeFilter: ['class'] });

vscode.postMessage({ type: 'ready' });
