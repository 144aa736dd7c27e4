// Executions in the project store: which candidates a selection holds, what is already stored for
// each, writing verdicts in transactions, and the summaries `check-refs`, `exec` and `stats` print.
//
// A candidate is a reference solution, a history version or a sample (its target's pre + middle +
// suf). A verdict is keyed by (kind, id, comparator, attempt) and carries the sha256 of the code it
// judged, so a row that no longer matches its candidate's code is stale: it is replaced, never
// counted. Everything here is synchronous SQLite; running programs is server/exec/runPending.ts.
import { createHash } from 'node:crypto';
import { storeUri } from '../import/browse';
import { SETUP_AS_BEFORE } from '../import/formats';
import type { Statement } from 'better-sqlite3';
import type { Project } from '../store/db';
import type { CandidateResult, TestSpec } from './types';
import { ISOLATIONS, VERDICTS, type Comparator, type StoredIsolation, type TestResult, type Verdict } from '../protocol';

const STORED_ISOLATIONS: readonly StoredIsolation[] = [...ISOLATIONS, 'bwrap'];

export type CandidateKind = 'solution' | 'version' | 'sample';
export const CANDIDATE_KINDS: readonly CandidateKind[] = ['solution', 'version', 'sample'];
/** What `check-refs` runs: the programs that came with the datasets. */
export const REFERENCE_KINDS: readonly CandidateKind[] = ['solution', 'version'];

export interface Candidate {
  kind: CandidateKind;
  id: number;
  problemId: number;
  code: string;
}

/** Which candidates a run covers. */
export interface Selection {
  kinds: readonly CandidateKind[];
  /** Only candidates of this dataset's problems (datasets.id; see datasetIdOf). */
  datasetId?: number;
  /** Only the samples of this sample job (other kinds are unaffected). */
  jobId?: number;
}

export function codeSha256(code: string): string {
  return createHash('sha256').update(code).digest('hex');
}

// ---- candidates ---------------------------------------------------------------------------

/** Each kind's candidates with their problem: `select` gives id, problem_id and code; `from` is
 * the FROM ... WHERE clause (always with a WHERE, so callers append `AND ...`); `params` fill its
 * placeholders. */
function candidateSql(kind: CandidateKind, sel: Selection): { select: string; from: string; params: number[] } {
  let select: string;
  let from: string;
  let problem: string;
  switch (kind) {
    case 'solution':
      select = 's.id AS id, s.problem_id AS problem_id, s.code AS code';
      from = 'solutions s';
      problem = 's.problem_id';
      break;
    case 'version':
      select = 'v.id AS id, h.problem_id AS problem_id, v.code AS code';
      from = 'history_versions v JOIN histories h ON h.id = v.history_id';
      problem = 'h.problem_id';
      break;
    case 'sample':
      // A target belongs to a solution or to a history version; its problem is theirs.
      select = 'sm.id AS id, COALESCE(ts.problem_id, th.problem_id) AS problem_id, t.pre || sm.middle || t.suf AS code';
      from = `samples sm JOIN targets t ON t.id = sm.target_id
              LEFT JOIN solutions ts ON ts.id = t.solution_id
              LEFT JOIN history_versions tv ON tv.id = t.version_id
              LEFT JOIN histories th ON th.id = tv.history_id`;
      problem = 'COALESCE(ts.problem_id, th.problem_id)';
      break;
  }
  const where = ['1'];
  const params: number[] = [];
  if (sel.datasetId !== undefined) {
    where.push(`${problem} IN (SELECT id FROM problems WHERE dataset_id = ?)`);
    params.push(sel.datasetId);
  }
  if (kind === 'sample' && sel.jobId !== undefined) {
    where.push('sm.job_id = ?');
    params.push(sel.jobId);
  }
  return { select, from: `${from} WHERE ${where.join(' AND ')}`, params };
}

function idColumn(kind: CandidateKind): string {
  return kind === 'solution' ? 's.id' : kind === 'version' ? 'v.id' : 'sm.id';
}

/** The dataset's id, or an Error naming the datasets there are. */
export function datasetIdOf(p: Project, name: string): number {
  const row = p.db.prepare<[string], { id: number }>('SELECT id FROM datasets WHERE name = ?').get(name);
  if (row) return row.id;
  const names = p.db.prepare<[], { name: string }>('SELECT name FROM datasets ORDER BY name').all().map((r) => r.name);
  throw new Error(`no dataset '${name}' in ${p.file} (${names.length ? `there are: ${names.join(', ')}` : 'it holds no datasets'})`);
}

