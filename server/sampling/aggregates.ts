// The sampling stage's figures for the dashboard (docs/dashboard.md): samples and their verdicts
// per job, model, target block kind and depth, read from the running counts the schema keeps
// (sample_counts, sample_verdict_counts: migration 007, kept exact by triggers), how many samples
// each target has, and the jobs' labels. Read-only.
import { VERDICTS, type Comparator, type SampleGroupView, type SampleJobView, type Verdict } from '../protocol';
import type { Project } from '../store/db';

/** Samples per (job, model, kind, depth) with their attempt-0 verdicts under `comparator`. */
export function sampleGroups(p: Project, comparator: Comparator): SampleGroupView[] {
  const groups = new Map<string, SampleGroupView>();
  const key = (r: { job_id: number; model: string; kind: string; depth: number }) => JSON.stringify([r.job_id, r.model, r.kind, r.depth]);
  for (const r of p.db
    .prepare<[], { job_id: number; model: string; kind: string; depth: number; samples: number }>(
      'SELECT job_id, model, kind, depth, samples FROM sample_counts WHERE samples > 0 ORDER BY job_id, model, kind, depth',
    )
    .all()) {
    groups.set(key(r), { jobId: r.job_id, model: r.model, kind: r.kind, depth: r.depth, samples: r.samples, verdicts: {} });
  }
  for (const r of p.db
    .prepare<[string], { job_id: number; model: string; kind: string; depth: number; verdict: Verdict; n: number }>(
      'SELECT job_id, model, kind, depth, verdict, n FROM sample_verdict_counts WHERE comparator = ? AND n > 0',
    )
    .all(comparator)) {
    const g = groups.get(key(r));
    // A verdict of a sample is counted with its sample, so its group exists.
    if (g && (VERDICTS as readonly string[]).includes(r.verdict)) g.verdicts[r.verdict] = r.n;
  }
  return [...groups.values()];
}

/** How many targets have exactly N samples (all jobs), N ascending; targets without samples are
 * `targets` minus those counted here. */
export function samplesPerTarget(p: Project): { samples: number; targets: number }[] {
  return p.db
    .prepare<[], { samples: number; targets: number }>(
      'SELECT n AS samples, COUNT(*) AS targets FROM (SELECT COUNT(*) AS n FROM samples GROUP BY target_id) GROUP BY n ORDER BY n',
    )
    .all();
}

/** Every sampling job, oldest first. */
export function sampleJobs(p: Project): SampleJobView[] {
  return p.db
    .prepare<[], SampleJobView>('SELECT id, family, status, created_at AS createdAt FROM sample_jobs ORDER BY id')
    .all();
}

/** Samples by id: the target, the job, and the number the sample is shown with (its ordinal among
 * the target's samples, counted in samplesOfTarget's order) (labels of flaky samples). */
export function sampleRefs(p: Project, ids: readonly number[]): Map<number, { targetId: number; ordinal: number; jobId: number }> {
  const out = new Map<number, { targetId: number; ordinal: number; jobId: number }>();
  const stmt = p.db.prepare<[number], { target_id: number; ordinal: number; job_id: number }>(
    `SELECT s.target_id, s.job_id,
            (SELECT COUNT(*) FROM samples o WHERE o.target_id = s.target_id AND (o.job_id, o.sample_index, o.id) <= (s.job_id, s.sample_index, s.id)) AS ordinal
       FROM samples s WHERE s.id = ?`,
  );
  for (const id of new Set(ids)) {
    const r = stmt.get(id);
    if (r) out.set(id, { targetId: r.target_id, ordinal: r.ordinal, jobId: r.job_id });
  }
  return out;
}
