// Schema version 3: FIM sampling jobs and their samples (pairforge sample).
import type { Migration } from '../db';

export const sampling: Migration = {
  version: 3,
  name: 'sample jobs, samples',
  tables: { sample_jobs: 'sampling', sample_job_targets: 'sampling', samples: 'sampling', sample_skips: 'sampling' },
  sql: `
    -- A job: a selection of targets, a prompt family, sampling values and endpoints. API keys are
    -- never stored.
    CREATE TABLE sample_jobs (
      id          INTEGER PRIMARY KEY,
      preset      TEXT NOT NULL,
      selection   TEXT NOT NULL,
      family      TEXT NOT NULL,
      params      TEXT NOT NULL,
      endpoints   TEXT NOT NULL,
      status      TEXT NOT NULL CHECK (status IN ('running', 'done', 'stopped', 'failed')),
      message     TEXT,
      created_at  TEXT NOT NULL,
      finished_at TEXT,
      -- What makes two jobs "the same command" (selection, family, tokens, sampling values, seed,
      -- models; not URLs or concurrency): \`pairforge sample\` run again resumes an unfinished job
      -- with the same key instead of starting over.
      spec_key    TEXT,
      -- The base of every sample's seed (the given --seed, else the job id).
      seed        INTEGER
    );
    CREATE INDEX sample_jobs_spec ON sample_jobs (spec_key);

    -- The targets a job samples, fixed when the job is created (extended on resume only for an
    -- open-ended selection), so a resumed job knows exactly which (target, index) are missing.
    CREATE TABLE sample_job_targets (
      job_id    INTEGER NOT NULL REFERENCES sample_jobs(id) ON DELETE CASCADE,
      target_id INTEGER NOT NULL REFERENCES targets(id) ON DELETE CASCADE,
      PRIMARY KEY (job_id, target_id)
    ) WITHOUT ROWID;

    -- One row per (job, target, sample index), written once: a resumed job produces only the
    -- missing ones. middle is the post-processed middle (it starts with the target's start
    -- keyword), so the candidate program is targets.pre || middle || targets.suf.
    CREATE TABLE samples (
      id                INTEGER PRIMARY KEY,
      job_id            INTEGER NOT NULL REFERENCES sample_jobs(id) ON DELETE CASCADE,
      target_id         INTEGER NOT NULL REFERENCES targets(id) ON DELETE CASCADE,
      sample_index      INTEGER NOT NULL,
      raw               TEXT NOT NULL,
      middle            TEXT NOT NULL,
      finish_reason     TEXT,
      endpoint          TEXT NOT NULL,
      model             TEXT NOT NULL,
      params            TEXT NOT NULL,
      seed              INTEGER,
      prompt_tokens     INTEGER,
      completion_tokens INTEGER,
      latency_ms        REAL NOT NULL,
      created_at        TEXT NOT NULL,
      -- vLLM's stop_reason (the stop string or token id that ended the text, null for EOS/length).
      stop_reason       TEXT,
      -- Requests it took (1 = no retry).
      attempts          INTEGER NOT NULL DEFAULT 1,
      UNIQUE (job_id, target_id, sample_index)
    );
    CREATE INDEX samples_target ON samples (target_id);

    -- Targets a job will not sample (e.g. the prompt exceeds the context length), with why.
    CREATE TABLE sample_skips (
      job_id     INTEGER NOT NULL REFERENCES sample_jobs(id) ON DELETE CASCADE,
      target_id  INTEGER NOT NULL REFERENCES targets(id) ON DELETE CASCADE,
      reason     TEXT NOT NULL,
      created_at TEXT NOT NULL,
      PRIMARY KEY (job_id, target_id)
    );
  `,
};