export function countCandidates(p: Project, kind: CandidateKind, sel: Selection): number {
  const q = candidateSql(kind, sel);
  return p.db.prepare<number[], { n: number }>(`SELECT COUNT(*) AS n FROM ${q.from}`).get(...q.params)!.n;
}

/** Up to `limit` candidates with id > `after`, in id order (keyset paging: the caller writes
 * between pages, which an open iterator on the same connection would not allow). */
export function candidatePage(p: Project, kind: CandidateKind, sel: Selection, after: number, limit: number): Candidate[] {
  const q = candidateSql(kind, sel);
  const id = idColumn(kind);
  return p.db
    .prepare<number[], { id: number; problem_id: number; code: string }>(`SELECT ${q.select} FROM ${q.from} AND ${id} > ? ORDER BY ${id} LIMIT ?`)
    .all(...q.params, after, limit)
    .map((r) => ({ kind, id: r.id, problemId: r.problem_id, code: r.code }));
}

/** A problem's tests in ordinal order, as the engine takes them (a setup stored once for a run
 * of tests that share it is given to each of them). */
export function problemTests(p: Project, problemId: number): TestSpec[] {
  const tests = p.db
    .prepare<[number], TestSpec>('SELECT kind, input, expected, fn_name, code, setup FROM tests WHERE problem_id = ? ORDER BY ordinal')
    .all(problemId);
  for (let i = 1; i < tests.length; i++) if (tests[i].setup === SETUP_AS_BEFORE) tests[i].setup = tests[i - 1].setup;
  return tests;
}

/** Bound parameters per `IN (...)` list (SQLite allows 32,766 in one statement). */
const IN_CHUNK = 500;

/** The attempt-0 verdict of each candidate, from the row of `comparator` when there is one, else
 * the newest row; candidates never run are absent. A row whose code no longer matches is still
 * returned here (a view, not a plan: planCandidate decides what to re-run). */
export function latestVerdicts(p: Project, kind: CandidateKind, ids: readonly number[], comparator: Comparator): Map<number, Verdict> {
  const out = new Map<number, Verdict>();
  for (let i = 0; i < ids.length; i += IN_CHUNK) {
    const chunk = ids.slice(i, i + IN_CHUNK);
    const rows = p.db
      .prepare<unknown[], { candidate_id: number; verdict: Verdict }>(
        `SELECT candidate_id, verdict FROM executions
         WHERE candidate_kind = ? AND attempt = 0 AND candidate_id IN (${chunk.map(() => '?').join(',')})
         ORDER BY candidate_id, comparator = ? DESC, id DESC`,
      )
      .all(kind, ...chunk, comparator);
    for (const r of rows) if (!out.has(r.candidate_id)) out.set(r.candidate_id, r.verdict);
  }
  return out;
}

// ---- what is stored -----------------------------------------------------------------------

export interface StoredAttempt {
  attempt: number;
  verdict: Verdict;
  code_sha256: string;
}

/** Asked once per candidate of a run: prepared once per connection. */
const attemptsStatements = new WeakMap<Project['db'], Statement<[string, number, string], StoredAttempt>>();

export function storedAttempts(p: Project, kind: CandidateKind, id: number, comparator: Comparator): StoredAttempt[] {
  let st = attemptsStatements.get(p.db);
  if (!st) {
    st = p.db.prepare<[string, number, string], StoredAttempt>(
      'SELECT attempt, verdict, code_sha256 FROM executions WHERE candidate_kind = ? AND candidate_id = ? AND comparator = ? ORDER BY attempt',
    );
    attemptsStatements.set(p.db, st);
  }
  return st.all(kind, id, comparator);
}

/** What a candidate still needs, given what is stored for it. */
export interface Plan {
  /** Its stored verdict (attempt 0), when there is a current one. */
  first?: Verdict;
  /** Confirmation attempts still to run once `first` is known to be a failure: with `first`
   * known, exactly the missing ones; without, 1..confirm (used only if the new verdict fails). */
  confirmations: number[];
}

/** Pure: the plan for a candidate whose code hashes to `sha`. Rows of other code are stale and
 * count as absent (the writer replaces them). Passing candidates are never re-run. */
export function planCandidate(stored: readonly StoredAttempt[], sha: string, confirm: number): Plan {
  const current = stored.every((r) => r.code_sha256 === sha) ? stored : [];
  const first = current.find((r) => r.attempt === 0)?.verdict;
  const wanted = Array.from({ length: Math.max(0, confirm) }, (_, i) => i + 1);
  if (first === undefined) return { confirmations: wanted };
  if (first === 'pass') return { first, confirmations: [] };
  const have = new Set(current.map((r) => r.attempt));
  return { first, confirmations: wanted.filter((a) => !have.has(a)) };
}

