// The dashboard's charts as data: for each, its ECharts option built from the figures and a theme,
// and what a click on one of its marks opens. Pure (no DOM), so the dashboard webview, the HTML
// report and the tests build exactly the same charts.
import type { EChartsCoreOption } from 'echarts/core';
import type { DashboardData, FunnelKey, OpenTarget, PairGroup, RoomFilter } from './contract';

/** Colours the charts take from the surrounding page (VS Code's theme, or the report's own). */
export interface ChartTheme {
  foreground: string;
  muted: string;
  grid: string;
  background: string;
  good: string;
  bad: string;
  warn: string;
  /** Colours for series without a meaning of their own. */
  palette: string[];
  font: string;
}

/** What the user picked in the dashboard (the overlay's two runs). */
export interface ChartState {
  beforeRunId?: number;
  afterRunId?: number;
}

/** The fields of an ECharts click event a chart needs to know which mark it was. */
export interface MarkClick {
  seriesIndex?: number;
  seriesName?: string;
  dataIndex: number;
  data?: unknown;
  name?: string;
}

export interface ChartSpec {
  id: string;
  title: string;
  /** One line under the title (totals, what the colours mean). */
  subtitle(d: DashboardData, s: ChartState): string;
  /** Pixels. */
  height: number;
  /** Why there is nothing to draw yet, or undefined. */
  empty(d: DashboardData): string | undefined;
  option(d: DashboardData, t: ChartTheme, s: ChartState): EChartsCoreOption;
  open(d: DashboardData, click: MarkClick, s: ChartState): OpenTarget | undefined;
}

// ---- helpers ------------------------------------------------------------------------------------

const VERDICT_ORDER = ['pass', 'wrong_answer', 'runtime_error', 'timeout', 'memory_limit', 'output_limit', 'compile_error'];
const KIND_ORDER = ['if', 'for', 'while', 'def', 'async_def', 'with', 'try', 'class', 'program'];
const STATUS_ORDER = ['accepted', 'rejected', 'flagged', 'pending'] as const;

export const FUNNEL_LABELS: Record<FunnelKey, string> = {
  problems: 'problems',
  references: 'reference solutions passing their tests',
  targets: 'targets',
  samples: 'samples',
  verdicts: 'samples with a verdict',
  pairs: 'pairs',
  accepted: 'accepted pairs',
  exported: 'exported (newest export)',
  trained: 'trained on',
};

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

function percent(part: number, whole: number): string {
  if (whole <= 0) return '–';
  const p = (100 * part) / whole;
  return `${p >= 10 || p === 0 ? p.toFixed(0) : p.toFixed(1)}%`;
}

function byKind(a: string, b: string): number {
  const ia = KIND_ORDER.indexOf(a);
  const ib = KIND_ORDER.indexOf(b);
  return (ia < 0 ? KIND_ORDER.length : ia) - (ib < 0 ? KIND_ORDER.length : ib) || a.localeCompare(b);
}

function verdictColour(v: string, t: ChartTheme): string {
  const failing: Record<string, string> = {
    wrong_answer: t.bad,
    runtime_error: '#e8743b',
    timeout: t.warn,
    memory_limit: '#a05195',
    output_limit: '#7a5195',
    compile_error: '#8c564b',
  };
  return v === 'pass' ? t.good : v === 'not run' ? t.muted : (failing[v] ?? t.palette[0]);
}

function statusColour(s: string, t: ChartTheme): string {
  return s === 'accepted' ? t.good : s === 'rejected' ? t.bad : s === 'flagged' ? t.warn : t.muted;
}

/** What every chart shares: fonts, colours, tooltips drawn on the canvas (no HTML: labels from the
 * project never become markup), no animation (figures appear at once and exports are complete). */
function base(t: ChartTheme): EChartsCoreOption {
  return {
    backgroundColor: 'transparent',
    animation: false,
    color: t.palette,
    textStyle: { color: t.foreground, fontFamily: t.font },
    tooltip: {
      renderMode: 'richText',
      confine: true,
      backgroundColor: t.background,
      borderColor: t.grid,
      textStyle: { color: t.foreground, fontFamily: t.font },
    },
  };
}

