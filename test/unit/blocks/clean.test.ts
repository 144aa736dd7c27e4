// The `clean` preset: string-aware comments, no name-based skips, elif inside its if, optional
// extra kinds, and an exact cut (pre + mid + suf === code).
import { beforeAll, describe, expect, it } from 'vitest';
import { cutTargets } from '../../../server/blocks/cut';
import { findBlocks } from '../../../server/blocks/extract';
import type { PythonGrammar } from '../../../server/blocks/parser';
import { loadPython } from '../../../server/blocks/parser';
import type { Target } from '../../../server/blocks/types';
import type { BlockKind } from '../../../server/protocol';

let g: PythonGrammar;
beforeAll(async () => {
  g = await loadPython();
});

const spans = (ts: Target[]) => ts.map((t) => [t.kind, t.depth, t.startLine, t.endLine]);

function cut(code: string, extraKinds?: BlockKind[]) {
  const r = cutTargets(g, code, { preset: 'clean', extraKinds });
  for (const t of r.targets) expect(t.pre + t.mid + t.suf).toBe(r.code);
  return r;
}

describe('clean preset', () => {
  it('elif/else belong to their if and add no depth', () => {
    const r = cut('x = 1\nif a:\n    b = 1\nelif c:\n    d = 2\nelif e:\n    for i in r:\n        f(i)\nelse:\n    g()\ny = 2');
    expect(spans(r.targets)).toEqual([
      ['if', 2, 1, 9],
      ['for', 1, 6, 7],
    ]);
    expect(spans(cut('if a:\n    b\nelif c:\n    d\nelse:\n    e').targets)).toEqual([['if', 1, 0, 5]]);
  });
  it("keeps '#' inside strings and removes real comments", () => {
    const r = cut("s = input()  # read\n# whole line\nif s == '#':\n    print('#', 1)  # trailing\nelse:\n    print(2)\n");
    expect(r.code).toBe("s = input()\nif s == '#':\n    print('#', 1)\nelse:\n    print(2)\n");
    expect(spans(r.targets)).toEqual([['if', 1, 1, 4]]);
    expect(r.targets[0].pre).toBe('s = input()\n');
    expect(r.targets[0].mid).toBe("if s == '#':\n    print('#', 1)\nelse:\n    print(2)");
    expect(r.targets[0].suf).toBe('\n');
  });
  it('a comment-looking line inside a triple-quoted string is kept', () => {
    const r = cut('def f():\n    s = """\n# not a comment\n"""\n    return s\n');
    expect(r.code).toBe('def f():\n    s = """\n# not a comment\n"""\n    return s\n');
    expect(spans(r.targets)).toEqual([['def', 1, 0, 4]]);
  });
  it('underscore defs and dunder methods are targets; decorators are inside the def block', () => {
    const r = cut('class A:\n    @staticmethod\n    def solve_it(n):\n        return n\n    def __init__(self):\n        pass\n');
    expect(spans(r.targets)).toEqual([
      ['def', 1, 1, 3],
      ['def', 1, 4, 5],
    ]);
    expect(r.targets[0].mid).toBe('    @staticmethod\n    def solve_it(n):\n        return n');
  });
  it('extra kinds on request: async def, with, try, class; async for is a for', () => {
    const code = 'class A:\n    async def run(self):\n        async with lock:\n            async for x in y:\n                try:\n                    f(x)\n                except E:\n                    pass\n';
    expect(spans(cut(code).targets)).toEqual([['for', 1, 3, 7]]);
    expect(spans(cut(code, ['async_def', 'with', 'try', 'class']).targets)).toEqual([
      ['class', 5, 0, 7],
      ['async_def', 4, 1, 7],
      ['with', 3, 2, 7],
      ['for', 2, 3, 7],
      ['try', 1, 4, 7],
    ]);
  });
  it('one-line blocks, while/else, for/else', () => {
    const r = cut('if n: print(n)\nwhile n:\n    n -= 1\nelse:\n    pass\nfor a in b: pass\nelse: pass');
    expect(spans(r.targets)).toEqual([
      ['if', 1, 0, 0],
      ['while', 1, 1, 4],
      ['for', 1, 5, 6],
    ]);
    expect(r.targets[0].pre).toBe('');
    expect(r.targets[2].suf).toBe('');
  });
  it('CRLF is normalised to LF; tabs and unicode identifiers work', () => {
    const r = cut('größe = 1\r\nfor ü in x:\r\n\tif ü:\r\n\t\tprint("ü")\r\n');
    expect(r.code).toBe('größe = 1\nfor ü in x:\n\tif ü:\n\t\tprint("ü")\n');
    expect(spans(r.targets)).toEqual([
      ['for', 2, 1, 3],
      ['if', 1, 2, 3],
    ]);
  });
  it('syntax errors give no targets and an error; empty code gives nothing', () => {
    const r = cut('def f(:\n    pass\n');
    expect(r.targets).toEqual([]);
    expect(r.error).toMatch(/^syntax error at line 1, column \d+/);
    expect(cut('')).toEqual({ code: '', targets: [] });
    expect(cut('# only a comment\n')).toEqual({ code: '', targets: [] });
  });
  it('try inside def with the try kind requested', () => {
    const r = cut('def run(x):\n    try:\n        if x:\n            return 1\n    finally:\n        print(x)\n', ['try']);
    expect(spans(r.targets)).toEqual([
      ['def', 3, 0, 5],
      ['try', 2, 1, 5],
      ['if', 1, 2, 3],
    ]);
  });
  it('findBlocks gives the same spans with columns, and recovers blocks around syntax errors', () => {
    const parser = g.newParser();
    const tree = parser.parse('if a:\n    x = (\nfor i in r:\n    pass\n')!;
    expect(tree.rootNode.hasError).toBe(true);
    expect(findBlocks(tree.rootNode, { preset: 'clean' }).map((b) => b.kind)).toContain('for');
    tree.delete();
    parser.delete();
  });
});
