// Schema version 2: verdicts of the execution engine (issue 3: pairforge check-refs / exec).
import type { Migration } from '../db';

export const executions: Migration = {
  version: 2,
  name: 'executions',
  sql: `
    -- One row per run of a candidate program against its problem's tests. A candidate is a
    -- reference solution, a history version or a sample (its target's pre + middle + suf).
    -- attempt 0 is the verdict; --confirm re-runs a failing candidate as attempts 1..N.
    CREATE TABLE executions (
      id             INTEGER PRIMARY KEY,
      candidate_kind TEXT NOT NULL CHECK (candidate_kind IN ('solution', 'version', 'sample')),
      candidate_id   INTEGER NOT NULL,
      problem_id     INTEGER NOT NULL REFERENCES problems(id) ON DELETE CASCADE,
      attempt        INTEGER NOT NULL DEFAULT 0,
      comparator     TEXT NOT NULL CHECK (comparator IN ('strict', 'apps')),
      verdict        TEXT NOT NULL CHECK (verdict IN ('pass', 'wrong_answer', 'runtime_error', 'timeout',
                                                      'memory_limit', 'output_limit', 'compile_error')),
      tests_run      INTEGER NOT NULL,
      tests_total    INTEGER NOT NULL,
      -- JSON array, one object per test that ran (server/exec/types.ts TestResult).
      details        TEXT NOT NULL,
      duration_ms    REAL NOT NULL,
      -- JSON: isolation mode and the limits in force.
      sandbox        TEXT NOT NULL,
      code_sha256    TEXT NOT NULL,
      executed_at    TEXT NOT NULL,
      UNIQUE (candidate_kind, candidate_id, comparator, attempt)
    );
    CREATE INDEX executions_problem ON executions (problem_id);

    -- Candidates whose --confirm re-runs disagreed with their first verdict; pairing skips them.
    CREATE TABLE flaky_candidates (
      candidate_kind TEXT NOT NULL,
      candidate_id   INTEGER NOT NULL,
      comparator     TEXT NOT NULL,
      verdicts       TEXT NOT NULL,
      marked_at      TEXT NOT NULL,
      PRIMARY KEY (candidate_kind, candidate_id, comparator)
    );
  `,
};
