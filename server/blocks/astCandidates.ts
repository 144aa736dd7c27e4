// The blocks Python's `ast` gives the published StructureCoder visitor, read from a tree-sitter
// tree that parsed without errors: the cut path of the `structurecoder` preset (cut.ts).
//
// Why not walk the tree (the cursor walk in extract.ts, which the editor uses with its per-subtree
// cache and error-tolerant rules, or `descendantsOfType`)? Any traversal visits every node, and
// after the parse that was the largest cost of a batch (~12%). Every compound statement starts a
// logical line, and the layout scan (indentation.ts) has already found the lines that start with
// one (`heads`): here each is looked up in the tree (`descendantForIndex`, a descent from the
// root), the statement node is its keyword's parent, and nesting and depths come from the nodes'
// ranges in plain JS. test/integration/blocks/astOracle.test.ts holds this to the editor's walk and
// to Python's `ast`.
//
// Python's AST in terms of ranges: a target contains another when its range does, with one
// twist, an `elif`: Python reads `if a: .. elif b: .. else: ..` as If(a, orelse=[If(b, orelse=..)])
// so each elif is an `if` that runs from its own line to the end of the whole chain (the
// published code drops it as a target, "middle starts with elif", but it counts for depth).
// `async def` / `async for` are other AST types there: neither targets nor levels.
import type { Language, Node } from 'web-tree-sitter';
import { Query } from 'web-tree-sitter';
import type { Candidate } from './extract';
import { endRowOf } from './extract';
import type { Layout } from './indentation';

