// Finds target blocks in a parsed Python tree under a preset's rules (docs/datasets.md#presets):
// the editor's blocks (documents.ts, trees that may have errors, with a per-subtree cache across
// edits) and the `clean` cut. The `structurecoder` cut reads its blocks with astCandidates.ts,
// which test/integration/blocks/astOracle.test.ts holds to the same candidates as this walk.
//
// A tree-cursor walk that descends only into nodes that can hold statements (module, blocks,
// compound statements and their clauses, ERROR nodes) and never into expressions, so it touches a
// small fraction of the tree and allocates no Node objects except for the few it must inspect.
// The node-type ids are looked up once per language.
//
// For `structurecoder` the spans reproduce Python's `ast` (the published code walks
// `ast.If/For/While/FunctionDef` and computes depth = 1 + max depth of target blocks inside):
//  - an `elif` is a nested `ast.If` starting at the `elif` line and running to the end of the whole
//    chain; it is never emitted (the published code drops middles starting with `elif`) but it
//    counts for the depth of the blocks around it, so `if/elif/else` has depth 2;
//  - a `def` whose first line, before its first `(`, contains `_` is not emitted but still counts
//    for depth (the published code filters after computing depths);
//  - `async def` / `async for` are other AST node types there: transparent, they neither count
//    nor are emitted; their children are still searched.
import type { Language, Node, TreeCursor } from 'web-tree-sitter';
import { Query } from 'web-tree-sitter';
import type { Block, PresetOptions } from './types';
import type { BlockKind } from '../protocol';

/** Node types whose children can be statements (or clauses holding statements). */
const CONTAINERS = [
  'module', 'block', 'if_statement', 'elif_clause', 'else_clause', 'for_statement', 'while_statement',
  'try_statement', 'except_clause', 'finally_clause', 'with_statement',
  'function_definition', 'class_definition', 'decorated_definition', 'match_statement', 'case_clause', 'ERROR',
] as const;

interface LanguageTables {
  container: Uint8Array;
  ids: Record<string, number>;
}

const tables = new WeakMap<Language, LanguageTables>();

/** Node-type ids of a language, built on first use. */
function languageTables(language: Language): LanguageTables {
  let t = tables.get(language);
  if (!t) {
    const container = new Uint8Array(language.nodeTypeCount + 1);
    const ids: Record<string, number> = {};
    for (const name of CONTAINERS) {
      // ERROR nodes carry tree-sitter's builtin error symbol, (uint16)-1.
      const id = name === 'ERROR' ? 65535 : language.idForNodeType(name, true);
      if (id === null || id === undefined) throw new Error(`tree-sitter-python has no node type ${name}`);
      ids[name] = id;
    }
    for (const name of CONTAINERS) if (name !== 'ERROR') container[ids[name]] = 1;
    ids.async = language.idForNodeType('async', false) ?? -1;
    t = { container, ids };
    tables.set(language, t);
  }
  return t;
}

/** Why a candidate counts for depth but is not emitted (structurecoder only). */
export type HiddenReason = 'elif' | 'underscore_def';

/** A candidate block in Python-`ast` terms: `hidden` ones count for depth only. */
export interface Candidate extends Block {
  hidden?: HiddenReason;
}

export interface Collected {
  /** Candidates in post-order (inner blocks before the block holding them, siblings in order):
   * the order in which the published visitor appends them. */
  postOrder: Candidate[];
}

/** The published underscore rule reads the def's first line up to its first `(`: with the name on
 * that line it is the name (3.11 has no type parameters), otherwise the line holds no `_`. */
function defNameHasUnderscore(def: Node): boolean {
  const name = def.childForFieldName('name');
  return !!name && name.startPosition.row === def.startPosition.row && name.text.includes('_');
}

/** Per-subtree results of a previous walk, keyed by tree-sitter node id (the subtree's address).
 * Valid only while the tree that produced it is alive (so no address can be recycled) and for the
 * same preset: an id found again in a newer tree is the same unchanged, shared subtree. */
