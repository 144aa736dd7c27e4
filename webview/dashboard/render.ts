// Lays the dashboard out and draws it: one card per chart (webview/dashboard/charts.ts) with a PNG
// and an SVG button, and the lists (failing references, flaky candidates, exports, training runs)
// whose rows open the item. The same code draws the editor's dashboard (webview/dashboard/main.ts)
// and the HTML report (webview/dashboard/report.ts); only the host differs.
import { BarChart, HeatmapChart, LineChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent, VisualMapComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer, SVGRenderer } from 'echarts/renderers';
import { el, setChildren } from '../review/dom';
import { CHARTS, formatCount, type ChartSpec, type ChartState, type ChartTheme, type MarkClick } from './charts';
import type { DashboardData, OpenTarget } from './contract';

echarts.use([BarChart, HeatmapChart, LineChart, GridComponent, LegendComponent, TooltipComponent, VisualMapComponent, CanvasRenderer, SVGRenderer]);

export interface DashboardHost {
  /** Opens what a mark or a row stands for; absent in the report (there is no editor to open). */
  open?(target: OpenTarget): void;
  /** Hands a chart's image over: the editor asks where to save it, the report downloads it. */
  save(name: string, format: 'png' | 'svg', content: string): void;
  /** The overlay's runs, kept across reloads by the host. */
  state: ChartState;
  saveState?(s: ChartState): void;
  /** The editor's "Refresh" button (absent in the report). */
  refresh?(): void;
}

/** Chart ids with what was drawn ('drawn', 'empty'), for the tests and the benchmark. */
const drawn: Record<string, string> = {};
(window as unknown as { __pfCharts: Record<string, string> }).__pfCharts = drawn;

/** Where a mark of a chart is drawn (x, y in the chart's element) and its data item, so a test
 * can click it like a person would. Only charts whose items carry their [x, y] value (the
 * heatmap). */
type MarkAt = (chartId: string, dataIndex: number) => { x: number; y: number; item: unknown } | undefined;

/** The theme from the page's CSS variables (VS Code sets them in a webview); the fallbacks are the
 * report's own light theme. */
export function pageTheme(): ChartTheme {
  const css = getComputedStyle(document.body);
  const v = (name: string, fallback: string) => css.getPropertyValue(name).trim() || fallback;
  return {
    foreground: v('--vscode-foreground', '#1f2328'),
    muted: v('--vscode-descriptionForeground', '#8c959f'),
    grid: v('--vscode-panel-border', '#d0d7de'),
    background: v('--vscode-editor-background', '#ffffff'),
    good: v('--vscode-testing-iconPassed', '#2da44e'),
    bad: v('--vscode-testing-iconFailed', '#cf222e'),
    warn: v('--vscode-editorWarning-foreground', '#bf8700'),
    palette: [
      v('--vscode-charts-blue', '#0969da'),
      v('--vscode-charts-purple', '#8250df'),
      v('--vscode-charts-orange', '#bc4c00'),
      v('--vscode-charts-green', '#1a7f37'),
      v('--vscode-charts-yellow', '#9a6700'),
      v('--vscode-charts-red', '#cf222e'),
    ],
    font: v('--vscode-font-family', 'system-ui, -apple-system, "Segoe UI", sans-serif'),
  };
}

interface Card {
  spec: ChartSpec;
  root: HTMLElement;
  subtitle: HTMLElement;
  body: HTMLElement;
  empty: HTMLElement;
  chart?: echarts.ECharts;
}

export class DashboardView {
  private data: DashboardData | null = null;
  private theme: ChartTheme;
  private readonly cards: Card[];
  private readonly header = el('div', { className: 'pf-dash-meta', attrs: { 'aria-live': 'polite' } });
  private readonly message = el('div', { className: 'pf-dash-message', attrs: { role: 'status' } });
  private readonly lists = el('div', { className: 'pf-dash-lists' });
  private readonly beforeSelect = el('select', { attrs: { 'aria-label': 'before run' } });
  private readonly afterSelect = el('select', { attrs: { 'aria-label': 'after run' } });

  constructor(
    root: HTMLElement,
    private readonly host: DashboardHost,
  ) {
    this.theme = pageTheme();
    const refresh = host.refresh ? el('button', { className: 'pf-dash-button', onClick: () => host.refresh?.() }, 'Refresh') : null;
    const top = el('header', { className: 'pf-dash-header' }, el('h1', {}, 'PairForge dashboard'), this.header, refresh);
    const grid = el('div', { className: 'pf-dash-grid' });
    this.cards = CHARTS.map((spec) => this.card(spec));
    for (const c of this.cards) grid.append(c.root);
    for (const s of [this.beforeSelect, this.afterSelect]) s.addEventListener('change', () => this.pickRuns());
    root.append(top, this.message, grid, this.lists);
    (window as unknown as { __pfMark: MarkAt }).__pfMark = (id, i) => {
      const chart = this.cards.find((c) => c.spec.id === id)?.chart;
      const series = (chart?.getOption() as { series?: { data?: { value?: unknown }[] }[] } | undefined)?.series?.[0];
      const item = series?.data?.[i];
      if (!chart || !item || !Array.isArray(item.value)) return undefined;
      const [x, y] = chart.convertToPixel({ seriesIndex: 0 }, [item.value[0], item.value[1]]) as number[];
      return { x, y, item };
    };
    new ResizeObserver(() => this.cards.forEach((c) => c.chart?.resize())).observe(root);
  }