/** A def / class with type parameters (3.12): its name is followed by `[`. */
const TYPE_PARAMETERS = /(?:async[ \t]+)?(?:def|class)[ \t]+[^\s(:[]+[ \t]*\[/y;

export interface AstCandidates {
  /** Targets in the order the published visitor appends them (post-order), elifs included. */
  postOrder: Candidate[];
  /** Why Python 3.11's parser would reject the code although tree-sitter accepts it. */
  rejected?: { row: number; column: number; message: string };
}

interface Open {
  node: Node;
  type: string;
  kind: Candidate['kind'] | undefined;
  /** Python's range: for an elif, to the end of its chain. */
  endIndex: number;
  end: { row: number; column: number };
  maxChild: number;
  /** try_statement: its clauses (Python needs an except, or a finally and no else). */
  clauses?: { except: boolean; final: boolean; else: boolean };
}

/** tree-sitter also reads some valid Python 3 as Python-2 / 3.12 statements: `print >> f, x`
 * (a tuple expression in Python 3) and `type(x).attr = v` (an assignment). */
function rejectedByPython311(node: Node): boolean {
  if (node.type === 'print_statement') return !node.children.some((c) => c?.type === 'chevron');
  if (node.type === 'type_alias_statement') {
    const left = node.childForFieldName('left');
    return !!left && /^[\p{L}\p{Nl}_][\p{L}\p{N}\p{Mn}\p{Mc}\p{Pc}]*\s*(\[|$)/u.test(left.text);
  }
  return true;
}

const lessGreaterQueries = new WeakMap<Language, Query>();

/** The first `<>` operator (Python 2, which tree-sitter-python accepts) under `root`. Only called
 * when the layout scan saw `<>` outside strings: it sits inside expressions, so finding it takes a query. */
function lessGreater(root: Node): Node | undefined {
  const language = root.tree.language;
  let q = lessGreaterQueries.get(language);
  if (!q) {
    q = new Query(language, '"<>" @op');
    lessGreaterQueries.set(language, q);
  }
  return q.captures(root)[0]?.node;
}

/** Candidates of the tree under `root` (which must have no errors); `code` is the parsed text,
 * `layout` its layout scan (indentation.ts). */
export function astCandidates(root: Node, code: string, layout: Pick<Layout, 'heads' | 'suspects' | 'lessGreater'>): AstCandidates {
  const { heads, suspects } = layout;
  const postOrder: Candidate[] = [];
  let rejected: AstCandidates['rejected'];
  const reject = (node: Node, message: string): void => {
    if (rejected) return;
    const p = node.startPosition;
    rejected = { row: p.row, column: p.column, message };
  };
  const stack: Open[] = [];
  const close = (o: Open): void => {
    if (o.kind === undefined) {
      const c = o.clauses;
      if (c && !c.except && (!c.final || c.else)) reject(o.node, "expected 'except' or 'finally' block");
      // Transparent (async def / async for / try): its children count for the enclosing target.
      const up = stack[stack.length - 1];
      if (up && o.maxChild > up.maxChild) up.maxChild = o.maxChild;
      return;
    }
    const depth = o.maxChild + 1;
    const start = o.node.startPosition;
    postOrder.push({ kind: o.kind, depth, startLine: start.row, startColumn: start.column, endLine: endRowOf(o.end, start.row), endColumn: o.end.column });
    const up = stack[stack.length - 1];
    if (up && depth > up.maxChild) up.maxChild = depth;
  };
  for (const at of heads) {
    // The keyword's token; its parent is the statement or clause it starts (or, for a word that is
    // not a keyword there, `print(x)` or `type = 1`, an expression that is none of the cases).
    const node = root.descendantForIndex(at)?.parent;
    if (!node || node.startIndex !== at) continue;
    const type = node.type;
    while (stack.length > 0 && stack[stack.length - 1].endIndex <= at) close(stack.pop()!);
    switch (type) {
      case 'print_statement':
      case 'exec_statement':
      case 'type_alias_statement':
        if (rejectedByPython311(node)) reject(node, `${type} is not Python 3.11`);
        continue;
      case 'class_definition':
        TYPE_PARAMETERS.lastIndex = at;
        if (TYPE_PARAMETERS.test(code)) reject(node, 'type_parameter is not Python 3.11');
        continue;
      case 'except_clause':
      case 'finally_clause':
      case 'else_clause': {
        // Its statement is the innermost open node (an if's elifs aside): whatever opened inside
        // the previous clause's body has ended before this clause starts.
        const owner = stack[stack.length - 1];
        if (owner?.clauses) {
          if (type === 'except_clause') owner.clauses.except = true;
          else if (type === 'finally_clause') owner.clauses.final = true;
          else owner.clauses.else = true;
        }
        continue;
      }
      case 'elif_clause': {
        // Nested in the previous elif (or the if), running to the end of the chain.
        const chain = innermost(stack, 'if_statement');
        const endIndex = chain ? chain.endIndex : node.endIndex;
        const end = chain ? chain.end : node.endPosition;
        stack.push({ node, type, kind: 'if', endIndex, end, maxChild: 0 });
        continue;
      }
      case 'if_statement':
      case 'for_statement':
      case 'while_statement':
      case 'function_definition':
      case 'try_statement': {
        if (type === 'function_definition') {
          TYPE_PARAMETERS.lastIndex = at;
          if (TYPE_PARAMETERS.test(code)) reject(node, 'type_parameter is not Python 3.11');
        }
        const async = (type === 'for_statement' || type === 'function_definition') && code.startsWith('async', at);
        const kind = async || type === 'try_statement' ? undefined : type === 'if_statement' ? 'if' : type === 'for_statement' ? 'for' : type === 'while_statement' ? 'while' : 'def';
        const open: Open = { node, type, kind, endIndex: node.endIndex, end: node.endPosition, maxChild: 0 };
        if (type === 'try_statement') open.clauses = { except: false, final: false, else: false };
        stack.push(open);
      }
    }
  }
  while (stack.length > 0) close(stack.pop()!);
  // An annotated assignment is a statement; tree-sitter also reads `x = a: b` (a stray colon) as one
  // nested in an assignment, which Python rejects. Only the lines the scan found can hold it.
  for (let k = 0; !rejected && k < suspects.length; k += 2) {
    for (const t of root.descendantsOfType('type', { row: suspects[k], column: 0 }, { row: suspects[k + 1] + 1, column: 0 })) {
      const parent = t?.parent;
      if (parent?.type === 'assignment' && parent.parent?.type !== 'expression_statement') {
        reject(parent, 'invalid syntax');
        break;
      }
    }
  }
  if (!rejected && layout.lessGreater) {
    const op = lessGreater(root);
    if (op) reject(op, '<> is not Python 3.11');
  }
  return rejected ? { postOrder, rejected } : { postOrder };
}

/** The innermost open node of a type (an elif's if: nothing between them is open, since everything
 * inside an earlier clause's body ended before this clause starts). */
function innermost(stack: readonly Open[], type: string): Open | undefined {
  for (let k = stack.length - 1; k >= 0; k--) if (stack[k].type === type) return stack[k];
  return undefined;
}
