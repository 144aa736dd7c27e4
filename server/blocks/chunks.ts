// Splits a Python source into chunks of whole top-level statements by a lexical line scan, so each
// chunk can be parsed as its own tree (server/blocks/documents.ts). Pure: text in, offsets out.
//
// A chunk boundary is the start of a line that begins at column 0 with a code character (not
// blank, not a comment), where the lexical state at the line start is clean (not inside a string,
// no open bracket, the previous line not ending in a backslash continuation), and which does not
// continue the previous statement:
//  - `else`/`elif`/`except`/`finally` lines never start a chunk, and the code line after a column-0
//    decorator does not either (the decorator starts the chunk);
//  - tree-sitter reads a line break as whitespace where its grammar cannot end a statement, so it
//    accepts `def f\n(a): pass` or `x =\ny` as one statement (Python does not). A code line after a
//    statement that looks unfinished (it ends in an operator, a comma or a keyword such as `and`,
//    `import`, `as`; or it starts with a compound keyword and has no `:`) therefore never starts a
//    chunk, and neither does a line starting with a character no statement starts with (`)`, `:`,
//    `,`, `.`, ...) nor an `import` line after a `from` statement. The test errs towards
//    "unfinished": a missed boundary only makes a chunk larger;
//  - in a class body, a code line indented less than the body (or with other whitespace) ends the
//    class for member chunks: tree-sitter closes the class there, even where Python reports an
//    indentation error.
// So for every text that tree-sitter parses without errors each boundary is the start of a
// top-level statement and every chunk holds whole statements, and parsing chunks one by one gives
// the same statements as parsing the file (blank and comment lines go to the chunk before them).
//
// Error tolerance (only matters for code tree-sitter rejects): a single-quoted string still open at
// a newline ends there, and a line starting with a keyword that can never appear inside brackets,
// after a backslash continuation or after an unfinished statement in valid code (`def`, `class`,
// `return`, ...) drops any open brackets / continuation, so an unclosed `(` does not merge the rest
// of the file into one chunk. An unterminated triple-quoted string is not reset (Python cannot tell
// where it should have ended either): it merges every chunk up to the end of the file.
//
// Known approximation: Python 3.12 f-strings may nest the quote that opened them
// (`f"{d["k"]}"`); the scan reads those as two strings, which pair up again on the same line, so
// it only matters for a replacement field spanning lines with column-0 code inside, which 3.11
// cannot parse at all.

/** A chunk of top-level statements, or of class-body statements (a member chunk: the statements
 * of one class body from a `def`/`async def`/`class`/decorator line at the body's indentation up to
 * the next such line, parsed under a synthetic `class _:` header). A member chunk belongs to the
 * class of the nearest top-level chunk before it. */
import { AT, BACKSLASH, COLON, COMPOUND_KEYWORDS, CR, DOT, HASH, isIdentChar, keywordAt, LF, startsWithAny } from './pythonLexicon';

export type ChunkKind = 0 | 1;
export const TOP: ChunkKind = 0;
export const MEMBER: ChunkKind = 1;

/** Chunk starts: `offsets[i]` is the index in the text of chunk i's first character (always a line
 * start), `rows[i]` its row (0-based, rows break at "\n" as tree-sitter's do), `kinds[i]` its kind.
 * `offsets[0] === 0` and `kinds[0] === TOP`. */
export interface ChunkStarts {
  offsets: number[];
  rows: number[];
  kinds: ChunkKind[];
}


/** Keywords that continue the statement before them at the same indentation. */
const CONTINUATIONS = ['else', 'elif', 'except', 'finally'];
/** Statements that start a member chunk in a class body (besides a decorator `@`). */
const MEMBER_STARTS = ['def', 'class'];
/** Keywords that cannot occur inside brackets, after a backslash continuation or as the rest of an
 * unfinished statement in valid code, so a line starting with one proves the open brackets (or the
 * unfinished statement) were never closed. `if`, `for`, `from`, `lambda`, `not`, `await`,
 * `async for` and `@` can (comprehensions, conditional expressions, `yield from`, matrix product),
 * so they are not here; `import` can finish a `from x` line, so it resets brackets only. */
