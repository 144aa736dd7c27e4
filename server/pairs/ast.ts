// The identical-AST filter (docs/pairs.md "Filters"): two programs are "the same" when their tree-sitter
// syntax trees match node for node with comments and line continuations left out. Whitespace and
// layout are not nodes (indentation only shows as the nesting of blocks), so reformatting alone
// never makes two programs differ; any token that changes (a name, a literal, an operator, a
// parenthesis) does. This is the concrete tree, so `(x)` and `x` differ where Python's `ast`
// would not; a pair that differs only there is still worth a look.

import type { PythonGrammar } from '../blocks/parser';

/** Extras that carry no meaning. */
const IGNORED = new Set(['comment', 'line_continuation']);

/** A canonical string of the tree of `code`: node types in pre-order, with the text of leaves. */
export function astFingerprint(grammar: PythonGrammar, code: string): string {
  const parser = grammar.newParser();
  try {
    const tree = parser.parse(code);
    if (!tree) throw new Error('tree-sitter returned no tree');
    try {
      const parts: string[] = [];
      const cursor = tree.walk();
      let descend = true;
      for (;;) {
        const type = cursor.nodeType;
        const skip = IGNORED.has(type);
        if (descend && !skip) {
          if (cursor.gotoFirstChild()) {
            parts.push(`(${type}`);
            continue;
          }
          // A leaf: its text matters (identifiers, literals); an anonymous token's type is its text.
          parts.push(cursor.nodeIsNamed ? `${type}=${cursor.nodeText}` : JSON.stringify(type));
        }
        if (cursor.gotoNextSibling()) {
          descend = true;
          continue;
        }
        if (!cursor.gotoParent()) break;
        parts.push(')');
        descend = false;
      }
      cursor.delete();
      return parts.join('\u0000');
    } finally {
      tree.delete();
    }
  } finally {
    parser.delete();
  }
}

/** True when `a` and `b` parse to the same tree, comments and whitespace aside. */
export function identicalAst(grammar: PythonGrammar, a: string, b: string): boolean {
  if (a === b) return true;
  return astFingerprint(grammar, a) === astFingerprint(grammar, b);
}