function axisStyle(t: ChartTheme) {
  return {
    axisLine: { lineStyle: { color: t.grid } },
    axisTick: { lineStyle: { color: t.grid } },
    axisLabel: { color: t.foreground },
    splitLine: { lineStyle: { color: t.grid, opacity: 0.5 } },
    nameTextStyle: { color: t.muted },
  };
}

function legend(t: ChartTheme) {
  return { top: 0, textStyle: { color: t.foreground }, inactiveColor: t.muted, itemWidth: 14, itemHeight: 10 };
}

// ---- funnel -------------------------------------------------------------------------------------

const funnel: ChartSpec = {
  id: 'funnel',
  title: 'From problems to training',
  subtitle: (d) => `how much of the data survives each stage · verdicts under the ${d.comparator} comparator`,
  height: 300,
  empty: (d) => (d.funnel.every((s) => !s.count) ? 'Nothing in this project yet: import a dataset.' : undefined),
  option: (d, t) => ({
    ...base(t),
    tooltip: { ...(base(t).tooltip as object), trigger: 'item', formatter: (p: { dataIndex: number }) => funnelText(d, p.dataIndex, true) },
    grid: { left: 8, right: 150, top: 8, bottom: 8, containLabel: true },
    xAxis: { type: 'value', show: false },
    yAxis: { type: 'category', inverse: true, data: d.funnel.map((s) => FUNNEL_LABELS[s.key]), ...axisStyle(t), axisTick: { show: false } },
    series: [
      {
        type: 'bar',
        name: 'count',
        barMaxWidth: 22,
        data: d.funnel.map((s) => ({ value: s.count ?? 0, itemStyle: { color: s.count === null ? t.muted : t.palette[0] } })),
        label: { show: true, position: 'right', color: t.foreground, formatter: (p: { dataIndex: number }) => funnelText(d, p.dataIndex, false) },
      },
    ],
  }),
  open: (d, c) => {
    const step = d.funnel[c.dataIndex];
    if (!step) return undefined;
    switch (step.key) {
      case 'problems':
        return { kind: 'items', title: 'Problems', query: { what: 'problems' } };
      case 'references':
        return { kind: 'items', title: `Reference solutions passing their own tests (${d.comparator})`, query: { what: 'references', tests: 'pass' } };
      case 'targets':
        return { kind: 'items', title: 'Targets', query: { what: 'targets' } };
      case 'samples':
        return { kind: 'items', title: 'Samples', query: { what: 'samples' } };
      case 'verdicts':
        return { kind: 'items', title: `Samples with a verdict (${d.comparator})`, query: { what: 'samples', verdict: 'run' } };
      case 'pairs':
        return { kind: 'room', query: {} };
      case 'accepted':
        return { kind: 'room', query: { statuses: ['accepted'] } };
      case 'exported':
        return d.exports[0] ? { kind: 'room', query: { exportId: d.exports[0].id } } : undefined;
      case 'trained': {
        const run = d.training.find((r) => r.exportId !== null);
        return run ? { kind: 'room', query: { exportId: run.exportId! } } : undefined;
      }
    }
  },
};

function funnelText(d: DashboardData, i: number, long: boolean): string {
  const s = d.funnel[i];
  if (!s) return '';
  if (s.count === null) return long ? `${FUNNEL_LABELS[s.key]}: ${s.note ?? 'none yet'}` : '–';
  const of = s.of !== undefined ? ` (${percent(s.count, s.of)} of ${formatCount(s.of)})` : '';
  return long ? `${FUNNEL_LABELS[s.key]}: ${formatCount(s.count)}${of}${s.note ? `\n${s.note}` : ''}` : `${formatCount(s.count)}${of}`;
}

// ---- pass rate by block kind x depth ------------------------------------------------------------

interface Cell {
  kind: string;
  depth: number;
  samples: number;
  tested: number;
  pass: number;
}

