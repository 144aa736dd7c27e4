// Parse trees of open documents, kept up to date incrementally, one tree per CHUNK of whole
// top-level statements (server/blocks/chunks.ts says where chunks start).
//
// Why chunks: after a one-character edit that breaks the syntax (an unclosed bracket or quote, a
// bad indent), tree-sitter's error recovery over the whole file costs 10-70 ms even when the changed
// range is tiny, mostly inside large top-level statements. Bounding every parse to the chunk the
// edit touches keeps the reparse proportional to that statement.
//
// Semantics (for the README):
//  - A document that parses without errors as a whole gives exactly the blocks of a full-file parse
//    (same order, spans and depths): for code Python accepts, chunk boundaries fall only at
//    top-level statement starts, and a statement's subtree does not depend on its neighbours.
//  - A document with syntax errors gives the blocks of parsing each chunk on its own from scratch
//    (`chunkedBlocks` below, which the incremental path always equals: an edited chunk whose
//    incremental reparse ends in errors is parsed again from scratch, because tree-sitter's error
//    recovery depends on the old tree it reuses). So the blocks are a function of the text, never
//    of the edit history. They can differ from a full-file parse: an error stays inside its chunk
//    (an unclosed bracket does not swallow the next `def`, see chunks.ts for the lexical resets),
//    while a full parse may recover differently. `hasErrors` is true when any chunk has an error.
//  - "Without errors" means as tree-sitter sees it, which accepts some code Python rejects (a line
//    break inside an unfinished statement, a line indented less than its block); chunks.ts keeps
//    such lines in one chunk too.
//
// Positions: LSP sends UTF-16 code units; web-tree-sitter parses JS strings as UTF-16 and its
// indices and columns count UTF-16 code units too, so an LSP (line, character) maps onto a
// tree-sitter Point directly and an index is the offset into the JS string. The one conversion
// needed is from (line, character) to the string offset, done on the text before each change.
import type { Edit, Parser, Point, Tree } from 'web-tree-sitter';
import type { ChunkKind, ChunkStarts } from './chunks';
import { chunkStarts, MEMBER, rescanChunkStarts } from './chunks';
import { findBlocks } from './extract';
import type { PythonGrammar } from './parser';
import type { Block, PresetOptions } from './types';

/** An LSP `TextDocumentContentChangeEvent`: ranged (incremental) or whole-document. */
export type ContentChange =
  | { range: { start: { line: number; character: number }; end: { line: number; character: number } }; text: string }
  | { text: string };

/** A member chunk (chunks.ts) is parsed as this line followed by its lines verbatim, so that its
 * statements sit in a class body as they do in the document; its rows are one more than the
 * document's, and the synthetic class is not a block of the document. */
const MEMBER_HEADER = 'class _:\n';

/** Blocks of one chunk, rows relative to the chunk's first line. */
interface ChunkBlocks {
  local: Block[];
  /** Member chunks under a preset that targets classes: the synthetic class's depth and end, from
   * which the real class's block is composed (its depth is the largest over its chunks, its end
   * that of its last chunk). */
  part?: { depth: number; endLine: number; endColumn: number };
}

interface Chunk {
  /** Offset of the chunk's first character in the document (a line start). */
  start: number;
  /** Row of that line in the document. */
  row: number;
  kind: ChunkKind;
  tree: Tree;
  hasError: boolean;
  /** Blocks of the chunk's tree under the preset `key`. */
  blocks?: ChunkBlocks & { key: string };
}

interface Entry {
  text: string;
  starts: ChunkStarts;
  chunks: Chunk[];
  opts?: PresetOptions;
}

function presetKey(opts: PresetOptions): string {
  return `${opts.preset}:${[...(opts.extraKinds ?? [])].sort().join(',')}`;
}

/** Offset of an LSP position in `text` (LSP breaks lines at "\n", "\r\n" and a lone "\r"); a
 * character past a line's end clamps to it (as LSP says). Walks lines from the start: cheaper than
 * building a line table for one lookup. */
function offsetAt(text: string, line: number, character: number): number {
  const n = text.length;
  if (line < 0) return 0;
  let start = 0;
  const hasCr = text.includes('\r');
  for (let l = 0; l < line; l++) {
    if (!hasCr) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) return n;
      start = nl + 1;
      continue;
    }
    let i = start;
    while (i < n && text.charCodeAt(i) !== 10 && text.charCodeAt(i) !== 13) i++;
    if (i >= n) return n;
    start = text.charCodeAt(i) === 13 && text.charCodeAt(i + 1) === 10 ? i + 2 : i + 1;
  }
  // The line's content stops before its line break.
  let end = start;
  while (end < n && text.charCodeAt(end) !== 10 && text.charCodeAt(end) !== 13) end++;
  return Math.min(start + Math.max(0, character), end);
}

