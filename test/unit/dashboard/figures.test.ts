// The dashboard's figures on a hand-built project written through the stages' own functions:
// the fixture datasets imported and cut, two sampling jobs against the in-process local stand-in
// (two models), verdicts written by the execution stage's writer (chosen per sample, some left out,
// flaky ones and failing references among them), pairs upserted and reviewed on given days, a
// scoring run with known margins and an export. Every cell is checked against counts made here
// from the rows themselves, and the running counts the triggers keep against a GROUP BY after the
// writes that change them (a stale verdict replaced, a job deleted, a problem re-imported away).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboardData } from '../../../server/dashboard/data';
import { projectVersion } from '../../../server/dashboard/feature';
import { writeExecutions, type ExecutionRecord } from '../../../server/exec/store';
import { DEFAULT_EXPORT, exportPairs } from '../../../server/export/export';
import { importFiles } from '../../../server/import/importer';
import { startLocalVllm, type LocalVllm } from '../../../server/localvllm';
import { decide, undoLast } from '../../../server/pairs/review';
import { upsertPairs, type PairDraft } from '../../../server/pairs/store';
import type { PairFlag, PairKind, PairStatus, TrainingRunView, Verdict } from '../../../server/protocol';
import { runSampleJob } from '../../../server/sampling/job';
import { marginBinning } from '../../../server/scoring/aggregates';
import { addRunPairs, createRun, finishRun, sideWriter, type NewRun, type SideRow } from '../../../server/scoring/store';
import { openProject, type Project } from '../../../server/store/db';
import { cutAllTargets } from '../../../server/targets/cutAll';
import { fixturePath } from '../../support/paths';

const DAY1 = '2026-03-01T09:00:00.000Z';
const DAY2 = '2026-03-02T15:30:00.000Z';
/** Verdicts given to the samples in id order; every fifth sample gets none. */
const CYCLE: Verdict[] = ['pass', 'wrong_answer', 'pass', 'timeout', 'runtime_error', 'pass', 'wrong_answer'];

let dir = '';
let file = '';
let p: Project;
const servers: LocalVllm[] = [];
let sampleRows: { id: number; target_id: number; job_id: number; model: string; sample_index: number }[] = [];
let targets = new Map<number, { kind: string; depth: number; problem: number }>();
/** The verdict each sample was given (absent: not run). */
const given = new Map<number, Verdict>();
const pairIds: number[] = [];

function result(verdict: Verdict): ExecutionRecord['result'] {
  return { verdict, tests: [], testsTotal: 2, durationMs: 1, comparator: 'strict', sandbox: { isolation: 'bwrap-user', limits: {} as never } };
}

function rec(kind: ExecutionRecord['kind'], id: number, problemId: number, verdict: Verdict, attempt = 0, sha = 'sha'): ExecutionRecord {
  return { kind, id, problemId, attempt, codeSha256: sha, result: result(verdict), executedAt: DAY1 };
}

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