const RESETS = ['def', 'class', 'while', 'with', 'try', 'return', 'raise', 'pass', 'global', 'nonlocal', 'del', 'assert', 'break', 'continue'];
/** Keywords a statement cannot end with. */
const OPERAND_KEYWORDS = new Set([
  'and', 'or', 'not', 'in', 'is', 'if', 'else', 'elif', 'for', 'while', 'with', 'from', 'import', 'as',
  'lambda', 'await', 'async', 'del', 'global', 'nonlocal', 'assert', 'def', 'class', 'except',
]);
/** Characters a statement cannot end with (`.` can, as in `1.` or `...`, but it errs towards
 * "unfinished" except for `...`) and, with `)`, `]`, `}`, `;`, characters no statement starts with
 * (`+`, `-`, `*`, `~`, `.` of `...` can start one, so they are not in the second set). */
const OPERATOR_ENDS = new Set([...'=+-*/%@&|^~<>!,.:'].map((c) => c.charCodeAt(0)));
const NEVER_STARTS = new Set([...'=/%&|^<>!,.:)]};'].map((c) => c.charCodeAt(0)));

function isAsyncDef(text: string, at: number): boolean {
  if (!keywordAt(text, at, 'async')) return false;
  let i = at + 5;
  while (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 9) i++;
  return i > at + 5 && keywordAt(text, i, 'def');
}

function isResetLine(text: string, at: number): boolean {
  return startsWithAny(text, at, RESETS) || isAsyncDef(text, at);
}

/** Whether a code line starting at `at` with character `c` cannot start a statement. */
function neverStarts(text: string, at: number, c: number): boolean {
  return NEVER_STARTS.has(c) && !(c === DOT && text.startsWith('...', at));
}

/** Whether a statement whose last code character (outside strings and comments) is at `last` may
 * end there, for tree-sitter. */
function mayEndAt(text: string, last: number, compound: boolean, colon: boolean): boolean {
  if (last < 0) return true;
  const c = text.charCodeAt(last);
  if (compound && !colon) return false;
  if (c === COLON) return compound;
  if (c === DOT) return last >= 2 && text.charCodeAt(last - 1) === DOT && text.charCodeAt(last - 2) === DOT;
  if (OPERATOR_ENDS.has(c)) return false;
  if (!isIdentChar(c)) return true;
  let w = last;
  while (w > 0 && isIdentChar(text.charCodeAt(w - 1))) w--;
  return last - w > 7 || !OPERAND_KEYWORDS.has(text.slice(w, last + 1));
}

/** Leading spaces and tabs of the line starting at `at`. */
function indentWidth(text: string, at: number): number {
  let i = at;
  for (let c = text.charCodeAt(i); c === 32 || c === 9; c = text.charCodeAt(++i));
  return i - at;
}

/**
 * Scans lines from `from` (0 or a chunk start of kind `kind` found by an earlier scan of the same
 * text before it: the state there is known, see below) at row `row`, and calls
 * `onBoundary(offset, row, kind)` for every chunk start after `from`; the scan stops when it
 * returns true.
 *
 * The state at any chunk start follows from that line alone (clean lexical state, the statement
 * before finished; for a top-level start nothing else; for a member start: inside a class body
 * whose indentation is the line's), so an incremental rescan may begin at an old chunk start and
 * stop at the first start after the edit that the old scan also had with the same kind.
 */
