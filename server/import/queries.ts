// The import stage's queries for the stages after it. Datasets, problems and their tests, reference
// solutions and iteration histories are import's tables (server/store/migrations/001_foundation.ts
// lists them as such), so every other stage reads them through these functions, or, where a later
// stage must filter or join inside one statement of its own, through the SQL fragments at the end.
import type { Project } from '../store/db';
import { inChunks } from '../store/inList';
import type { ReferenceKind, TestKind } from '../protocol';
import { SETUP_AS_BEFORE } from './formats';

// ---- datasets -------------------------------------------------------------------------------

/** The dataset's id, or an Error naming the datasets there are. */
export function datasetIdOf(p: Project, name: string): number {
  const row = p.db.prepare<[string], { id: number }>('SELECT id FROM datasets WHERE name = ?').get(name);
  if (row) return row.id;
  const names = p.db.prepare<[], { name: string }>('SELECT name FROM datasets ORDER BY name').all().map((r) => r.name);
  throw new Error(`no dataset '${name}' in ${p.file} (${names.length ? `there are: ${names.join(', ')}` : 'it holds no datasets'})`);
}

/** Where a dataset came from (the export manifest records it). */
export interface DatasetSource {
  name: string;
  format: string;
  sourceFile: string;
}

export function datasetSource(p: Project, id: number): DatasetSource | undefined {
  const r = p.db.prepare<[number], { name: string; format: string; source_file: string }>('SELECT name, format, source_file FROM datasets WHERE id = ?').get(id);
  return r && { name: r.name, format: r.format, sourceFile: r.source_file };
}

/** A dataset's problems by external id, with the hash of each record's content. */
export function problemHashes(p: Project, datasetId: number): { externalId: string; contentHash: string }[] {
  return p.db
    .prepare<[number], { externalId: string; contentHash: string }>(
      'SELECT external_id AS externalId, content_hash AS contentHash FROM problems WHERE dataset_id = ? ORDER BY external_id',
    )
    .all(datasetId);
}

// ---- problems and tests ---------------------------------------------------------------------

/** What later stages show, prompt with or group by about a problem. */
export interface ProblemFacts {
  datasetId: number;
  /** The dataset's name. */
  dataset: string;
  externalId: string;
  question: string;
  starterCode: string | null;
}

const PROBLEM_FACTS = `SELECT pr.id, pr.dataset_id AS datasetId, d.name AS dataset, pr.external_id AS externalId, pr.question, pr.starter_code AS starterCode
  FROM problems pr JOIN datasets d ON d.id = pr.dataset_id`;

/** The facts of each problem in `ids` that exists. */
export function problemsById(p: Project, ids: readonly number[]): Map<number, ProblemFacts> {
  const out = new Map<number, ProblemFacts>();
  inChunks(ids, (slice, qs) => {
    for (const { id, ...facts } of p.db.prepare<number[], ProblemFacts & { id: number }>(`${PROBLEM_FACTS} WHERE pr.id IN (${qs})`).all(...slice)) out.set(id, facts);
  });
  return out;
}

/** A lookup of one problem's facts by id, its statement prepared once (for callers that ask per
 * pair or per request); undefined: no such problem. */
export function problemLookup(p: Project): (problemId: number) => ProblemFacts | undefined {
  const stmt = p.db.prepare<[number], ProblemFacts & { id: number }>(`${PROBLEM_FACTS} WHERE pr.id = ?`);
  return (id) => {
    const r = stmt.get(id);
    if (!r) return undefined;
    const { id: _, ...facts } = r;
    return facts;
  };
}

/**
 * One test, exactly a `tests` row, as the execution engine runs it (server/import/formats.ts
 * writes them):
 * - stdio: `input` is stdin, `expected` the expected stdout.
 * - call: `input` is a JSON list of arguments, `expected` a JSON value, `fn_name` the function
 *   (a method of `class Solution` when the candidate defines one).
 * - humaneval: `code` defines check(candidate), `fn_name` is the entry point.
 * - assert: `code` holds assert statement(s); `setup` runs before them.
 */
export interface TestSpec {
  kind: TestKind;
  input: string | null;
  expected: string | null;
  fn_name: string | null;
  code: string | null;
  setup: string | null;
}

/** A problem's tests in ordinal order, as the engine takes them (a setup stored once for a run
 * of tests that share it is given to each of them). */
