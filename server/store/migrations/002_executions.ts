// Schema version 2: verdicts of the execution engine (pairforge check-refs / exec).
import type { Migration } from '../db';

export const executions: Migration = {
  version: 2,
  name: 'executions',
  tables: { executions: 'exec', flaky_candidates: 'exec' },
  sql: `
    -- One row per run of a candidate program against its problem's tests. A candidate is a
    -- reference solution, a history version or a sample (its target's pre + middle + suf).
    -- attempt 0 is the verdict; --confirm re-runs a failing candidate as attempts 1..N.
    -- Rows are written once (server/exec/store.ts); a row whose code_sha256 no longer matches its
    -- candidate's code is stale and replaced, never trusted.
    CREATE TABLE executions (
      id             INTEGER PRIMARY KEY,
      candidate_kind TEXT NOT NULL CHECK (candidate_kind IN ('solution', 'version', 'sample')),
      candidate_id   INTEGER NOT NULL,
      problem_id     INTEGER NOT NULL REFERENCES problems(id) ON DELETE CASCADE,
      attempt        INTEGER NOT NULL DEFAULT 0 CHECK (attempt >= 0),
      comparator     TEXT NOT NULL CHECK (comparator IN ('strict', 'apps')),
      verdict        TEXT NOT NULL CHECK (verdict IN ('pass', 'wrong_answer', 'runtime_error', 'timeout',
                                                      'memory_limit', 'output_limit', 'compile_error')),
      tests_run      INTEGER NOT NULL,
      tests_total    INTEGER NOT NULL,
      -- JSON array, one object per test that ran (server/exec/types.ts TestResult). Passing tests
      -- keep only ordinal, verdict and duration; failing ones keep their excerpts.
      details        TEXT NOT NULL,
      duration_ms    REAL NOT NULL,
      -- JSON: isolation mode and the limits in force.
      sandbox        TEXT NOT NULL,
      code_sha256    TEXT NOT NULL,
      executed_at    TEXT NOT NULL,
      UNIQUE (candidate_kind, candidate_id, comparator, attempt)
    );
    CREATE INDEX executions_problem ON executions (problem_id);
    -- Verdict counts (pairforge stats) and "every failing candidate" (--confirm, pairing).
    CREATE INDEX executions_verdict ON executions (attempt, verdict);

    -- Candidates whose --confirm re-runs disagreed with their first verdict; pairing skips them.
    -- verdicts: JSON list, one per attempt in attempt order.
    CREATE TABLE flaky_candidates (
      candidate_kind TEXT NOT NULL CHECK (candidate_kind IN ('solution', 'version', 'sample')),
      candidate_id   INTEGER NOT NULL,
      comparator     TEXT NOT NULL CHECK (comparator IN ('strict', 'apps')),
      verdicts       TEXT NOT NULL,
      marked_at      TEXT NOT NULL,
      PRIMARY KEY (candidate_kind, candidate_id, comparator)
    );

    -- candidate_id cannot carry a foreign key (it points into one of three tables), so the
    -- verdicts of a deleted solution or version go with it here. (Samples are deleted only with
    -- their job or target; their rows are found stale by code_sha256 if an id is ever reused.)
    CREATE TRIGGER executions_solution_gone AFTER DELETE ON solutions BEGIN
      DELETE FROM executions WHERE candidate_kind = 'solution' AND candidate_id = OLD.id;
      DELETE FROM flaky_candidates WHERE candidate_kind = 'solution' AND candidate_id = OLD.id;
    END;
    CREATE TRIGGER executions_version_gone AFTER DELETE ON history_versions BEGIN
      DELETE FROM executions WHERE candidate_kind = 'version' AND candidate_id = OLD.id;
      DELETE FROM flaky_candidates WHERE candidate_kind = 'version' AND candidate_id = OLD.id;
    END;
  `,
};
