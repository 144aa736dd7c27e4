// Schema version 4: preference pairs and their review (pairforge pairs / export).
import type { Migration } from '../db';

export const pairs: Migration = {
  version: 4,
  name: 'pairs',
  tables: { pairs: 'pairs' },
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
      -- The context both responses share: the target's prefix and suffix ('' for whole programs).
      -- A FIM pair's candidate program is pre || chosen || suf (resp. rejected).
      pre                 TEXT NOT NULL DEFAULT '',
      suf                 TEXT NOT NULL DEFAULT '',
      -- Curriculum keys: the block kind and depth of the target, and the golden middle's line
      -- count (IterPref: the chosen program's); NULL kind/depth for IterPref.
      block_kind          TEXT,
      depth               INTEGER,
      golden_lines        INTEGER NOT NULL DEFAULT 0,
      chosen              TEXT NOT NULL,
      rejected            TEXT NOT NULL,
      chosen_loss_spans   TEXT NOT NULL,
      rejected_loss_spans TEXT NOT NULL,
      provenance          TEXT NOT NULL,
      edit_distance       INTEGER,
      -- JSON array of filter flags (server/pairs/types.ts PairFlag).
      flags               TEXT NOT NULL DEFAULT '[]',
      -- sha256 of kind, question, pre, suf, chosen and rejected: equal keys are exact duplicates.
      dup_key             TEXT NOT NULL DEFAULT '',
      status              TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'accepted', 'rejected', 'flagged')),
      note                TEXT,
      created_at          TEXT NOT NULL,
      updated_at          TEXT NOT NULL
    );
    CREATE INDEX pairs_problem ON pairs (problem_id);
    CREATE INDEX pairs_status ON pairs (status);
    CREATE INDEX pairs_target ON pairs (target_id);
    CREATE INDEX pairs_history ON pairs (history_id);
    CREATE INDEX pairs_dup_key ON pairs (dup_key);
  `,
};
