// Schema version 1: what import and targets write.
import type { Migration } from '../db';

export const foundation: Migration = {
  version: 1,
  name: 'datasets, problems, tests, solutions, histories, targets',
  tables: { datasets: 'import', problems: 'import', tests: 'import', solutions: 'import', histories: 'import', history_versions: 'import', cuts: 'targets', targets: 'targets' },
  sql: `
    CREATE TABLE datasets (
      id          INTEGER PRIMARY KEY,
      name        TEXT NOT NULL UNIQUE,
      source_file TEXT NOT NULL,
      format      TEXT NOT NULL CHECK (format IN ('apps', 'humaneval', 'mbpp', 'history')),
      imported_at TEXT NOT NULL
    );

    CREATE TABLE problems (
      id           INTEGER PRIMARY KEY,
      dataset_id   INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
      external_id  TEXT NOT NULL,
      question     TEXT NOT NULL,
      starter_code TEXT,
      difficulty   TEXT,
      url          TEXT,
      entry_point  TEXT,
      -- sha256 of the record's content (docs/datasets.md "Dataset formats"): same id + same hash = unchanged.
      content_hash TEXT NOT NULL,
      raw          TEXT NOT NULL,
      UNIQUE (dataset_id, external_id)
    );

    -- kind: stdio (input/expected text), call (input = JSON list of arguments, expected = JSON
    -- value, fn_name), humaneval (code defines check(candidate), fn_name = entry point),
    -- assert (code is an assert statement or script, setup runs first).
    CREATE TABLE tests (
      id         INTEGER PRIMARY KEY,
      problem_id INTEGER NOT NULL REFERENCES problems(id) ON DELETE CASCADE,
      ordinal    INTEGER NOT NULL,
      kind       TEXT NOT NULL CHECK (kind IN ('stdio', 'call', 'humaneval', 'assert')),
      input      TEXT,
      expected   TEXT,
      fn_name    TEXT,
      code       TEXT,
      setup      TEXT,
      UNIQUE (problem_id, ordinal)
    );

    CREATE TABLE solutions (
      id         INTEGER PRIMARY KEY,
      problem_id INTEGER NOT NULL REFERENCES problems(id) ON DELETE CASCADE,
      ordinal    INTEGER NOT NULL,
      code       TEXT NOT NULL,
      UNIQUE (problem_id, ordinal)
    );

    -- One row per iteration history (a problem may have several); versions oldest first,
    -- the last one expected to pass.
    CREATE TABLE histories (
      id           INTEGER PRIMARY KEY,
      problem_id   INTEGER NOT NULL REFERENCES problems(id) ON DELETE CASCADE,
      ordinal      INTEGER NOT NULL,
      content_hash TEXT NOT NULL,
      raw          TEXT NOT NULL,
      UNIQUE (problem_id, ordinal),
      UNIQUE (problem_id, content_hash)
    );

    CREATE TABLE history_versions (
      id         INTEGER PRIMARY KEY,
      history_id INTEGER NOT NULL REFERENCES histories(id) ON DELETE CASCADE,
      ordinal    INTEGER NOT NULL,
      code       TEXT NOT NULL,
      UNIQUE (history_id, ordinal)
    );

    -- One row per (solution, preset key) once that solution has been cut: makes 'pairforge
    -- targets' resumable and records why a solution has no targets.
    -- status: ok | unparsed (error holds the syntax error) | too_long (words > limit) |
    -- format_failed (Black could not format it; error holds why).
    CREATE TABLE cuts (
      id          INTEGER PRIMARY KEY,
      solution_id INTEGER NOT NULL REFERENCES solutions(id) ON DELETE CASCADE,
      preset      TEXT NOT NULL,
      status      TEXT NOT NULL CHECK (status IN ('ok', 'unparsed', 'too_long', 'format_failed')),
      error       TEXT,
      words       INTEGER NOT NULL,
      code        TEXT,
      targets     INTEGER NOT NULL,
      cut_at      TEXT NOT NULL,
      UNIQUE (solution_id, preset)
    );

    -- Fill-in-the-middle targets. Lines are 0-based, end inclusive, in the cut code
    -- (cuts.code); ordinal is the order the preset emits them (structurecoder: post-order).
    CREATE TABLE targets (
      id          INTEGER PRIMARY KEY,
      solution_id INTEGER REFERENCES solutions(id) ON DELETE CASCADE,
      version_id  INTEGER REFERENCES history_versions(id) ON DELETE CASCADE,
      preset      TEXT NOT NULL,
      ordinal     INTEGER NOT NULL,
      kind        TEXT NOT NULL,
      depth       INTEGER NOT NULL,
      start_line  INTEGER NOT NULL,
      end_line    INTEGER NOT NULL,
      pre         TEXT NOT NULL,
      mid         TEXT NOT NULL,
      suf         TEXT NOT NULL,
      CHECK ((solution_id IS NULL) <> (version_id IS NULL)),
      UNIQUE (solution_id, preset, start_line, end_line, kind)
    );
    CREATE UNIQUE INDEX targets_version_unique ON targets (version_id, preset, start_line, end_line, kind)
      WHERE version_id IS NOT NULL;
    CREATE INDEX targets_preset ON targets (preset);
    CREATE INDEX cuts_preset_status ON cuts (preset, status);
  `,
};