export function scanBoundaries(text: string, from: number, row: number, kind: ChunkKind, onBoundary: (offset: number, row: number, kind: ChunkKind) => boolean): void {
  const n = text.length;
  // lexical state
  let quote = 0;
  let triple = false;
  let depth = 0;
  let continued = false;
  // statement state
  /** The statement so far cannot end yet: the next code line continues it (see the top). */
  let unfinished = false;
  /** Index of the statement's last code character outside strings and comments (-1: none yet). */
  let last = -1;
  /** The statement starts with a compound keyword / has a `:` outside brackets and strings. */
  let compound = false;
  let colon = false;
  /** The statement starts with `from`: a line starting with `import` may finish it (tree-sitter
   * joins `from m` and `import n` on the next line), so such a line never starts a statement. */
  let fromStatement = false;
  /** The last statement starting in a clean state (at any indentation) was a decorator: the line
   * after it is never a chunk start. (In valid code that line is the decorated def/class or another
   * decorator; tree-sitter also accepts a decorator indented unlike its def, so the indentation
   * is not checked.) */
  let decorator = false;
  /** 0: not in a class chunk; 1: in one, its body not seen yet; 2: body seen, at `bodyAt`/`bodyWidth`.
   * A code line indented unlike the body (less, or with other whitespace) ends it: tree-sitter
   * closes the class at a line indented less than its body, even where Python reports an error. */
  let classMode = kind === MEMBER ? 2 : 0;
  let bodyAt = from;
  let bodyWidth = kind === MEMBER ? indentWidth(text, from) : 0;
  let i = from;
  for (;;) {
    // --- at the start of a line (offset i, row `row`)
    if (i >= n) return;
    if (quote === 0) {
      const w = indentWidth(text, i);
      const at = i + w;
      const c = text.charCodeAt(at);
      const code = at < n && c !== 12 && c !== LF && c !== CR && c !== HASH;
      if (code) {
        if ((depth > 0 || continued || unfinished) && isResetLine(text, at)) {
          depth = 0;
          continued = false;
          unfinished = false;
        } else if ((depth > 0 || continued) && keywordAt(text, at, 'import')) {
          depth = 0;
          continued = false;
        }
        if (depth === 0 && !continued && !unfinished && !neverStarts(text, at, c) && !(fromStatement && keywordAt(text, at, 'import'))) {
          // A new statement.
          last = -1;
          colon = false;
          // Without a `:` (outside brackets and strings) a compound statement is unfinished; with the
          // soft keywords `match`/`case`, a `match = 1` line only loses a boundary after it.
          compound = startsWithAny(text, at, COMPOUND_KEYWORDS);
          fromStatement = keywordAt(text, at, 'from');
          const afterDecorator = decorator;
          decorator = c === AT;
          if (w === 0) {
            const boundary = i > from && !afterDecorator && !startsWithAny(text, i, CONTINUATIONS);
            if (c !== AT) classMode = keywordAt(text, i, 'class') ? 1 : 0;
            else if (boundary) classMode = 0;
            if (boundary && onBoundary(i, row, TOP)) return;
          } else if (classMode === 1) {
            // The class's first body statement fixes the body's indentation; it never starts a
            // member chunk (the chunk with the header would be left without a body).
            classMode = 2;
            bodyAt = i;
            bodyWidth = w;
          } else if (classMode === 2) {
            if (w < bodyWidth || !text.startsWith(text.slice(bodyAt, bodyAt + bodyWidth), i)) classMode = 0;
            else if (w === bodyWidth) {
              const boundary = i > from && !afterDecorator && (c === AT || startsWithAny(text, at, MEMBER_STARTS) || isAsyncDef(text, at));
              if (boundary && onBoundary(i, row, MEMBER)) return;
            }
          }
        }
      }
    }
    continued = false;
    // --- the rest of the line, up to and including its "\n"
    for (;;) {
      if (i >= n) return;
      const c = text.charCodeAt(i);
      if (quote !== 0) {
        if (c === BACKSLASH) {
          // An escape, even in a raw string (r"\"" does not end at the second quote); an escaped
          // line break continues a single-quoted string onto the next line.
          const d = text.charCodeAt(i + 1);
          if (d === LF) {
            i += 2;
            row++;
          } else if (d === CR && text.charCodeAt(i + 2) === LF) {
            i += 3;
            row++;
          } else i += 2;
          continue;
        }
        if (c === quote) {
          if (!triple) {
            quote = 0;
            last = i;
            i++;
          } else if (text.charCodeAt(i + 1) === c && text.charCodeAt(i + 2) === c) {
            quote = 0;
            last = i + 2;
            i += 3;
          } else i++;
          continue;
        }
        i++;
        if (c === LF) {
          row++;
          // An unterminated single-quoted string ends at the line break (Python rejects it).
          if (!triple) {
            quote = 0;
            if (depth === 0) unfinished = false;
          }
          break;
        }
        continue;
      }
      if (c === LF) {
        if (depth === 0) {
          // `from m import *` ends in an operator character, but is finished.
          unfinished = !mayEndAt(text, last, compound, colon) && !(fromStatement && text.charCodeAt(last) === 42);
          // A class whose body follows its `:` on the same line has no member chunks.
          if (classMode === 1 && !unfinished && text.charCodeAt(last) !== COLON) classMode = 0;
        }
        i++;
        row++;
        break;
      }
      if (c === HASH) {
        const nl = text.indexOf('\n', i);
        i = nl < 0 ? n : nl;
        continue;
      }
      if (c === 32 || c === 9 || c === CR || c === 12) {
        i++;
        continue;
      }
      if (c === 34 || c === 39) {
        // A string (any prefix letters are identifier characters just before it).
        quote = c;
        triple = text.charCodeAt(i + 1) === c && text.charCodeAt(i + 2) === c;
        i += triple ? 3 : 1;
        continue;
      }
      if (c === BACKSLASH) {
        const d = text.charCodeAt(i + 1);
        const skip = d === LF ? 2 : d === CR && text.charCodeAt(i + 2) === LF ? 3 : 0;
        if (skip) {
          i += skip;
          row++;
          continued = true;
          break;
        }
      }
      last = i;
      if (c === 40 || c === 91 || c === 123) depth++;
      else if (c === 41 || c === 93 || c === 125) {
        if (depth > 0) depth--;
      } else if (c === COLON && depth === 0 && text.charCodeAt(i + 1) !== 61) colon = true;
      i++;
    }
  }
}