/** The tree-sitter point (row, UTF-16 column) of `offset`, relative to `from` (a line start at row 0). */
function pointFrom(text: string, from: number, offset: number): Point {
  let row = 0;
  let lineStart = from;
  for (let i = text.indexOf('\n', from); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) {
    row++;
    lineStart = i + 1;
  }
  return { row, column: offset - lineStart };
}

/** One edit covering a sequence of changes: old[start, oldEnd) became new[start, newEnd). */
interface Span {
  start: number;
  oldEnd: number;
  newEnd: number;
}

/** Extends `span` (old -> current text) by a change replacing current[a, b) with `len` characters. */
function compose(span: Span | undefined, a: number, b: number, len: number): Span {
  if (!span) return { start: a, oldEnd: b, newEnd: a + len };
  const end = Math.max(span.newEnd, b);
  return { start: Math.min(span.start, a), oldEnd: span.oldEnd + (end - span.newEnd), newEnd: end + len - (b - a) };
}

function parseWith(parser: Parser, text: string, old?: Tree): Tree {
  const tree = parser.parse(text, old ?? null);
  if (!tree) throw new Error('tree-sitter returned no tree (parser has no language?)');
  return tree;
}

function chunkEnd(starts: ChunkStarts, i: number, textLength: number): number {
  return i + 1 < starts.offsets.length ? starts.offsets[i + 1] : textLength;
}

function chunkSource(text: string, start: number, end: number, kind: ChunkKind): string {
  return kind === MEMBER ? MEMBER_HEADER + text.slice(start, end) : text.slice(start, end);
}

/** The blocks of a chunk's tree; for a member chunk without the synthetic class, rows mapped back. */
function chunkBlocks(tree: Tree, kind: ChunkKind, opts: PresetOptions): ChunkBlocks {
  const found = findBlocks(tree.rootNode, opts);
  if (kind !== MEMBER) return { local: found };
  const out: ChunkBlocks = { local: [] };
  for (const b of found) {
    if (b.startLine === 0) {
      // Only the synthetic class starts on the synthetic header's row.
      if (b.kind === 'class' && b.startColumn === 0) out.part = { depth: b.depth, endLine: b.endLine - 1, endColumn: b.endColumn };
      continue;
    }
    out.local.push({ ...b, startLine: b.startLine - 1, endLine: b.endLine - 1 });
  }
  return out;
}

/** The document's blocks from its chunks' blocks, in order: rows made document rows, and the block
 * of a class split into member chunks composed from its parts. */
function assemble(chunks: readonly { row: number; kind: ChunkKind; blocks: ChunkBlocks }[]): Block[] {
  const out: Block[] = [];
  let owner: Block | undefined;
  for (const c of chunks) {
    const row = c.row;
    if (c.kind === MEMBER) {
      const part = c.blocks.part;
      if (owner && part) {
        owner.depth = Math.max(owner.depth, part.depth);
        owner.endLine = row + part.endLine;
        owner.endColumn = part.endColumn;
      }
    } else owner = undefined;
    for (const b of c.blocks.local) {
      // A class starting a top-level chunk: its member chunks follow, if it has any.
      const isOwner = c.kind !== MEMBER && b.kind === 'class' && b.startLine === 0 && b.startColumn === 0;
      // Copied when changed: cached chunk blocks are shared between calls.
      const doc = row === 0 && !isOwner ? b : { ...b, startLine: b.startLine + row, endLine: b.endLine + row };
      if (isOwner) owner = doc;
      out.push(doc);
    }
  }
  return out;
}

/** The reference for DocumentTrees.blocks(): every chunk of `text` parsed from scratch. Equals
 * `findBlocks` on a full parse when the text parses without errors (see the top of this file). */
export function chunkedBlocks(grammar: PythonGrammar, text: string, opts: PresetOptions): { blocks: Block[]; hasErrors: boolean } {
  const parser = grammar.newParser();
  try {
    const starts = chunkStarts(text);
    const chunks: { row: number; kind: ChunkKind; blocks: ChunkBlocks }[] = [];
    let hasErrors = false;
    for (let i = 0; i < starts.offsets.length; i++) {
      const kind = starts.kinds[i];
      const tree = parseWith(parser, chunkSource(text, starts.offsets[i], chunkEnd(starts, i, text.length), kind));
      try {
        hasErrors ||= tree.rootNode.hasError;
        chunks.push({ row: starts.rows[i], kind, blocks: chunkBlocks(tree, kind, opts) });
      } finally {
        tree.delete();
      }
    }
    return { blocks: assemble(chunks), hasErrors };
  } finally {
    parser.delete();
  }
}