/** Samples of every job and model summed per (block kind, depth). */
export function passRateCells(d: DashboardData): { kinds: string[]; depths: number[]; cells: Cell[] } {
  const cells = new Map<string, Cell>();
  for (const g of d.sampleGroups) {
    const k = `${g.kind}\u0000${g.depth}`;
    let c = cells.get(k);
    if (!c) cells.set(k, (c = { kind: g.kind, depth: g.depth, samples: 0, tested: 0, pass: 0 }));
    c.samples += g.samples;
    for (const [v, n] of Object.entries(g.verdicts)) {
      c.tested += n ?? 0;
      if (v === 'pass') c.pass += n ?? 0;
    }
  }
  const all = [...cells.values()];
  return {
    kinds: [...new Set(all.map((c) => c.kind))].sort(byKind),
    depths: [...new Set(all.map((c) => c.depth))].sort((a, b) => a - b),
    cells: all,
  };
}

const passRate: ChartSpec = {
  id: 'passRate',
  title: 'Pass rate by block kind and depth',
  subtitle: () => 'share of samples (all jobs) whose program passes its tests · click a cell for its pairs',
  height: 300,
  empty: (d) => (d.sampleGroups.length === 0 ? 'No samples yet: sample the targets ("Sample x5" above a block, or pairforge sample).' : undefined),
  option: (d, t) => {
    const { kinds, depths, cells } = passRateCells(d);
    const data = cells.map((c) => ({
      value: [depths.indexOf(c.depth), kinds.indexOf(c.kind), c.tested > 0 ? c.pass / c.tested : '-'],
      cell: c,
    }));
    return {
      ...base(t),
      tooltip: {
        ...(base(t).tooltip as object),
        trigger: 'item',
        formatter: (p: { data: { cell: Cell } }) => {
          const c = p.data.cell;
          return `${c.kind}, depth ${c.depth}: ${c.tested ? percent(c.pass, c.tested) : 'not run'} pass\n${formatCount(c.pass)} of ${formatCount(c.tested)} run · ${formatCount(c.samples)} samples`;
        },
      },
      grid: { left: 8, right: 16, top: 8, bottom: 56, containLabel: true },
      xAxis: { type: 'category', name: 'depth', nameLocation: 'middle', nameGap: 24, data: depths.map(String), ...axisStyle(t), splitArea: { show: false } },
      yAxis: { type: 'category', inverse: true, data: kinds, ...axisStyle(t) },
      visualMap: {
        type: 'continuous',
        min: 0,
        max: 1,
        dimension: 2,
        orient: 'horizontal',
        left: 'center',
        bottom: 0,
        itemHeight: 160,
        itemWidth: 10,
        text: ['100% pass', '0%'],
        textStyle: { color: t.foreground },
        inRange: { color: [t.bad, t.warn, t.good] },
        calculable: false,
      },
      series: [
        {
          type: 'heatmap',
          name: 'pass rate',
          data,
          label: { show: true, color: '#111', formatter: (p: { data: { cell: Cell } }) => (p.data.cell.tested ? percent(p.data.cell.pass, p.data.cell.tested) : '–') },
          itemStyle: { borderColor: t.background, borderWidth: 2 },
          emphasis: { itemStyle: { borderColor: t.foreground, borderWidth: 2 } },
        },
      ],
    };
  },
  open: (_d, c) => {
    const cell = (c.data as { cell?: Cell } | undefined)?.cell;
    return cell ? { kind: 'room', query: { blockKinds: [cell.kind], depths: [cell.depth] } } : undefined;
  },
};

// ---- verdict mix per sampling job and model -----------------------------------------------------

/** One bar per (job, model): its samples by verdict, and those not run yet. */
export function verdictMixRows(d: DashboardData): { label: string; jobId: number; model: string; counts: Record<string, number> }[] {
  const rows = new Map<string, { label: string; jobId: number; model: string; counts: Record<string, number> }>();
  for (const g of d.sampleGroups) {
    const k = `${g.jobId}\u0000${g.model}`;
    let r = rows.get(k);
    const job = d.jobs.find((j) => j.id === g.jobId);
    if (!r) rows.set(k, (r = { label: `job ${g.jobId}${job ? ` (${job.family})` : ''} · ${g.model}`, jobId: g.jobId, model: g.model, counts: { 'not run': 0 } }));
    let run = 0;
    for (const [v, n] of Object.entries(g.verdicts)) {
      r.counts[v] = (r.counts[v] ?? 0) + (n ?? 0);
      run += n ?? 0;
    }
    r.counts['not run'] += g.samples - run;
  }
  return [...rows.values()].sort((a, b) => a.jobId - b.jobId || a.model.localeCompare(b.model));
}

