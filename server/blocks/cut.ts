// Cuts a solution into fill-in-the-middle targets (REFERENCE.md section 1; README "Presets").
//
// Preset differences (`structurecoder` reproduces the published code, `clean` fixes its quirks):
//
// | | structurecoder | clean |
// |---|---|---|
// | whitespace around the solution | `.strip()`ped (Python's whitespace set), as the published `fim()` does | kept |
// | line endings | kept as given (a line without `#` keeps its `\r`) | CRLF / CR normalised to LF |
// | comments | every line whose stripped text starts with `#` is dropped; any other line is cut at its first `#`, even inside a string, and right-trimmed (so `s = "#"` breaks the code and the solution yields no targets) | real comment tokens (from the parse tree) are removed: comment-only lines dropped, trailing comments cut and the line right-trimmed; `#` inside strings is kept |
// | block kinds | `if`, `for`, `while`, `def` | the same plus, when asked (`extraKinds`), `async_def`, `with`, `try`, `class`; `async for` counts as `for`, `async with` as `with` |
// | `elif` | a nested `if` (as in Python's `ast`) that is never a target but adds a level of depth: `if/elif/else` has depth 2, each further `elif` one more | part of its `if`, not a level: `if/elif/else` with plain bodies has depth 1 |
// | `def` with `_` in its name | skipped (still counts for the depth of enclosing blocks) | a target |
// | `async def` / `async for` | not targets and not counted for depth | see above |
// | decorators | outside the `def` block (it starts at the `def` line) | inside the block (it starts at the first decorator) |
// | cut at the edges | a block on the first line gets `pre = "\n"`, one on the last line `suf = "\n"` (Python's `'\n'.join([]) + '\n'`), so `pre + mid + suf` is the code with an extra `\n` there | `pre + mid + suf === code` always |
// | order of targets | the published visitor's post-order (inner blocks first), so a seeded shuffle downstream reproduces theirs | by start line |
// | code that does not parse | no targets, `error` set: tree-sitter errors, plus what tree-sitter accepts but Python 3.11's `ast.parse` rejects (a newline inside a single-quoted string, which the comment quirk produces from `c == '#'`; indentation errors: an empty body, a statement indented deeper than its siblings, a dedent to no enclosing level, a misaligned `else`/`elif`/`except`/`finally`, tabs that compare differently at sizes 8 and 1; Python-2 `print x` / `exec`; `<>`; 3.12 type parameters and `type` aliases; NUL bytes) | no targets, `error` set (tree-sitter errors) |
//
// Parity (scripts/parity/compare.mjs, the published function run on the same inputs): HumanEval
// prompt + canonical solution, 164 inputs, 339 targets, 0 differences; CPython 3.11 standard library
// without site-packages, 1,789 files, 32,438 targets, 1 difference: `from __future__ import *`,
// which Python's parser accepts (the compiler rejects it later) and tree-sitter does not.
// Seeded mutations of those files (scripts/parity/mutate.mjs: deleted / duplicated / dedented
// lines, inserted brackets, quotes, colons, tabs): 1,228 inputs, 6,432 targets, 1 difference (a
// deleted docstring opener leaving `Example :` + newline + string, which tree-sitter reads as one
// annotated statement).
import { spawn } from 'node:child_process';
import type { Node } from 'web-tree-sitter';
import { blockQuery, collectBlocks, commentNodes } from './extract';
import type { PythonGrammar } from './parser';
import type { BlockKind, CutResult, Preset, PresetOptions, Target } from './types';

/** Python's `str.isspace()` characters (what `str.strip()` removes). */
const PY_WHITESPACE = new Set(
  '\t\n\v\f\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000',
);

function pyLstripIndex(s: string, from = 0): number {
  let i = from;
  while (i < s.length && PY_WHITESPACE.has(s[i])) i++;
  return i;
}

export function pyRstrip(s: string): string {
  let j = s.length;
  while (j > 0 && PY_WHITESPACE.has(s[j - 1])) j--;
  return j === s.length ? s : s.slice(0, j);
}

