// From a model's raw text to the middle that is tested (docs/published.md "StructureCoder", "Post-processing"). Pure.
//
// FIM (the published `post`): text = start + output, leading/trailing newlines dropped; keep the
// first line, then every line until the first non-blank line indented no deeper than the first
// (indentation = leading spaces only, as `lstrip(' ')` counts it); for an `if` block a same-indent
// line starting with `else` / `elif` is kept; finally right-trim (Python's whitespace). Under
// `clean`, indentation is measured as Python's tokenizer does (tabs to the next multiple of 8 and
// of 1; a line is deeper only when it is by both), so tab-indented and mixed code is cut right.
// The published test is `startswith('else')`, so `elsewhere = 1` at the block's indentation is kept
// too; the `clean` preset asks for the keyword itself (`else:` / `elif ...`) and also keeps the
// continuation clauses of the other compound statements (`for`/`while` ... `else`, `try` ...
// `except`/`else`/`finally`).
//
// Chat (the published `full`): text = start + output, cut at the first "\n```" (the closing
// fence). A block sampled through the chat format is then cut like a FIM middle.

import { pyRstrip, pyStrip } from '../blocks/cut';
import type { BlockKind } from '../protocol';

function stripChar(s: string, c: string): string {
  let i = 0;
  let j = s.length;
  while (i < j && s[i] === c) i++;
  while (j > i && s[j - 1] === c) j--;
  return s.slice(i, j);
}
function spaces(s: string): number {
  let k = 0;
  while (k < s.length && s[k] === ' ') k++;
  return k;
}

/** A line's indentation as CPython's tokenizer measures it: the column with tabs to the next
 * multiple of 8, and with tabs counting 1 (it compares both to catch inconsistent tabs); a form
 * feed resets the column. */
export function indentColumns(line: string): [number, number] {
  let col = 0;
  let alt = 0;
  for (const c of line) {
    if (c === ' ') {
      col++;
      alt++;
    } else if (c === '\t') {
      col = Math.floor(col / 8) * 8 + 8;
      alt++;
    } else if (c === '\f') {
      col = 0;
      alt = 0;
    } else break;
  }
  return [col, alt];
}

/** -1: `a` is shallower than `b` (or inconsistent with it: Python would raise TabError), 0: the
 * same level, 1: deeper. */
function compareIndent(a: [number, number], b: [number, number]): -1 | 0 | 1 {
  if (a[0] === b[0] && a[1] === b[1]) return 0;
  return a[0] > b[0] && a[1] > b[1] ? 1 : -1;
}

export interface PostOptions {
  /** 'structurecoder' (default) reproduces the published rule; 'clean' see above. */
  preset?: 'structurecoder' | 'clean';
  /** The sample came from the chat format. */
  chat?: boolean;
  /** The target is a whole program (chat only: no indentation cut). */
  wholeProgram?: boolean;
}

/** Continuation clauses kept at the block's own indentation, per kind, under `clean`. */
const CLEAN_CLAUSES: Partial<Record<BlockKind, RegExp>> = {
  if: /^(elif\b|else\s*:)/,
  for: /^else\s*:/,
  while: /^else\s*:/,
  try: /^(except\b|else\s*:|finally\s*:)/,
};

/** The published indentation truncation of `text` (= start + output). */
export function truncateBlock(kind: string, text: string, preset: 'structurecoder' | 'clean' = 'structurecoder'): string {
  const lines = stripChar(text, '\n').split('\n');
  const keep = [lines[0]];
  const clean = preset === 'clean';
  const clause = clean ? CLEAN_CLAUSES[kind as BlockKind] : undefined;
  // -1 / 0 / 1: the line is shallower than / level with / deeper than the first line.
  const first = clean ? indentColumns(lines[0]) : undefined;
  const indent = spaces(lines[0]);
  const level = (c: string): -1 | 0 | 1 => {
    if (first) return compareIndent(indentColumns(c), first);
    const ind = spaces(c);
    return ind === indent ? 0 : ind > indent ? 1 : -1;
  };
  for (const c of lines.slice(1)) {
    const stripped = pyStrip(c);
    if (stripped.length === 0) {
      keep.push(c);
      continue;
    }
    const at = level(c);
    if (at === 0) {
      const continues = clean ? clause !== undefined && clause.test(stripped) : kind === 'if' && (stripped.startsWith('else') || stripped.startsWith('elif'));
      if (continues) {
        keep.push(c);
        continue;
      }
    }
    if (at <= 0) break;
    keep.push(c);
  }
  return pyRstrip(keep.join('\n'));
}

/** The text before the first closing fence ("\n```"), as the published chat post-processing. */
export function cutAtFence(text: string): string {
  const at = text.indexOf('\n```');
  return at < 0 ? text : text.slice(0, at);
}

/** The middle to test, from the model's raw output. `start` is what the prompt ended with. */
export function postProcess(kind: string, start: string, output: string, opts: PostOptions = {}): string {
  const text = start + output;
  if (opts.chat) {
    const code = cutAtFence(text);
    // After a bare "```python" fence (whole programs, as the published prompt ends) a model starts
    // with a line break, which is not part of the program.
    return opts.wholeProgram ? code.replace(/^\r?\n/, '') : truncateBlock(kind, code, opts.preset);
  }
  return truncateBlock(kind, text, opts.preset);
}