export function problemTests(p: Project, problemId: number): TestSpec[] {
  const tests = p.db
    .prepare<[number], TestSpec>('SELECT kind, input, expected, fn_name, code, setup FROM tests WHERE problem_id = ? ORDER BY ordinal')
    .all(problemId);
  for (let i = 1; i < tests.length; i++) if (tests[i].setup === SETUP_AS_BEFORE) tests[i].setup = tests[i - 1].setup;
  return tests;
}

export function testCount(p: Project, problemId: number): number {
  return p.db.prepare<[number], { n: number }>('SELECT COUNT(*) AS n FROM tests WHERE problem_id = ?').get(problemId)!.n;
}

// ---- reference programs: solutions and history versions -------------------------------------

export interface ReferenceProgram {
  id: number;
  problemId: number;
  code: string;
}

function referenceFrom(kind: ReferenceKind): { select: string; from: string; id: string; problem: string } {
  return kind === 'solution'
    ? { select: 's.id AS id, s.problem_id AS problemId, s.code AS code', from: 'solutions s', id: 's.id', problem: 's.problem_id' }
    : {
        select: 'v.id AS id, h.problem_id AS problemId, v.code AS code',
        from: 'history_versions v JOIN histories h ON h.id = v.history_id',
        id: 'v.id',
        problem: 'h.problem_id',
      };
}

/** How many programs of the kind there are (of one dataset's problems when `datasetId` is given). */
export function countReferences(p: Project, kind: ReferenceKind, datasetId?: number): number {
  const q = referenceFrom(kind);
  const where = datasetId === undefined ? '' : ` WHERE ${q.problem} IN (SELECT id FROM problems WHERE dataset_id = ?)`;
  return p.db.prepare<number[], { n: number }>(`SELECT COUNT(*) AS n FROM ${q.from}${where}`).get(...(datasetId === undefined ? [] : [datasetId]))!.n;
}

/** Up to `limit` programs of the kind with id > `after`, in id order (keyset paging: the caller
 * may write between pages, which an open iterator on the same connection would not allow). */
export function referencePage(p: Project, kind: ReferenceKind, after: number, limit: number, datasetId?: number): ReferenceProgram[] {
  const q = referenceFrom(kind);
  const where = datasetId === undefined ? '' : ` AND ${q.problem} IN (SELECT id FROM problems WHERE dataset_id = ?)`;
  return p.db
    .prepare<number[], ReferenceProgram>(`SELECT ${q.select} FROM ${q.from} WHERE ${q.id} > ?${where} ORDER BY ${q.id} LIMIT ?`)
    .all(after, ...(datasetId === undefined ? [] : [datasetId]), limit);
}

/** Where a reference program sits, for naming it (the Datasets view numbers from 1). */
export interface ReferencePlace {
  problemId: number;
  code: string;
  /** 0-based ordinal: of the solution in its problem, or of the version in its history. */
  ordinal: number;
  /** Versions: the history's 0-based ordinal in its problem, and whether this is its last version. */
  historyId?: number;
  historyOrdinal?: number;
  final?: boolean;
}

export function referencePlaces(p: Project, kind: ReferenceKind, ids: readonly number[]): Map<number, ReferencePlace> {
  const out = new Map<number, ReferencePlace>();
  inChunks(ids, (slice, qs) => {
    if (kind === 'solution') {
      const rows = p.db
        .prepare<number[], { id: number; problemId: number; code: string; ordinal: number }>(
          `SELECT id, problem_id AS problemId, code, ordinal FROM solutions WHERE id IN (${qs})`,
        )
        .all(...slice);
      for (const { id, ...place } of rows) out.set(id, place);
    } else {
      const rows = p.db
        .prepare<number[], { id: number; problemId: number; code: string; ordinal: number; historyId: number; historyOrdinal: number; final: number }>(
          `SELECT v.id, h.problem_id AS problemId, v.code, v.ordinal, h.id AS historyId, h.ordinal AS historyOrdinal,
                  v.ordinal = (SELECT MAX(ordinal) FROM history_versions WHERE history_id = v.history_id) AS final
           FROM history_versions v JOIN histories h ON h.id = v.history_id WHERE v.id IN (${qs})`,
        )
        .all(...slice);
      for (const { id, final, ...place } of rows) out.set(id, { ...place, final: final === 1 });
    }
  });
  return out;
}

/** Every reference solution's code in id order, streamed (the local stand-in learns from them). */
export function solutionCodes(p: Project): IterableIterator<{ id: number; code: string }> {
  return p.db.prepare<[], { id: number; code: string }>('SELECT id, code FROM solutions ORDER BY id').iterate();
}

// ---- histories ------------------------------------------------------------------------------