export class DocumentTrees {
  private readonly parser: Parser;
  private readonly docs = new Map<string, Entry>();
  private disposed = false;

  constructor(grammar: PythonGrammar) {
    this.parser = grammar.newParser();
  }

  private newChunk(text: string, start: number, end: number, row: number, kind: ChunkKind, old?: Tree): Chunk {
    const tree = parseWith(this.parser, chunkSource(text, start, end, kind), old);
    return { start, row, kind, tree, hasError: tree.rootNode.hasError };
  }

  private parseAll(text: string): { starts: ChunkStarts; chunks: Chunk[] } {
    const starts = chunkStarts(text);
    const chunks: Chunk[] = [];
    try {
      for (let i = 0; i < starts.offsets.length; i++) chunks.push(this.newChunk(text, starts.offsets[i], chunkEnd(starts, i, text.length), starts.rows[i], starts.kinds[i]));
    } catch (err) {
      for (const c of chunks) c.tree.delete();
      throw err;
    }
    return { starts, chunks };
  }

  private entry(uri: string): Entry {
    if (this.disposed) throw new Error('DocumentTrees: used after dispose()');
    const e = this.docs.get(uri);
    if (!e) throw new Error(`DocumentTrees: document not open: ${uri}`);
    return e;
  }

  /** Parses a document from scratch (replacing any trees it had). `opts` become the document's
   * default preset for `blocks()`. */
  open(uri: string, text: string, opts?: PresetOptions): void {
    if (this.disposed) throw new Error('DocumentTrees: used after dispose()');
    const parsed = this.parseAll(text);
    const old = this.docs.get(uri);
    this.docs.set(uri, { text, ...parsed, opts });
    if (old) DocumentTrees.free(old);
  }

  /** Applies LSP content changes (in order), then reparses the chunks they touched: incrementally
   * (`tree.edit` + reparse) when the edited chunk keeps its boundaries, from scratch when chunks
   * merged or split; untouched chunks keep their trees and blocks. `newText` is the document after
   * all changes; it must equal applying them, and a mismatch (a dropped or reordered event) falls
   * back to a full parse of `newText` rather than wrong trees. */
  change(uri: string, contentChanges: readonly ContentChange[], newText: string): void {
    const e = this.entry(uri);
    let text = e.text;
    let span: Span | undefined;
    let full = false;
    for (const ch of contentChanges) {
      if (!('range' in ch) || !ch.range) {
        text = ch.text;
        full = true;
        continue;
      }
      const a = offsetAt(text, ch.range.start.line, ch.range.start.character);
      const b = Math.max(a, offsetAt(text, ch.range.end.line, ch.range.end.character));
      if (!full) span = compose(span, a, b, ch.text.length);
      text = text.slice(0, a) + ch.text + text.slice(b);
    }
    if (full || text !== newText || !span) {
      if (!full && text === newText && !span) return; // no changes at all
      const parsed = this.parseAll(newText);
      DocumentTrees.free(e);
      e.text = newText;
      e.starts = parsed.starts;
      e.chunks = parsed.chunks;
      return;
    }
    this.applyEdit(e, newText, span);
  }