const verdictMix: ChartSpec = {
  id: 'verdictMix',
  title: 'Verdicts per sampling job and model',
  subtitle: () => 'samples by the verdict of their tests · click a failing verdict for the pairs that reject those samples',
  height: 280,
  empty: (d) => (d.sampleGroups.length === 0 ? 'No samples yet.' : undefined),
  option: (d, t) => {
    const rows = verdictMixRows(d);
    const present = [...VERDICT_ORDER, 'not run'].filter((v) => rows.some((r) => (r.counts[v] ?? 0) > 0));
    return {
      ...base(t),
      tooltip: { ...(base(t).tooltip as object), trigger: 'item', formatter: (p: { seriesName: string; dataIndex: number; value: number }) => `${rows[p.dataIndex]?.label}\n${p.seriesName}: ${formatCount(p.value)}` },
      legend: legend(t),
      grid: { left: 8, right: 24, top: 36, bottom: 8, containLabel: true },
      xAxis: { type: 'value', ...axisStyle(t) },
      yAxis: { type: 'category', inverse: true, data: rows.map((r) => r.label), ...axisStyle(t) },
      series: present.map((v) => ({
        type: 'bar',
        name: v,
        stack: 'samples',
        barMaxWidth: 26,
        itemStyle: { color: verdictColour(v, t) },
        data: rows.map((r) => r.counts[v] ?? 0),
      })),
    };
  },
  open: (d, c) => {
    const v = c.seriesName;
    const row = verdictMixRows(d)[c.dataIndex];
    if (!v || !row) return undefined;
    if (v === 'pass' || v === 'not run') {
      return { kind: 'items', title: `Samples of ${row.label}: ${v} (${d.comparator})`, query: { what: 'samples', jobId: row.jobId, model: row.model, verdict: v } };
    }
    return { kind: 'room', query: { rejectedVerdicts: [v], rejectedSampleJob: { jobId: row.jobId, model: row.model } } };
  },
};

// ---- samples per target -------------------------------------------------------------------------

const samplesPerTarget: ChartSpec = {
  id: 'samplesPerTarget',
  title: 'Samples per target',
  subtitle: (d) => {
    const targets = d.samplesPerTarget.reduce((n, r) => n + r.targets, 0);
    const none = d.samplesPerTarget.find((r) => r.samples === 0)?.targets ?? 0;
    return `${formatCount(targets)} targets · ${formatCount(none)} not sampled yet`;
  },
  height: 240,
  empty: (d) => (d.samplesPerTarget.length === 0 ? 'No targets yet: cut the solutions into targets (pairforge targets).' : undefined),
  option: (d, t) => ({
    ...base(t),
    tooltip: { ...(base(t).tooltip as object), trigger: 'item', formatter: (p: { dataIndex: number }) => { const r = d.samplesPerTarget[p.dataIndex]; return r ? `${formatCount(r.targets)} targets with ${r.samples} samples` : ''; } },
    grid: { left: 8, right: 16, top: 28, bottom: 24, containLabel: true },
    xAxis: { type: 'category', name: 'samples', nameLocation: 'middle', nameGap: 24, data: d.samplesPerTarget.map((r) => String(r.samples)), ...axisStyle(t) },
    yAxis: { type: 'value', name: 'targets', ...axisStyle(t) },
    series: [{ type: 'bar', name: 'targets', barMaxWidth: 40, itemStyle: { color: t.palette[0] }, data: d.samplesPerTarget.map((r) => r.targets) }],
  }),
  open: (d, c) => {
    const r = d.samplesPerTarget[c.dataIndex];
    return r ? { kind: 'items', title: `Targets with ${r.samples} sample${r.samples === 1 ? '' : 's'}`, query: { what: 'targets', samples: r.samples } } : undefined;
  },
};

// ---- pairs by kind, block kind and depth --------------------------------------------------------

interface PairColumn {
  label: string;
  kind: PairGroup['kind'];
  blockKind: string | null;
}

