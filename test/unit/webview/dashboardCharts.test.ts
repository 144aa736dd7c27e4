// The dashboard's charts as data (webview/dashboard/charts.ts): every chart builds its option from
// the figures, and a click on each kind of mark opens exactly what it stands for; the review room's
// filter chip (webview/review/filters.ts) names the filters its toolbar does not show.
import { describe, expect, it } from 'vitest';
import { binRange, CHARTS, flagCounts, overlayRuns, pairColumns, passRateCells, verdictMixRows, type ChartTheme } from '../../../webview/dashboard/charts';
import type { DashboardData } from '../../../webview/dashboard/contract';
import { hiddenFilters, withoutHiddenFilters } from '../../../webview/review/filters';

const THEME: ChartTheme = { foreground: '#000', muted: '#888', grid: '#ccc', background: '#fff', good: '#0a0', bad: '#a00', warn: '#aa0', palette: ['#00a', '#a0a'], font: 'sans-serif' };

const run = (runId: number, counts: number[], reference = 'ref') => ({
  runId,
  label: `run ${runId}`,
  policyModel: `policy-${runId}`,
  referenceModel: reference,
  beta: 0.1,
  createdAt: '2026-03-01T00:00:00.000Z',
  scoredPairs: counts.reduce((a, b) => a + b, 0),
  prefersChosen: 1,
  meanMargin: 0.1,
  counts,
});

const DATA: DashboardData = {
  project: '/p.sqlite',
  generatedAt: '2026-03-01T00:00:00.000Z',
  computeMs: 1,
  comparator: 'strict',
  funnel: [
    { key: 'problems', count: 2 },
    { key: 'references', count: 2, of: 2 },
    { key: 'targets', count: 3 },
    { key: 'samples', count: 15 },
    { key: 'verdicts', count: 12, of: 15 },
    { key: 'pairs', count: 4 },
    { key: 'accepted', count: 1, of: 4 },
    { key: 'exported', count: 1 },
    { key: 'trained', count: null, note: 'no training run recorded' },
  ],
  jobs: [{ id: 1, family: 'qwen2.5-coder', status: 'done', createdAt: '2026-03-01T00:00:00.000Z' }],
  sampleGroups: [
    { jobId: 1, model: 'm', kind: 'for', depth: 2, samples: 5, verdicts: { pass: 3, wrong_answer: 1 } },
    { jobId: 1, model: 'm', kind: 'if', depth: 1, samples: 10, verdicts: { pass: 2, timeout: 6 } },
  ],
  samplesPerTarget: [{ samples: 0, targets: 1 }, { samples: 5, targets: 2 }],
  pairGroups: [
    { kind: 'fim', blockKind: 'if', depth: 1, status: 'accepted', flags: [], count: 1 },
    { kind: 'fim', blockKind: 'for', depth: 2, status: 'pending', flags: ['too_long'], count: 2 },
    { kind: 'iterpref', blockKind: null, depth: null, status: 'rejected', flags: ['too_long', 'comment_only'], count: 1 },
  ],
  review: [{ day: '2026-03-01', accepted: 1, rejected: 1, flagged: 0, pending: 0 }],
  margins: { lo: -1, hi: 1, width: 0.5, runs: [run(1, [1, 2, 0, 1]), run(2, [0, 1, 2, 1]), run(3, [1, 1, 1, 1], 'other')], before: 1, after: 2 },
  failingReferences: { total: 0, items: [] },
  flaky: { total: 0, items: [] },
  exports: [{ id: 7, dir: '/out', format: 'trl', pairs: 1, records: 1, createdAt: '2026-03-01T00:00:00.000Z' }],
  training: [],
};

const spec = (id: string) => CHARTS.find((c) => c.id === id)!;