  private card(spec: ChartSpec): Card {
    const subtitle = el('div', { className: 'pf-dash-subtitle' });
    const body = el('div', { className: 'pf-dash-chart', attrs: { 'data-chart': spec.id } });
    body.style.height = `${spec.height}px`;
    const empty = el('div', { className: 'pf-dash-empty' });
    const save = (format: 'png' | 'svg') => el('button', { className: 'pf-dash-button', title: `save this chart as ${format.toUpperCase()}`, onClick: () => this.export(card, format) }, format.toUpperCase());
    const extra = spec.id === 'margins' ? el('span', { className: 'pf-dash-runs' }, 'before ', this.beforeSelect, ' after ', this.afterSelect) : null;
    const root = el(
      'section',
      { className: 'pf-dash-card', attrs: { 'aria-label': spec.title, 'data-card': spec.id } },
      el('div', { className: 'pf-dash-card-head' }, el('h2', {}, spec.title), extra, el('span', { className: 'pf-dash-tools' }, save('png'), save('svg'))),
      subtitle,
      empty,
      body,
    );
    const card: Card = { spec, root, subtitle, body, empty };
    return card;
  }

  /** Shows new figures (null: nothing to show, with `message` saying why). */
  show(data: DashboardData | null, message = ''): void {
    this.data = data;
    this.message.textContent = message;
    if (!data) {
      setChildren(this.header);
      for (const c of this.cards) this.paint(c);
      setChildren(this.lists);
      return;
    }
    setChildren(this.header, `${data.project} · ${new Date(data.generatedAt).toLocaleString()} · computed in ${data.computeMs} ms`);
    this.fillRunPickers(data);
    for (const c of this.cards) this.paint(c);
    this.paintLists(data);
  }

  /** A line above the charts (saved files, errors). */
  say(text: string): void {
    this.message.textContent = text;
  }

  /** The page's colours changed (VS Code's theme). */
  retheme(): void {
    this.theme = pageTheme();
    for (const c of this.cards) {
      c.chart?.dispose();
      c.chart = undefined;
      this.paint(c);
    }
  }

  private paint(c: Card): void {
    const d = this.data;
    const why = d ? c.spec.empty(d) : 'No project yet.';
    c.empty.textContent = why ?? '';
    c.empty.hidden = why === undefined;
    c.body.hidden = why !== undefined;
    c.subtitle.textContent = d && why === undefined ? this.hint(c.spec.subtitle(d, this.host.state)) : '';
    if (!d || why !== undefined) {
      c.chart?.clear();
      drawn[c.spec.id] = 'empty';
      return;
    }
    if (!c.chart) {
      c.chart = echarts.init(c.body, undefined, { renderer: 'canvas' });
      c.chart.on('click', (params) => this.clicked(c.spec, params as unknown as MarkClick));
    }
    c.chart.setOption(c.spec.option(d, this.theme, this.host.state), { notMerge: true });
    drawn[c.spec.id] = 'drawn';
  }

  /** Where nothing opens (the report), the "click ..." part of a subtitle goes. */
  private hint(text: string): string {
    return this.host.open ? text : text.replace(/ · click [^·]*$/, '');
  }

  private clicked(spec: ChartSpec, click: MarkClick): void {
    if (!this.data || !this.host.open) return;
    const target = spec.open(this.data, click, this.host.state);
    if (target) this.host.open(target);
  }

  private export(c: Card, format: 'png' | 'svg'): void {
    const d = this.data;
    if (!d || !c.chart) return;
    const name = `pairforge-${c.spec.id}.${format}`;
    if (format === 'png') {
      this.host.save(name, 'png', c.chart.getDataURL({ type: 'png', pixelRatio: 2, backgroundColor: this.theme.background }));
      return;
    }
    // The SVG is drawn again by ECharts' SVG renderer, off screen, at the chart's size.
    const svg = echarts.init(null as unknown as HTMLElement, undefined, { renderer: 'svg', ssr: true, width: c.chart.getWidth(), height: c.chart.getHeight() });
    try {
      svg.setOption({ ...c.spec.option(d, this.theme, this.host.state), backgroundColor: this.theme.background });
      this.host.save(name, 'svg', svg.renderToSVGString());
    } finally {
      svg.dispose();
    }
  }

