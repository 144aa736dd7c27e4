// A project for the dashboard's tests, written through the stages' own functions: the fixture
// datasets imported and cut, two sampling jobs against the in-process local stand-in (two models),
// verdicts written by the execution stage's writer (chosen per sample, some left out, two flaky
// samples, a failing reference solution and a failing final history version), pairs upserted
// (filter flags varied, two IterPref pairs) and reviewed on two given days (one decision undone),
// two scoring runs with known margins (the same reference model), and one export.
import path from 'node:path';
import { writeExecutions, type ExecutionRecord } from '../../server/exec/store';
import { DEFAULT_EXPORT, exportPairs } from '../../server/export/export';
import { importFiles } from '../../server/import/importer';
import { startLocalVllm, type LocalVllm } from '../../server/localvllm';
import { decide, undoLast } from '../../server/pairs/review';
import { upsertPairs, type PairDraft } from '../../server/pairs/store';
import type { PairFlag, Verdict } from '../../server/protocol';
import { runSampleJob } from '../../server/sampling/job';
import { openProject, type Project } from '../../server/store/db';
import { cutAllTargets } from '../../server/targets/cutAll';
import { addScoringRun } from './fixtures';
import { fixturePath } from './paths';

export const DAY1 = '2026-03-01T09:00:00.000Z';
export const DAY2 = '2026-03-02T15:30:00.000Z';
/** Verdicts given to the samples in id order; every fifth sample gets none. */
const CYCLE: Verdict[] = ['pass', 'wrong_answer', 'pass', 'timeout', 'runtime_error', 'pass', 'wrong_answer'];

export interface DashboardProject {
  p: Project;
  file: string;
  sampleRows: { id: number; target_id: number; job_id: number; model: string; sample_index: number }[];
  targets: Map<number, { kind: string; depth: number; problem: number }>;
  /** The verdict each sample was given (absent: not run). */
  given: Map<number, Verdict>;
  pairIds: number[];
  close(): Promise<void>;
}

export function execRecord(kind: ExecutionRecord['kind'], id: number, problemId: number, verdict: Verdict, attempt = 0, sha = 'sha'): ExecutionRecord {
  return {
    kind,
    id,
    problemId,
    attempt,
    codeSha256: sha,
    result: { verdict, tests: [], testsTotal: 2, durationMs: 1, comparator: 'strict', sandbox: { isolation: 'bwrap-user', limits: {} as never } },
    executedAt: DAY1,
  };
}

/** Builds the project in `dir` (the file is project.sqlite). Margins: 2k in run 1 and 2k + 1 in
 * run 2 for the k-th pair (beta 1). */
export async function buildDashboardProject(dir: string): Promise<DashboardProject> {
  const file = path.join(dir, 'project.sqlite');
  const p = openProject(file);
  const servers: LocalVllm[] = [];
  const given = new Map<number, Verdict>();
  const pairIds: number[] = [];

  await importFiles(p, ['apps-mini.jsonl', 'history-mini.jsonl'].map((f) => fixturePath('datasets', f)));
  await cutAllTargets(p, { preset: 'structurecoder' });
  const targets = new Map(
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
    if (s.status !== 'done') throw new Error(`sampling job ${s.jobId}: ${s.status} ${s.message ?? ''}`);
  }
  const sampleRows = p.db.prepare<[], DashboardProject['sampleRows'][number]>('SELECT id, target_id, job_id, model, sample_index FROM samples ORDER BY id').all();
  const records: ExecutionRecord[] = [];
  sampleRows.forEach((s, i) => {
    if (i % 5 === 4) return;
    const v = CYCLE[i % CYCLE.length];
    given.set(s.id, v);
    records.push(execRecord('sample', s.id, targets.get(s.target_id)!.problem, v));
  });
  writeExecutions(p, records);
  // Two flaky samples: a confirmation run that disagrees.
  const flaky = sampleRows.filter((s) => given.get(s.id) === 'wrong_answer').slice(0, 2);
  writeExecutions(p, flaky.map((s) => execRecord('sample', s.id, targets.get(s.target_id)!.problem, 'pass', 1)));
  // References: every solution passes but the first, which gives a wrong answer; each history's
  // versions fail but the last, except in the first history, whose last version fails too.
  const solutions = p.db.prepare<[], { id: number; problem_id: number }>('SELECT id, problem_id FROM solutions ORDER BY id').all();
  writeExecutions(p, solutions.map((s, i) => execRecord('solution', s.id, s.problem_id, i === 0 ? 'wrong_answer' : 'pass')));
  const versions = p.db
    .prepare<[], { id: number; problem_id: number; last: number; history_id: number }>(
      `SELECT v.id, h.problem_id, v.history_id, v.ordinal = (SELECT MAX(ordinal) FROM history_versions x WHERE x.history_id = v.history_id) AS last
       FROM history_versions v JOIN histories h ON h.id = v.history_id ORDER BY v.id`,
    )
    .all();
  const firstHistory = versions[0].history_id;
  writeExecutions(p, versions.map((v) => execRecord('version', v.id, v.problem_id, v.last && v.history_id !== firstHistory ? 'pass' : 'wrong_answer')));

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
  for (const [model, shift] of [['policy-0', 0], ['policy-1', 1]] as const) {
    addScoringRun(p, { policyModel: model, margins: new Map(pairIds.map((id, k) => [id, 2 * k + shift])), createdAt: DAY2 });
  }
  await exportPairs(p, path.join(dir, 'export'), { ...DEFAULT_EXPORT, format: 'trl' });
  return {
    p,
    file,
    sampleRows,
    targets,
    given,
    pairIds,
    async close() {
      for (const s of servers) await s.close();
      p.close();
    },
  };
}