function side(pairId: number, s: 'chosen' | 'rejected', policy: number, ref: number): SideRow {
  return {
    pairId,
    side: s,
    format: 'chat',
    textSha256: 'x',
    promptTokens: 1,
    spelling: '',
    tokenIds: [],
    charRanges: [],
    lossMask: [],
    logpPolicy: new Float32Array(0),
    logpRef: new Float32Array(0),
    topPolicy: null,
    topRef: null,
    maskedTokens: 0,
    maskedLogpPolicy: policy,
    maskedLogpRef: ref,
    rewardSum: 0,
    maskedRewardSum: policy - ref,
    attempts: 1,
    createdAt: DAY2,
  };
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'pairforge-dashboard-'));
  file = path.join(dir, 'p.sqlite');
  p = openProject(file);
  await importFiles(p, ['apps-mini.jsonl', 'history-mini.jsonl'].map((f) => fixturePath('datasets', f)));
  await cutAllTargets(p, { preset: 'structurecoder' });
  targets = new Map(
    p.db
      .prepare<[], { id: number; kind: string; depth: number; problem: number }>('SELECT t.id, t.kind, t.depth, s.problem_id AS problem FROM targets t JOIN solutions s ON s.id = t.solution_id')
      .all()
      .map((t) => [t.id, t]),
  );
  // Two jobs, two models: every target three times, then the first three targets twice.
  for (const [model, n, limit] of [['model-a', 3, undefined], ['model-b', 2, 3]] as const) {
    const local = await startLocalVllm({ db: file, model, seed: 7 });
    servers.push(local);
    const s = await runSampleJob(
      p,
      { family: 'qwen2.5-coder', n, endpoints: [{ url: local.baseURL, model }], selection: { preset: 'structurecoder', ...(limit ? { limit } : {}) } },
      { reuse: 'none' },
    );
    expect(s.status).toBe('done');
  }
  sampleRows = p.db.prepare<[], (typeof sampleRows)[number]>('SELECT id, target_id, job_id, model, sample_index FROM samples ORDER BY id').all();
  const records: ExecutionRecord[] = [];
  sampleRows.forEach((s, i) => {
    if (i % 5 === 4) return;
    const v = CYCLE[i % CYCLE.length];
    given.set(s.id, v);
    records.push(rec('sample', s.id, targets.get(s.target_id)!.problem, v));
  });
  writeExecutions(p, records);
  // Two flaky samples: a confirmation run that disagrees.
  const flaky = sampleRows.filter((s) => given.get(s.id) === 'wrong_answer').slice(0, 2);
  writeExecutions(p, flaky.map((s) => rec('sample', s.id, targets.get(s.target_id)!.problem, 'pass', 1)));
  // References: every solution passes but the first, which gives a wrong answer; each history's
  // versions fail but the last, except in the first history, whose last version fails too.
  const solutions = p.db.prepare<[], { id: number; problem_id: number }>('SELECT id, problem_id FROM solutions ORDER BY id').all();
  writeExecutions(p, solutions.map((s, i) => rec('solution', s.id, s.problem_id, i === 0 ? 'wrong_answer' : 'pass')));
  const versions = p.db
    .prepare<[], { id: number; problem_id: number; last: number; history_id: number }>(
      `SELECT v.id, h.problem_id, v.history_id, v.ordinal = (SELECT MAX(ordinal) FROM history_versions x WHERE x.history_id = v.history_id) AS last
       FROM history_versions v JOIN histories h ON h.id = v.history_id ORDER BY v.id`,
    )
    .all();
  const firstHistory = versions[0].history_id;
  writeExecutions(p, versions.map((v) => rec('version', v.id, v.problem_id, v.last && v.history_id !== firstHistory ? 'pass' : 'wrong_answer')));

  // Pairs: one FIM pair per target (flags and kinds varied), and two IterPref pairs.
  const drafts: PairDraft[] = [];
  const flagsOf = (i: number): PairFlag[] => (i % 4 === 1 ? ['too_long'] : i % 4 === 2 ? ['comment_only', 'too_long'] : []);
  [...targets.entries()].forEach(([id, t], i) => {
    drafts.push({
      pairKey: `fim:${id}`,
      mode: 'structurecoder',
      kind: 'fim',
      problemId: t.problem,
      targetId: id,
      historyId: null,
      pre: '',
      suf: '',
      blockKind: t.kind,
      depth: t.depth,
      goldenLines: 2,
      chosen: `chosen ${id}`,
      rejected: `rejected ${id}`,
      chosenSpans: [],
      rejectedSpans: [],
      provenance: {},
      editDistance: 1,
      flags: flagsOf(i),
      dupKey: `d${id}`,
    });
  });
  const histories = p.db.prepare<[], { id: number; problem_id: number }>('SELECT id, problem_id FROM histories ORDER BY id LIMIT 2').all();
  for (const h of histories) {
    drafts.push({ ...drafts[0], pairKey: `ip:${h.id}`, mode: 'iterpref', kind: 'iterpref', problemId: h.problem_id, targetId: null, historyId: h.id, blockKind: null, depth: null, flags: [], dupKey: `h${h.id}` });
  }
  upsertPairs(p, drafts, DAY1);
  pairIds.push(...p.db.prepare<[], { id: number }>('SELECT id FROM pairs ORDER BY id').all().map((r) => r.id));
  // Day 1: three accepted; day 2: two rejected, one flagged, and an accept that is undone.
  decide(p, { pairIds: pairIds.slice(0, 3), status: 'accepted', now: DAY1 });
  decide(p, { pairIds: pairIds.slice(3, 5), status: 'rejected', now: DAY2 });
  decide(p, { pairIds: [pairIds[5]], status: 'flagged', note: 'odd', now: DAY2 });
  decide(p, { pairIds: [pairIds[6]], status: 'accepted', now: DAY2 });
  undoLast(p, DAY2);

  // Two scoring runs, the same reference: margins 2 * k (run 1) and 2 * k + 1 (run 2), k = 0, 1, ...
  const run = (model: string): NewRun => ({
    specKey: model,
    policy: [{ url: 'http://x', model }],
    reference: [{ url: 'http://x', model: 'ref' }],
    beta: 1,
    topK: 0,
    format: 'chat',
    family: 'qwen2.5-coder',
    trainingSentence: false,
    addSpecialTokens: true,
    selection: 'all',
    tokenizer: null,
  });
  for (const [model, shift] of [['policy-0', 0], ['policy-1', 1]] as const) {
    const runId = createRun(p, run(model), DAY2);
    addRunPairs(p, runId, pairIds);
    sideWriter(p, runId, 1, 0).write(
      pairIds.flatMap((id, k) => [side(id, 'chosen', 2 * k + shift, 0), side(id, 'rejected', 0, 0)]),
      new Map(),
    );
    finishRun(p, runId, 'done', null, DAY2);
  }
  exportPairs(p, path.join(dir, 'export'), { ...DEFAULT_EXPORT, format: 'trl' });
}, 120_000);

afterAll(async () => {
  for (const s of servers) await s.close();
  p?.close();
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
      expect(f.sample).toEqual({ targetId: s.target_id, index: s.sample_index });
    }
    const limited = dashboardData(p, { comparator: 'strict', listLimit: 1 });
    expect([limited.failingReferences.items.length, limited.failingReferences.total, limited.flaky.items.length, limited.flaky.total]).toEqual([1, 2, 1, 2]);
  });

  it('takes "trained" and the overlay from the training stage when it reports a run', () => {
    const training: TrainingRunView[] = [{ id: 4, label: 'train 4', status: 'done', exportId: 1, pairs: 3, beforeRunId: 2, afterRunId: 1, finishedAt: DAY2 }];
    const d = dashboardData(p, { comparator: 'strict', training: () => training });
    expect(d.funnel.find((s) => s.key === 'trained')).toMatchObject({ count: 3 });
    expect([d.margins.before, d.margins.after]).toEqual([2, 1]);
    expect(d.training).toEqual(training);
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
