// The stored targets of an open document (a solution or history version opened from the project),
// placed on the document's lines. Read-only.
import { PROGRAM_KIND, type BlockKind, type ProblemRef } from '../protocol';
import type { Project } from '../store/db';
import type { TargetRecord } from '../store/rows';
import { alignCutLines, cutCodeOf } from './lineAlign';

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

/** A target's place in its cut code: what a program built on it needs. */
export function targetCut(p: Project, targetId: number): Pick<TargetRecord, 'start_line' | 'pre' | 'mid' | 'suf'> {
  const r = p.db.prepare<[number], Pick<TargetRecord, 'start_line' | 'pre' | 'mid' | 'suf'>>('SELECT start_line, pre, mid, suf FROM targets WHERE id = ?').get(targetId);
  if (!r) throw new Error(`no target ${targetId} in ${p.file}`);
  return r;
}

/** A target's whole program (pre + golden middle + suf), as the code it was cut from. */
export function targetProgram(p: Project, targetId: number): string {
  return cutCodeOf(targetCut(p, targetId));
}
