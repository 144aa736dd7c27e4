// The project file (migrations, pragmas, refusing newer schemas) and the read-only views used by
// the Datasets tree and `pairforge:` documents.
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { importFiles } from '../../../server/import/importer';
import { documentText, listChildren, parseStoreUri, PROBLEM_PAGE, storeUri } from '../../../server/import/browse';
import { migrate, MIGRATIONS, openProject, SCHEMA_VERSION, type Migration } from '../../../server/store/db';
import { projectStats } from '../../../server/pipeline/stats';
import { addDataset, addProblem, addSolution } from '../../support/fixtures';
import { fixturePath } from '../../support/paths';

const FIXTURES = fixturePath('datasets');
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'pairforge-store-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('openProject', () => {
  it('creates the parent folder and a WAL database at the newest schema version', () => {
    const file = path.join(dir, 'nested', '.pairforge', 'project.sqlite');
    const p = openProject(file);
    expect(p.file).toBe(file);
    expect(p.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(p.db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(p.db.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
    expect(p.db.pragma('busy_timeout', { simple: true })).toBe(5000);
    expect(p.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    p.close();
    p.close(); // idempotent
    // reopening does not re-run migrations
    const again = openProject(file);
    expect(again.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    again.close();
  });

  it('refuses a project written by a newer PairForge', () => {
    const file = path.join(dir, 'new.sqlite');
    const raw = new Database(file);
    raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();
    expect(() => openProject(file)).toThrow(`schema version ${SCHEMA_VERSION + 1}; this one knows up to ${SCHEMA_VERSION}`);
    expect(() => openProject(file, { readonly: true })).toThrow(/written by a newer PairForge/);
  });

  it('runs each later migration once, in a transaction, and rolls back a failing one', () => {
    const file = path.join(dir, 'm.sqlite');
    openProject(file).close();
    const db = new Database(file);
    const extra: Migration[] = [{ version: SCHEMA_VERSION + 1, name: 'notes', sql: 'CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)', tables: { notes: 'import' } }];
    migrate(db, file, [...MIGRATIONS, ...extra]);
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION + 1);
    migrate(db, file, [...MIGRATIONS, ...extra]); // nothing to do
    const broken: Migration[] = [...extra, { version: SCHEMA_VERSION + 2, name: 'broken', sql: 'CREATE TABLE t2 (x); CREATE TABLE notes (y)', tables: { t2: 'import', notes: 'import' } }];
    expect(() => migrate(db, file, [...MIGRATIONS, ...broken])).toThrow(/already exists/);
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION + 1);
    expect(db.prepare(`SELECT name FROM sqlite_master WHERE name = 't2'`).get()).toBeUndefined();
    db.close();
  });

  it('names the file when it is not a database, and read-only needs an existing file', () => {
    const junk = path.join(dir, 'junk.sqlite');
    writeFileSync(junk, 'this is not sqlite, just text that is long enough to be read as a header......');
    expect(() => openProject(junk)).toThrow(new RegExp(`${junk.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .*not a database`));
    expect(() => openProject(path.join(dir, 'none.sqlite'), { readonly: true })).toThrow(/none\.sqlite: no such project file/);
  });

  it('enforces the unique keys that make imports and cuts idempotent', () => {
    const p = openProject(path.join(dir, 'u.sqlite'));
    const datasetId = addDataset(p);
    addProblem(p, { datasetId, externalId: 'x' });
    expect(() => addProblem(p, { datasetId, externalId: 'x' })).toThrow(/UNIQUE/);
    expect(() => addSolution(p, { problemId: 99 })).toThrow(/FOREIGN KEY/);
    p.close();
  });
});

describe('browse', () => {
  it('lists datasets -> problems -> solutions / histories -> versions with readable pairforge: URIs', async () => {
    const p = openProject(path.join(dir, 'b.sqlite'));
    await importFiles(p, [path.join(FIXTURES, 'humaneval-mini.jsonl'), path.join(FIXTURES, 'history-mini.jsonl')]);
    const ds = listChildren(p);
    expect(ds.map((d) => [d.label, d.kind, d.description, d.hasChildren])).toEqual([
      ['history-mini', 'dataset', 'history · 3 problems', true],
      ['humaneval-mini', 'dataset', 'humaneval · 2 problems', true],
    ]);
    const problems = listChildren(p, ds[0].id);
    expect(problems.map((x) => x.label)).toEqual(['4002', 'HumanEval/2', 'scratch/7']);
    expect(problems[0].description).toBe('interview · 1 solution · 2 histories');

    const kids = listChildren(p, problems[0].id);
    expect(kids.map((k) => [k.kind, k.label])).toEqual([
      ['solution', 'solution 1'],
      ['history', 'history 1'],
      ['history', 'history 2'],
    ]);
    expect(kids[0].uri).toMatch(/^pairforge:\/history-mini\/4002\/solution-1\.py\?solution=\d+$/);
    expect(documentText(p, kids[0].uri!)).toContain('while s and s[0] == s[-1]');

    const versions = listChildren(p, kids[2].id);
    expect(versions.map((v) => [v.label, v.description])).toEqual([
      ['v1', '7 lines'],
      ['v2', 'final (expected to pass)'],
    ]);
    expect(versions[1].uri).toMatch(/^pairforge:\/history-mini\/4002\/history-2\/v2\.py\?version=\d+$/);
    expect(documentText(p, versions[1].uri!)).toContain('s[-1 - i]');

    // ids with a slash are one path segment
    const he = listChildren(p, listChildren(p, ds[1].id)[0].id);
    expect(he[0].uri).toMatch(/^pairforge:\/humaneval-mini\/HumanEval%2F0\/solution-1\.py\?solution=\d+$/);
    expect(listChildren(p, 'nonsense')).toEqual([]);
    expect(listChildren(p, 'p:99999')).toEqual([]);
    p.close();
  });

  it('pages large datasets with an "N more problems" node', async () => {
    const p = openProject(path.join(dir, 'big.sqlite'));
    const n = PROBLEM_PAGE * 2 + 3;
    const f = path.join(dir, 'many.jsonl');
    writeFileSync(
      f,
      Array.from({ length: n }, (_, i) => JSON.stringify({ task_id: `T/${i}`, prompt: 'def f():\n', canonical_solution: '    return 1\n', test: 'def check(c):\n    assert c() == 1\n', entry_point: 'f' })).join('\n'),
    );
    await importFiles(p, [f]);
    const [d] = listChildren(p);
    const page1 = listChildren(p, d.id);
    expect(page1).toHaveLength(PROBLEM_PAGE + 1);
    const more = page1[PROBLEM_PAGE];
    expect(more.label).toBe(`${n - PROBLEM_PAGE} more problems`);
    const page2 = listChildren(p, more.id);
    expect(page2[0].label).toBe(`T/${PROBLEM_PAGE}`);
    const page3 = listChildren(p, page2[PROBLEM_PAGE].id);
    expect(page3.map((x) => x.label)).toEqual([`T/${n - 3}`, `T/${n - 2}`, `T/${n - 1}`]);
    p.close();
  });

  it('storeUri and parseStoreUri round-trip, also with a percent-encoded query', () => {
    const u = storeUri('apps train', 'a/b', { history: 2, version: 3, versionId: 41 });
    expect(u).toBe('pairforge:/apps%20train/a%2Fb/history-2/v3.py?version=41');
    expect(parseStoreUri(u)).toEqual({ versionId: 41 });
    expect(parseStoreUri('pairforge:/x/y/solution-1.py?solution%3D7')).toEqual({ solutionId: 7 });
    expect(() => parseStoreUri('file:///x.py')).toThrow(/not a pairforge: URI/);
    expect(() => parseStoreUri('pairforge:/x/y.py')).toThrow(/no solution= or version= id/);
  });

  it('documentText names a missing solution', () => {
    const p = openProject(path.join(dir, 'e.sqlite'));
    expect(() => documentText(p, 'pairforge:/d/p/solution-1.py?solution=5')).toThrow(/no such solution/);
    expect(projectStats(p)).toEqual({ datasets: 0, problems: 0, tests: 0, solutions: 0, histories: 0, versions: 0, targets: 0, samples: 0, executions: 0, pairs: 0, scoredPairs: 0 });
    p.close();
  });
});
