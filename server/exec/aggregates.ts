// The execution stage's figures for the dashboard (docs/dashboard.md): how many reference
// solutions pass their own tests, which references fail them, and the flaky candidates. Counts
// read the executions and flaky_candidates tables only; the history's final versions come from
// the import stage as a SQL fragment. Read-only.
import { finalVersionIdsSql } from '../import/queries';
import type { Comparator, Verdict } from '../protocol';
import type { Project } from '../store/db';

/** Reference solutions with an attempt-0 verdict under `comparator`, and how many of them pass. */
export function referenceCounts(p: Project, comparator: Comparator): { checked: number; passing: number } {
  const r = p.db
    .prepare<[string], { checked: number; passing: number | null }>(
      `SELECT COUNT(*) AS checked, SUM(verdict = 'pass') AS passing FROM executions
       WHERE candidate_kind = 'solution' AND comparator = ? AND attempt = 0`,
    )
    .get(comparator)!;
  return { checked: r.checked, passing: r.passing ?? 0 };
}

export interface FailingReference {
  kind: 'solution' | 'version';
  id: number;
  verdict: Verdict;
  testsRun: number;
  testsTotal: number;
}

/** Reference solutions and final history versions whose attempt-0 verdict under `comparator` is
 * not a pass (earlier history versions are expected to fail): the first `limit` by id, and how
 * many there are. */
export function failingReferences(p: Project, comparator: Comparator, limit: number): { total: number; items: FailingReference[] } {
  // One part per kind, each a range of the (candidate_kind, comparator, attempt, verdict) index.
  const failing = "e.comparator = ? AND e.attempt = 0 AND e.verdict <> 'pass'";
  const parts = `SELECT e.candidate_kind AS kind, e.candidate_id AS id, e.verdict, e.tests_run, e.tests_total FROM executions e
      WHERE e.candidate_kind = 'solution' AND ${failing}
    UNION ALL
    SELECT e.candidate_kind, e.candidate_id, e.verdict, e.tests_run, e.tests_total FROM executions e
      WHERE e.candidate_kind = 'version' AND ${failing} AND e.candidate_id IN (${finalVersionIdsSql()})`;
  const total = p.db.prepare<[string, string], { n: number }>(`SELECT COUNT(*) AS n FROM (${parts})`).get(comparator, comparator)!.n;
  const items = p.db
    .prepare<[string, string, number], { kind: 'solution' | 'version'; id: number; verdict: Verdict; tests_run: number; tests_total: number }>(
      `SELECT * FROM (${parts}) ORDER BY kind, id LIMIT ?`,
    )
    .all(comparator, comparator, limit)
    .map((r) => ({ kind: r.kind, id: r.id, verdict: r.verdict, testsRun: r.tests_run, testsTotal: r.tests_total }));
  return { total, items };
}

export interface FlakyCandidate {
  kind: 'solution' | 'version' | 'sample';
  id: number;
  verdicts: Verdict[];
}

/** Candidates marked flaky under `comparator`, newest first: the first `limit`, and how many. */
export function flakyCandidates(p: Project, comparator: Comparator, limit: number): { total: number; items: FlakyCandidate[] } {
  const total = p.db.prepare<[string], { n: number }>('SELECT COUNT(*) AS n FROM flaky_candidates WHERE comparator = ?').get(comparator)!.n;
  const items = p.db
    .prepare<[string, number], { kind: FlakyCandidate['kind']; id: number; verdicts: string }>(
      'SELECT candidate_kind AS kind, candidate_id AS id, verdicts FROM flaky_candidates WHERE comparator = ? ORDER BY marked_at DESC, candidate_kind, candidate_id LIMIT ?',
    )
    .all(comparator, limit)
    .map((r) => {
      let verdicts: Verdict[] = [];
      try {
        verdicts = JSON.parse(r.verdicts) as Verdict[];
      } catch {
        // written by server/exec/store.ts as JSON; a damaged row lists no verdicts
      }
      return { kind: r.kind, id: r.id, verdicts };
    });
  return { total, items };
}