  private fillRunPickers(d: DashboardData): void {
    const runs = d.margins.runs.filter((r) => r.scoredPairs > 0);
    const options = (none: string) => [el('option', { attrs: { value: '' } }, none), ...runs.map((r) => el('option', { attrs: { value: String(r.runId) } }, r.label))];
    setChildren(this.beforeSelect, ...options('(none)'));
    setChildren(this.afterSelect, ...options('(newest)'));
    const s = this.host.state;
    const before = s.beforeRunId ?? d.margins.before;
    const after = s.afterRunId ?? d.margins.after;
    this.beforeSelect.value = before !== undefined && runs.some((r) => r.runId === before) ? String(before) : '';
    this.afterSelect.value = after !== undefined && runs.some((r) => r.runId === after) ? String(after) : '';
  }

  private pickRuns(): void {
    const num = (s: HTMLSelectElement) => (s.value === '' ? undefined : Number(s.value));
    // An explicit "(none)" before is kept as -1, so the figures' default pair does not come back.
    const before = num(this.beforeSelect) ?? -1;
    const after = num(this.afterSelect);
    this.host.state.beforeRunId = before;
    if (after === undefined) delete this.host.state.afterRunId;
    else this.host.state.afterRunId = after;
    this.host.saveState?.(this.host.state);
    const c = this.cards.find((x) => x.spec.id === 'margins');
    if (c) this.paint(c);
  }

  private paintLists(d: DashboardData): void {
    const open = this.host.open;
    const row = (cells: (string | HTMLElement)[], target: OpenTarget | undefined, title: string) => {
      const tr = el('tr', { className: target && open ? 'pf-dash-row pf-dash-clickable' : 'pf-dash-row', title }, ...cells.map((c) => el('td', {}, c)));
      if (target && open) {
        tr.tabIndex = 0;
        tr.addEventListener('click', () => open(target));
        tr.addEventListener('keydown', (e) => {
          if (e.key === 'Enter') open(target);
        });
      }
      return tr;
    };
    const table = (title: string, note: string, head: string[], rows: HTMLElement[], emptyText: string) =>
      el(
        'section',
        { className: 'pf-dash-card pf-dash-list', attrs: { 'aria-label': title, 'data-card': title } },
        el('div', { className: 'pf-dash-card-head' }, el('h2', {}, title)),
        el('div', { className: 'pf-dash-subtitle' }, this.hint(note)),
        rows.length ? el('table', {}, el('thead', {}, el('tr', {}, ...head.map((h) => el('th', {}, h)))), el('tbody', {}, ...rows)) : el('div', { className: 'pf-dash-empty' }, emptyText),
      );
    const more = (shown: number, total: number) => (total > shown ? ` (the first ${shown} listed)` : '');
    const f = d.failingReferences;
    const k = d.flaky;
    setChildren(
      this.lists,
      table(
        'References that fail their own tests',
        `${formatCount(f.total)} under the ${d.comparator} comparator${more(f.items.length, f.total)} · such problems give no StructureCoder targets`,
        ['reference', 'verdict', 'tests'],
        f.items.map((r) => row([r.label, r.verdict, `${r.testsRun}/${r.testsTotal}`], r.uri ? { kind: 'document', uri: r.uri } : undefined, `open ${r.label}`)),
        'Every checked reference passes its tests.',
      ),
      table(
        'Flaky candidates',
        `${formatCount(k.total)} whose confirmation runs disagreed${more(k.items.length, k.total)} · pairing skips them`,
        ['candidate', 'verdicts'],
        k.items.map((r) =>
          row(
            [r.label, r.verdicts.join(' → ')],
            r.uri ? { kind: 'document', uri: r.uri } : r.sample ? { kind: 'sample', targetId: r.sample.targetId, sampleId: r.id, ordinal: r.sample.ordinal } : undefined,
            `open ${r.label}`,
          ),
        ),
        'No flaky candidate (exec --confirm N re-runs failing candidates to find them).',
      ),
      table(
        'Exports',
        `${formatCount(d.exports.length)} written from this project · click one for its pairs`,
        ['export', 'format', 'pairs', 'folder', 'when'],
        d.exports.map((x) => row([`export ${x.id}`, x.format, formatCount(x.pairs), x.dir, new Date(x.createdAt).toLocaleString()], { kind: 'room', query: { exportId: x.id } }, `review the pairs of export ${x.id}`)),
        'Nothing exported yet (PairForge: Export Pairs..., or pairforge export).',
      ),
      table(
        'Training runs',
        `${formatCount(d.training.length)} recorded · click one for the pairs it trained on`,
        ['run', 'status', 'pairs', 'finished'],
        d.training.map((t) => row([t.label, t.status, formatCount(t.pairs), t.finishedAt ? new Date(t.finishedAt).toLocaleString() : '–'], t.exportId !== null ? { kind: 'room', query: { exportId: t.exportId } } : undefined, t.label)),
        'No training run recorded yet.',
      ),
    );
  }
}
