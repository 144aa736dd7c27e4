// The sampling stage's queries for the stages after it. Sample jobs and samples are this stage's
// tables (server/store/migrations/003_sampling.ts lists them as such): pairing and export read them
// through these functions.
import type { Project } from '../store/db';

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
