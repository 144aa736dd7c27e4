// The project store: one SQLite file per project (better-sqlite3, one writer).
//
// Schema changes only ever happen through MIGRATIONS: migration N runs in a transaction and sets
// `PRAGMA user_version = N`, so a project opened by newer code is upgraded in place, and a project
// written by newer code than this one is refused instead of being misread.
import Database from 'better-sqlite3';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { foundation } from './migrations/001_foundation';
import { executions } from './migrations/002_executions';
import { sampling } from './migrations/003_sampling';
import { pairs } from './migrations/004_pairs';
import { review } from './migrations/005_review';
import { scoring } from './migrations/006_scoring';
import { dashboard } from './migrations/007_dashboard';
import { training } from './migrations/008_training';
import { editIsolation } from './migrations/009_edit_isolation';

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
  /** Each table (and virtual table) the migration creates, with the stage folder under server/
   * whose modules hold every query over it: other stages call that stage's functions (or compose
   * the SQL fragments it exports) instead of naming its tables. test/unit/store/tables.test.ts
   * checks both the list and the rule. */
  tables: Readonly<Record<string, string>>;
}

/** Append-only, one file per stage in server/store/migrations/: a later stage adds its tables with
 * a new entry; never edit one that has been released. */
export const MIGRATIONS: readonly Migration[] = [foundation, executions, sampling, pairs, review, scoring, dashboard, training, editIsolation];

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