export interface BlockCache {
  entries: Map<number, CacheEntry>;
}

interface CacheEntry {
  row: number;
  column: number;
  depth: number;
  /** Candidates inside the node (itself included), post-order, rows as of `row`. */
  cands: Candidate[];
}

/** The last row a node's text occupies (a node that swallowed its newline ends at column 0). */
export function endRowOf(end: { row: number; column: number }, startRow: number): number {
  return end.column === 0 && end.row > startRow ? end.row - 1 : end.row;
}

class Walker {
  readonly postOrder: Candidate[] = [];
  private readonly t: LanguageTables;
  private readonly sc: boolean;
  private readonly extra: readonly BlockKind[];

  constructor(
    private readonly cursor: TreeCursor,
    language: Language,
    opts: PresetOptions,
    private readonly prev?: BlockCache,
    private readonly next?: BlockCache,
  ) {
    this.t = languageTables(language);
    this.sc = opts.preset === 'structurecoder';
    this.extra = opts.extraKinds ?? [];
  }

  private push(kind: BlockKind, depth: number, start: { row: number; column: number }, end: { row: number; column: number }, hidden?: HiddenReason): void {
    const c: Candidate = { kind, depth, startLine: start.row, startColumn: start.column, endLine: endRowOf(end, start.row), endColumn: end.column };
    if (hidden) c.hidden = hidden;
    this.postOrder.push(c);
  }

  /** Walks the cursor's current node; returns its depth contribution (Python's visitor result).
   * `decoratedStart`: the start of the decorated_definition around it (clean preset spans). */
  walk(decoratedStart?: { row: number; column: number }): number {
    const cur = this.cursor;
    const id = cur.nodeTypeId;
    const ids = this.t.ids;
    if (this.t.container[id] !== 1 && id !== ids.ERROR) return 0;
    // A decorated definition's span depends on its parent, so only cache nodes without one.
    if (!this.next || decoratedStart) return this.walkContainer(id, decoratedStart);
    const nodeId = cur.nodeId;
    const at = cur.startPosition;
    const hit = this.prev?.entries.get(nodeId);
    if (hit && hit.column === at.column) {
      const delta = at.row - hit.row;
      const cands = delta === 0 ? hit.cands : hit.cands.map((c) => ({ ...c, startLine: c.startLine + delta, endLine: c.endLine + delta }));
      for (const c of cands) this.postOrder.push(c);
      this.next.entries.set(nodeId, { row: at.row, column: at.column, depth: hit.depth, cands });
      return hit.depth;
    }
    const before = this.postOrder.length;
    const depth = this.walkContainer(id, undefined);
    this.next.entries.set(nodeId, { row: at.row, column: at.column, depth, cands: this.postOrder.slice(before) });
    return depth;
  }

