// Parse trees of open documents, kept up to date incrementally (`tree.edit` + reparse with the old
// tree). Positions: LSP sends UTF-16 code units; web-tree-sitter parses JS strings as UTF-16 and its
// indices and columns count UTF-16 code units too, so an LSP (line, character) maps onto a
// tree-sitter Point directly and an index is the offset into the JS string. The one conversion
// needed is from (line, character) to the string offset, done on the text before each change.
import type { Edit, Parser, Point, Tree } from 'web-tree-sitter';
import type { BlockCache } from './extract';
import { findBlocks } from './extract';
import type { PythonGrammar } from './parser';
import type { Block, PresetOptions } from './types';

/** An LSP `TextDocumentContentChangeEvent`: ranged (incremental) or whole-document. */
export type ContentChange =
  | { range: { start: { line: number; character: number }; end: { line: number; character: number } }; text: string }
  | { text: string };

interface Entry {
  text: string;
  tree: Tree;
  opts?: PresetOptions;
  /** Block results per subtree from the last blocks() call, with the tree they came from, kept
   * alive (never edited: edits go to a copy) so that a node id seen again is the same subtree. */
  cache?: { key: string; tree: Tree; blocks: BlockCache };
}

function presetKey(opts: PresetOptions): string {
  return `${opts.preset}:${[...(opts.extraKinds ?? [])].sort().join(',')}`;
}

/** Start offsets of LSP lines: LSP breaks lines at "\n", "\r\n" and a lone "\r". */
function lspLineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) starts.push(i + 1);
    else if (c === 13) {
      if (text.charCodeAt(i + 1) === 10) i++;
      starts.push(i + 1);
    }
  }
  return starts;
}

/** Offset of an LSP position in `text`; a character past a line's end clamps to it (as LSP says). */
function offsetAt(text: string, lspStarts: number[], line: number, character: number): number {
  if (line >= lspStarts.length) return text.length;
  if (line < 0) return 0;
  const start = lspStarts[line];
  let end = line + 1 < lspStarts.length ? lspStarts[line + 1] : text.length;
  // The line's content stops before its line break.
  if (end > start && line + 1 < lspStarts.length) {
    end--;
    if (end > start && text.charCodeAt(end) === 10 && text.charCodeAt(end - 1) === 13) end--;
  }
  return Math.min(start + Math.max(0, character), end);
}

/** Start offsets of tree-sitter rows, which break at "\n" only. */
function computeLineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

/** The tree-sitter point (row, UTF-16 column) of an offset, rows split on "\n" as tree-sitter does. */
function pointAt(lineStarts: number[], offset: number): Point {
  let lo = 0;
  let hi = lineStarts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (lineStarts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { row: lo, column: offset - lineStarts[lo] };
}

/** The point just after inserting `inserted` at `start`. */
function advance(start: Point, inserted: string): Point {
  const lastNl = inserted.lastIndexOf('\n');
  if (lastNl < 0) return { row: start.row, column: start.column + inserted.length };
  let rows = 0;
  for (let i = inserted.indexOf('\n'); i >= 0; i = inserted.indexOf('\n', i + 1)) rows++;
  return { row: start.row + rows, column: inserted.length - lastNl - 1 };
}

export class DocumentTrees {
  private readonly parser: Parser;
  private readonly docs = new Map<string, Entry>();
  private disposed = false;

  constructor(grammar: PythonGrammar) {
    this.parser = grammar.newParser();
  }

  private parse(text: string, old?: Tree): Tree {
    const tree = this.parser.parse(text, old ?? null);
    if (!tree) throw new Error('tree-sitter returned no tree (parser has no language?)');
    return tree;
  }

  private entry(uri: string): Entry {
    if (this.disposed) throw new Error('DocumentTrees: used after dispose()');
    const e = this.docs.get(uri);
    if (!e) throw new Error(`DocumentTrees: document not open: ${uri}`);
    return e;
  }

  /** Parses a document from scratch (replacing any tree it had). `opts` become the document's
   * default preset for `blocks()`. */
  open(uri: string, text: string, opts?: PresetOptions): void {
    if (this.disposed) throw new Error('DocumentTrees: used after dispose()');
    const old = this.docs.get(uri);
    this.docs.set(uri, { text, tree: this.parse(text), opts });
    if (old) DocumentTrees.free(old);
  }

  /** Applies LSP content changes (in order) to the cached tree, then reparses incrementally.
   * `newText` is the document after all changes; it must equal applying them, and a mismatch
   * (a dropped or reordered event) falls back to a full parse rather than a wrong tree. */
  change(uri: string, contentChanges: readonly ContentChange[], newText: string): void {
    const e = this.entry(uri);
    // The cached tree must stay unedited: edit a copy of it (a cheap shared-root copy).
    if (e.cache?.tree === e.tree) e.tree = e.tree.copy();
    let text = e.text;
    let full = false;
    for (const ch of contentChanges) {
      if (!('range' in ch) || !ch.range) {
        text = ch.text;
        full = true;
        continue;
      }
      const lsp = text.includes('\r') ? lspLineStarts(text) : computeLineStarts(text);
      const starts = text.includes('\r') ? computeLineStarts(text) : lsp;
      const startIndex = offsetAt(text, lsp, ch.range.start.line, ch.range.start.character);
      const oldEndIndex = Math.max(startIndex, offsetAt(text, lsp, ch.range.end.line, ch.range.end.character));
      const startPosition = pointAt(starts, startIndex);
      const edit: Edit = {
        startIndex,
        oldEndIndex,
        newEndIndex: startIndex + ch.text.length,
        startPosition,
        oldEndPosition: pointAt(starts, oldEndIndex),
        newEndPosition: advance(startPosition, ch.text),
      };
      if (!full) e.tree.edit(edit);
      text = text.slice(0, startIndex) + ch.text + text.slice(oldEndIndex);
    }
    const old = e.tree;
    const consistent = text === newText;
    e.tree = full || !consistent ? this.parse(newText) : this.parse(newText, old);
    e.text = newText;
    old.delete();
  }

  private static free(e: Entry): void {
    if (e.cache && e.cache.tree !== e.tree) e.cache.tree.delete();
    e.tree.delete();
    e.cache = undefined;
  }

  /** The document's text as last given. */
  text(uri: string): string {
    return this.entry(uri).text;
  }

  /** Target blocks of the document's current tree (sorted by start) under `opts`, or the preset
   * given to `open()`, or `structurecoder`. With syntax errors, the blocks tree-sitter recovered. */
  blocks(uri: string, opts?: PresetOptions): { blocks: Block[]; hasErrors: boolean } {
    const e = this.entry(uri);
    const preset = opts ?? e.opts ?? { preset: 'structurecoder' };
    const key = presetKey(preset);
    const root = e.tree.rootNode;
    const next: BlockCache = { entries: new Map() };
    const prev = e.cache?.key === key ? e.cache.blocks : undefined;
    const blocks = findBlocks(root, preset, { prev, next });
    if (e.cache && e.cache.tree !== e.tree) e.cache.tree.delete();
    e.cache = { key, tree: e.tree, blocks: next };
    return { blocks, hasErrors: root.hasError };
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