/** Columns (FIM pairs by block kind, whole programs, IterPref pairs) and per depth their counts. */
export function pairColumns(d: DashboardData): { columns: PairColumn[]; depths: (number | null)[]; count(col: PairColumn, depth: number | null): number } {
  const columns: PairColumn[] = [];
  const key = (kind: string, bk: string | null) => `${kind}\u0000${bk ?? ''}`;
  const seen = new Set<string>();
  const counts = new Map<string, number>();
  for (const g of d.pairGroups) {
    const k = key(g.kind, g.blockKind);
    if (!seen.has(k)) {
      seen.add(k);
      columns.push({ kind: g.kind, blockKind: g.blockKind, label: g.kind === 'fim' ? (g.blockKind ?? 'fim') : g.kind === 'full' ? 'whole program' : 'iterpref' });
    }
    const ck = `${k}\u0000${g.depth ?? ''}`;
    counts.set(ck, (counts.get(ck) ?? 0) + g.count);
  }
  const order = (c: PairColumn) => (c.kind === 'fim' ? 0 : c.kind === 'full' ? 1 : 2);
  columns.sort((a, b) => order(a) - order(b) || byKind(a.blockKind ?? '', b.blockKind ?? ''));
  const depths = [...new Set(d.pairGroups.map((g) => g.depth))].sort((a, b) => (a ?? -1) - (b ?? -1));
  return { columns, depths, count: (col, depth) => counts.get(`${key(col.kind, col.blockKind)}\u0000${depth ?? ''}`) ?? 0 };
}

const depthName = (x: number | null) => (x === null ? 'no depth' : `depth ${x}`);

const pairsChart: ChartSpec = {
  id: 'pairs',
  title: 'Pairs by kind, block kind and depth',
  subtitle: (d) => `${formatCount(d.pairGroups.reduce((n, g) => n + g.count, 0))} pairs · click a bar for those pairs`,
  height: 280,
  empty: (d) => (d.pairGroups.length === 0 ? 'No pairs yet: build them (PairForge: Build Pairs..., or pairforge pairs).' : undefined),
  option: (d, t) => {
    const { columns, depths, count } = pairColumns(d);
    return {
      ...base(t),
      tooltip: { ...(base(t).tooltip as object), trigger: 'item', formatter: (p: { seriesName: string; dataIndex: number; value: number }) => `${columns[p.dataIndex]?.label}, ${p.seriesName}: ${formatCount(p.value)} pairs` },
      legend: legend(t),
      grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
      xAxis: { type: 'category', data: columns.map((c) => c.label), ...axisStyle(t) },
      yAxis: { type: 'value', name: 'pairs', ...axisStyle(t) },
      series: depths.map((dep, i) => ({
        type: 'bar',
        name: depthName(dep),
        stack: 'pairs',
        barMaxWidth: 48,
        itemStyle: { color: dep === null ? t.muted : t.palette[i % t.palette.length] },
        data: columns.map((c) => count(c, dep)),
      })),
    };
  },
  open: (d, c) => {
    const { columns, depths } = pairColumns(d);
    const col = columns[c.dataIndex];
    if (!col) return undefined;
    const depth = c.seriesIndex !== undefined ? depths[c.seriesIndex] : undefined;
    const query: RoomFilter = { kinds: [col.kind] };
    if (col.blockKind !== null && col.kind === 'fim') query.blockKinds = [col.blockKind];
    if (depth !== undefined && depth !== null) query.depths = [depth];
    return { kind: 'room', query };
  },
};

// ---- filter flags -------------------------------------------------------------------------------

export function flagCounts(d: DashboardData): { flag: string; count: number }[] {
  const counts = new Map<string, number>();
  let none = 0;
  for (const g of d.pairGroups) {
    if (g.flags.length === 0) none += g.count;
    for (const f of g.flags) counts.set(f, (counts.get(f) ?? 0) + g.count);
  }
  return [...[...counts.entries()].sort((a, b) => b[1] - a[1]).map(([flag, count]) => ({ flag, count })), { flag: 'no flags', count: none }];
}

