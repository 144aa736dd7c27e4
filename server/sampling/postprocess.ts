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
// The published rule looks at every physical line, so a line that continues a statement inside
// open brackets, a string or after a backslash ends the block when it sits at or left of the
// block's indentation (MBPP 367: `\tif (...) and f( \n\troot.left) ...:` comes back as its first
// line). `clean` follows Python's tokenizer there too (cleanTruncate): only the start of a logical
// line can end the block; lines inside brackets, strings (triple-quoted ones included) and after
// a backslash continuation are kept, and so are blank and comment-only lines when the block goes
// on after them (Python ignores their indentation).
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

/** The published indentation truncation of `text` (= start + output); `clean` see cleanTruncate. */
export function truncateBlock(kind: string, text: string, preset: 'structurecoder' | 'clean' = 'structurecoder'): string {
  const lines = stripChar(text, '\n').split('\n');
  if (preset === 'clean') return cleanTruncate(kind, lines);
  // The published rule, quirks included (docs/published.md): every physical line counts, its
  // indentation is its leading spaces; `startswith('else')` / `'elif'` keeps an if's clauses.
  const keep = [lines[0]];
  const indent = spaces(lines[0]);
  for (const c of lines.slice(1)) {
    const stripped = pyStrip(c);
    if (stripped.length === 0) {
      keep.push(c);
      continue;
    }
    const ind = spaces(c);
    if (ind === indent && kind === 'if' && (stripped.startsWith('else') || stripped.startsWith('elif'))) {
      keep.push(c);
      continue;
    }
    if (ind <= indent) break;
    keep.push(c);
  }
  return pyRstrip(keep.join('\n'));
}

/** Where Python's tokenizer is at the end of a line: how many brackets are open, which string is
 * open (its quote: `'`, `"`, `'''` or `"""`), whether a backslash continues the line. */
export interface LineState {
  depth: number;
  quote: string | null;
  backslash: boolean;
}

/** A line ends with a backslash (before an optional `\r`). */
function endsWithBackslash(line: string, i: number): boolean {
  return i === line.length - 1 || (i === line.length - 2 && line[line.length - 1] === '\r');
}

/** Advances `s` over one physical line as Python's tokenizer reads it: brackets outside strings
 * and comments, string literals (a backslash escapes the next character, in raw strings too; a
 * single-quoted string ends with its line unless a backslash continues it), `#` comments, and a
 * backslash at the end of the line outside a string. Unbalanced closing brackets count as none. */
export function scanLine(line: string, s: LineState): LineState {
  s.backslash = false;
  for (let i = 0; i < line.length; ) {
    const c = line[i];
    if (s.quote !== null) {
      if (c === '\\') {
        // a backslash at the end of the line continues the string on the next one
        if (endsWithBackslash(line, i)) return s;
        i += 2;
      } else if (line.startsWith(s.quote, i)) {
        i += s.quote.length;
        s.quote = null;
      } else i++;
      continue;
    }
    if (c === '#') break;
    if (c === '"' || c === "'") {
      s.quote = line.startsWith(c + c + c, i) ? c + c + c : c;
      i += s.quote.length;
      continue;
    }
    if (c === '(' || c === '[' || c === '{') s.depth++;
    else if (c === ')' || c === ']' || c === '}') s.depth = Math.max(0, s.depth - 1);
    else if (c === '\\' && endsWithBackslash(line, i)) {
      s.backslash = true;
      break;
    }
    i++;
  }
  // An unterminated single-quoted string is an error in Python; it does not run on.
  if (s.quote !== null && s.quote.length === 1) s.quote = null;
  return s;
}

/** The `clean` truncation: indentation measured as Python's tokenizer does (indentColumns), and
 * only where a logical line starts (no bracket or string open, no backslash continuation): a
 * logical line level with the block's first line ends it unless it is one of the kind's
 * continuation clauses, a shallower (or inconsistent) one ends it; every other line is kept.
 * Blank and comment-only lines are kept only when the block goes on after them. */
function cleanTruncate(kind: string, lines: string[]): string {
  const clause = CLEAN_CLAUSES[kind as BlockKind];
  const first = indentColumns(lines[0]);
  const state = scanLine(lines[0], { depth: 0, quote: null, backslash: false });
  const keep = [lines[0]];
  let pending: string[] = [];
  for (const c of lines.slice(1)) {
    if (state.depth === 0 && state.quote === null && !state.backslash) {
      const stripped = pyStrip(c);
      if (stripped.length === 0 || stripped.startsWith('#')) {
        pending.push(c);
        continue;
      }
      const at = compareIndent(indentColumns(c), first);
      const continues = at > 0 || (at === 0 && clause !== undefined && clause.test(stripped));
      if (!continues) break;
    }
    keep.push(...pending, c);
    pending = [];
    scanLine(c, state);
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
