// A finished sampling job written in one go, with samples drawn elsewhere: for projects made in
// bulk (the dashboard benchmark's 500k samples, which no server could serve in minutes). Sampling
// itself goes through runSampleJob (server/sampling/job.ts), which writes the same rows.
import type { Project } from '../store/db';

export interface BulkJob {
  family: string;
  preset: string;
  endpoint: string;
  model: string;
  /** The sampling values, as a job stores them. */
  params: Record<string, unknown>;
  createdAt: string;
}

export interface BulkSample {
  targetId: number;
  index: number;
  middle: string;
  finishReason?: string;
}

/** Creates a done job over the samples' targets and stores the samples; returns the job id. */
export function writeSampleJob(p: Project, job: BulkJob, samples: readonly BulkSample[]): number {
  return p.db.transaction(() => {
    const params = JSON.stringify(job.params);
    const id = Number(
      p.db
        .prepare(
          `INSERT INTO sample_jobs (preset, selection, family, params, endpoints, status, created_at, finished_at, spec_key)
           VALUES (?, ?, ?, ?, ?, 'done', ?, ?, NULL)`,
        )
        .run(job.preset, JSON.stringify({ preset: job.preset }), job.family, params, JSON.stringify([{ url: job.endpoint, model: job.model }]), job.createdAt, job.createdAt).lastInsertRowid,
    );
    p.db.prepare('UPDATE sample_jobs SET seed = ? WHERE id = ?').run(id, id);
    const target = p.db.prepare('INSERT OR IGNORE INTO sample_job_targets (job_id, target_id) VALUES (?, ?)');
    const insert = p.db.prepare(
      `INSERT INTO samples (job_id, target_id, sample_index, raw, middle, finish_reason, endpoint, model, params, seed, latency_ms, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, 0, ?) ON CONFLICT (job_id, target_id, sample_index) DO NOTHING`,
    );
    for (const s of samples) {
      target.run(id, s.targetId);
      insert.run(id, s.targetId, s.index, s.middle, s.middle, s.finishReason ?? 'stop', job.endpoint, job.model, params, job.createdAt);
    }
    return id;
  }).immediate();
}
