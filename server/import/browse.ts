// Read-only views of the imported datasets: the Datasets tree, the `pairforge:` documents, counts.
//
// Node ids (opaque to the client): `d:<dataset>`, `d:<dataset>@<offset>` (the next page of a
// large dataset's problems), `p:<problem>`, `h:<history>`.
import { STORE_SCHEME, type DatasetNode } from '../protocol';
import type { Project } from '../store/db';

/** Problems listed per tree level; a larger dataset ends with a "N more problems" node. */
export const PROBLEM_PAGE = 500;

export type StoreRef = { solutionId: number } | { versionId: number };

/** `pairforge:/<dataset>/<problem>/solution-N.py?solution=<id>` or
 * `pairforge:/<dataset>/<problem>/history-N/vK.py?version=<id>`. The path is for people (tab
 * titles); the query's id is what `documentText` reads. */
export function storeUri(
  dataset: string,
  problem: string,
  doc: { solution: number; solutionId: number } | { history: number; version: number; versionId: number },
): string {
  const seg = (s: string) => encodeURIComponent(s);
  const tail = 'solution' in doc ? `solution-${doc.solution}.py?solution=${doc.solutionId}` : `history-${doc.history}/v${doc.version}.py?version=${doc.versionId}`;
  return `${STORE_SCHEME}:/${seg(dataset)}/${seg(problem)}/${tail}`;
}

/** The ids a store URI carries. Tolerates an encoded query (`solution%3D12`, as VS Code's
 * `Uri.toString()` writes it). */
export function parseStoreUri(uri: string): StoreRef {
  if (!uri.startsWith(`${STORE_SCHEME}:`)) throw new Error(`not a ${STORE_SCHEME}: URI: ${uri}`);
  const q = uri.indexOf('?');
  const query = q < 0 ? '' : decodeURIComponent(uri.slice(q + 1).split('#')[0]);
  const m = /(?:^|&)(solution|version)=(\d+)(?:&|$)/.exec(query);
  if (!m) throw new Error(`${uri}: no solution= or version= id in the query`);
  const id = Number(m[2]);
  return m[1] === 'solution' ? { solutionId: id } : { versionId: id };
}

/** The stored code a `pairforge:` URI names. */
export function documentText(p: Project, uri: string): string {
  const ref = parseStoreUri(uri);
  const row =
    'solutionId' in ref
      ? p.db.prepare<[number], { code: string }>('SELECT code FROM solutions WHERE id = ?').get(ref.solutionId)
      : p.db.prepare<[number], { code: string }>('SELECT code FROM history_versions WHERE id = ?').get(ref.versionId);
  if (!row) throw new Error(`${uri}: no such ${'solutionId' in ref ? 'solution' : 'history version'} in ${p.file}`);
  return row.code;
}

