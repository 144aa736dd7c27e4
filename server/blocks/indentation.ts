// Python's indentation rules, checked on the text the way CPython's tokenizer and parser check
// them. tree-sitter-python does not enforce them (it accepts an empty body, a statement indented
// deeper than its siblings, a dedent to a level that was never opened, tabs that compare
// differently at tab sizes 8 and 1), and the published StructureCoder code gets no targets from
// code that `ast.parse` rejects, so the `structurecoder` preset must reject it too.
//
// The same pass notes what the parse tree is then asked about (astCandidates.ts): where each
// compound statement starts (they always start a logical line), and the few lines that may hold
// constructs tree-sitter accepts and Python rejects.
//
// Only for comment-free code (the structurecoder preparation removes every `#`); an unterminated
// string runs to the end (cut.ts reports it). Pure: no parse tree needed, one pass over the
// characters.
import { BACKSLASH, COLON, COMPOUND_KEYWORDS, CR, FORM_FEED, LF, SPACE, startsWithAny, TAB } from './pythonLexicon';

export interface LayoutError {
  /** IndentationError / TabError in Python; `syntax`: a line ending in `:` that opens no block. */
  kind: 'indentation' | 'syntax';
  /** 0-based row and column of the first character of the offending line (or the end of the code). */
  row: number;
  column: number;
  message: string;
}

/** Character classes of the scan (ASCII; everything else is ORDINARY). */
const ORDINARY = 0;
const BLANK = 1;
const NEWLINE = 2;
const ESCAPE = 3;
const QUOTE = 4;
const OPEN = 5;
const CLOSE = 6;
const COLON_CHAR = 7;
const EQUALS = 8;
const LESS = 9;
const CLASS = new Uint8Array(128);
for (const [chars, cls] of [[' \t\f\r', BLANK], ['\n', NEWLINE], ['\\', ESCAPE], ['\'"', QUOTE], ['([{', OPEN], [')]}', CLOSE], [':', COLON_CHAR], ['=', EQUALS], ['<', LESS]] as const) {
  for (const ch of chars) CLASS[ch.charCodeAt(0)] = cls;
}

const TAB_SIZE = 8; // CPython's tokenizer: col advances to the next multiple of 8 ...
// ... while altcol counts a tab as one column (ALTTABSIZE 1); the two must order levels alike.


/** First words of the logical lines a parse tree is asked about (astCandidates.ts): compound
 * statements, and the statements tree-sitter reads in Python 2 / 3.12 ways. */
const HEAD_WORDS = [...COMPOUND_KEYWORDS, 'print', 'exec', 'type'];

/** Characters before an `=` that make it part of another operator (`==`, `<=`, `+=`, `:=` ...). */
const NOT_ASSIGNMENT = new Set([...'=!<>:+-*/%&|^@'].map((c) => c.charCodeAt(0)));

export interface Layout {
  /** The first place where CPython would raise IndentationError / TabError (or the syntax error
   * below), if any. */
  error?: LayoutError;
  /** Offsets of the first token of every logical line that starts with one of HEAD_WORDS, in order. */
  heads: number[];
  /** Pairs of rows (first, last) of logical lines with a `:` outside brackets after an assignment's
   * `=` (`x = a: b`, which tree-sitter reads as an annotation inside the assignment; lambdas too). */
  suspects: number[];
  /** Whether `<>` occurs outside strings (Python 2's not-equal, which tree-sitter accepts). */
  lessGreater: boolean;
}

/** One pass over the characters of comment-free code with terminated strings: Python's layout
 * errors, and where the statements a parse tree will be asked about start.
 *
 * As CPython: a logical line (brackets, strings and backslash continuations join physical lines)
 * opens an indented block when it ends with `:`; its next logical line must be indented deeper
 * ("expected an indented block"), and only such a line may be ("unexpected indent"); a dedent
 * must land on an enclosing level ("unindent does not match any outer indentation level"); and
 * the levels must compare the same counting a tab as up-to-8 and as 1 column ("inconsistent use of
 * tabs and spaces in indentation"). Blank lines do not count. CRLF counts as one line break.
 * Also a syntax error: a logical line that ends with `:` but does not start with a compound
 * statement's keyword (`Example :` followed by an indented line, which tree-sitter reads as one
 * annotated assignment). */