/** All chunk starts of a text. */
export function chunkStarts(text: string): ChunkStarts {
  const out: ChunkStarts = { offsets: [0], rows: [0], kinds: [TOP] };
  scanBoundaries(text, 0, 0, TOP, (offset, row, kind) => {
    out.offsets.push(offset);
    out.rows.push(row);
    out.kinds.push(kind);
    return false;
  });
  return out;
}

/**
 * The chunk starts of `text` after an edit that replaced old[start, oldEnd) by text[start, newEnd),
 * given the old text's chunk starts. Rescans only from the last chunk start before the edited line
 * until a chunk start after the edit that the old scan also had, with the same kind (from there on
 * both scans agree, see scanBoundaries); the rest is the old starts moved.
 */
export function rescanChunkStarts(old: ChunkStarts, text: string, start: number, oldEnd: number, newEnd: number): ChunkStarts {
  const delta = newEnd - oldEnd;
  // The line holding `start` may stop (or start) being a chunk start, so begin before it.
  const lineStart = text.lastIndexOf('\n', start - 1) + 1;
  let lo = 0;
  let hi = old.offsets.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (old.offsets[mid] < lineStart) lo = mid;
    else hi = mid - 1;
  }
  const k = lo; // offsets[0] = 0 qualifies unless the edit is on the first line, where k = 0 too
  const out: ChunkStarts = { offsets: old.offsets.slice(0, k + 1), rows: old.rows.slice(0, k + 1), kinds: old.kinds.slice(0, k + 1) };
  let j = k + 1;
  let tail = -1;
  let rowShift = 0;
  scanBoundaries(text, old.offsets[k], old.rows[k], old.kinds[k], (offset, row, kind) => {
    if (offset >= newEnd) {
      const oldOffset = offset - delta;
      while (j < old.offsets.length && old.offsets[j] < oldOffset) j++;
      if (j < old.offsets.length && old.offsets[j] === oldOffset && old.kinds[j] === kind) {
        tail = j;
        rowShift = row - old.rows[j];
        return true;
      }
    }
    out.offsets.push(offset);
    out.rows.push(row);
    out.kinds.push(kind);
    return false;
  });
  if (tail >= 0) {
    for (let t = tail; t < old.offsets.length; t++) {
      out.offsets.push(old.offsets[t] + delta);
      out.rows.push(old.rows[t] + rowShift);
      out.kinds.push(old.kinds[t]);
    }
  }
  return out;
}
