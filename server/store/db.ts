// The project store: one SQLite file per project (better-sqlite3, one writer).
//
// Schema changes only ever happen through MIGRATIONS: migration N runs in a transaction and sets
// `PRAGMA user_version = N`, so a project opened by newer code is upgraded in place, and a project
// written by newer code than this one is refused instead of being misread.
import Database from 'better-sqlite3';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';

export type { Database } from 'better-sqlite3';

export interface Project {
  db: Database.Database;
  /** Absolute path of the SQLite file. */
  file: string;
  close(): void;
}

export interface Migration {
  /** The `user_version` this migration brings the file to (1, 2, ...: position in the array + 1). */
  version: number;
  name: string;
  sql: string;
}

/** Append-only: later stages add their tables with a new entry; never edit a released one. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'datasets, problems, tests, solutions, histories, targets',
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
        -- sha256 of the record's content (README "Dataset formats"): same id + same hash = unchanged.
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
  },
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** better-sqlite3's native addon: beside the bundle (dist/) when built, else the package's own. */
function nativeBinding(): string | undefined {
  const bundled = path.join(__dirname, 'better_sqlite3.node');
  return existsSync(bundled) ? bundled : undefined;
}

/** Brings `db` to the newest schema. Each migration commits on its own, so a crash between two
 * leaves a file at a consistent older version that the next open finishes. */
export function migrate(db: Database.Database, file: string, migrations: readonly Migration[] = MIGRATIONS): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > migrations.length) {
    throw new Error(
      `${file}: the project was written by a newer PairForge (schema version ${current}; this one knows up to ${migrations.length}). ` +
        'Update PairForge to open it.',
    );
  }
  for (const m of migrations.slice(current)) {
    if (m.version !== migrations.indexOf(m) + 1) throw new Error(`migration '${m.name}' has version ${m.version}, expected ${migrations.indexOf(m) + 1}`);
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
  }
}

/** Opens (creating if needed) a project file and brings its schema up to date. */
export function openProject(file: string, opts: { readonly?: boolean } = {}): Project {
  const abs = path.resolve(file);
  const readonly = opts.readonly === true;
  if (readonly && !existsSync(abs)) throw new Error(`${abs}: no such project file`);
  if (!readonly) mkdirSync(path.dirname(abs), { recursive: true });
  const binding = nativeBinding();
  let db: Database.Database;
  try {
    db = new Database(abs, { readonly, fileMustExist: readonly, ...(binding ? { nativeBinding: binding } : {}) });
  } catch (e) {
    throw new Error(`${abs}: cannot open the project: ${(e as Error).message}`);
  }
  try {
    db.pragma('busy_timeout = 5000');
    db.pragma('foreign_keys = ON');
    if (readonly) {
      const version = db.pragma('user_version', { simple: true }) as number;
      if (version > SCHEMA_VERSION) migrate(db, abs); // throws the "newer PairForge" error
      if (version < SCHEMA_VERSION) {
        throw new Error(`${abs}: schema version ${version} is older than ${SCHEMA_VERSION}; open it once read-write to upgrade`);
      }
    } else {
      // WAL: readers (the editor's tree view) never block the one writer (an import).
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      migrate(db, abs);
    }
  } catch (e) {
    db.close();
    const msg = (e as Error).message;
    throw msg.startsWith(abs) ? e : new Error(`${abs}: ${msg}`);
  }
  return {
    db,
    file: abs,
    close: () => {
      if (db.open) db.close();
    },
  };
}
