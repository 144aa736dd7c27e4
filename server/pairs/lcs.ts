// Critical lines of an IterPref pair (docs/published.md "IterPref"). Pure.
//
// Both programs are split into lines; the exact line-level longest common subsequence is found
// with jsdiff's Myers diff over the arrays of line texts (Myers finds a shortest edit script, so
// its kept lines are a longest common subsequence; no edit-length cap or timeout is set, so it
// never falls back to an approximation). Lines outside the LCS are critical: on the rejected side
// they are D-, the only rejected tokens that count in the loss. When several LCSs of the same
// length exist, the one jsdiff's Myers walk keeps is used.
//
// Lines are compared without their terminators, so "\r\n" and "\n" endings, and a missing final
// newline, never make a line critical. A critical line's span covers its text and its terminator
// (as the published code's `splitlines(keepends=True)` positions do).

import { diffArrays } from 'diff';
import type { Span } from '../protocol';

export interface Line {
  /** The line without its terminator. */
  text: string;
  /** Offset of its first character. */
  start: number;
  /** Offset after its terminator (or after its text, for a last line with none). */
  end: number;
}

/** Lines of `s`, split at "\n" and "\r\n". A final terminator does not start another line, so
 * "a\n" is one line and "" none. */
export function splitLines(s: string): Line[] {
  const lines: Line[] = [];
  let start = 0;
  while (start < s.length) {
    const nl = s.indexOf('\n', start);
    if (nl < 0) {
      lines.push({ text: s.slice(start), start, end: s.length });
      break;
    }
    const textEnd = nl > start && s.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
    lines.push({ text: s.slice(start, textEnd), start, end: nl + 1 });
    start = nl + 1;
  }
  return lines;
}

export interface LineDiff {
  chosenLines: Line[];
  rejectedLines: Line[];
  /** 0-based indices of chosen lines outside the LCS (D+), ascending. */
  chosenCritical: number[];
  /** 0-based indices of rejected lines outside the LCS (D-), ascending. */
  rejectedCritical: number[];
  /** Length of the LCS in lines. */
  common: number;
}

export function lineDiff(chosen: string, rejected: string): LineDiff {
  const chosenLines = splitLines(chosen);
  const rejectedLines = splitLines(rejected);
  const changes = diffArrays(
    chosenLines.map((l) => l.text),
    rejectedLines.map((l) => l.text),
  );
  const chosenCritical: number[] = [];
  const rejectedCritical: number[] = [];
  let i = 0;
  let j = 0;
  let common = 0;
  for (const c of changes) {
    const n = c.count ?? c.value.length;
    if (c.removed) {
      for (let k = 0; k < n; k++) chosenCritical.push(i++);
    } else if (c.added) {
      for (let k = 0; k < n; k++) rejectedCritical.push(j++);
    } else {
      i += n;
      j += n;
      common += n;
    }
  }
  if (i !== chosenLines.length || j !== rejectedLines.length) {
    throw new Error(`lineDiff: the diff covers ${i}/${chosenLines.length} chosen and ${j}/${rejectedLines.length} rejected lines`);
  }
  return { chosenLines, rejectedLines, chosenCritical, rejectedCritical, common };
}

/** The character spans of the given lines, adjacent ones merged, ascending. */
export function lineSpans(lines: readonly Line[], indices: readonly number[]): Span[] {
  const spans: Span[] = [];
  for (const i of [...indices].sort((a, b) => a - b)) {
    const l = lines[i];
    if (!l) throw new Error(`lineSpans: no line ${i} (there are ${lines.length})`);
    const last = spans[spans.length - 1];
    if (last && last[1] === l.start) last[1] = l.end;
    else spans.push([l.start, l.end]);
  }
  return spans;
}

/** A span covering all of `s` (none for an empty string). */
export function wholeSpan(s: string): Span[] {
  return s.length === 0 ? [] : [[0, s.length]];
}