/** Python's `s.strip()`. */
export function pyStrip(s: string): string {
  return pyRstrip(s.slice(pyLstripIndex(s)));
}

/** The published comment removal, quirks included: drop lines whose stripped text starts with `#`,
 * cut every other line at its first `#` (even inside a string) and right-trim it. */
export function stripCommentsStructureCoder(code: string): string {
  if (!code.includes('#')) return code;
  const out: string[] = [];
  for (const line of code.split('\n')) {
    const hash = line.indexOf('#');
    if (hash < 0) out.push(line);
    else if (pyLstripIndex(line) === hash) continue;
    else out.push(pyRstrip(line.slice(0, hash)));
  }
  return out.join('\n');
}

/** Published selection rule (applied by callers that select solutions, e.g. `pairforge targets`):
 * at most this many whitespace-separated words. */
export const STRUCTURECODER_MAX_WORDS = 2048;

/** Python's `len(s.split())`. */
export function pyWordCount(s: string): number {
  let n = 0;
  let inWord = false;
  for (let i = 0; i < s.length; i++) {
    const space = PY_WHITESPACE.has(s[i]);
    if (!space && !inWord) n++;
    inWord = !space;
  }
  return n;
}

/** The first ERROR or MISSING node under `root` (which has `hasError`), as "line L, column C". */
function describeSyntaxError(root: Node): string {
  let node = root;
  for (;;) {
    if (node.isError || node.isMissing) break;
    const next = node.children.find((c) => c?.hasError);
    if (!next) break;
    node = next;
  }
  const p = node.startPosition;
  const what = node.isMissing ? `missing ${node.type}` : 'invalid syntax';
  return `syntax error at line ${p.row + 1}, column ${p.column + 1}: ${what}`;
}

/** Python's tokenizer rejects a newline inside a single-quoted string (unless escaped with a
 * backslash) and an unclosed triple-quoted string; tree-sitter accepts the first, which is what the
 * published comment stripping produces from `c == '#'`. Only valid on code without comments (the
 * structurecoder-stripped code has no `#` at all). Returns the 0-based offset of the bad quote. */
