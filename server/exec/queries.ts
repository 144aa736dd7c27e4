// The execution stage's queries for the stages after it and the dashboard. Executions are this
// stage's table (server/store/migrations/002_executions.ts): the others read verdicts through these
// functions and fragments.
import type { Comparator, Verdict } from '../protocol';
import type { Project } from '../store/db';
import { inChunks } from '../store/inList';

// ---- fragments ----------------------------------------------------------------------------------

/** The attempt-0 verdict of the sample whose id is `sampleId` under the comparator `comparator`
 * (both SQL expressions the caller supplies: a column, a `?`), NULL when it was not run. */
export function sampleVerdictSql(sampleId: string, comparator: string): string {
  return `(SELECT e.verdict FROM executions e WHERE e.candidate_kind = 'sample' AND e.candidate_id = ${sampleId} AND e.comparator = ${comparator} AND e.attempt = 0)`;
}

// ---- the dashboard's lists ----------------------------------------------------------------------

export interface ReferenceVerdict {
  id: number;
  verdict: Verdict;
  testsRun: number;
  testsTotal: number;
}

/** Reference solutions whose attempt-0 verdict under `comparator` passes (`pass`) or does not
 * (`fail`): the first `limit` by id, and how many there are. */
export function referencesByVerdict(p: Project, comparator: Comparator, tests: 'pass' | 'fail', limit: number): { total: number; items: ReferenceVerdict[] } {
  const where = `candidate_kind = 'solution' AND comparator = ? AND attempt = 0 AND verdict ${tests === 'pass' ? '=' : '<>'} 'pass'`;
  const total = p.db.prepare<[string], { n: number }>(`SELECT COUNT(*) AS n FROM executions WHERE ${where}`).get(comparator)!.n;
  const items = p.db
    .prepare<[string, number], ReferenceVerdict>(
      `SELECT candidate_id AS id, verdict, tests_run AS testsRun, tests_total AS testsTotal FROM executions WHERE ${where} ORDER BY candidate_id LIMIT ?`,
    )
    .all(comparator, limit);
  return { total, items };
}

/** The attempt-0 verdicts under `comparator` of the reference solutions in `ids` that were run. */
export function referenceVerdicts(p: Project, comparator: Comparator, ids: readonly number[]): Map<number, ReferenceVerdict> {
  const out = new Map<number, ReferenceVerdict>();
  inChunks(ids, (slice, qs) => {
    for (const r of p.db
      .prepare<unknown[], ReferenceVerdict>(
        `SELECT candidate_id AS id, verdict, tests_run AS testsRun, tests_total AS testsTotal FROM executions
         WHERE candidate_kind = 'solution' AND comparator = ? AND attempt = 0 AND candidate_id IN (${qs})`,
      )
      .all(comparator, ...slice))
      out.set(r.id, r);
  });
  return out;
}
