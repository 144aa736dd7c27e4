// Executions in the project store: which candidates a selection holds, what is already stored for
// each, writing verdicts in transactions, and the summaries `check-refs`, `exec` and `stats` print.
//
// A candidate is a reference solution, a history version or a sample (its target's pre + middle +
// suf). A verdict is keyed by (kind, id, comparator, attempt) and carries the sha256 of the code it
// judged, so a row that no longer matches its candidate's code is stale: it is replaced, never
// counted. Everything here is synchronous SQLite; running programs is server/exec/runPending.ts.
import { createHash } from 'node:crypto';
import { storeUri } from '../import/browse';
import { countReferences, problemsById, referencePage, referencePlaces, type ProblemFacts, type ReferencePlace } from '../import/queries';
import { inChunks } from '../store/inList';
import type { Statement } from 'better-sqlite3';
import type { Project } from '../store/db';
import type { CandidateResult } from './types';
import { ISOLATIONS, REFERENCE_KINDS, VERDICTS, type CandidateKind, type Comparator, type ReferenceKind, type StoredIsolation, type TestResult, type Verdict } from '../protocol';

const STORED_ISOLATIONS: readonly StoredIsolation[] = [...ISOLATIONS, 'bwrap'];

export interface Candidate {
  kind: CandidateKind;
  id: number;
  problemId: number;
  code: string;
}

/** Narrows which candidates of a source a run covers. */
export interface CandidateFilter {
  /** Only candidates of this dataset's problems (see datasetIdOf in server/import/queries.ts). */
  datasetId?: number;
  /** Only the samples of this sample job (other kinds are unaffected). */
  jobId?: number;
}

/** The candidates of one kind, from the stage that stores them: reference solutions and history
 * versions are the import stage's (REFERENCE_SOURCES below); samples are the sampling stage's,
 * which comes after this one and hands its source in (server/sampling/candidates.ts). */
export interface CandidateSource {
  readonly kind: CandidateKind;
  count(p: Project, filter: CandidateFilter): number;
  /** Up to `limit` candidates with id > `after`, in id order (keyset paging: the caller writes
   * between pages, which an open iterator on the same connection would not allow). */
  page(p: Project, filter: CandidateFilter, after: number, limit: number): Candidate[];
}

/** Which candidates a run covers: every source's, narrowed by the filter. */
export interface Selection extends CandidateFilter {
  sources: readonly CandidateSource[];
}

export function codeSha256(code: string): string {
  return createHash('sha256').update(code).digest('hex');
}

function referenceSource(kind: ReferenceKind): CandidateSource {
  return {
    kind,
    count: (p, f) => countReferences(p, kind, f.datasetId),
    page: (p, f, after, limit) => referencePage(p, kind, after, limit, f.datasetId).map((r) => ({ kind, ...r })),
  };
}

/** The programs that came with the datasets, in REFERENCE_KINDS order. */
export const REFERENCE_SOURCES: readonly CandidateSource[] = REFERENCE_KINDS.map(referenceSource);

/** The attempt-0 verdict of each candidate, from the row of `comparator` when there is one, else
 * the newest row; candidates never run are absent. A row whose code no longer matches is still
 * returned here (a view, not a plan: planCandidate decides what to re-run). */
export function latestVerdicts(p: Project, kind: CandidateKind, ids: readonly number[], comparator: Comparator): Map<number, Verdict> {
  const out = new Map<number, Verdict>();
  inChunks(ids, (slice, qs) => {
    const rows = p.db
      .prepare<unknown[], { candidate_id: number; verdict: Verdict }>(
        `SELECT candidate_id, verdict FROM executions
         WHERE candidate_kind = ? AND attempt = 0 AND candidate_id IN (${qs})
         ORDER BY candidate_id, comparator = ? DESC, id DESC`,
      )
      .all(kind, ...slice, comparator);
    for (const r of rows) if (!out.has(r.candidate_id)) out.set(r.candidate_id, r.verdict);
  });
  return out;
}

/** A candidate's first verdict under one comparator, with the code it judged. */
export interface FirstVerdict {
  executionId: number;
  verdict: Verdict;
  codeSha256: string;
}

/** The attempt-0 row of each candidate under `comparator` (candidates never run are absent; the
 * caller compares codeSha256 with the candidate's code to tell a current verdict from a stale one). */