const flags: ChartSpec = {
  id: 'flags',
  title: 'Filter flags',
  subtitle: () => 'pairs carrying each flag (a pair may carry several) · flagged pairs are kept, never deleted',
  height: 240,
  empty: (d) => (d.pairGroups.length === 0 ? 'No pairs yet.' : undefined),
  option: (d, t) => {
    const rows = flagCounts(d);
    return {
      ...base(t),
      tooltip: { ...(base(t).tooltip as object), trigger: 'item', formatter: (p: { dataIndex: number }) => `${rows[p.dataIndex]?.flag}: ${formatCount(rows[p.dataIndex]?.count ?? 0)} pairs` },
      grid: { left: 8, right: 60, top: 8, bottom: 8, containLabel: true },
      xAxis: { type: 'value', ...axisStyle(t) },
      yAxis: { type: 'category', inverse: true, data: rows.map((r) => r.flag), ...axisStyle(t) },
      series: [
        {
          type: 'bar',
          name: 'pairs',
          barMaxWidth: 22,
          label: { show: true, position: 'right', color: t.foreground },
          data: rows.map((r) => ({ value: r.count, itemStyle: { color: r.flag === 'no flags' ? t.good : t.warn } })),
        },
      ],
    };
  },
  open: (d, c) => {
    const row = flagCounts(d)[c.dataIndex];
    if (!row) return undefined;
    return { kind: 'room', query: { flags: row.flag === 'no flags' ? 'none' : [row.flag] } };
  },
};

// ---- review progress ----------------------------------------------------------------------------

const review: ChartSpec = {
  id: 'review',
  title: 'Review progress',
  subtitle: (d) => {
    const all = d.pairGroups.reduce((n, g) => n + g.count, 0);
    const done = d.pairGroups.filter((g) => g.status !== 'pending').reduce((n, g) => n + g.count, 0);
    return `${formatCount(done)} of ${formatCount(all)} pairs reviewed (${percent(done, all)}) · decisions per day (UTC)`;
  },
  height: 260,
  empty: (d) => (d.review.length === 0 ? (d.pairGroups.length ? 'No review decisions yet: open the review room (PairForge: Review Pairs).' : 'No pairs yet.') : undefined),
  option: (d, t) => {
    let total = 0;
    const cumulative = d.review.map((r) => (total += r.accepted + r.rejected + r.flagged + r.pending));
    return {
      ...base(t),
      tooltip: { ...(base(t).tooltip as object), trigger: 'item', formatter: (p: { seriesName: string; dataIndex: number; value: number }) => `${d.review[p.dataIndex]?.day}: ${formatCount(p.value)} ${p.seriesName}` },
      legend: legend(t),
      grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
      xAxis: { type: 'category', data: d.review.map((r) => r.day), ...axisStyle(t) },
      yAxis: [
        { type: 'value', name: 'decisions', ...axisStyle(t) },
        { type: 'value', name: 'all so far', ...axisStyle(t), splitLine: { show: false } },
      ],
      series: [
        ...STATUS_ORDER.map((s) => ({
          type: 'bar',
          name: s === 'pending' ? 'set back to pending' : s,
          stack: 'decisions',
          barMaxWidth: 32,
          itemStyle: { color: statusColour(s, t) },
          data: d.review.map((r) => r[s]),
        })),
        { type: 'line', name: 'decisions so far', yAxisIndex: 1, symbolSize: 5, lineStyle: { color: t.foreground }, itemStyle: { color: t.foreground }, data: cumulative },
      ],
    };
  },
  open: (d, c) => {
    // A day's bar: the pairs given that status that day (and still of it); the line (all
    // decisions so far): the room unfiltered.
    const s = STATUS_ORDER[c.seriesIndex ?? -1];
    const day = d.review[c.dataIndex]?.day;
    if (!s) return { kind: 'room', query: {} };
    return { kind: 'room', query: { statuses: [s], ...(day ? { reviewedOn: day } : {}) } };
  },
};

// ---- reward margins -----------------------------------------------------------------------------

/** The runs the margin chart lays over each other: the user's pick, else the before/after pair of
 * the figures, else the newest run alone. */