export function historyIds(p: Project): number[] {
  return p.db
    .prepare<[], { id: number }>('SELECT id FROM histories ORDER BY id')
    .all()
    .map((r) => r.id);
}

/** Each history's 0-based ordinal in its problem. */
export function historyOrdinals(p: Project, ids: readonly number[]): Map<number, number> {
  const out = new Map<number, number>();
  inChunks(ids, (slice, qs) => {
    for (const r of p.db.prepare<number[], { id: number; ordinal: number }>(`SELECT id, ordinal FROM histories WHERE id IN (${qs})`).all(...slice)) {
      out.set(r.id, r.ordinal);
    }
  });
  return out;
}

export interface HistoryVersion {
  versionId: number;
  historyId: number;
  /** The version's 0-based place in its history (the last one is expected to pass). */
  ordinal: number;
  code: string;
  problemId: number;
  historyOrdinal: number;
}

/** The versions of the histories with ids in [lo, hi], by history then version. */
export function historyVersionsBetween(p: Project, lo: number, hi: number): HistoryVersion[] {
  return p.db
    .prepare<[number, number], HistoryVersion>(
      `SELECT v.id AS versionId, v.history_id AS historyId, v.ordinal, v.code, h.problem_id AS problemId, h.ordinal AS historyOrdinal
       FROM history_versions v JOIN histories h ON h.id = v.history_id
       WHERE v.history_id BETWEEN ? AND ? ORDER BY v.history_id, v.ordinal`,
    )
    .all(lo, hi);
}

// ---- fragments --------------------------------------------------------------------------------
// For a later stage's own statement that must filter or join on import's facts. Each is an SQL
// expression over a column expression the caller supplies; it binds no parameters itself.

/** The problem id of the solution whose id is `solutionId` (NULL when it is NULL). */
export function problemOfSolutionSql(solutionId: string): string {
  return `(SELECT problem_id FROM solutions WHERE id = ${solutionId})`;
}

/** The problem id of the history version whose id is `versionId` (NULL when it is NULL). */
export function problemOfVersionSql(versionId: string): string {
  return `(SELECT h.problem_id FROM history_versions v JOIN histories h ON h.id = v.history_id WHERE v.id = ${versionId})`;
}

/** The dataset id of the problem whose id is `problemId`. */
export function datasetOfProblemSql(problemId: string): string {
  return `(SELECT dataset_id FROM problems WHERE id = ${problemId})`;
}

/** The ids of every history's final version (the one expected to pass), as a subquery for
 * `... IN (<this>)`. */
export function finalVersionIdsSql(): string {
  return 'SELECT fv.id FROM history_versions fv WHERE fv.ordinal = (SELECT MAX(x.ordinal) FROM history_versions x WHERE x.history_id = fv.history_id)';
}

// ---- the dashboard's lists ----------------------------------------------------------------------

/** A problem as the dashboard lists it, with the program that opens it: its first reference
 * solution, else its first history's final version (neither: null). */
export interface ProblemListItem {
  id: number;
  dataset: string;
  externalId: string;
  solutions: number;
  program: { kind: ReferenceKind; id: number } | null;
}

/** The first `limit` problems by id, and how many there are. */
export function problemList(p: Project, limit: number): { total: number; items: ProblemListItem[] } {
  const total = p.db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM problems').get()!.n;
  const items = p.db
    .prepare<[number], { id: number; dataset: string; externalId: string; solutions: number; solutionId: number | null; versionId: number | null }>(
      `SELECT pr.id, d.name AS dataset, pr.external_id AS externalId,
              (SELECT COUNT(*) FROM solutions s WHERE s.problem_id = pr.id) AS solutions,
              (SELECT s.id FROM solutions s WHERE s.problem_id = pr.id ORDER BY s.ordinal LIMIT 1) AS solutionId,
              (SELECT v.id FROM histories h JOIN history_versions v ON v.history_id = h.id WHERE h.problem_id = pr.id
                ORDER BY h.ordinal, v.ordinal DESC LIMIT 1) AS versionId
       FROM problems pr JOIN datasets d ON d.id = pr.dataset_id ORDER BY pr.id LIMIT ?`,
    )
    .all(limit)
    .map((r) => ({
      id: r.id,
      dataset: r.dataset,
      externalId: r.externalId,
      solutions: r.solutions,
      program: r.solutionId !== null ? { kind: 'solution' as const, id: r.solutionId } : r.versionId !== null ? { kind: 'version' as const, id: r.versionId } : null,
    }));
  return { total, items };
}
