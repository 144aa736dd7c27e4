// IterPref pairing of one iteration history (docs/published.md "IterPref"). Pure.
//
// chosen = the final passing version (the latest version whose verdict is pass); rejected = an
// earlier version that fails (any verdict but pass), one picked with a seed, or all of them.
// The pick hashes (seed, history id), so it does not depend on which other histories are paired
// in the same run and a re-run picks the same version.

import { createHash } from 'node:crypto';
import { ndiffMarks } from './difflib';
import { lineDiff, lineSpans, splitLines, wholeSpan, type LineDiff } from './lcs';
import type { Verdict, Span } from '../protocol';

export type RejectedPick = 'one' | 'all';

/** How critical lines are found: the exact line LCS (default), or Python's difflib.ndiff as the
 * published code does (server/pairs/difflib.ts). */
export type LineMode = 'lcs' | 'difflib';
export const LINE_MODES: readonly LineMode[] = ['lcs', 'difflib'];

export interface HistoryVersion {
  versionId: number;
  ordinal: number;
  code: string;
  executionId: number | null;
  /** null: not executed yet (or flaky): never chosen nor rejected. */
  verdict: Verdict | null;
}

export interface IterPrefPair {
  chosen: HistoryVersion;
  rejected: HistoryVersion;
  diff: LineDiff;
  chosenSpans: Span[];
  rejectedSpans: Span[];
}

export type IterPrefResult = { pairs: IterPrefPair[]; skipped?: undefined } | { pairs: []; skipped: 'no_passing_version' | 'no_failing_version' };

/** A number in [0, n) from (seed, key), stable across runs and platforms. */
export function seededIndex(seed: number, key: string, n: number): number {
  const h = createHash('sha256').update(`${seed}:${key}`).digest();
  return h.readUInt32BE(0) % n;
}

/** The lines of both programs and which are critical, by `mode`. */
export function criticalLines(chosen: string, rejected: string, mode: LineMode = 'lcs'): LineDiff {
  if (mode === 'lcs') return lineDiff(chosen, rejected);
  const chosenLines = splitLines(chosen);
  const rejectedLines = splitLines(rejected);
  const m = ndiffMarks(
    chosenLines.map((l) => l.text),
    rejectedLines.map((l) => l.text),
  );
  return { chosenLines, rejectedLines, ...m, common: chosenLines.length - m.chosenCritical.length };
}

/** The pair's loss spans: all of chosen; on rejected, only the critical (D-) lines. */
export function iterPrefSpans(chosen: string, rejected: string, mode: LineMode = 'lcs'): { diff: LineDiff; chosenSpans: Span[]; rejectedSpans: Span[] } {
  const diff = criticalLines(chosen, rejected, mode);
  return { diff, chosenSpans: wholeSpan(chosen), rejectedSpans: lineSpans(diff.rejectedLines, diff.rejectedCritical) };
}

/** Pairs one history; `versions` in any order (sorted here by ordinal). */
export function pairHistory(historyId: number, versions: readonly HistoryVersion[], opts: { pick: RejectedPick; seed: number; lines?: LineMode }): IterPrefResult {
  const sorted = [...versions].sort((a, b) => a.ordinal - b.ordinal);
  let c = -1;
  for (let i = sorted.length - 1; i >= 0; i--) {
    if (sorted[i].verdict === 'pass') {
      c = i;
      break;
    }
  }
  if (c < 0) return { pairs: [], skipped: 'no_passing_version' };
  const failing = sorted.slice(0, c).filter((v) => v.verdict !== null && v.verdict !== 'pass');
  if (failing.length === 0) return { pairs: [], skipped: 'no_failing_version' };
  const picked = opts.pick === 'all' ? failing : [failing[seededIndex(opts.seed, `history:${historyId}`, failing.length)]];
  const chosen = sorted[c];
  return {
    pairs: picked.map((rejected) => ({ chosen, rejected, ...iterPrefSpans(chosen.code, rejected.code, opts.lines ?? 'lcs') })),
  };
}