/** Is there nothing left to run for this plan? */
export function planDone(plan: Plan): boolean {
  return plan.first !== undefined && plan.confirmations.length === 0;
}

// ---- writing ------------------------------------------------------------------------------

export interface ExecutionRecord {
  kind: CandidateKind;
  id: number;
  problemId: number;
  attempt: number;
  codeSha256: string;
  result: CandidateResult;
  executedAt: string;
}

/** Passing tests keep ordinal, verdict and duration; a failing one keeps its excerpts (what a
 * person needs to see why), so a project of 100k candidates stays small. */
export function compactDetails(tests: readonly TestResult[]): TestResult[] {
  return tests.map((t) => (t.verdict === 'pass' ? { ordinal: t.ordinal, verdict: t.verdict, durationMs: t.durationMs } : t));
}

export interface WriteOutcome {
  inserted: number;
  /** Rows another run had already stored (same key, same code): kept, this one dropped. */
  duplicates: number;
  /** Candidates newly marked flaky by these rows. */
  flaky: number;
}

/** Writes executions, all in one transaction: a kill mid-way leaves either all of them or none.
 * Stale rows of the same key (other code) go first; a disagreement among a candidate's attempts
 * marks it in flaky_candidates. */
export function writeExecutions(p: Project, records: readonly ExecutionRecord[]): WriteOutcome {
  const { db } = p;
  const dropStale = db.prepare(
    'DELETE FROM executions WHERE candidate_kind = ? AND candidate_id = ? AND comparator = ? AND code_sha256 <> ?',
  );
  const dropFlaky = db.prepare('DELETE FROM flaky_candidates WHERE candidate_kind = ? AND candidate_id = ? AND comparator = ?');
  const insert = db.prepare(
    `INSERT INTO executions (candidate_kind, candidate_id, problem_id, attempt, comparator, verdict, tests_run, tests_total,
                             details, duration_ms, sandbox, code_sha256, executed_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
  );
  const verdictsOf = db.prepare<[string, number, string], { verdict: Verdict }>(
    'SELECT verdict FROM executions WHERE candidate_kind = ? AND candidate_id = ? AND comparator = ? ORDER BY attempt',
  );
  const markFlaky = db.prepare(
    `INSERT INTO flaky_candidates (candidate_kind, candidate_id, comparator, verdicts, marked_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT DO UPDATE SET verdicts = excluded.verdicts, marked_at = excluded.marked_at`,
  );
  const wasFlaky = db.prepare<[string, number, string], { n: number }>(
    'SELECT COUNT(*) AS n FROM flaky_candidates WHERE candidate_kind = ? AND candidate_id = ? AND comparator = ?',
  );
  const outcome: WriteOutcome = { inserted: 0, duplicates: 0, flaky: 0 };
  db.transaction(() => {
    for (const r of records) {
      const c = r.result.comparator;
      if (dropStale.run(r.kind, r.id, c, r.codeSha256).changes > 0) dropFlaky.run(r.kind, r.id, c);
      const ins = insert.run(
        r.kind,
        r.id,
        r.problemId,
        r.attempt,
        c,
        r.result.verdict,
        r.result.tests.length,
        r.result.testsTotal,
        JSON.stringify(compactDetails(r.result.tests)),
        r.result.durationMs,
        JSON.stringify(r.result.sandbox),
        r.codeSha256,
        r.executedAt,
      );
      if (ins.changes === 0) {
        outcome.duplicates++;
        continue;
      }
      outcome.inserted++;
      if (r.attempt === 0) continue;
      const verdicts = verdictsOf.all(r.kind, r.id, c).map((v) => v.verdict);
      if (new Set(verdicts).size > 1) {
        if (wasFlaky.get(r.kind, r.id, c)!.n === 0) outcome.flaky++;
        markFlaky.run(r.kind, r.id, c, JSON.stringify(verdicts), r.executedAt);
      }
    }
  }).immediate();
  return outcome;
}

// ---- summaries ----------------------------------------------------------------------------

export type VerdictCounts = { total: number } & Record<Verdict, number>;

export function emptyCounts(): VerdictCounts {
  const c = { total: 0 } as VerdictCounts;
  for (const v of VERDICTS) c[v] = 0;
  return c;
}

export function tally(c: VerdictCounts, v: Verdict): void {
  c.total++;
  c[v]++;
}

/** How many candidates of the selection are marked flaky under `comparator`. */
export function countFlaky(p: Project, sel: Selection, comparator: Comparator): number {
  let n = 0;
  for (const kind of sel.kinds) {
    const q = candidateSql(kind, sel);
    n += p.db
      .prepare<unknown[], { n: number }>(
        `SELECT COUNT(*) AS n FROM flaky_candidates f WHERE f.candidate_kind = ? AND f.comparator = ?
           AND f.candidate_id IN (SELECT ${idColumn(kind)} FROM ${q.from})`,
      )
      .get(kind, comparator, ...q.params)!.n;
  }
  return n;
}

/** For `pairforge stats`: stored rows, and the verdict (attempt 0) counts per comparator. */
export interface ExecutionStats {
  executions: number;
  verdicts: Partial<Record<Comparator, VerdictCounts>>;
  flaky: number;
  /** Stored rows per isolation mode they were run in (types.ts, StoredIsolation; `unknown` when a
   * row does not say). */
  isolation: Partial<Record<StoredIsolation | 'unknown', number>>;
}

/** How `stats` names a stored isolation mode. */
export function isolationLabel(mode: StoredIsolation | 'unknown'): string {
  if (mode === 'none') return 'none (NOT ISOLATED)';
  if (mode === 'bwrap') return 'bwrap (mode not recorded by an older engine)';
  return mode;
}

export function executionStats(p: Project): ExecutionStats {
  const executions = p.db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM executions').get()!.n;
  const verdicts: Partial<Record<Comparator, VerdictCounts>> = {};
  const rows = p.db
    .prepare<[], { comparator: Comparator; verdict: Verdict; n: number }>(
      'SELECT comparator, verdict, COUNT(*) AS n FROM executions WHERE attempt = 0 GROUP BY comparator, verdict ORDER BY comparator',
    )
    .all();
  for (const r of rows) {
    const c = (verdicts[r.comparator] ??= emptyCounts());
    c.total += r.n;
    c[r.verdict] += r.n;
  }
  const flaky = p.db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM flaky_candidates').get()!.n;
  const isolation: ExecutionStats['isolation'] = {};
  const modes = p.db
    .prepare<[], { mode: string | null; n: number }>(
      `SELECT CASE WHEN json_valid(sandbox) THEN json_extract(sandbox, '$.isolation') END AS mode, COUNT(*) AS n
       FROM executions GROUP BY mode ORDER BY mode`,
    )
    .all();
  for (const r of modes) {
    const mode = r.mode !== null && (STORED_ISOLATIONS as readonly string[]).includes(r.mode) ? (r.mode as StoredIsolation) : 'unknown';
    isolation[mode] = (isolation[mode] ?? 0) + r.n;
  }
  return { executions, verdicts, flaky, isolation };
}

/** The first failing test of an execution, cut short for a summary line. */
export interface FailureExcerpt {
  test: number;
  verdict: Verdict;
  message?: string;
  input?: string;
  expected?: string;
  output?: string;
  stderrTail?: string;
}

const EXCERPT = 300;
const cut = (s: string | undefined) => (s === undefined ? undefined : s.length > EXCERPT ? `${s.slice(0, EXCERPT)}…` : s);

export function firstFailure(details: readonly TestResult[]): FailureExcerpt | undefined {
  const t = details.find((d) => d.verdict !== 'pass');
  if (!t) return undefined;
  const f: FailureExcerpt = { test: t.ordinal, verdict: t.verdict };
  for (const k of ['message', 'input', 'expected', 'output', 'stderrTail'] as const) {
    const v = cut(t[k]);
    if (v !== undefined) f[k] = v;
  }
  return f;
}

/** A reference that fails its own tests. */
export interface FlaggedReference {
  kind: 'solution' | 'version';
  id: number;
  dataset: string;
  problem: string;
  problem_id: number;
  /** 1-based, as the Datasets view shows them: solution N, or history N version K. */
  solution?: number;
  history?: number;
  version?: number;
  verdict: Verdict;
  tests_run: number;
  tests_total: number;
  flaky: boolean;
  uri: string;
  failure?: FailureExcerpt;
}

interface FlaggedRow {
  id: number;
  problem_id: number;
  external_id: string;
  dataset: string;
  ordinal: number;
  h_ordinal: number | null;
  code: string;
  verdict: Verdict;
  tests_run: number;
  tests_total: number;
  details: string;
  code_sha256: string;
  flaky: number;
}

/**
 * References that fail their own tests under `comparator`: every failing reference solution, and
 * every failing *final* history version (earlier versions are expected to fail: that is what a
 * history is). Listed in dataset, problem, id order.
 */
export function flaggedReferences(p: Project, sel: Selection, comparator: Comparator): FlaggedReference[] {
  const flagged: FlaggedReference[] = [];
  const common = `
    e.verdict, e.tests_run, e.tests_total, e.details, e.code_sha256,
    EXISTS (SELECT 1 FROM flaky_candidates f WHERE f.candidate_kind = e.candidate_kind AND f.candidate_id = e.candidate_id AND f.comparator = e.comparator) AS flaky`;
  const filters = (problemCol: string) => {
    const params: (number | string)[] = [comparator];
    let sql = '';
    if (sel.datasetId !== undefined) {
      sql += ` AND ${problemCol} IN (SELECT id FROM problems WHERE dataset_id = ?)`;
      params.push(sel.datasetId);
    }
    return { sql, params };
  };
  if (sel.kinds.includes('solution')) {
    const f = filters('s.problem_id');
    const rows = p.db
      .prepare<unknown[], FlaggedRow>(
        `SELECT s.id, s.problem_id, pr.external_id, d.name AS dataset, s.ordinal, NULL AS h_ordinal, s.code, ${common}
         FROM executions e JOIN solutions s ON e.candidate_kind = 'solution' AND s.id = e.candidate_id
         JOIN problems pr ON pr.id = s.problem_id JOIN datasets d ON d.id = pr.dataset_id
         WHERE e.attempt = 0 AND e.verdict <> 'pass' AND e.comparator = ?${f.sql}
         ORDER BY d.name, pr.id, s.id`,
      )
      .all(...f.params);
    for (const r of rows) if (r.code_sha256 === codeSha256(r.code)) flagged.push(toFlagged('solution', r));
  }
  if (sel.kinds.includes('version')) {
    const f = filters('h.problem_id');
    const rows = p.db
      .prepare<unknown[], FlaggedRow>(
        `SELECT v.id, h.problem_id, pr.external_id, d.name AS dataset, v.ordinal, h.ordinal AS h_ordinal, v.code, ${common}
         FROM executions e JOIN history_versions v ON e.candidate_kind = 'version' AND v.id = e.candidate_id
         JOIN histories h ON h.id = v.history_id
         JOIN problems pr ON pr.id = h.problem_id JOIN datasets d ON d.id = pr.dataset_id
         WHERE e.attempt = 0 AND e.verdict <> 'pass' AND e.comparator = ?${f.sql}
           AND v.ordinal = (SELECT MAX(ordinal) FROM history_versions WHERE history_id = v.history_id)
         ORDER BY d.name, pr.id, v.id`,
      )
      .all(...f.params);
    for (const r of rows) if (r.code_sha256 === codeSha256(r.code)) flagged.push(toFlagged('version', r));
  }
  return flagged;
}

function toFlagged(kind: 'solution' | 'version', r: FlaggedRow): FlaggedReference {
  let details: TestResult[] = [];
  try {
    details = JSON.parse(r.details) as TestResult[];
  } catch {
    // A row written by this module is always JSON; anything else shows without its failure.
  }
  const where =
    kind === 'solution'
      ? { solution: r.ordinal + 1 }
      : { history: (r.h_ordinal ?? 0) + 1, version: r.ordinal + 1 };
  const uri =
    kind === 'solution'
      ? storeUri(r.dataset, r.external_id, { solution: r.ordinal + 1, solutionId: r.id })
      : storeUri(r.dataset, r.external_id, { history: (r.h_ordinal ?? 0) + 1, version: r.ordinal + 1, versionId: r.id });
  const failure = firstFailure(details);
  return {
    kind,
    id: r.id,
    dataset: r.dataset,
    problem: r.external_id,
    problem_id: r.problem_id,
    ...where,
    verdict: r.verdict,
    tests_run: r.tests_run,
    tests_total: r.tests_total,
    flaky: r.flaky === 1,
    uri,
    ...(failure ? { failure } : {}),
  };
}

/** A stored execution, for showing it (the review room's side runs). */
export interface StoredExecution {
  verdict: Verdict;
  testsRun: number;
  testsTotal: number;
  details: TestResult[];
  comparator: Comparator;
  executedAt: string;
}

export function executionById(p: Project, id: number): StoredExecution | undefined {
  const r = p.db
    .prepare<[number], { verdict: Verdict; tests_run: number; tests_total: number; details: string; comparator: Comparator; executed_at: string }>(
      'SELECT verdict, tests_run, tests_total, details, comparator, executed_at FROM executions WHERE id = ?',
    )
    .get(id);
  if (!r) return undefined;
  let details: TestResult[] = [];
  try {
    details = JSON.parse(r.details) as TestResult[];
  } catch {
    // written by this module as JSON; a damaged row shows without its tests
  }
  return { verdict: r.verdict, testsRun: r.tests_run, testsTotal: r.tests_total, details, comparator: r.comparator, executedAt: r.executed_at };
}