export function firstVerdicts(p: Project, kind: CandidateKind, ids: readonly number[], comparator: Comparator): Map<number, FirstVerdict> {
  const out = new Map<number, FirstVerdict>();
  inChunks(ids, (slice, qs) => {
    const rows = p.db
      .prepare<unknown[], FirstVerdict & { candidateId: number }>(
        `SELECT candidate_id AS candidateId, id AS executionId, verdict, code_sha256 AS codeSha256 FROM executions
         WHERE candidate_kind = ? AND attempt = 0 AND comparator = ? AND candidate_id IN (${qs})`,
      )
      .all(kind, comparator, ...slice);
    for (const { candidateId, ...v } of rows) out.set(candidateId, v);
  });
  return out;
}

/** Which of the candidates are marked flaky under `comparator` (their confirmation runs disagreed). */
export function flakyAmong(p: Project, kind: CandidateKind, ids: readonly number[], comparator: Comparator): Set<number> {
  const out = new Set<number>();
  inChunks(ids, (slice, qs) => {
    const rows = p.db
      .prepare<unknown[], { id: number }>(`SELECT candidate_id AS id FROM flaky_candidates WHERE candidate_kind = ? AND comparator = ? AND candidate_id IN (${qs})`)
      .all(kind, comparator, ...slice);
    for (const r of rows) out.add(r.id);
  });
  return out;
}

/** Whether any candidate has a verdict under `comparator`. */
export function hasVerdicts(p: Project, comparator: Comparator): boolean {
  return p.db.prepare<[string], { one: number }>('SELECT 1 AS one FROM executions WHERE comparator = ? LIMIT 1').get(comparator) !== undefined;
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
  kind: ReferenceKind;
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

/**
 * References that fail their own tests under `comparator`: every failing reference solution, and
 * every failing *final* history version (earlier versions are expected to fail: that is what a
 * history is). Solutions first, then versions; each in dataset name, problem, id order.
 */
export function flaggedReferences(p: Project, sel: Selection, comparator: Comparator): FlaggedReference[] {
  const flagged: FlaggedReference[] = [];
  for (const kind of REFERENCE_KINDS) {
    if (!sel.sources.some((s) => s.kind === kind)) continue;
    const failing = p.db
      .prepare<[string, string], { id: number; verdict: Verdict; tests_run: number; tests_total: number; details: string; code_sha256: string }>(
        `SELECT candidate_id AS id, verdict, tests_run, tests_total, details, code_sha256 FROM executions
         WHERE candidate_kind = ? AND attempt = 0 AND verdict <> 'pass' AND comparator = ?`,
      )
      .all(kind, comparator);
    const ids = failing.map((r) => r.id);
    const places = referencePlaces(p, kind, ids);
    const problems = problemsById(p, [...places.values()].map((r) => r.problemId));
    const flaky = flakyAmong(p, kind, ids, comparator);
    const rows: FlaggedReference[] = [];
    for (const e of failing) {
      const place = places.get(e.id);
      const problem = place && problems.get(place.problemId);
      // Stale verdicts (the code changed since) and gone references are not flags.
      if (!place || !problem || e.code_sha256 !== codeSha256(place.code)) continue;
      if (kind === 'version' && !place.final) continue;
      if (sel.datasetId !== undefined && problem.datasetId !== sel.datasetId) continue;
      rows.push(toFlagged(kind, e, place, problem, flaky.has(e.id)));
    }
    rows.sort((x, y) => (x.dataset < y.dataset ? -1 : x.dataset > y.dataset ? 1 : x.problem_id - y.problem_id || x.id - y.id));
    flagged.push(...rows);
  }
  return flagged;
}

function toFlagged(
  kind: ReferenceKind,
  e: { id: number; verdict: Verdict; tests_run: number; tests_total: number; details: string },
  place: ReferencePlace,
  problem: ProblemFacts,
  flaky: boolean,
): FlaggedReference {
  let details: TestResult[] = [];
  try {
    details = JSON.parse(e.details) as TestResult[];
  } catch {
    // A row written by this module is always JSON; anything else shows without its failure.
  }
  const historyNumber = (place.historyOrdinal ?? 0) + 1;
  const where = kind === 'solution' ? { solution: place.ordinal + 1 } : { history: historyNumber, version: place.ordinal + 1 };
  const uri =
    kind === 'solution'
      ? storeUri(problem.dataset, problem.externalId, { solution: place.ordinal + 1, solutionId: e.id })
      : storeUri(problem.dataset, problem.externalId, { history: historyNumber, version: place.ordinal + 1, versionId: e.id });
  const failure = firstFailure(details);
  return {
    kind,
    id: e.id,
    dataset: problem.dataset,
    problem: problem.externalId,
    problem_id: place.problemId,
    ...where,
    verdict: e.verdict,
    tests_run: e.tests_run,
    tests_total: e.tests_total,
    flaky,
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
