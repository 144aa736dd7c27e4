// Which problem a document belongs to: a stored solution or history version (its `pairforge:` URI
// names it), or any Python file whose first lines carry a header comment
//
//     # pairforge-problem: <dataset>/<problem id>
//
// e.g. `# pairforge-problem: demo-apps/9001` or `# pairforge-problem: HumanEval/HumanEval/0` (the
// dataset name is everything before the first `/`, since dataset names come from file names).
// A comment, not editor state: the link travels with the file, works the same from the CLI, and a
// person can read and change it.
import type { ProblemRef } from '../protocol';
import { STORE_SCHEME } from '../protocol';
import { parseStoreUri } from '../store/browse';
import type { Project } from '../store/db';

/** The header is looked for in this many first lines (after a shebang / encoding line / docstring start). */
export const LINK_HEADER_LINES = 5;
const HEADER = /^#\s*pairforge-problem:\s*([^/\s][^/]*)\/(\S.*?)\s*$/;

/** `{dataset, externalId}` from the header comment, or undefined. Pure. */
export function parseProblemHeader(text: string): { dataset: string; externalId: string; line: number } | undefined {
  const lines = text.split('\n', LINK_HEADER_LINES);
  for (let i = 0; i < lines.length; i++) {
    const m = HEADER.exec(lines[i].replace(/\r$/, '').trim());
    if (m) return { dataset: m[1].trim(), externalId: m[2], line: i };
  }
  return undefined;
}

/** The header line that links a file to a problem. Pure. */
export function problemHeader(dataset: string, externalId: string): string {
  return `# pairforge-problem: ${dataset}/${externalId}`;
}

interface ProblemRow {
  id: number;
  dataset: string;
  external_id: string;
  tests: number;
}

const PROBLEM_COLUMNS = `pr.id, d.name AS dataset, pr.external_id, (SELECT COUNT(*) FROM tests t WHERE t.problem_id = pr.id) AS tests`;

/** The problem of a document, or null when it has none. Throws (with the reason) when the link
 * names something the project does not hold, so the user sees why Run Tests cannot run. */
export function linkedProblem(p: Project, uri: string, text: string | undefined): ProblemRef | null {
  if (uri.startsWith(`${STORE_SCHEME}:`)) {
    const ref = parseStoreUri(uri);
    const row =
      'solutionId' in ref
        ? p.db
            .prepare<[number], ProblemRow>(
              `SELECT ${PROBLEM_COLUMNS} FROM solutions s JOIN problems pr ON pr.id = s.problem_id JOIN datasets d ON d.id = pr.dataset_id WHERE s.id = ?`,
            )
            .get(ref.solutionId)
        : p.db
            .prepare<[number], ProblemRow>(
              `SELECT ${PROBLEM_COLUMNS} FROM history_versions v JOIN histories h ON h.id = v.history_id
               JOIN problems pr ON pr.id = h.problem_id JOIN datasets d ON d.id = pr.dataset_id WHERE v.id = ?`,
            )
            .get(ref.versionId);
    if (!row) throw new Error(`${uri}: no such ${'solutionId' in ref ? 'solution' : 'history version'} in ${p.file}`);
    return { problemId: row.id, dataset: row.dataset, externalId: row.external_id, via: 'store', tests: row.tests, ...ref };
  }
  if (text === undefined) return null;
  const h = parseProblemHeader(text);
  if (!h) return null;
  const row = p.db
    .prepare<[string, string], ProblemRow>(
      `SELECT ${PROBLEM_COLUMNS} FROM problems pr JOIN datasets d ON d.id = pr.dataset_id WHERE d.name = ? AND pr.external_id = ?`,
    )
    .get(h.dataset, h.externalId);
  if (!row) throw new Error(`line ${h.line + 1}: no problem '${h.externalId}' in dataset '${h.dataset}' of ${p.file}`);
  return { problemId: row.id, dataset: row.dataset, externalId: row.external_id, via: 'header', tests: row.tests };
}
