// The dashboard's figures on a hand-built project written through the stages' own functions
// (test/support/dashboardProject.ts). Every cell is checked against counts made here from the rows
// themselves, and the running counts the triggers keep against a GROUP BY after the writes that
// change them (a stale verdict replaced, a job deleted, a problem deleted).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboardData } from '../../../server/dashboard/data';
import { projectVersion } from '../../../server/dashboard/feature';
import { writeExecutions } from '../../../server/exec/store';
import { exportedPairsFilter } from '../../../server/export/store';
import { queueCounts, queuePage } from '../../../server/pairs/queue';
import type { PairFlag, PairKind, PairStatus, Verdict } from '../../../server/protocol';
import { marginBinning } from '../../../server/scoring/aggregates';
import { openProject, type Project } from '../../../server/store/db';
import { createTrainingRun, updateTrainingRun } from '../../../server/training/store';
import { buildDashboardProject, execRecord as rec, type DashboardProject } from '../../support/dashboardProject';

let dir = '';
let file = '';
let p: Project;
let built: DashboardProject;
let sampleRows: DashboardProject['sampleRows'] = [];
let targets: DashboardProject['targets'] = new Map();
let given: DashboardProject['given'] = new Map();
let pairIds: number[] = [];

/** The sample counts and verdict counts per (job, model, kind, depth) straight from the rows. */
function groupedBySql(q: Project) {
  const samples = q.db
    .prepare('SELECT s.job_id, s.model, t.kind, t.depth, COUNT(*) AS n FROM samples s JOIN targets t ON t.id = s.target_id GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4')
    .all();
  const verdicts = q.db
    .prepare(
      `SELECT s.job_id, s.model, t.kind, t.depth, e.comparator, e.verdict, COUNT(*) AS n FROM executions e JOIN samples s ON s.id = e.candidate_id
       JOIN targets t ON t.id = s.target_id WHERE e.candidate_kind = 'sample' AND e.attempt = 0 GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6`,
    )
    .all();
  const kept = q.db.prepare('SELECT job_id, model, kind, depth, samples AS n FROM sample_counts WHERE samples > 0 ORDER BY 1, 2, 3, 4').all();
  const keptVerdicts = q.db.prepare('SELECT job_id, model, kind, depth, comparator, verdict, n FROM sample_verdict_counts WHERE n > 0 ORDER BY 1, 2, 3, 4, 5, 6').all();
  return { samples, verdicts, kept, keptVerdicts };
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'pairforge-dashboard-'));
  built = await buildDashboardProject(dir);
  ({ p, file, sampleRows, targets, given, pairIds } = built);
}, 120_000);

