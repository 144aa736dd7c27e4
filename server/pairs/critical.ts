// What the review room marks on a pair's rejected side, so the eye lands on the bug at once: the
// critical lines (outside the line LCS of chosen and rejected, docs/published.md "IterPref"), and
// inside each run of them the tokens that differ from the chosen lines they replace (a token-level
// LCS with jsdiff over the hunk). Pure; offsets are UTF-16 code units of the rejected string.
import { diffArrays } from 'diff';
import type { MarkedRange } from '../protocol';
import { lineDiff, type Line } from './lcs';

/** Code tokens of a text with their offsets: identifiers/numbers, runs of spaces, single others. */
export function codeTokens(s: string, base = 0): { text: string; start: number }[] {
  const out: { text: string; start: number }[] = [];
  const re = /[\p{L}\p{N}_]+|[ \t]+|\r?\n|[^\p{L}\p{N}_ \t\r\n]/gu;
  for (const m of s.matchAll(re)) out.push({ text: m[0], start: base + m.index! });
  return out;
}

/** Groups of consecutive indices (a hunk of adjacent critical lines). */
function runs(indices: readonly number[]): number[][] {
  const out: number[][] = [];
  for (const i of indices) {
    const last = out[out.length - 1];
    if (last && last[last.length - 1] === i - 1) last.push(i);
    else out.push([i]);
  }
  return out;
}

function textOf(lines: readonly Line[], idx: readonly number[], source: string): { text: string; start: number } {
  if (idx.length === 0) return { text: '', start: 0 };
  const start = lines[idx[0]].start;
  return { text: source.slice(start, lines[idx[idx.length - 1]].end), start };
}

/**
 * The marks of the rejected side: each critical line once (kind 'line'), and the tokens of it that
 * are not in the token LCS with the chosen hunk it replaces (kind 'token', whitespace left out).
 * A rejected hunk is compared with the chosen critical lines between the same common lines.
 */
export function rejectedMarks(chosen: string, rejected: string): MarkedRange[] {
  const d = lineDiff(chosen, rejected);
  const marks: MarkedRange[] = [];
  const rejectedCritical = new Set(d.rejectedCritical);
  const chosenCritical = new Set(d.chosenCritical);
  // Walk both sides in step: common lines advance both, critical lines one; so each rejected hunk
  // meets the chosen hunk at the same place.
  let i = 0;
  let j = 0;
  while (j < d.rejectedLines.length || i < d.chosenLines.length) {
    const cHunk: number[] = [];
    const rHunk: number[] = [];
    while (i < d.chosenLines.length && chosenCritical.has(i)) cHunk.push(i++);
    while (j < d.rejectedLines.length && rejectedCritical.has(j)) rHunk.push(j++);
    if (rHunk.length > 0) {
      for (const r of runs(rHunk)) {
        const first = d.rejectedLines[r[0]];
        const last = d.rejectedLines[r[r.length - 1]];
        marks.push({ start: first.start, end: last.end, kind: 'line' });
      }
      const rt = textOf(d.rejectedLines, rHunk, rejected);
      const ct = textOf(d.chosenLines, cHunk, chosen);
      const rTokens = codeTokens(rt.text, rt.start);
      const cTokens = codeTokens(ct.text, ct.start);
      let k = 0;
      for (const c of diffArrays(
        cTokens.map((t) => t.text),
        rTokens.map((t) => t.text),
      )) {
        const n = c.count ?? c.value.length;
        if (c.removed) continue;
        if (c.added) {
          for (let m = 0; m < n; m++) {
            const t = rTokens[k + m];
            if (t.text.trim() !== '') marks.push({ start: t.start, end: t.start + t.text.length, kind: 'token' });
          }
        }
        k += n;
      }
    }
    if (cHunk.length === 0 && rHunk.length === 0) {
      i++;
      j++;
    }
  }
  return marks.sort((a, b) => a.start - b.start || (a.kind === 'line' ? -1 : 1));
}
