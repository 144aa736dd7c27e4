// The targets stage's queries for the stages after it. Cuts and targets are this stage's tables
// (server/store/migrations/001_foundation.ts lists them as such): sampling, the local stand-in,
// pairing and execution read them through these functions. A target belongs to a solution or to a
// history version; its problem is theirs, which the import stage's fragments give.
import { datasetOfProblemSql, problemOfSolutionSql, problemOfVersionSql } from '../import/queries';
import { PROGRAM_KIND } from '../protocol';
import type { Project } from '../store/db';
import { inChunks } from '../store/inList';
import type { TargetRecord } from '../store/rows';

/** A target with the id of the problem it was cut for. */
export type ProblemTarget = TargetRecord & { problem_id: number };

const PROBLEM_OF_TARGET = `COALESCE(${problemOfSolutionSql('t.solution_id')}, ${problemOfVersionSql('t.version_id')})`;
const WITH_PROBLEM = `t.id, t.solution_id, t.version_id, t.preset, t.ordinal, t.kind, t.depth, t.start_line, t.end_line, t.pre, t.mid, t.suf,
  ${PROBLEM_OF_TARGET} AS problem_id`;

/** The targets with the given ids that exist. */
export function targetsByIds(p: Project, ids: readonly number[]): Map<number, ProblemTarget> {
  const out = new Map<number, ProblemTarget>();
  inChunks(ids, (slice, qs) => {
    for (const t of p.db.prepare<number[], ProblemTarget>(`SELECT ${WITH_PROBLEM} FROM targets t WHERE t.id IN (${qs})`).all(...slice)) out.set(t.id, t);
  });
  return out;
}

/** A lookup of one target by id, its statement prepared once (for callers that ask per request). */
export function targetLookup(p: Project): (id: number) => ProblemTarget | undefined {
  const stmt = p.db.prepare<[number], ProblemTarget>(`SELECT ${WITH_PROBLEM} FROM targets t WHERE t.id = ?`);
  return (id) => stmt.get(id);
}

/** The targets with ids in [lo, hi], in id order. */
export function targetsBetween(p: Project, lo: number, hi: number): ProblemTarget[] {
  return p.db.prepare<[number, number], ProblemTarget>(`SELECT ${WITH_PROBLEM} FROM targets t WHERE t.id BETWEEN ? AND ? ORDER BY t.id`).all(lo, hi);
}

/** The ids among `ids` of targets under the preset key, in id order. */
export function targetsUnderPreset(p: Project, ids: readonly number[], preset: string): number[] {
  const out: number[] = [];
  inChunks(ids, (slice, qs) => {
    for (const r of p.db.prepare<unknown[], { id: number }>(`SELECT id FROM targets WHERE preset = ? AND id IN (${qs})`).all(preset, ...slice)) out.push(r.id);
  });
  return out.sort((a, b) => a - b);
}

/** Target ids under a preset key (of one dataset's problems when `datasetId` is given), in id
 * order, at most `limit`. */
export function presetTargetIds(p: Project, preset: string, opts: { datasetId?: number; limit?: number } = {}): number[] {
  const dataset = opts.datasetId === undefined ? '' : ` AND ${datasetOfProblemSql(PROBLEM_OF_TARGET)} = ?`;
  // LIMIT -1 is SQLite's "no limit".
  return p.db
    .prepare<(string | number)[], { id: number }>(`SELECT t.id FROM targets t WHERE t.preset = ?${dataset} ORDER BY t.id LIMIT ?`)
    .all(preset, ...(opts.datasetId === undefined ? [] : [opts.datasetId]), opts.limit ?? -1)
    .map((r) => r.id);
}

/** How many targets each preset key holds. */
export function presetCounts(p: Project): { preset: string; n: number }[] {
  return p.db.prepare<[], { preset: string; n: number }>('SELECT preset, COUNT(*) AS n FROM targets GROUP BY preset').all();
}

/** The distinct preset keys of the given targets, sorted. */
export function presetsOf(p: Project, ids: readonly number[]): string[] {
  const out = new Set<string>();
  inChunks(ids, (slice, qs) => {
    for (const r of p.db.prepare<number[], { preset: string }>(`SELECT DISTINCT preset FROM targets WHERE id IN (${qs})`).all(...slice)) out.add(r.preset);
  });
  return [...out].sort();
}

/** Stored targets (under one preset key when given), all kinds. */
export function targetCount(p: Project, preset?: string): number {
  return preset === undefined
    ? p.db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM targets').get()!.n
    : p.db.prepare<[string], { n: number }>('SELECT COUNT(*) AS n FROM targets WHERE preset = ?').get(preset)!.n;
}

/** Block targets (not whole programs) as (id, pre, suf), in id order, streamed. */
export function blockTargetEnds(p: Project): IterableIterator<Pick<TargetRecord, 'id' | 'pre' | 'suf'>> {
  return p.db.prepare<[string], Pick<TargetRecord, 'id' | 'pre' | 'suf'>>('SELECT id, pre, suf FROM targets WHERE kind <> ? ORDER BY id').iterate(PROGRAM_KIND);
}

/** Whole-program targets of reference solutions, with their problem, in id order, streamed. */
export function programTargets(p: Project): IterableIterator<{ id: number; problem_id: number }> {
  return p.db
    .prepare<[string], { id: number; problem_id: number }>(
      `SELECT t.id, ${problemOfSolutionSql('t.solution_id')} AS problem_id FROM targets t WHERE t.kind = ? AND t.solution_id IS NOT NULL ORDER BY t.id`,
    )
    .iterate(PROGRAM_KIND);
}

// ---- the dashboard's lists ----------------------------------------------------------------------

/** The ids of every target, as a subquery for `... IN (<this>)` or `FROM (<this>)` (column `id`). */
export function targetIdsSql(): string {
  return 'SELECT id FROM targets';
}

/** The first `limit` targets by id, and how many there are. */
export function targetList(p: Project, limit: number): { total: number; items: ProblemTarget[] } {
  return { total: targetCount(p), items: p.db.prepare<[number], ProblemTarget>(`SELECT ${WITH_PROBLEM} FROM targets t ORDER BY t.id LIMIT ?`).all(limit) };
}