afterAll(async () => {
  await built?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('dashboard figures', () => {
  it('funnel: each step counted from the rows', () => {
    const d = dashboardData(p, { comparator: 'strict' });
    const step = (k: string) => d.funnel.find((s) => s.key === k)!;
    const solutions = (p.db.prepare('SELECT COUNT(*) AS n FROM solutions').get() as { n: number }).n;
    expect(d.funnel.map((s) => s.key)).toEqual(['problems', 'references', 'targets', 'samples', 'verdicts', 'pairs', 'accepted', 'exported', 'trained']);
    expect(step('problems').count).toBe((p.db.prepare('SELECT COUNT(*) AS n FROM problems').get() as { n: number }).n);
    expect(step('references')).toMatchObject({ count: solutions - 1, of: solutions });
    expect(step('targets').count).toBe(targets.size);
    // Job 1: every target 3 times; job 2: three targets twice.
    expect(step('samples').count).toBe(targets.size * 3 + 3 * 2);
    expect(step('samples').count).toBe(sampleRows.length);
    expect(step('verdicts')).toMatchObject({ count: given.size, of: sampleRows.length });
    expect(step('pairs').count).toBe(targets.size + 2);
    expect(step('accepted')).toMatchObject({ count: 3, of: targets.size + 2 });
    // The export takes the accepted pairs.
    expect(step('exported').count).toBe(3);
    expect(d.exports).toHaveLength(1);
    expect(d.exports[0]).toMatchObject({ format: 'trl', pairs: 3, dir: path.join(dir, 'export') });
    expect(step('trained')).toMatchObject({ count: null });
    // The export's pairs, as the review room shows them for the "exported" mark.
    const only = exportedPairsFilter(d.exports[0].id);
    const page = queuePage(p, { exportId: d.exports[0].id }, 0, 100, undefined, only);
    expect(page.rows.map((r) => r.pairId)).toEqual(pairIds.slice(0, 3));
    expect(queueCounts(p, {}, undefined, only)).toEqual({ pending: 0, accepted: 3, rejected: 0, flagged: 0 });
  });

  it('samples and verdicts per job, model, block kind and depth: exact per cell', () => {
    const d = dashboardData(p, { comparator: 'strict' });
    const want = new Map<string, { samples: number; verdicts: Partial<Record<Verdict, number>> }>();
    for (const s of sampleRows) {
      const t = targets.get(s.target_id)!;
      const k = JSON.stringify([s.job_id, s.model, t.kind, t.depth]);
      const g = want.get(k) ?? { samples: 0, verdicts: {} };
      g.samples++;
      const v = given.get(s.id);
      if (v) g.verdicts[v] = (g.verdicts[v] ?? 0) + 1;
      want.set(k, g);
    }
    const got = new Map(d.sampleGroups.map((g) => [JSON.stringify([g.jobId, g.model, g.kind, g.depth]), { samples: g.samples, verdicts: g.verdicts }]));
    expect(got).toEqual(want);
    expect(new Set(d.sampleGroups.map((g) => g.model))).toEqual(new Set(['model-a', 'model-b']));
    expect(d.jobs.map((j) => j.id)).toEqual([1, 2]);
    // Another comparator: no verdict under it.
    const apps = dashboardData(p, { comparator: 'apps' });
    expect(apps.sampleGroups.every((g) => Object.keys(g.verdicts).length === 0)).toBe(true);
    expect(apps.funnel.find((s) => s.key === 'verdicts')!.count).toBe(0);
  });

  it('samples per target, with the targets not sampled', () => {
    const d = dashboardData(p, { comparator: 'strict' });
    // The first three targets by id have 3 + 2 samples, the others 3.
    expect(d.samplesPerTarget).toEqual([
      { samples: 3, targets: targets.size - 3 },
      { samples: 5, targets: 3 },
    ]);
  });

  it('pairs by kind, block kind, depth, status and flags', () => {
    const d = dashboardData(p, { comparator: 'strict' });
    const rows = p.db.prepare<[], { kind: PairKind; block_kind: string | null; depth: number | null; status: PairStatus; flags: string }>('SELECT kind, block_kind, depth, status, flags FROM pairs').all();
    const want = new Map<string, number>();
    for (const r of rows) {
      const k = JSON.stringify([r.kind, r.block_kind, r.depth, r.status, JSON.parse(r.flags)]);
      want.set(k, (want.get(k) ?? 0) + 1);
    }
    expect(new Map(d.pairGroups.map((g) => [JSON.stringify([g.kind, g.blockKind, g.depth, g.status, g.flags]), g.count]))).toEqual(want);
    const statuses = (s: PairStatus) => d.pairGroups.filter((g) => g.status === s).reduce((n, g) => n + g.count, 0);
    expect([statuses('accepted'), statuses('rejected'), statuses('flagged'), statuses('pending')]).toEqual([3, 2, 1, targets.size + 2 - 6]);
    const flagged = (f: PairFlag) => d.pairGroups.filter((g) => g.flags.includes(f)).reduce((n, g) => n + g.count, 0);
    const fim = [...targets.keys()].length;
    expect(flagged('too_long')).toBe([...Array(fim).keys()].filter((i) => i % 4 === 1 || i % 4 === 2).length);
    expect(flagged('comment_only')).toBe([...Array(fim).keys()].filter((i) => i % 4 === 2).length);
    expect(d.pairGroups.filter((g) => g.kind === 'iterpref').every((g) => g.blockKind === null && g.depth === null)).toBe(true);
  });

  it('review decisions per day, the undone one left out', () => {
    const d = dashboardData(p, { comparator: 'strict' });
    expect(d.review).toEqual([
      { day: '2026-03-01', accepted: 3, rejected: 0, flagged: 0, pending: 0 },
      { day: '2026-03-02', accepted: 0, rejected: 2, flagged: 1, pending: 0 },
    ]);
  });

  it('margins in shared bins per run, and the before/after pair', () => {
    const d = dashboardData(p, { comparator: 'strict' });
    const m = d.margins;
    const n = pairIds.length;
    expect(m.runs.map((r) => [r.runId, r.scoredPairs, r.prefersChosen])).toEqual([
      [1, n, n - 1], // margin 0 is not a preference for the chosen side
      [2, n, n],
    ]);
    expect(m.runs[0].meanMargin).toBeCloseTo((2 * (n - 1) * n) / 2 / n, 9);
    expect(m.runs[1].meanMargin).toBeCloseTo((2 * (n - 1) * n) / 2 / n + 1, 9);
    expect(m.before).toBe(1);
    expect(m.after).toBe(2);
    // Every margin lands in the bin of its value (the edge bins also hold the tails).
    const b = marginBinning(0, 2 * (n - 1) + 1, 40);
    expect([m.lo, m.hi, m.width]).toEqual([b.lo, b.hi, b.width]);
    for (const [i, run] of m.runs.entries()) {
      const want = new Array<number>(40).fill(0);
      for (let k = 0; k < n; k++) want[Math.min(39, Math.max(0, Math.floor((2 * k + i - m.lo) / m.width)))]++;
      expect(run.counts, `run ${run.runId}`).toEqual(want);
    }
  });

  it('lists failing references (solutions and final versions) and flaky candidates that open the item', () => {
    const d = dashboardData(p, { comparator: 'strict' });
    const kinds = d.failingReferences.items.map((r) => r.kind);
    expect(d.failingReferences.total).toBe(2);
    expect(kinds).toEqual(['solution', 'version']);
    for (const r of d.failingReferences.items) {
      expect(r.uri).toMatch(r.kind === 'solution' ? /^pairforge:\/.+\/solution-1\.py\?solution=\d+$/ : /^pairforge:\/.+\/history-1\/v\d+\.py\?version=\d+$/);
      expect(r.verdict).toBe('wrong_answer');
    }
    expect(d.flaky.total).toBe(2);
    for (const f of d.flaky.items) {
      expect(f.kind).toBe('sample');
      expect(f.verdicts).toEqual(['wrong_answer', 'pass']);
      const s = sampleRows.find((x) => x.id === f.id)!;
      // Shown with its number among its target's samples: oldest job first, then its index.
      const ofTarget = sampleRows.filter((x) => x.target_id === s.target_id).sort((a, b) => a.job_id - b.job_id || a.sample_index - b.sample_index || a.id - b.id);
      expect(f.sample).toEqual({ targetId: s.target_id, ordinal: ofTarget.indexOf(s) + 1 });
    }
    const limited = dashboardData(p, { comparator: 'strict', listLimit: 1 });
    expect([limited.failingReferences.items.length, limited.failingReferences.total, limited.flaky.items.length, limited.flaky.total]).toEqual([1, 2, 1, 2]);
  });

  it('takes "trained" and the overlay from the training stage when it has a run', () => {
    // Sent on day 3 with export 1; its held-out pairs came back as scoring run 2, so run 1 (made
    // before it was sent) is the "before".
    const DAY3 = '2026-03-03T08:00:00.000Z';
    const id = createTrainingRun(
      p,
      { name: 'train 4', host: 'gpu', sshConfig: null, sshOptions: [], remoteDir: '~/runs', launcher: 'python', python: 'python3', model: null, tiny: true, config: {}, sender: 'here 1' },
      DAY3,
    );
    updateTrainingRun(p, id, { exportId: 1, exportPairs: 3, scoreRunId: 2, status: 'succeeded', finishedAt: DAY3 }, DAY3);
    const d = dashboardData(p, { comparator: 'strict' });
    expect(d.funnel.find((s) => s.key === 'trained')).toMatchObject({ count: 3, note: 'train 4 on gpu (succeeded)' });
    expect([d.margins.before, d.margins.after]).toEqual([1, 2]);
    expect(d.training).toEqual([{ id, label: 'train 4 on gpu', status: 'succeeded', exportId: 1, pairs: 3, beforeRunId: 1, afterRunId: 2, finishedAt: DAY3 }]);
  });

  it('the running counts match a GROUP BY after every kind of write that changes them', () => {
    const before = projectVersion(p);
    let g = groupedBySql(p);
    expect(g.kept).toEqual(g.samples);
    expect(g.keptVerdicts).toEqual(g.verdicts);
    // A stale verdict replaced (the code changed): the old verdict leaves its cell, the new one enters.
    const s = sampleRows.find((x) => given.get(x.id) === 'pass')!;
    writeExecutions(p, [rec('sample', s.id, targets.get(s.target_id)!.problem, 'compile_error', 0, 'other-sha')]);
    g = groupedBySql(p);
    expect(g.keptVerdicts).toEqual(g.verdicts);
    expect(projectVersion(p)).not.toBe(before);
    // A job deleted: its samples go, and with them their verdicts' counts.
    p.db.prepare('DELETE FROM sample_jobs WHERE id = 2').run();
    g = groupedBySql(p);
    expect(g.kept).toEqual(g.samples);
    expect(g.keptVerdicts).toEqual(g.verdicts);
    expect(g.kept.every((r) => (r as { job_id: number }).job_id === 1)).toBe(true);
    // A problem deleted (its solutions, targets and their samples cascade).
    const problem = targets.get(sampleRows[0].target_id)!.problem;
    p.db.prepare('DELETE FROM problems WHERE id = ?').run(problem);
    g = groupedBySql(p);
    expect(g.kept).toEqual(g.samples);
    expect(g.keptVerdicts).toEqual(g.verdicts);
    const d = dashboardData(p, { comparator: 'strict' });
    expect(d.funnel.find((x) => x.key === 'samples')!.count).toBe((p.db.prepare('SELECT COUNT(*) AS n FROM samples').get() as { n: number }).n);
  });

  it('a version of the project does not change without a write', () => {
    const v = projectVersion(p);
    dashboardData(p, { comparator: 'strict' });
    expect(projectVersion(p)).toBe(v);
    // A write by another connection moves it too.
    const other = openProject(file);
    try {
      expect(other.db.prepare("UPDATE pairs SET note = 'from elsewhere'").run().changes).toBeGreaterThan(0);
    } finally {
      other.close();
    }
    expect(projectVersion(p)).not.toBe(v);
  });
});