export function scanLayout(code: string): Layout {
  const out: Layout = { heads: [], suspects: [], lessGreater: false };
  const error = scan(code, out);
  if (error) out.error = error;
  return out;
}

function scan(code: string, out: Layout): LayoutError | undefined {
  const { heads, suspects } = out;
  const n = code.length;
  const cols = [0];
  const alts = [0];
  let row = 0;
  let i = 0;
  let brackets = 0;
  /** Row of the last logical line when it ended with `:` (a block must follow), else -1. */
  let opener = -1;
  /** Char code of the last significant character of the current logical line. */
  let last = 0;
  let atLineStart = true;
  /** Where the current logical line's first token starts. */
  let first = 0;
  let firstRow = 0;
  /** The current logical line has an assignment's `=` outside brackets / then a `:` too. */
  let assigned = false;
  let suspect = false;
  // (No closures in here: variables a closure captures live on the heap, and this loop runs over
  // every character of every solution.)
  while (i < n) {
    if (atLineStart) {
      atLineStart = false;
      let lineStart = i;
      let col = 0;
      let alt = 0;
      // CPython 3.11.7 (tokenizer.c): indentation is not split by backslash continuations; the
      // column of the first backslash, when not 0, is the line's level (for both counts).
      let contCol = 0;
      for (; i < n; i++) {
        const c = code.charCodeAt(i);
        if (c === SPACE) {
          col++;
          alt++;
        } else if (c === TAB) {
          col = (Math.floor(col / TAB_SIZE) + 1) * TAB_SIZE;
          alt++;
        } else if (c === FORM_FEED) {
          col = 0;
          alt = 0;
        } else if (c === BACKSLASH && continuation(code, i) > 0) {
          contCol ||= col;
          i += continuation(code, i) - 1;
          lineStart = i + 1;
          row++;
        } else break;
      }
      if (contCol) {
        col = contCol;
        alt = contCol;
      }
      if (i >= n) break;
      const c = code.charCodeAt(i);
      if (c === LF || (c === CR && (i + 1 >= n || code.charCodeAt(i + 1) === LF))) {
        // Blank line: no tokens, no indentation change, the pending block (if any) still pending.
        i += c === CR ? 2 : 1;
        row++;
        atLineStart = true;
        continue;
      }
      const top = cols.length - 1;
      if (col > cols[top]) {
        if (alt <= alts[top]) return indentationError(row, i - lineStart, 'inconsistent use of tabs and spaces in indentation');
        if (opener < 0) return indentationError(row, i - lineStart, 'unexpected indent');
        cols.push(col);
        alts.push(alt);
      } else {
        if (opener >= 0) return indentationError(row, i - lineStart, `expected an indented block after line ${opener + 1}`);
        while (cols.length > 1 && col < cols[cols.length - 1]) {
          cols.pop();
          alts.pop();
        }
        if (col !== cols[cols.length - 1]) return indentationError(row, i - lineStart, 'unindent does not match any outer indentation level');
        if (alt !== alts[alts.length - 1]) return indentationError(row, i - lineStart, 'inconsistent use of tabs and spaces in indentation');
      }
      opener = -1;
      last = 0;
      first = i;
      firstRow = row;
      assigned = false;
      suspect = false;
      if (startsWithAny(code, i, HEAD_WORDS)) heads.push(i);
      continue;
    }
    const c = code.charCodeAt(i);
    switch (c < 128 ? CLASS[c] : ORDINARY) {
      case ORDINARY: {
        // Most of the text: run to the next character that matters.
        let j = i + 1;
        for (let d = code.charCodeAt(j); j < n && (d >= 128 || CLASS[d] === ORDINARY); d = code.charCodeAt(++j));
        last = code.charCodeAt(j - 1);
        i = j;
        break;
      }
      case BLANK:
        i++;
        break;
      case NEWLINE:
        row++;
        i++;
        if (brackets === 0) {
          if (suspect) suspects.push(firstRow, row - 1);
          // The logical line ends: with `:` it must be a compound statement's header.
          opener = -1;
          if (last === COLON) {
            const e = notAHeader(code, first, firstRow);
            if (e) return e;
            opener = firstRow;
          }
          atLineStart = true;
        }
        break;
      case ESCAPE:
        if (continuation(code, i) > 0) {
          row++;
          i += continuation(code, i);
        } else {
          last = c;
          i++;
        }
        break;
      case QUOTE: {
        const end = skipString(code, i);
        for (let k = code.indexOf('\n', i); k >= 0 && k < end; k = code.indexOf('\n', k + 1)) row++;
        i = end;
        last = c;
        break;
      }
      case OPEN:
        brackets++;
        last = c;
        i++;
        break;
      case CLOSE:
        if (brackets > 0) brackets--;
        last = c;
        i++;
        break;
      case COLON_CHAR:
        if (brackets === 0 && assigned && code.charCodeAt(i + 1) !== 61) suspect = true;
        last = c;
        i++;
        break;
      case EQUALS:
        if (brackets === 0 && code.charCodeAt(i + 1) !== 61 && !NOT_ASSIGNMENT.has(code.charCodeAt(i - 1))) assigned = true;
        last = c;
        i++;
        break;
      case LESS:
        if (code.charCodeAt(i + 1) === 62) out.lessGreater = true;
        last = c;
        i++;
        break;
    }
  }
  if (brackets === 0 && !atLineStart) {
    if (suspect) suspects.push(firstRow, row);
    opener = -1;
    if (last === COLON) {
      const e = notAHeader(code, first, firstRow);
      if (e) return e;
      opener = firstRow;
    }
  }
  if (opener >= 0) return indentationError(row, 0, `expected an indented block after line ${opener + 1}`);
  return undefined;
}

