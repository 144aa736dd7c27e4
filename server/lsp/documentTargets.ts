// The stored targets of an open document (a solution or history version opened from the project),
// placed on the document's lines, and the samples drawn for them with their verdicts. Read-only.
import { PROGRAM_KIND } from '../blocks/types';
import type { BlockKind, Comparator, ProblemRef, SampleView, TargetSamples, Verdict } from '../protocol';
import { getPair } from '../pairs/store';
import type { Project } from '../store/db';
import { alignCutLines, cutCodeOf } from './lineAlign';
import type { TargetRecord } from '../store/rows';

export interface DocTarget {
  targetId: number;
  kind: BlockKind;
  depth: number;
  /** 0-based, inclusive, in the document. */
  startLine: number;
  endLine: number;
  mid: string;
}

type TargetRow = Pick<TargetRecord, 'id' | 'depth' | 'start_line' | 'end_line' | 'pre' | 'mid' | 'suf'> & { kind: BlockKind };

/** Block targets of the document's solution / version under `presetKey` that can be placed on its
 * lines (a target whose first or last line cannot be found, e.g. after Black, is left out). A
 * whole-program target (kind PROGRAM_KIND) is not a block: no lens or tint for it. */
export function documentTargets(p: Project, ref: ProblemRef, docText: string, presetKey: string): DocTarget[] {
  let rows: TargetRow[];
  let cut: string | undefined;
  if (ref.solutionId !== undefined) {
    rows = p.db
      .prepare<[number, string, string], TargetRow>(
        'SELECT id, kind, depth, start_line, end_line, pre, mid, suf FROM targets WHERE solution_id = ? AND preset = ? AND kind <> ? ORDER BY ordinal',
      )
      .all(ref.solutionId, presetKey, PROGRAM_KIND);
    cut = p.db.prepare<[number, string], { code: string | null }>('SELECT code FROM cuts WHERE solution_id = ? AND preset = ?').get(ref.solutionId, presetKey)?.code ?? undefined;
  } else if (ref.versionId !== undefined) {
    rows = p.db
      .prepare<[number, string, string], TargetRow>(
        'SELECT id, kind, depth, start_line, end_line, pre, mid, suf FROM targets WHERE version_id = ? AND preset = ? AND kind <> ? ORDER BY ordinal',
      )
      .all(ref.versionId, presetKey, PROGRAM_KIND);
  } else {
    return [];
  }
  if (rows.length === 0) return [];
  const map = alignCutLines(docText, cut ?? cutCodeOf(rows[0]));
  const out: DocTarget[] = [];
  for (const r of rows) {
    const start = map[r.start_line];
    const end = map[r.end_line];
    if (start === undefined || end === undefined) continue;
    out.push({ targetId: r.id, kind: r.kind, depth: r.depth, startLine: start, endLine: end, mid: r.mid });
  }
  // Source order, outer block first (the order people read lenses and tree rows in).
  return out.sort((a, b) => a.startLine - b.startLine || b.endLine - a.endLine);
}

/** Whether a cut exists for the solution under the key (so "no targets" means "no blocks"). */
export function isCut(p: Project, ref: ProblemRef, presetKey: string): boolean {
  if (ref.solutionId === undefined) return true; // versions are cut with their history, not here
  return !!p.db.prepare('SELECT 1 FROM cuts WHERE solution_id = ? AND preset = ?').get(ref.solutionId, presetKey);
}

export interface SampleCounts {
  samples: number;
  tested: number;
  pass: number;
}

/** Latest attempt-0 verdict of a sample, preferring the comparator in use. */
const VERDICT_OF_SAMPLE = `(SELECT e.verdict FROM executions e
   WHERE e.candidate_kind = 'sample' AND e.candidate_id = s.id AND e.attempt = 0
   ORDER BY e.comparator = @comparator DESC, e.id DESC LIMIT 1)`;

export function sampleCounts(p: Project, targetIds: number[], comparator: Comparator): Map<number, SampleCounts> {
  const out = new Map<number, SampleCounts>();
  if (targetIds.length === 0) return out;
  const stmt = p.db.prepare<{ target: number; comparator: string }, { n: number; tested: number; pass: number }>(
    `SELECT COUNT(*) AS n, COALESCE(SUM(v IS NOT NULL), 0) AS tested, COALESCE(SUM(v = 'pass'), 0) AS pass
     FROM (SELECT ${VERDICT_OF_SAMPLE} AS v FROM samples s WHERE s.target_id = @target)`,
  );
  for (const id of targetIds) {
    const r = stmt.get({ target: id, comparator })!;
    if (r.n > 0) out.set(id, { samples: r.n, tested: r.tested, pass: r.pass });
  }
  return out;
}

export function samplesOf(p: Project, targets: DocTarget[], comparator: Comparator): TargetSamples[] {
  const stmt = p.db.prepare<
    { target: number; comparator: string },
    { id: number; sample_index: number; job_id: number; middle: string; finish_reason: string | null; model: string; endpoint: string; created_at: string; verdict: Verdict | null }
  >(
    `SELECT s.id, s.sample_index, s.job_id, s.middle, s.finish_reason, s.model, s.endpoint, s.created_at, ${VERDICT_OF_SAMPLE} AS verdict
     FROM samples s WHERE s.target_id = @target ORDER BY s.job_id, s.sample_index`,
  );
  return targets.map((t) => ({
    targetId: t.targetId,
    kind: t.kind,
    depth: t.depth,
    startLine: t.startLine,
    endLine: t.endLine,
    golden: t.mid,
    samples: stmt.all({ target: t.targetId, comparator }).map(
      (r): SampleView => ({
        id: r.id,
        index: r.sample_index,
        jobId: r.job_id,
        middle: r.middle,
        finishReason: r.finish_reason,
        model: r.model,
        endpoint: r.endpoint,
        verdict: r.verdict,
        createdAt: r.created_at,
      }),
    ),
  }));
}

/** A stored candidate's full program (or a pair side), for read-only views and diffs. */
export function candidateText(p: Project, kind: 'sample' | 'target' | 'pair-chosen' | 'pair-rejected', id: number): string {
  if (kind === 'sample') {
    const r = p.db
      .prepare<[number], TargetRow & { middle: string }>(
        'SELECT t.start_line, t.pre, t.mid, t.suf, s.middle FROM samples s JOIN targets t ON t.id = s.target_id WHERE s.id = ?',
      )
      .get(id);
    if (!r) throw new Error(`no sample ${id} in ${p.file}`);
    return cutCodeOf({ ...r, mid: r.middle });
  }
  if (kind === 'target') {
    const r = p.db.prepare<[number], TargetRow>('SELECT start_line, pre, mid, suf FROM targets WHERE id = ?').get(id);
    if (!r) throw new Error(`no target ${id} in ${p.file}`);
    return cutCodeOf(r);
  }
  const pair = getPair(p, id);
  if (!pair) throw new Error(`no pair ${id} in ${p.file}`);
  // A block pair is shown as the whole program around its side (pre + side + suf), so the diff
  // reads as two programs; history pairs are whole programs already (empty pre / suf).
  const side = kind === 'pair-chosen' ? pair.chosen : pair.rejected;
  return cutCodeOf({ pre: pair.pre, mid: side, suf: pair.suf, start_line: pair.pre === '\n' ? 0 : 1 });
}
