// Samples as candidates of the execution stage: a sample's program is its target's pre + middle +
// suf, run against its target's problem. The execution stage comes before this one and cannot
// read samples itself, so its runs take this source (server/exec/store.ts, CandidateSource).
import type { Candidate, CandidateFilter, CandidateSource } from '../exec/store';
import { problemsById } from '../import/queries';
import type { Project } from '../store/db';
import { targetsByIds } from '../targets/queries';

interface SampleRef {
  id: number;
  target_id: number;
  middle: string;
}

function rawPage(p: Project, jobId: number | undefined, after: number, limit: number): SampleRef[] {
  return jobId === undefined
    ? p.db.prepare<[number, number], SampleRef>('SELECT id, target_id, middle FROM samples WHERE id > ? ORDER BY id LIMIT ?').all(after, limit)
    : p.db.prepare<[number, number, number], SampleRef>('SELECT id, target_id, middle FROM samples WHERE job_id = ? AND id > ? ORDER BY id LIMIT ?').all(jobId, after, limit);
}

/** The samples of `rows` as candidates; a sample whose target (or its problem) is gone, or whose
 * problem is not of the filter's dataset, is left out. */
function asCandidates(p: Project, rows: readonly SampleRef[], filter: CandidateFilter): Candidate[] {
  const targets = targetsByIds(p, rows.map((r) => r.target_id));
  const datasets =
    filter.datasetId === undefined ? undefined : problemsById(p, [...targets.values()].map((t) => t.problem_id));
  const out: Candidate[] = [];
  for (const r of rows) {
    const t = targets.get(r.target_id);
    if (!t || t.problem_id === null) continue;
    if (datasets && datasets.get(t.problem_id)?.datasetId !== filter.datasetId) continue;
    out.push({ kind: 'sample', id: r.id, problemId: t.problem_id, code: t.pre + r.middle + t.suf });
  }
  return out;
}

/** Samples read per step when counting a dataset's samples. */
const COUNT_PAGE = 2000;

export const SAMPLE_CANDIDATES: CandidateSource = {
  kind: 'sample',
  count(p, filter) {
    if (filter.datasetId === undefined) {
      return filter.jobId === undefined
        ? p.db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM samples').get()!.n
        : p.db.prepare<[number], { n: number }>('SELECT COUNT(*) AS n FROM samples WHERE job_id = ?').get(filter.jobId)!.n;
    }
    // Samples know their problem only through their target: count by paging.
    let n = 0;
    for (let after = 0; ; ) {
      const rows = rawPage(p, filter.jobId, after, COUNT_PAGE);
      if (rows.length === 0) return n;
      after = rows[rows.length - 1].id;
      n += asCandidates(p, rows, filter).length;
    }
  },
  page(p, filter, after, limit) {
    // A page of the filter's samples: read raw pages until `limit` pass the dataset filter.
    const out: Candidate[] = [];
    while (out.length < limit) {
      const rows = rawPage(p, filter.jobId, after, limit - out.length);
      if (rows.length === 0) break;
      after = rows[rows.length - 1].id;
      out.push(...asCandidates(p, rows, filter));
    }
    return out;
  },
};