export function overlayRuns(d: DashboardData, s: ChartState): number[] {
  const ids = new Set(d.margins.runs.filter((r) => r.scoredPairs > 0).map((r) => r.runId));
  const after = s.afterRunId !== undefined && ids.has(s.afterRunId) ? s.afterRunId : (d.margins.after ?? [...ids].at(-1));
  const before = s.beforeRunId !== undefined ? (ids.has(s.beforeRunId) ? s.beforeRunId : undefined) : d.margins.before;
  return [before, after].filter((x, i, all): x is number => x !== undefined && all.indexOf(x) === i);
}

/** The [from, to] margins of bin i (open-ended at the edges, which hold the tails). */
export function binRange(d: DashboardData, i: number): { min?: number; max?: number } {
  const m = d.margins;
  const n = m.runs[0]?.counts.length ?? 0;
  // Whole multiples of the width, without the float noise of the product (0.30000000000000004).
  const round = (x: number) => Number((Math.round(x / m.width) * m.width).toPrecision(12));
  return { ...(i > 0 ? { min: round(m.lo + i * m.width) } : {}), ...(i < n - 1 ? { max: round(m.lo + (i + 1) * m.width) } : {}) };
}

const margins: ChartSpec = {
  id: 'margins',
  title: 'Reward margins per scoring run',
  subtitle: (d, s) => {
    const shown = overlayRuns(d, s).map((id) => d.margins.runs.find((r) => r.runId === id)!);
    return shown
      .map((r) => `run ${r.runId}: ${formatCount(r.scoredPairs)} pairs, mean ${r.meanMargin === null ? '–' : r.meanMargin.toFixed(3)}, prefers chosen ${percent(r.prefersChosen, r.scoredPairs)}`)
      .join(' · ');
  },
  height: 300,
  empty: (d) => (d.margins.runs.every((r) => r.scoredPairs === 0) ? 'No scored pairs yet: score them (PairForge: Score Pairs, or pairforge score).' : undefined),
  option: (d, t, s) => {
    const m = d.margins;
    const shown = overlayRuns(d, s);
    const n = m.runs[0]?.counts.length ?? 0;
    const labels = Array.from({ length: n }, (_, i) => {
      const r = binRange(d, i);
      return r.min === undefined ? `< ${r.max}` : r.max === undefined ? `≥ ${r.min}` : String(r.min);
    });
    const colours = [t.muted, t.palette[0]];
    return {
      ...base(t),
      tooltip: {
        ...(base(t).tooltip as object),
        trigger: 'item',
        formatter: (p: { seriesName: string; dataIndex: number; value: number }) => {
          const r = binRange(d, p.dataIndex);
          return `${p.seriesName}\nmargin ${r.min ?? '−∞'} … ${r.max ?? '+∞'}: ${formatCount(p.value)} pairs`;
        },
      },
      legend: legend(t),
      grid: { left: 8, right: 16, top: 36, bottom: 24, containLabel: true },
      xAxis: { type: 'category', name: 'margin (policy prefers chosen → right)', nameLocation: 'middle', nameGap: 28, data: labels, ...axisStyle(t) },
      yAxis: { type: 'value', name: 'pairs', ...axisStyle(t) },
      series: shown.map((id, i) => {
        const run = m.runs.find((r) => r.runId === id)!;
        const role = shown.length === 2 ? (i === 0 ? 'before' : 'after') : '';
        return {
          type: 'bar',
          name: `${role ? `${role}: ` : ''}run ${run.runId} (${run.policyModel})`,
          barGap: '-100%',
          barCategoryGap: '10%',
          itemStyle: { color: colours[shown.length === 2 ? i : 1], opacity: shown.length === 2 && i === 0 ? 0.55 : 0.85 },
          data: run.counts,
        };
      }),
    };
  },
  open: (d, c, s) => {
    const runId = overlayRuns(d, s)[c.seriesIndex ?? 0];
    if (runId === undefined) return undefined;
    const r = binRange(d, c.dataIndex);
    return { kind: 'room', query: { runId, sort: 'margin', ...(r.min !== undefined ? { marginMin: r.min } : {}), ...(r.max !== undefined ? { marginMax: r.max } : {}) } };
  },
};

/** Every chart, in the order the dashboard and the report lay them out. */
export const CHARTS: readonly ChartSpec[] = [funnel, passRate, verdictMix, samplesPerTarget, pairsChart, flags, review, margins];
