// Schema version 4: preference pairs and their review (issue 5: pairforge pairs / export).
import type { Migration } from '../db';

export const pairs: Migration = {
  version: 4,
  name: 'pairs',
  sql: `
    -- One preference pair. Spans are JSON [[start, end), ...] character ranges of each response
    -- that count in the loss. pair_key identifies a pair across re-runs of 'pairforge pairs', so a
    -- re-run changes nothing and a reviewer's status survives it. Filters set flags, never delete.
    CREATE TABLE pairs (
      id                  INTEGER PRIMARY KEY,
      pair_key            TEXT NOT NULL UNIQUE,
      mode                TEXT NOT NULL CHECK (mode IN ('structurecoder', 'iterpref')),
      kind                TEXT NOT NULL CHECK (kind IN ('fim', 'iterpref', 'full')),
      problem_id          INTEGER NOT NULL REFERENCES problems(id) ON DELETE CASCADE,
      target_id           INTEGER REFERENCES targets(id) ON DELETE CASCADE,
      history_id          INTEGER REFERENCES histories(id) ON DELETE CASCADE,
      chosen              TEXT NOT NULL,
      rejected            TEXT NOT NULL,
      chosen_loss_spans   TEXT NOT NULL,
      rejected_loss_spans TEXT NOT NULL,
      provenance          TEXT NOT NULL,
      edit_distance       INTEGER,
      flags               TEXT NOT NULL DEFAULT '[]',
      status              TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'accepted', 'rejected', 'flagged')),
      note                TEXT,
      created_at          TEXT NOT NULL,
      updated_at          TEXT NOT NULL
    );
    CREATE INDEX pairs_problem ON pairs (problem_id);
    CREATE INDEX pairs_status ON pairs (status);
  `,
};