  private applyEdit(e: Entry, text: string, span: Span): void {
    const oldText = e.text;
    const { start, oldEnd, newEnd } = span;
    const delta = newEnd - oldEnd;
    const starts = rescanChunkStarts(e.starts, text, start, oldEnd, newEnd);
    const byStart = new Map<number, number>();
    for (let i = 0; i < e.chunks.length; i++) byStart.set(e.chunks[i].start, i);
    const used = new Uint8Array(e.chunks.length);
    const chunks: Chunk[] = [];
    try {
      for (let i = 0; i < starts.offsets.length; i++) {
        const ns = starts.offsets[i];
        const ne = chunkEnd(starts, i, text.length);
        const row = starts.rows[i];
        const kind = starts.kinds[i];
        let reuse: number | undefined;
        let edited = false;
        if (ne <= start) {
          // Wholly before the edit: the same text if the old chunk had the same extent.
          const k = byStart.get(ns);
          if (k !== undefined && chunkEnd(e.starts, k, oldText.length) === ne) reuse = k;
        } else if (ns >= newEnd) {
          // Wholly after the edit: the same text, moved.
          const k = byStart.get(ns - delta);
          if (k !== undefined && ns - delta >= oldEnd && chunkEnd(e.starts, k, oldText.length) === ne - delta) reuse = k;
        } else {
          // Holds the edit: reparse incrementally if the old chunk spanned the same statements.
          const k = byStart.get(ns);
          if (k !== undefined && ns <= start && chunkEnd(e.starts, k, oldText.length) === ne - delta && ne - delta >= oldEnd) {
            reuse = k;
            edited = true;
          }
        }
        if (reuse !== undefined && e.chunks[reuse].kind !== kind) reuse = undefined;
        if (reuse === undefined) {
          chunks.push(this.newChunk(text, ns, ne, row, kind));
          continue;
        }
        const old = e.chunks[reuse];
        used[reuse] = 1;
        if (!edited) {
          old.start = ns;
          old.row = row;
          chunks.push(old);
          continue;
        }
        // Positions in the chunk's source, after the synthetic header of a member chunk.
        const [di, dr] = kind === MEMBER ? [MEMBER_HEADER.length, 1] : [0, 0];
        const at = (p: Point): Point => ({ row: p.row + dr, column: p.column });
        const edit: Edit = {
          startIndex: start - ns + di,
          oldEndIndex: oldEnd - ns + di,
          newEndIndex: newEnd - ns + di,
          startPosition: at(pointFrom(oldText, ns, start)),
          oldEndPosition: at(pointFrom(oldText, ns, oldEnd)),
          newEndPosition: at(pointFrom(text, ns, newEnd)),
        };
        old.tree.edit(edit);
        // The edited old tree is freed with the unused ones below, once the reparse has used it.
        used[reuse] = 0;
        let chunk = this.newChunk(text, ns, ne, row, kind, old.tree);
        if (chunk.hasError) {
          // tree-sitter's error recovery depends on the old tree it reuses: an incremental reparse
          // that ends in errors can differ from a fresh parse of the same text. Reparse such a
          // chunk from scratch, so the blocks are a function of the text, never of edit history.
          chunk.tree.delete();
          chunk = this.newChunk(text, ns, ne, row, kind);
        }
        chunks.push(chunk);
      }
    } catch (err) {
      // Keep the entry consistent (an old tree may be edited already): start over from scratch.
      for (const c of chunks) if (!e.chunks.includes(c)) c.tree.delete();
      const parsed = this.parseAll(text);
      DocumentTrees.free(e);
      Object.assign(e, { text, ...parsed });
      throw err;
    }
    for (let k = 0; k < e.chunks.length; k++) if (!used[k]) e.chunks[k].tree.delete();
    e.text = text;
    e.starts = starts;
    e.chunks = chunks;
  }

  private static free(e: Entry): void {
    for (const c of e.chunks) c.tree.delete();
    e.chunks = [];
  }

  /** The document's text as last given. */
  text(uri: string): string {
    return this.entry(uri).text;
  }

  /** Target blocks of the document (sorted by start) under `opts`, or the preset given to
   * `open()`, or `structurecoder`. With syntax errors, the blocks tree-sitter recovered per chunk. */
  blocks(uri: string, opts?: PresetOptions): { blocks: Block[]; hasErrors: boolean } {
    const e = this.entry(uri);
    const preset = opts ?? e.opts ?? { preset: 'structurecoder' };
    const key = presetKey(preset);
    let hasErrors = false;
    const parts: { row: number; kind: ChunkKind; blocks: ChunkBlocks }[] = [];
    for (const c of e.chunks) {
      if (c.blocks?.key !== key) c.blocks = { key, ...chunkBlocks(c.tree, c.kind, preset) };
      hasErrors ||= c.hasError;
      parts.push({ row: c.row, kind: c.kind, blocks: c.blocks });
    }
    return { blocks: assemble(parts), hasErrors };
  }

  has(uri: string): boolean {
    return this.docs.has(uri);
  }

  close(uri: string): void {
    const e = this.docs.get(uri);
    if (!e) return;
    this.docs.delete(uri);
    DocumentTrees.free(e);
  }

  dispose(): void {
    if (this.disposed) return;
    for (const e of this.docs.values()) DocumentTrees.free(e);
    this.docs.clear();
    this.parser.delete();
    this.disposed = true;
  }
}
