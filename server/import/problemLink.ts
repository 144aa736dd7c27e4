// Which problem a document belongs to: a stored solution or history version (its `pairforge:` URI
// names it), or any Python file whose first lines carry the header comment the protocol defines
// (server/protocol/vocabulary.ts `problemHeader`, e.g. `# pairforge-problem: demo-apps/9001`).
import { parseProblemHeader, STORE_SCHEME, type ProblemRef } from '../protocol';
import { parseStoreUri } from './browse';
import type { Project } from '../store/db';

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