describe('dashboard charts', () => {
  it('every chart builds an option with its series from the figures', () => {
    expect(CHARTS.map((c) => c.id)).toEqual(['funnel', 'passRate', 'verdictMix', 'samplesPerTarget', 'pairs', 'flags', 'review', 'margins']);
    for (const c of CHARTS) {
      expect(c.empty(DATA), c.id).toBeUndefined();
      const o = c.option(DATA, THEME, {}) as { series: unknown[]; animation: boolean; tooltip: { renderMode: string } };
      expect(o.series.length, c.id).toBeGreaterThan(0);
      // Drawn at once, tooltips on the canvas (no HTML made from the project's text).
      expect(o.animation).toBe(false);
      expect(o.tooltip.renderMode).toBe('richText');
      expect(c.subtitle(DATA, {})).not.toBe('');
    }
  });

  it('sums the heatmap cells, the verdict bars, the pair columns and the flags', () => {
    expect(passRateCells(DATA)).toEqual({
      kinds: ['if', 'for'],
      depths: [1, 2],
      cells: [
        { kind: 'for', depth: 2, samples: 5, tested: 4, pass: 3 },
        { kind: 'if', depth: 1, samples: 10, tested: 8, pass: 2 },
      ],
    });
    expect(verdictMixRows(DATA)).toEqual([{ label: 'job 1 (qwen2.5-coder) · m', jobId: 1, model: 'm', counts: { 'not run': 3, pass: 5, wrong_answer: 1, timeout: 6 } }]);
    const cols = pairColumns(DATA);
    expect(cols.columns.map((c) => c.label)).toEqual(['if', 'for', 'iterpref']);
    expect(cols.depths).toEqual([null, 1, 2]);
    expect(cols.count(cols.columns[1], 2)).toBe(2);
    expect(flagCounts(DATA)).toEqual([
      { flag: 'too_long', count: 3 },
      { flag: 'comment_only', count: 1 },
      { flag: 'no flags', count: 1 },
    ]);
  });

  it('a click on each kind of mark opens what it stands for', () => {
    const cells = passRateCells(DATA).cells;
    expect(spec('passRate').open(DATA, { dataIndex: 0, data: { cell: cells[0] } }, {})).toEqual({ kind: 'room', query: { blockKinds: ['for'], depths: [2] } });
    const funnel = (i: number) => spec('funnel').open(DATA, { dataIndex: i }, {});
    // The early steps have no pairs: the list of what they count.
    expect([0, 1, 2, 3, 4].map(funnel)).toEqual([
      { kind: 'items', title: 'Problems', query: { what: 'problems' } },
      { kind: 'items', title: 'Reference solutions passing their own tests (strict)', query: { what: 'references', tests: 'pass' } },
      { kind: 'items', title: 'Targets', query: { what: 'targets' } },
      { kind: 'items', title: 'Samples', query: { what: 'samples' } },
      { kind: 'items', title: 'Samples with a verdict (strict)', query: { what: 'samples', verdict: 'run' } },
    ]);
    expect(funnel(5)).toEqual({ kind: 'room', query: {} });
    expect(funnel(6)).toEqual({ kind: 'room', query: { statuses: ['accepted'] } });
    expect(funnel(7)).toEqual({ kind: 'room', query: { exportId: 7 } });
    expect(funnel(8)).toBeUndefined(); // nothing trained yet
    expect(spec('verdictMix').open(DATA, { dataIndex: 0, seriesName: 'timeout' }, {})).toEqual({ kind: 'room', query: { rejectedVerdicts: ['timeout'], rejectedSampleJob: { jobId: 1, model: 'm' } } });
    expect(spec('verdictMix').open(DATA, { dataIndex: 0, seriesName: 'pass' }, {})).toEqual({
      kind: 'items',
      title: 'Samples of job 1 (qwen2.5-coder) · m: pass (strict)',
      query: { what: 'samples', jobId: 1, model: 'm', verdict: 'pass' },
    });
    expect(spec('verdictMix').open(DATA, { dataIndex: 0, seriesName: 'not run' }, {})).toEqual({
      kind: 'items',
      title: 'Samples of job 1 (qwen2.5-coder) · m: not run (strict)',
      query: { what: 'samples', jobId: 1, model: 'm', verdict: 'not run' },
    });
    expect(spec('verdictMix').open(DATA, { dataIndex: 3, seriesName: 'pass' }, {})).toBeUndefined(); // no such row
    expect(spec('samplesPerTarget').open(DATA, { dataIndex: 0 }, {})).toEqual({ kind: 'items', title: 'Targets with 0 samples', query: { what: 'targets', samples: 0 } });
    expect(spec('samplesPerTarget').open(DATA, { dataIndex: 1 }, {})).toEqual({ kind: 'items', title: 'Targets with 5 samples', query: { what: 'targets', samples: 5 } });
    // Pairs: column "for", series depth 2 (index 2 of [null, 1, 2]); IterPref has no block kind.
    expect(spec('pairs').open(DATA, { dataIndex: 1, seriesIndex: 2 }, {})).toEqual({ kind: 'room', query: { kinds: ['fim'], blockKinds: ['for'], depths: [2] } });
    expect(spec('pairs').open(DATA, { dataIndex: 2, seriesIndex: 0 }, {})).toEqual({ kind: 'room', query: { kinds: ['iterpref'] } });
    expect(spec('flags').open(DATA, { dataIndex: 0 }, {})).toEqual({ kind: 'room', query: { flags: ['too_long'] } });
    expect(spec('flags').open(DATA, { dataIndex: 2 }, {})).toEqual({ kind: 'room', query: { flags: 'none' } });
    // Review progress: the day's bar of a status; the cumulative line (series 4) the whole room.
    expect(spec('review').open(DATA, { dataIndex: 0, seriesIndex: 1 }, {})).toEqual({ kind: 'room', query: { statuses: ['rejected'], reviewedOn: '2026-03-01' } });
    expect(spec('review').open(DATA, { dataIndex: 0, seriesIndex: 3 }, {})).toEqual({ kind: 'room', query: { statuses: ['pending'], reviewedOn: '2026-03-01' } });
    expect(spec('review').open(DATA, { dataIndex: 0, seriesIndex: 4 }, {})).toEqual({ kind: 'room', query: {} });
    // Margins: the after run (series 1 of the overlay), bin 1 = [-0.5, 0); the edge bins are open.
    expect(spec('margins').open(DATA, { dataIndex: 1, seriesIndex: 1 }, {})).toEqual({ kind: 'room', query: { runId: 2, sort: 'margin', marginMin: -0.5, marginMax: 0 } });
    expect(spec('margins').open(DATA, { dataIndex: 0, seriesIndex: 0 }, {})).toEqual({ kind: 'room', query: { runId: 1, sort: 'margin', marginMax: -0.5 } });
    expect(binRange(DATA, 3)).toEqual({ min: 0.5 });
  });

  it('overlays the figures\' before/after pair, or the runs the user picked', () => {
    expect(overlayRuns(DATA, {})).toEqual([1, 2]);
    expect(overlayRuns(DATA, { beforeRunId: 3, afterRunId: 1 })).toEqual([3, 1]);
    // "(none)" before: the after run alone.
    expect(overlayRuns(DATA, { beforeRunId: -1 })).toEqual([2]);
    const o = spec('margins').option(DATA, THEME, {}) as { series: { name: string; data: number[] }[] };
    expect(o.series.map((s) => s.name)).toEqual(['before: run 1 (policy-1)', 'after: run 2 (policy-2)']);
    expect(o.series[1].data).toEqual([0, 1, 2, 1]);
  });

  it('says why a chart is empty', () => {
    const none: DashboardData = { ...DATA, sampleGroups: [], pairGroups: [], review: [], margins: { ...DATA.margins, runs: [] }, samplesPerTarget: [] };
    for (const id of ['passRate', 'verdictMix', 'samplesPerTarget', 'pairs', 'flags', 'review', 'margins']) expect(spec(id).empty(none), id).toMatch(/^No /);
  });
});