  private walkContainer(id: number, decoratedStart: { row: number; column: number } | undefined): number {
    const cur = this.cursor;
    const ids = this.t.ids;
    const isIf = id === ids.if_statement;
    const decorated = id === ids.decorated_definition;
    // Children: depth of each, plus what the first child / clauses tell about the node.
    let maxChild = 0;
    let isAsync = false;
    let decoStart: { row: number; column: number } | undefined;
    // structurecoder if-chains: depth of the if's own body, then per elif its body depth + start.
    const chain: { depth: number; start: { row: number; column: number } }[] = [];
    let ifBody = 0;
    let elseBody = 0;
    if (decorated) decoStart = cur.startPosition;
    if (cur.gotoFirstChild()) {
      let first = true;
      do {
        const cid = cur.nodeTypeId;
        if (first && cid === ids.async) isAsync = true;
        first = false;
        if (isIf && this.sc) {
          if (cid === ids.elif_clause) chain.push({ depth: this.walk(), start: cur.startPosition });
          else if (cid === ids.else_clause) elseBody = this.walk();
          else ifBody = Math.max(ifBody, this.walk());
          continue;
        }
        const d = this.walk(decorated ? decoStart : undefined);
        if (d > maxChild) maxChild = d;
      } while (cur.gotoNextSibling());
      cur.gotoParent();
    }
    if (isIf && this.sc) {
      // ast: If(body, orelse=[If(elif_1 ...)]): each elif is an If spanning to the chain's end,
      // appended after everything inside it, the innermost (last) elif first.
      const end = cur.endPosition;
      // depth of elif k = 1 + max(its body, elif k+1 or the else body)
      let orelse = elseBody;
      for (let k = chain.length - 1; k >= 0; k--) {
        orelse = 1 + Math.max(chain[k].depth, orelse);
        this.push('if', orelse, chain[k].start, end, 'elif');
      }
      const depth = 1 + Math.max(ifBody, orelse);
      this.push('if', depth, cur.startPosition, end);
      return depth;
    }
    const kind = this.kindOf(id, isAsync);
    if (!kind) return maxChild;
    const depth = maxChild + 1;
    let hidden: HiddenReason | undefined;
    if (this.sc && kind === 'def' && defNameHasUnderscore(cur.currentNode)) hidden = 'underscore_def';
    this.push(kind, depth, (!this.sc && decoratedStart) || cur.startPosition, cur.endPosition, hidden);
    return depth;
  }

  private kindOf(id: number, isAsync: boolean): BlockKind | undefined {
    const ids = this.t.ids;
    if (id === ids.if_statement) return 'if';
    if (id === ids.for_statement) return this.sc && isAsync ? undefined : 'for';
    if (id === ids.while_statement) return 'while';
    if (id === ids.function_definition) {
      if (!isAsync) return 'def';
      return !this.sc && this.extra.includes('async_def') ? 'async_def' : undefined;
    }
    if (this.sc) return undefined;
    if (id === ids.with_statement) return this.extra.includes('with') ? 'with' : undefined;
    if (id === ids.try_statement) return this.extra.includes('try') ? 'try' : undefined;
    if (id === ids.class_definition) return this.extra.includes('class') ? 'class' : undefined;
    return undefined;
  }
}

/** All candidates of a tree under a preset, with depths, in post-order. With `cache`, subtrees
 * unchanged since the walk that filled `cache.prev` are not walked again, and `cache.next` is
 * filled for the next call (see BlockCache for when that is valid). */
export function collectBlocks(
  root: Node,
  opts: PresetOptions,
  cache?: { prev?: BlockCache; next: BlockCache },
): Collected {
  const cursor = root.walk();
  try {
    const w = new Walker(cursor, root.tree.language, opts, cache?.prev, cache?.next);
    w.walk();
    return { postOrder: w.postOrder };
  } finally {
    cursor.delete();
  }
}

const commentQueries = new WeakMap<Language, Query>();

/** Comment tokens under `root`, in document order. */
export function commentNodes(root: Node): Node[] {
  const language = root.tree.language;
  let q = commentQueries.get(language);
  if (!q) {
    q = new Query(language, '(comment) @comment');
    commentQueries.set(language, q);
  }
  return q.captures(root).map((c) => c.node);
}

function byStart(a: Block, b: Block): number {
  return a.startLine - b.startLine || a.startColumn - b.startColumn;
}

/** Target blocks of a tree, sorted by start position. Trees with syntax errors give the blocks
 * tree-sitter recovered (callers check `root.hasError`). */
export function findBlocks(root: Node, opts: PresetOptions, cache?: { prev?: BlockCache; next: BlockCache }): Block[] {
  const out: Block[] = [];
  for (const c of collectBlocks(root, opts, cache).postOrder) {
    if (c.hidden) continue;
    out.push({
      kind: c.kind,
      depth: c.depth,
      startLine: c.startLine,
      startColumn: c.startColumn,
      endLine: c.endLine,
      endColumn: c.endColumn,
    });
  }
  return out.sort(byStart);
}