function indentationError(row: number, column: number, message: string): LayoutError {
  return { kind: 'indentation', row, column, message };
}

/** A logical line starting at `first` ends with `:`: the error when its first word is not a
 * compound statement's keyword. */
function notAHeader(code: string, first: number, row: number): LayoutError | undefined {
  if (startsWithAny(code, first, COMPOUND_KEYWORDS)) return undefined;
  return { kind: 'syntax', row, column: first - (code.lastIndexOf('\n', first - 1) + 1), message: 'invalid syntax' };
}

/** The length of a backslash continuation at `i` (backslash + LF or CRLF), else 0. */
function continuation(code: string, i: number): number {
  if (code.charCodeAt(i) !== BACKSLASH) return 0;
  const next = code.charCodeAt(i + 1);
  if (next === LF) return 2;
  return next === CR && code.charCodeAt(i + 2) === LF ? 3 : 0;
}

/** Index just past the string literal opening at `start` (a quote). A backslash escapes the next
 * character in every kind of string (raw strings included, as far as finding the end goes). An
 * unterminated string runs to the end. */
function skipString(code: string, start: number): number {
  const q = code.charCodeAt(start);
  const triple = code.charCodeAt(start + 1) === q && code.charCodeAt(start + 2) === q;
  let i = start + (triple ? 3 : 1);
  while (i < code.length) {
    const c = code.charCodeAt(i);
    if (c === BACKSLASH) {
      i += code.charCodeAt(i + 1) === CR && code.charCodeAt(i + 2) === LF ? 3 : 2;
      continue;
    }
    if (c === q && (!triple || (code.charCodeAt(i + 1) === q && code.charCodeAt(i + 2) === q))) return i + (triple ? 3 : 1);
    i++;
  }
  return i;
}
