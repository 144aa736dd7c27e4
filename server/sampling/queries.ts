// The sampling stage's queries for the stages after it. Sample jobs and samples are this stage's
// tables (server/store/migrations/003_sampling.ts lists them as such): pairing and export read them
// through these functions.
import { sampleVerdictSql } from '../exec/queries';
import type { Comparator, Verdict } from '../protocol';
import type { Project } from '../store/db';
import { targetIdsSql } from '../targets/queries';

/** Stored samples, every job. */
export function sampleCount(p: Project): number {
  return p.db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM samples').get()!.n;
}

/** The ids of the targets that have samples, in id order. */
export function sampledTargetIds(p: Project): number[] {
  return p.db
    .prepare<[], { target_id: number }>('SELECT DISTINCT target_id FROM samples ORDER BY target_id')
    .all()
    .map((r) => r.target_id);
}

/** A sample as pairing sees it. */
export interface DrawnSample {
  id: number;
  targetId: number;
  jobId: number;
  middle: string;
  endpoint: string;
  model: string;
}

/** The samples of the targets with ids in [lo, hi], by target, job, then draw. */
export function samplesOfTargetsBetween(p: Project, lo: number, hi: number): DrawnSample[] {
  return p.db
    .prepare<[number, number], DrawnSample>(
      `SELECT id, target_id AS targetId, job_id AS jobId, middle, endpoint, model FROM samples
       WHERE target_id BETWEEN ? AND ? ORDER BY target_id, job_id, sample_index, id`,
    )
    .all(lo, hi);
}

/** What a sample job was asked for (the export manifest records it). */
export interface SampleJobFacts {
  id: number;
  preset: string;
  family: string;
  /** JSON, as stored. */
  params: string;
  endpoints: string;
}

export function sampleJob(p: Project, id: number): SampleJobFacts | undefined {
  return p.db.prepare<[number], SampleJobFacts>('SELECT id, preset, family, params, endpoints FROM sample_jobs WHERE id = ?').get(id);
}

// ---- fragments ----------------------------------------------------------------------------------
// For a later stage's own statement that must filter on a sample's facts: an SQL expression over
// expressions the caller supplies (columns, `?`); it binds no parameters itself.

/** Whether the sample whose id is `sampleId` was drawn by the job `jobId` from the model `model`. */
export function sampleOfJobSql(sampleId: string, jobId: string, model: string): string {
  return `EXISTS (SELECT 1 FROM samples s WHERE s.id = ${sampleId} AND s.job_id = ${jobId} AND s.model = ${model})`;
}

// ---- the dashboard's lists ----------------------------------------------------------------------

/** The targets with exactly `samples` samples (every job; 0: not sampled yet): the first `limit`
 * ids, and how many there are. */
export function targetsWithSamples(p: Project, samples: number, limit: number): { total: number; ids: number[] } {
  const from =
    samples === 0
      ? `SELECT t.id FROM (${targetIdsSql()}) t WHERE NOT EXISTS (SELECT 1 FROM samples s WHERE s.target_id = t.id)`
      : 'SELECT target_id AS id FROM samples GROUP BY target_id HAVING COUNT(*) = ?';
  const args = samples === 0 ? [] : [samples];
  const total = p.db.prepare<number[], { n: number }>(`SELECT COUNT(*) AS n FROM (${from})`).get(...args)!.n;
  const ids = p.db
    .prepare<number[], { id: number }>(`SELECT id FROM (${from}) ORDER BY id LIMIT ?`)
    .all(...args, limit)
    .map((r) => r.id);
  return { total, ids };
}

/** Which samples to list: of one job and model when given; with one attempt-0 verdict under the
 * comparator, with none ('not run'), or with any ('run'). */
export interface SampleListFilter {
  jobId?: number;
  model?: string;
  verdict?: Verdict | 'not run' | 'run';
}

/** A sample as the dashboard lists it: `ordinal` is the number the sample is shown with (its place
 * among its target's samples, counted as sampleRefs does), `verdict` null when not run. */
export interface SampleListItem {
  id: number;
  targetId: number;
  jobId: number;
  model: string;
  ordinal: number;
  verdict: Verdict | null;
}

/** The first `limit` samples by id matching `f`, and how many there are. */
export function sampleList(p: Project, f: SampleListFilter, comparator: Comparator, limit: number): { total: number; items: SampleListItem[] } {
  const verdict = sampleVerdictSql('s.id', '@comparator');
  const where: string[] = [];
  if (f.jobId !== undefined) where.push('s.job_id = @jobId');
  if (f.model !== undefined) where.push('s.model = @model');
  if (f.verdict === 'not run') where.push(`${verdict} IS NULL`);
  else if (f.verdict === 'run') where.push(`${verdict} IS NOT NULL`);
  else if (f.verdict !== undefined) where.push(`${verdict} = @verdict`);
  const params = { comparator, limit, ...(f.jobId !== undefined ? { jobId: f.jobId } : {}), ...(f.model !== undefined ? { model: f.model } : {}), ...(f.verdict !== undefined && f.verdict !== 'run' && f.verdict !== 'not run' ? { verdict: f.verdict } : {}) };
  const cond = where.length ? `WHERE ${where.join(' AND ')}` : '';
  // better-sqlite3 rejects named parameters a statement does not use: bind only those it names.
  const bind = (text: string) => Object.fromEntries(Object.entries(params).filter(([k]) => text.includes(`@${k}`)));
  const countSql = `SELECT COUNT(*) AS n FROM samples s ${cond}`;
  const total = p.db.prepare<[Record<string, unknown>], { n: number }>(countSql).get(bind(countSql))!.n;
  const listSql = `SELECT s.id, s.target_id AS targetId, s.job_id AS jobId, s.model,
            (SELECT COUNT(*) FROM samples o WHERE o.target_id = s.target_id AND (o.job_id, o.sample_index, o.id) <= (s.job_id, s.sample_index, s.id)) AS ordinal,
            ${verdict} AS verdict
       FROM samples s ${cond} ORDER BY s.id LIMIT @limit`;
  const items = p.db.prepare<[Record<string, unknown>], SampleListItem>(listSql).all(bind(listSql));
  return { total, items };
}