function oneLine(s: string, max: number): string {
  const line = s.split('\n').find((l) => l.trim() !== '')?.trim() ?? '';
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** Lines as an editor counts them (a final newline does not start another line). */
function lineCount(code: string): number {
  if (code === '') return 0;
  return code.split('\n').length - (code.endsWith('\n') ? 1 : 0);
}

function plural(n: number, word: string): string {
  if (n === 1) return `${n} ${word}`;
  return `${n} ${word.endsWith('y') ? `${word.slice(0, -1)}ies` : `${word}s`}`;
}

function datasets(p: Project): DatasetNode[] {
  const rows = p.db
    .prepare<[], { id: number; name: string; format: string; source_file: string; problems: number }>(
      `SELECT d.id, d.name, d.format, d.source_file, (SELECT COUNT(*) FROM problems WHERE dataset_id = d.id) AS problems
       FROM datasets d ORDER BY d.name`,
    )
    .all();
  return rows.map((d) => ({
    id: `d:${d.id}`,
    kind: 'dataset',
    label: d.name,
    description: `${d.format} · ${plural(d.problems, 'problem')}`,
    tooltip: `${d.name} (${d.format}) from ${d.source_file}`,
    hasChildren: d.problems > 0,
  }));
}

function problems(p: Project, datasetId: number, offset: number): DatasetNode[] {
  const total = p.db.prepare<[number], { n: number }>('SELECT COUNT(*) AS n FROM problems WHERE dataset_id = ?').get(datasetId)!.n;
  const rows = p.db
    .prepare<[number, number, number], { id: number; external_id: string; question: string; difficulty: string | null; solutions: number; histories: number }>(
      `SELECT pr.id, pr.external_id, pr.question, pr.difficulty,
              (SELECT COUNT(*) FROM solutions WHERE problem_id = pr.id) AS solutions,
              (SELECT COUNT(*) FROM histories WHERE problem_id = pr.id) AS histories
       FROM problems pr WHERE pr.dataset_id = ? ORDER BY pr.id LIMIT ? OFFSET ?`,
    )
    .all(datasetId, PROBLEM_PAGE, offset);
  const nodes: DatasetNode[] = rows.map((r) => {
    const parts = [r.difficulty, plural(r.solutions, 'solution'), r.histories > 0 ? plural(r.histories, 'history') : undefined];
    return {
      id: `p:${r.id}`,
      kind: 'problem',
      label: r.external_id,
      description: parts.filter(Boolean).join(' · '),
      tooltip: r.question.length > 600 ? `${r.question.slice(0, 600)}…` : r.question,
      hasChildren: r.solutions + r.histories > 0,
    };
  });
  const rest = total - offset - rows.length;
  if (rest > 0) {
    nodes.push({
      id: `d:${datasetId}@${offset + rows.length}`,
      kind: 'dataset',
      label: `${rest} more problems`,
      description: `${offset + rows.length + 1}–${Math.min(total, offset + rows.length + PROBLEM_PAGE)} next`,
      hasChildren: true,
    });
  }
  return nodes;
}

function problemChildren(p: Project, problemId: number): DatasetNode[] {
  const pr = p.db
    .prepare<[number], { external_id: string; name: string }>(
      'SELECT pr.external_id, d.name FROM problems pr JOIN datasets d ON d.id = pr.dataset_id WHERE pr.id = ?',
    )
    .get(problemId);
  if (!pr) return [];
  const sols = p.db
    .prepare<[number], { id: number; ordinal: number; code: string }>('SELECT id, ordinal, code FROM solutions WHERE problem_id = ? ORDER BY ordinal')
    .all(problemId);
  const hists = p.db
    .prepare<[number], { id: number; ordinal: number; versions: number }>(
      `SELECT h.id, h.ordinal, (SELECT COUNT(*) FROM history_versions WHERE history_id = h.id) AS versions
       FROM histories h WHERE h.problem_id = ? ORDER BY h.ordinal`,
    )
    .all(problemId);
  return [
    ...sols.map(
      (s): DatasetNode => ({
        id: `s:${s.id}`,
        kind: 'solution',
        label: `solution ${s.ordinal + 1}`,
        description: `${plural(lineCount(s.code), 'line')} · ${oneLine(s.code, 60)}`,
        uri: storeUri(pr.name, pr.external_id, { solution: s.ordinal + 1, solutionId: s.id }),
        hasChildren: false,
      }),
    ),
    ...hists.map(
      (h): DatasetNode => ({
        id: `h:${h.id}`,
        kind: 'history',
        label: `history ${h.ordinal + 1}`,
        description: plural(h.versions, 'version'),
        hasChildren: h.versions > 0,
      }),
    ),
  ];
}

function versions(p: Project, historyId: number): DatasetNode[] {
  const h = p.db
    .prepare<[number], { ordinal: number; external_id: string; name: string }>(
      `SELECT h.ordinal, pr.external_id, d.name FROM histories h
       JOIN problems pr ON pr.id = h.problem_id JOIN datasets d ON d.id = pr.dataset_id WHERE h.id = ?`,
    )
    .get(historyId);
  if (!h) return [];
  const rows = p.db
    .prepare<[number], { id: number; ordinal: number; code: string }>('SELECT id, ordinal, code FROM history_versions WHERE history_id = ? ORDER BY ordinal')
    .all(historyId);
  return rows.map((v, i) => ({
    id: `v:${v.id}`,
    kind: 'version',
    label: `v${v.ordinal + 1}`,
    description: i === rows.length - 1 ? 'final (expected to pass)' : plural(lineCount(v.code), 'line'),
    uri: storeUri(h.name, h.external_id, { history: h.ordinal + 1, version: v.ordinal + 1, versionId: v.id }),
    hasChildren: false,
  }));
}

/** Children of a tree node; the datasets when `parent` is undefined. Unknown ids give []. */
export function listChildren(p: Project, parent?: string): DatasetNode[] {
  if (parent === undefined || parent === '') return datasets(p);
  const m = /^([dph]):(\d+)(?:@(\d+))?$/.exec(parent);
  if (!m) return [];
  const id = Number(m[2]);
  switch (m[1]) {
    case 'd':
      return problems(p, id, m[3] ? Number(m[3]) : 0);
    case 'p':
      return problemChildren(p, id);
    default:
      return versions(p, id);
  }
}

/** What the import stage holds, for `pairforge stats`. */
export interface ImportCounts {
  datasets: number;
  problems: number;
  tests: number;
  solutions: number;
  histories: number;
  versions: number;
}

export function importCounts(p: Project): ImportCounts {
  return p.db
    .prepare<[], ImportCounts>(
      `SELECT (SELECT COUNT(*) FROM datasets) AS datasets, (SELECT COUNT(*) FROM problems) AS problems,
              (SELECT COUNT(*) FROM tests) AS tests, (SELECT COUNT(*) FROM solutions) AS solutions,
              (SELECT COUNT(*) FROM histories) AS histories, (SELECT COUNT(*) FROM history_versions) AS versions`,
    )
    .get()!;
}

/** Each problem's label (`dataset/external id`) and question, by id (the review room). */
export function problemInfo(p: Project, ids: readonly number[]): Map<number, { label: string; question: string }> {
  const out = new Map<number, { label: string; question: string }>();
  const stmt = p.db.prepare<[number], { label: string; question: string }>(
    `SELECT d.name || '/' || pr.external_id AS label, pr.question FROM problems pr JOIN datasets d ON d.id = pr.dataset_id WHERE pr.id = ?`,
  );
  for (const id of new Set(ids)) {
    const r = stmt.get(id);
    if (r) out.set(id, r);
  }
  return out;
}

/** The ids of a dataset's problems (every dataset's when absent), in id order. */
export function problemIds(p: Project, datasetId?: number): number[] {
  const rows =
    datasetId === undefined
      ? p.db.prepare<[], { id: number }>('SELECT id FROM problems ORDER BY id').all()
      : p.db.prepare<[number], { id: number }>('SELECT id FROM problems WHERE dataset_id = ? ORDER BY id').all(datasetId);
  return rows.map((r) => r.id);
}