export function unterminatedString(code: string): number | undefined {
  const quote = /['"]/g;
  let m: RegExpExecArray | null;
  while ((m = quote.exec(code))) {
    const start = m.index;
    const q = code[start];
    const triple = code[start + 1] === q && code[start + 2] === q;
    let i = start + (triple ? 3 : 1);
    for (;;) {
      if (i >= code.length) return start;
      const c = code[i];
      if (c === '\\') {
        i += code[i + 1] === '\r' && code[i + 2] === '\n' ? 3 : 2;
        continue;
      }
      if (!triple && (c === '\n' || c === '\r')) return start;
      if (c === q && (!triple || (code[i + 1] === q && code[i + 2] === q))) {
        i += triple ? 3 : 1;
        break;
      }
      i++;
    }
    quote.lastIndex = i;
  }
  return undefined;
}

/** Start offset of every `\n`-separated line of `code`, plus a sentinel `code.length + 1`. */
function lineStarts(code: string): number[] {
  const starts = [0];
  for (let i = code.indexOf('\n'); i >= 0; i = code.indexOf('\n', i + 1)) starts.push(i + 1);
  starts.push(code.length + 1);
  return starts;
}

/** `'\n'.join(lines[a:b])` for `a <= b` via offsets (`starts` from `lineStarts`). */
function joinLines(code: string, starts: number[], a: number, b: number): string {
  const n = starts.length - 1;
  const lo = Math.min(a, n);
  const hi = Math.min(b, n);
  return lo >= hi ? '' : code.slice(starts[lo], starts[hi] - 1);
}

function parseOrError(grammar: PythonGrammar, text: string): { root: Node; free: () => void } | { error: string } {
  const parser = grammar.newParser();
  try {
    const tree = parser.parse(text);
    if (!tree) return { error: 'tree-sitter returned no tree' };
    if (tree.rootNode.hasError) {
      const error = describeSyntaxError(tree.rootNode);
      tree.delete();
      return { error };
    }
    return { root: tree.rootNode, free: () => tree.delete() };
  } finally {
    parser.delete();
  }
}

/** A target before it is cut: which lines of the prepared code form the middle. */
export interface TargetSpan {
  kind: BlockKind;
  depth: number;
  startLine: number;
  endLine: number;
}

/** The prepared code and its target spans; `cutTargets` without materialising the strings (the
 * batch workers send this and the main thread cuts, so each file's text crosses threads once). */
export interface CutSpans {
  code: string;
  spans: TargetSpan[];
  error?: string;
}

function spansStructureCoder(grammar: PythonGrammar, source: string, opts: PresetOptions): CutSpans {
  const code = stripCommentsStructureCoder(pyStrip(source));
  // Python's ast.parse rejects NUL bytes (ValueError in 3.11, SyntaxError in 3.12).
  const nul = code.indexOf('\0');
  if (nul >= 0) return { code, spans: [], error: `source contains a NUL byte at offset ${nul}` };
  const badQuote = unterminatedString(code);
  if (badQuote !== undefined) {
    const before = code.slice(0, badQuote);
    const line = before.split('\n').length;
    return { code, spans: [], error: `syntax error at line ${line}, column ${badQuote - before.lastIndexOf('\n')}: unterminated string literal` };
  }
  // Python counts a lone CR as a line break in line numbers, while the cut splits on "\n" only;
  // tree-sitter rejects lone CRs, so parse a same-length copy with them turned into "\n".
  const input = code.includes('\r') ? code.replace(/\r(?!\n)/g, '\n') : code;
  const parsed = parseOrError(grammar, input);
  if ('error' in parsed) return { code, spans: [], error: parsed.error };
  try {
    const { postOrder, notPython311, indentationError } = collectBlocks(parsed.root, opts, undefined, input);
    if (notPython311) {
      const p = notPython311.startPosition;
      return { code, spans: [], error: `syntax error at line ${p.row + 1}, column ${p.column + 1}: ${notPython311.type} is not Python 3.11` };
    }
    if (indentationError) {
      const { row, column, message } = indentationError;
      return { code, spans: [], error: `indentation error at line ${row + 1}, column ${column + 1}: ${message}` };
    }
    const starts = lineStarts(code);
    const spans: TargetSpan[] = [];
    for (const b of postOrder) {
      // The published filters, applied to the middle's text exactly as they read it.
      const mid = joinLines(code, starts, b.startLine, b.endLine + 1);
      if (mid.startsWith('elif', pyLstripIndex(mid))) continue;
      if (b.kind === 'def') {
        const nl = mid.indexOf('\n');
        const first = nl < 0 ? mid : mid.slice(0, nl);
        const paren = first.indexOf('(');
        if ((paren < 0 ? first : first.slice(0, paren)).includes('_')) continue;
      }
      spans.push({ kind: b.kind, depth: b.depth, startLine: b.startLine, endLine: b.endLine });
    }
    return { code, spans };
  } finally {
    parsed.free();
  }
}

/** The published cut: `pre = '\n'.join(lines[:s]) + '\n'`, `mid = '\n'.join(lines[s:e+1])`,
 * `suf = '\n' + '\n'.join(lines[e+1:])`, with lines split on "\n". */
function cutStructureCoderSpans(code: string, spans: readonly TargetSpan[]): Target[] {
  const starts = lineStarts(code);
  return spans.map((t) => ({
    ...t,
    pre: joinLines(code, starts, 0, t.startLine) + '\n',
    mid: joinLines(code, starts, t.startLine, t.endLine + 1),
    suf: '\n' + joinLines(code, starts, t.endLine + 1, Number.MAX_SAFE_INTEGER),
  }));
}

/** The clean cut: `pre + mid + suf === code`; the middle is whole lines without the last "\n". */
function cutCleanSpans(code: string, spans: readonly TargetSpan[]): Target[] {
  const starts = lineStarts(code);
  return spans.map((t) => {
    const from = starts[t.startLine];
    const to = Math.min(starts[t.endLine + 1] - 1, code.length);
    return { ...t, pre: code.slice(0, from), mid: code.slice(from, to), suf: code.slice(to) };
  });
}

/** Cuts prepared code at the given spans under a preset's rule (pure string work). */
export function cutSpans(code: string, spans: readonly TargetSpan[], preset: Preset): Target[] {
  return preset === 'structurecoder' ? cutStructureCoderSpans(code, spans) : cutCleanSpans(code, spans);
}

/** Removes comment tokens: comment-only lines are dropped, other lines lose the comment and are
 * right-trimmed. Strings are untouched (the comments come from the parse tree). */
function stripCommentsClean(code: string, root: Node): string {
  const comments = commentNodes(root);
  if (comments.length === 0) return code;
  const starts = lineStarts(code);
  const cutAt = new Map<number, number>();
  for (const c of comments) {
    const row = c.startPosition.row;
    cutAt.set(row, Math.min(cutAt.get(row) ?? Infinity, c.startIndex));
  }
  const out: string[] = [];
  for (let row = 0; row < starts.length - 1; row++) {
    const line = code.slice(starts[row], starts[row + 1] - 1);
    const at = cutAt.get(row);
    if (at === undefined) {
      out.push(line);
      continue;
    }
    const kept = pyRstrip(line.slice(0, at - starts[row]));
    if (kept.length > 0) out.push(kept);
  }
  return out.join('\n');
}


function spansClean(grammar: PythonGrammar, source: string, opts: PresetOptions): CutSpans {
  const original = source.includes('\r') ? source.replace(/\r\n?/g, '\n') : source;
  const first = parseOrError(grammar, original);
  if ('error' in first) return { code: original, spans: [], error: first.error };
  let code: string;
  try {
    code = stripCommentsClean(original, first.root);
  } finally {
    first.free();
  }
  const parsed = parseOrError(grammar, code);
  if ('error' in parsed) return { code, spans: [], error: `after removing comments: ${parsed.error}` };
  try {
    const spans = collectBlocks(parsed.root, opts)
      .postOrder.sort((a, b) => a.startLine - b.startLine || a.startColumn - b.startColumn)
      .map((b): TargetSpan => ({ kind: b.kind, depth: b.depth, startLine: b.startLine, endLine: b.endLine }));
    return { code, spans };
  } finally {
    parsed.free();
  }
}

/** Prepares a solution under a preset and finds its target spans (no strings cut yet). */
export function findTargetSpans(grammar: PythonGrammar, source: string, opts: PresetOptions): CutSpans {
  // Compile the block query up front so a grammar problem surfaces here, not mid-batch.
  blockQuery(grammar.language);
  return opts.preset === 'structurecoder' ? spansStructureCoder(grammar, source, opts) : spansClean(grammar, source, opts);
}

/** Cuts one solution into targets under a preset. A solution that does not parse (after the
 * preset's preparation) gives `{ code, targets: [], error }`. */
export function cutTargets(grammar: PythonGrammar, source: string, opts: PresetOptions): CutResult {
  const { code, spans, error } = findTargetSpans(grammar, source, opts);
  const targets = cutSpans(code, spans, opts.preset);
  return error === undefined ? { code, targets } : { code, targets, error };
}

/** Formats with Black as the published pipeline does (`black --quiet --fast`, defaults). The
 * published code reads the result back in text mode, so line endings become "\n". Throws when
 * Black is not installed or cannot format the code. */
export function formatWithBlack(source: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('black', ['--quiet', '--fast', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e: NodeJS.ErrnoException) => {
      reject(
        e.code === 'ENOENT'
          ? new Error('black is not installed (looked for `black` on PATH); install it with `pip install black` or run without Black formatting')
          : new Error(`black: could not start: ${e.message}`),
      );
    });
    child.on('close', (status) => {
      const stderr = Buffer.concat(err).toString('utf8');
      if (status !== 0 || stderr.includes('error')) {
        reject(new Error(`black could not format the code (exit ${status}): ${stderr.trim() || 'no message'}`));
        return;
      }
      resolve(Buffer.concat(out).toString('utf8').replace(/\r\n?/g, '\n'));
    });
    child.stdin.on('error', () => {
      /* black exited early; 'close' reports it */
    });
    child.stdin.end(source, 'utf8');
  });
}
