// Schema version 7: what the dashboard and `pairforge report` read (docs/dashboard.md), so a
// project of 500k samples and 100k pairs is summed up in well under a second:
//  - the export stage's record of every export written (which pairs went into it);
//  - the sampling stage's running counts of samples and of their verdicts per sampling job, model,
//    target block kind and depth, kept by triggers (a GROUP BY over 500k samples joined with their
//    verdicts and targets takes seconds; these tables hold a few hundred rows);
//  - covering indexes of the execution stage (verdicts per candidate kind) and of the pairs stage
//    (counts by kind, block kind, depth, status and flags; review decisions per day).
import type { Migration } from '../db';

export const dashboard: Migration = {
  version: 7,
  name: 'exports, sample verdict counts, pair group index',
  tables: { exports: 'export', export_pairs: 'export', sample_counts: 'sampling', sample_verdict_counts: 'sampling' },
  sql: `
    -- ---- export stage: one row per export written (server/export/export.ts), with its pairs.
    CREATE TABLE exports (
      id              INTEGER PRIMARY KEY,
      -- The folder written, absolute, and the data format.
      dir             TEXT NOT NULL,
      format          TEXT NOT NULL,
      -- JSON: the export options (curriculum, seeds, family, ...), as in the manifest.
      options         TEXT NOT NULL,
      pairs           INTEGER NOT NULL,
      records         INTEGER NOT NULL,
      manifest_sha256 TEXT NOT NULL,
      created_at      TEXT NOT NULL
    );
    CREATE TABLE export_pairs (
      export_id INTEGER NOT NULL REFERENCES exports(id) ON DELETE CASCADE,
      pair_id   INTEGER NOT NULL REFERENCES pairs(id) ON DELETE CASCADE,
      PRIMARY KEY (export_id, pair_id)
    ) WITHOUT ROWID;
    CREATE INDEX export_pairs_pair ON export_pairs (pair_id);

    -- ---- sampling stage: samples per (job, model, target kind, depth), and their attempt-0
    -- verdicts per comparator. Kept exact by the triggers below on every write path: a sample is
    -- written once and deleted only with its job or its target; an execution is written once and
    -- deleted when stale (server/exec/store.ts). A row whose count fell to 0 stays (readers skip it).
    CREATE TABLE sample_counts (
      job_id  INTEGER NOT NULL,
      model   TEXT NOT NULL,
      kind    TEXT NOT NULL,
      depth   INTEGER NOT NULL,
      samples INTEGER NOT NULL,
      PRIMARY KEY (job_id, model, kind, depth)
    ) WITHOUT ROWID;
    CREATE TABLE sample_verdict_counts (
      job_id     INTEGER NOT NULL,
      model      TEXT NOT NULL,
      kind       TEXT NOT NULL,
      depth      INTEGER NOT NULL,
      comparator TEXT NOT NULL,
      verdict    TEXT NOT NULL,
      n          INTEGER NOT NULL,
      PRIMARY KEY (job_id, model, kind, depth, comparator, verdict)
    ) WITHOUT ROWID;

    INSERT INTO sample_counts (job_id, model, kind, depth, samples)
      SELECT s.job_id, s.model, t.kind, t.depth, COUNT(*) FROM samples s JOIN targets t ON t.id = s.target_id
      GROUP BY s.job_id, s.model, t.kind, t.depth;
    INSERT INTO sample_verdict_counts (job_id, model, kind, depth, comparator, verdict, n)
      SELECT s.job_id, s.model, t.kind, t.depth, e.comparator, e.verdict, COUNT(*)
      FROM executions e JOIN samples s ON s.id = e.candidate_id JOIN targets t ON t.id = s.target_id
      WHERE e.candidate_kind = 'sample' AND e.attempt = 0
      GROUP BY s.job_id, s.model, t.kind, t.depth, e.comparator, e.verdict;

    CREATE TRIGGER sample_counts_insert AFTER INSERT ON samples BEGIN
      INSERT INTO sample_counts (job_id, model, kind, depth, samples)
        SELECT NEW.job_id, NEW.model, t.kind, t.depth, 1 FROM targets t WHERE t.id = NEW.target_id
        ON CONFLICT DO UPDATE SET samples = samples + 1;
    END;
    -- A target's samples go after the target row (foreign-key cascades run once the parent row is
    -- gone), so the target's own trigger subtracts them first and this one then finds no target.
    CREATE TRIGGER sample_counts_delete AFTER DELETE ON samples BEGIN
      UPDATE sample_counts SET samples = samples - 1
        WHERE (job_id, model, kind, depth) = (SELECT OLD.job_id, OLD.model, t.kind, t.depth FROM targets t WHERE t.id = OLD.target_id);
      UPDATE sample_verdict_counts SET n = n - (
          SELECT COUNT(*) FROM executions e
          WHERE e.candidate_kind = 'sample' AND e.candidate_id = OLD.id AND e.attempt = 0
            AND e.comparator = sample_verdict_counts.comparator AND e.verdict = sample_verdict_counts.verdict)
        WHERE (job_id, model, kind, depth) = (SELECT OLD.job_id, OLD.model, t.kind, t.depth FROM targets t WHERE t.id = OLD.target_id);
    END;
    CREATE TRIGGER sample_counts_target_gone BEFORE DELETE ON targets BEGIN
      UPDATE sample_counts SET samples = samples - (
          SELECT COUNT(*) FROM samples s WHERE s.target_id = OLD.id AND s.job_id = sample_counts.job_id AND s.model = sample_counts.model)
        WHERE kind = OLD.kind AND depth = OLD.depth;
      UPDATE sample_verdict_counts SET n = n - (
          SELECT COUNT(*) FROM samples s JOIN executions e
            ON e.candidate_kind = 'sample' AND e.candidate_id = s.id AND e.attempt = 0 AND e.comparator = sample_verdict_counts.comparator
          WHERE s.target_id = OLD.id AND s.job_id = sample_verdict_counts.job_id AND s.model = sample_verdict_counts.model
            AND e.verdict = sample_verdict_counts.verdict)
        WHERE kind = OLD.kind AND depth = OLD.depth;
    END;
    CREATE TRIGGER sample_verdict_counts_insert AFTER INSERT ON executions
      WHEN NEW.candidate_kind = 'sample' AND NEW.attempt = 0 BEGIN
      INSERT INTO sample_verdict_counts (job_id, model, kind, depth, comparator, verdict, n)
        SELECT s.job_id, s.model, t.kind, t.depth, NEW.comparator, NEW.verdict, 1
        FROM samples s JOIN targets t ON t.id = s.target_id WHERE s.id = NEW.candidate_id
        ON CONFLICT DO UPDATE SET n = n + 1;
    END;
    -- An execution of a sample already deleted was subtracted with the sample: it matches no row.
    CREATE TRIGGER sample_verdict_counts_delete AFTER DELETE ON executions
      WHEN OLD.candidate_kind = 'sample' AND OLD.attempt = 0 BEGIN
      UPDATE sample_verdict_counts SET n = n - 1
        WHERE (job_id, model, kind, depth) = (SELECT s.job_id, s.model, t.kind, t.depth FROM samples s JOIN targets t ON t.id = s.target_id WHERE s.id = OLD.candidate_id)
          AND comparator = OLD.comparator AND verdict = OLD.verdict;
    END;

    -- ---- execution stage: the references' verdicts (and the failing ones) without reading the
    -- 500k rows of the samples' verdicts.
    CREATE INDEX executions_kind_verdict ON executions (candidate_kind, comparator, attempt, verdict);

    -- ---- pairs stage: counts by kind, block kind, depth, status and flags read the index alone
    -- (it replaces pairs_kind, its prefix, which the review queue's filters keep using).
    DROP INDEX pairs_kind;
    CREATE INDEX pairs_groups ON pairs (kind, block_kind, depth, status, flags);
    -- The review's decisions per day and status, read from the index alone.
    CREATE INDEX pair_reviews_days ON pair_reviews (undone_at, action, at, new_status);
  `,
};
