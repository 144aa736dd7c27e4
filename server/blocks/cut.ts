// Cuts a solution into fill-in-the-middle targets (docs/published.md "StructureCoder"; docs/datasets.md "Presets").
//
// The two presets and how they differ (`structurecoder` reproduces the published code, `clean`
// fixes its quirks) are tabled in docs/datasets.md#presets, with how parity was checked and the
// known differences. How the structurecoder path decides what Python would reject: unterminated
// strings (`unterminatedString` below), the layout rules of CPython's tokenizer (indentation.ts),
// tree-sitter's own errors, and a few constructs tree-sitter accepts but Python 3.11 does not
// (astCandidates.ts, which also gives the blocks).
import { spawn } from 'node:child_process';
import type { Node } from 'web-tree-sitter';
import { astCandidates } from './astCandidates';
import { collectBlocks, commentNodes } from './extract';
import { scanLayout } from './indentation';
import type { PythonGrammar } from './parser';
import type { CutResult, PresetOptions, Target } from './types';
import type { BlockKind, Preset } from '../protocol';

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
  // Python splits every line; here runs of lines without `#` are carried over as one slice.
  const parts: string[] = [];
  let run = 0;
  for (let hash = code.indexOf('#'); hash >= 0; ) {
    const start = code.lastIndexOf('\n', hash) + 1;
    const nl = code.indexOf('\n', hash);
    const end = nl < 0 ? code.length : nl;
    if (start > run) parts.push(code.slice(run, start - 1));
    const line = code.slice(start, end);
    if (pyLstripIndex(line) !== hash - start) parts.push(pyRstrip(line.slice(0, hash - start)));
    run = end + 1;
    hash = nl < 0 ? -1 : code.indexOf('#', run);
  }
  if (run === 0) return code;
  if (run <= code.length) parts.push(code.slice(run));
  return parts.join('\n');
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

/** A target before it is cut: which lines of the prepared code form the middle, and where they
 * are in it (`from`: the start of `startLine`, `to`: the end of `endLine` before its "\n"). */
export interface TargetSpan {
  kind: BlockKind;
  depth: number;
  startLine: number;
  endLine: number;
  from: number;
  to: number;
}

/** The span of lines `startLine..endLine` (`starts` from `lineStarts`; lines past the end are
 * clamped, as Python's slices are). */
function spanOf(starts: readonly number[], kind: BlockKind, depth: number, startLine: number, endLine: number): TargetSpan {
  const lines = starts.length - 1;
  const from = starts[Math.min(startLine, lines)];
  return { kind, depth, startLine, endLine, from, to: Math.max(from, starts[Math.min(endLine + 1, lines)] - 1) };
}

/** The prepared code and its target spans; `cutTargets` without materialising the strings (the
 * batch workers send this and the main thread cuts, so each file's text crosses threads once). */
export interface CutSpans {
  code: string;
  spans: TargetSpan[];
  error?: string;
}

function spansStructureCoder(grammar: PythonGrammar, source: string): CutSpans {
  const code = stripCommentsStructureCoder(pyStrip(source));
  // Python's ast.parse rejects NUL bytes (ValueError in 3.11, SyntaxError in 3.12).
  const nul = code.indexOf('\0');
  if (nul >= 0) return { code, spans: [], error: `source contains a NUL byte at offset ${nul}` };
  // Python counts a lone CR as a line break in line numbers, while the cut splits on "\n" only;
  // tree-sitter rejects lone CRs, so parse a same-length copy with them turned into "\n".
  const input = code.includes('\r') ? code.replace(/\r(?!\n)/g, '\n') : code;
  // Python's tokenizer finds unterminated strings and layout errors (indentation, a stray `:`)
  // as it reads, so report the first of them, and before any parse error.
  const badQuote = unterminatedString(input);
  const layout = scanLayout(input);
  const quoteRow = badQuote === undefined ? Infinity : lineStarts(input.slice(0, badQuote)).length - 2;
  if (layout.error && layout.error.row <= quoteRow) {
    const { kind, row, column, message } = layout.error;
    return { code, spans: [], error: `${kind} error at line ${row + 1}, column ${column + 1}: ${message}` };
  }
  if (badQuote !== undefined) {
    const column = badQuote - input.lastIndexOf('\n', badQuote - 1);
    return { code, spans: [], error: `syntax error at line ${quoteRow + 1}, column ${column}: unterminated string literal` };
  }
  const parsed = parseOrError(grammar, input);
  if ('error' in parsed) return { code, spans: [], error: parsed.error };
  try {
    const { postOrder, rejected } = astCandidates(parsed.root, input, layout);
    if (rejected) return { code, spans: [], error: `syntax error at line ${rejected.row + 1}, column ${rejected.column + 1}: ${rejected.message}` };
    const starts = lineStarts(code);
    const spans: TargetSpan[] = [];
    for (const b of postOrder) {
      const span = spanOf(starts, b.kind, b.depth, b.startLine, b.endLine);
      // The published filters, applied to the middle's text exactly as they read it.
      const mid = code.slice(span.from, span.to);
      if (mid.startsWith('elif', pyLstripIndex(mid))) continue;
      if (b.kind === 'def') {
        const nl = mid.indexOf('\n');
        const first = nl < 0 ? mid : mid.slice(0, nl);
        const paren = first.indexOf('(');
        if ((paren < 0 ? first : first.slice(0, paren)).includes('_')) continue;
      }
      spans.push(span);
    }
    return { code, spans };
  } finally {
    parsed.free();
  }
}

/** The published cut: `pre = '\n'.join(lines[:s]) + '\n'`, `mid = '\n'.join(lines[s:e+1])`,
 * `suf = '\n' + '\n'.join(lines[e+1:])`, with lines split on "\n". Each is one slice of the code
 * (the "\n" before line s ends `pre`, the one after line e starts `suf`), except at the edges,
 * where Python's `'\n'.join([])` leaves the bare "\n". */
function cutStructureCoderSpans(code: string, spans: readonly TargetSpan[]): Target[] {
  return spans.map(({ kind, depth, startLine, endLine, from, to }) => ({
    kind,
    depth,
    startLine,
    endLine,
    pre: startLine === 0 ? '\n' : from <= code.length ? code.slice(0, from) : code + '\n',
    mid: code.slice(from, to),
    suf: to < code.length ? code.slice(to) : '\n',
  }));
}

/** The clean cut: `pre + mid + suf === code`; the middle is whole lines without the last "\n". */
function cutCleanSpans(code: string, spans: readonly TargetSpan[]): Target[] {
  return spans.map(({ kind, depth, startLine, endLine, from, to }) => {
    const end = Math.min(to, code.length);
    return { kind, depth, startLine, endLine, pre: code.slice(0, from), mid: code.slice(from, end), suf: code.slice(end) };
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
    const starts = lineStarts(code);
    const spans = collectBlocks(parsed.root, opts)
      .postOrder.sort((a, b) => a.startLine - b.startLine || a.startColumn - b.startColumn)
      .map((b) => spanOf(starts, b.kind, b.depth, b.startLine, b.endLine));
    return { code, spans };
  } finally {
    parsed.free();
  }
}

/** Prepares a solution under a preset and finds its target spans (no strings cut yet). */
export function findTargetSpans(grammar: PythonGrammar, source: string, opts: PresetOptions): CutSpans {
  return opts.preset === 'structurecoder' ? spansStructureCoder(grammar, source) : spansClean(grammar, source, opts);
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