describe('review room filter chip', () => {
  it('names what the toolbar does not show, and clears only that', () => {
    // One block kind, depth, rejected verdict and a margin range are the toolbar's own controls.
    const q = { statuses: ['accepted' as const], blockKinds: ['for'], depths: [2], rejectedVerdicts: ['timeout'], exportId: 7, runId: 2, marginMin: -0.5, marginMax: 0, sort: 'margin' as const };
    expect(hiddenFilters(q)).toEqual(['export 7']);
    expect(withoutHiddenFilters(q)).toEqual({ statuses: ['accepted'], blockKinds: ['for'], depths: [2], rejectedVerdicts: ['timeout'], runId: 2, marginMin: -0.5, marginMax: 0, sort: 'margin' });
    expect(hiddenFilters({ blockKinds: ['for', 'if'], depths: [1, 2], rejectedVerdicts: ['timeout', 'wrong_answer'] })).toEqual(['block for, if', 'depth 1, 2', 'rejected verdict timeout, wrong_answer']);
    expect(hiddenFilters({ statuses: ['accepted', 'rejected'], flags: ['too_long'] })).toEqual(['status accepted, rejected', 'flag too_long']);
    expect(hiddenFilters({ kinds: ['fim'], flags: 'none', search: 'x' })).toEqual([]);
    expect(hiddenFilters({ statuses: ['rejected'], reviewedOn: '2026-03-02' })).toEqual(['reviewed on 2026-03-02']);
    const segment = { rejectedVerdicts: ['timeout'], rejectedSampleJob: { jobId: 1, model: 'm' } };
    expect(hiddenFilters(segment)).toEqual(['rejected from job 1 · m']);
    expect(withoutHiddenFilters(segment)).toEqual({ rejectedVerdicts: ['timeout'] });
    expect(withoutHiddenFilters({ statuses: ['rejected'], reviewedOn: '2026-03-02' })).toEqual({ statuses: ['rejected'] });
  });
});
