// The `structurecoder` preset: hand-checked spans on hard inputs, and the full output of the
// published code on the same cases (test/fixtures/blocks/structurecoder-cases.json, regenerated
// with scripts/parity/make_fixture.py from a checkout of SenseLLM/StructureCoder).
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { cutTargets, pyStrip, pyWordCount, stripCommentsStructureCoder, unterminatedString } from '../../../server/blocks/cut';
import { findBlocks } from '../../../server/blocks/extract';
import type { PythonGrammar } from '../../../server/blocks/parser';
import { loadPython } from '../../../server/blocks/parser';
import type { Target } from '../../../server/blocks/types';
import { fixturePath } from '../../support/paths';

const SC = { preset: 'structurecoder' } as const;
let g: PythonGrammar;
beforeAll(async () => {
  g = await loadPython();
});

const spans = (ts: Target[]) => ts.map((t) => [t.kind, t.depth, t.startLine, t.endLine]);

/** The published cut rebuilt: '\n'.join(lines[:s] + [mid] + lines[e+1:]) is the code. */
function rejoin(code: string, t: Target): string {
  const lines = code.split('\n');
  return [...lines.slice(0, t.startLine), t.mid, ...lines.slice(t.endLine + 1)].join('\n');
}

function cut(code: string) {
  const r = cutTargets(g, code, SC);
  for (const t of r.targets) {
    expect(rejoin(r.code, t)).toBe(r.code);
    // pre + mid + suf is the code, except Python's '\n'.join([]) edges: '\n' before a block on the
    // first line and after one on the last line.
    const lines = r.code.split('\n').length;
    const expected = (t.startLine === 0 ? '\n' : '') + r.code + (t.endLine === lines - 1 ? '\n' : '');
    expect(t.pre + t.mid + t.suf).toBe(expected);
  }
  return r;
}

describe('structurecoder comment stripping (the published quirk)', () => {
  it('drops comment-only lines and cuts others at the first #, even inside strings', () => {
    expect(stripCommentsStructureCoder('# a\nx = 1  # b\n  # c\ns = "a#b"  \ny = 2  ')).toBe('x = 1\ns = "a\ny = 2  ');
  });
  it('strips with Python whitespace (\\x1c, NBSP, ideographic space) and keeps \\r on lines without #', () => {
    expect(pyStrip('\x1c\u3000 x \xa0\n')).toBe('x');
    expect(stripCommentsStructureCoder('a = 1\r\nb = 2 # c\r\n\u3000# d\r\nc')).toBe('a = 1\r\nb = 2\nc');
  });
  it('counts words as str.split() does', () => {
    expect(pyWordCount('  def f(a,  b):\n\treturn\u3000a ')).toBe(5);
    expect(pyWordCount('')).toBe(0);
  });
  it('finds unterminated single-quoted strings but not escaped newlines or triple quotes', () => {
    expect(unterminatedString("if c == '\n    x = 1")).toBe(8);
    expect(unterminatedString('s = "a\\\nb"\nt = """x\ny"""\n')).toBeUndefined();
    expect(unterminatedString("s = '''open")).toBe(4);
    expect(unterminatedString(`s = "it's"`)).toBeUndefined();
  });
});

describe('structurecoder targets', () => {
  it('an if/elif/elif/else chain is one if whose depth counts each elif; elifs are not targets', () => {
    const r = cut('x = 1\nif a:\n    b = 1\nelif c:\n    d = 2\nelif e:\n    for i in r:\n        f(i)\nelse:\n    g()\ny = 2');
    // post-order, as the published visitor appends them
    expect(spans(r.targets)).toEqual([
      ['for', 1, 6, 7],
      ['if', 4, 1, 9],
    ]);
    expect(r.targets[1].mid).toBe('if a:\n    b = 1\nelif c:\n    d = 2\nelif e:\n    for i in r:\n        f(i)\nelse:\n    g()');
    expect(r.targets[1].pre).toBe('x = 1\n');
    expect(r.targets[1].suf).toBe('\ny = 2');
  });
  it('if/elif/else with plain bodies has depth 2', () => {
    expect(spans(cut('if a:\n    b\nelif c:\n    d\nelse:\n    e\nz').targets)).toEqual([['if', 2, 0, 5]]);
  });
  it('an if nested in else (not elif) is a target of its own', () => {
    const r = cut('if a:\n    b()\nelse:\n    if c:\n        d()\nz = 1');
    expect(spans(r.targets)).toEqual([
      ['if', 1, 3, 4],
      ['if', 2, 0, 4],
    ]);
    expect(r.targets[1].pre).toBe('\n');
  });
  it('nested defs: depth grows outward; the last-line block gets suf "\\n"', () => {
    const r = cut('def outer(x):\n    def inner(y):\n        for i in y:\n            print(i)\n    return inner');
    expect(spans(r.targets)).toEqual([
      ['for', 1, 2, 3],
      ['def', 2, 1, 3],
      ['def', 3, 0, 4],
    ]);
    expect(r.targets[2].suf).toBe('\n');
    expect(r.targets[2].pre).toBe('\n');
  });
  it('one-line if / while are one-line middles', () => {
    const r = cut('n = int(input())\nif n: print(n)\nwhile n: n -= 1\nprint(0)');
    expect(spans(r.targets)).toEqual([
      ['if', 1, 1, 1],
      ['while', 1, 2, 2],
    ]);
    expect(r.targets[0].mid).toBe('if n: print(n)');
  });
  it('a decorated def starts at its def line; decorators stay in the prefix', () => {
    const r = cut('import functools\n@functools.lru_cache(None)\ndef fib(n):\n    return n\nprint(fib(10))');
    expect(spans(r.targets)).toEqual([['def', 1, 2, 3]]);
    expect(r.targets[0].pre).toBe('import functools\n@functools.lru_cache(None)\n');
  });
  it("'#' inside a string breaks the stripped code: no targets, an error", () => {
    const r = cut("s = input()\nif s == '#':\n    print(1)\nelse:\n    print(2)");
    expect(r.targets).toEqual([]);
    expect(r.code).toBe("s = input()\nif s == '\n    print(1)\nelse:\n    print(2)");
    expect(r.error).toMatch(/line 2, column 9: unterminated string literal/);
  });
  it('comments are removed before cutting, so lines refer to the stripped code', () => {
    const r = cut("# header\nx = 1  # one\nfor i in range(x):  # loop\n    # inside\n    print(i)\nprint('done')");
    expect(r.code).toBe("x = 1\nfor i in range(x):\n    print(i)\nprint('done')");
    expect(spans(r.targets)).toEqual([['for', 1, 1, 2]]);
  });
  it('tabs', () => {
    const r = cut('def f(a):\n\tif a:\n\t\treturn 1\n\treturn 2\nprint(f(1))');
    expect(spans(r.targets)).toEqual([
      ['if', 1, 1, 2],
      ['def', 2, 0, 3],
    ]);
    expect(r.targets[0].mid).toBe('\tif a:\n\t\treturn 1');
  });
  it('CRLF: lines keep their \\r unless a comment was cut from them, as in the published code', () => {
    const r = cut('x = 1\r\nif x:\r\n    y = 2  # c\r\n    z = 3\r\nprint(x)\r\n');
    expect(spans(r.targets)).toEqual([['if', 1, 1, 3]]);
    expect(r.targets[0].mid).toBe('if x:\r\n    y = 2\n    z = 3\r');
  });
  it('a lone CR counts as a line break for line numbers but not for the cut (Python does the same)', () => {
    const r = cut('x = 1\rif x:\n    y = 2\nz = 3');
    expect(spans(r.targets)).toEqual([['if', 1, 1, 2]]);
    expect(r.targets[0].mid).toBe('    y = 2\nz = 3');
  });
  it('unicode identifiers', () => {
    const r = cut("größe = 3\nfor ü in range(größe):\n    if ü:\n        print('ü')\nprint(größe)");
    expect(spans(r.targets)).toEqual([
      ['if', 1, 2, 3],
      ['for', 2, 1, 3],
    ]);
  });
  it('syntax errors and Python-2 code give no targets and say where', () => {
    expect(cut('x = (\nif a:\n    b').error).toMatch(/^syntax error at line \d+, column \d+/);
    expect(cut("print 'hello'\nif a:\n    b")).toMatchObject({ targets: [], error: expect.stringMatching(/line 1, column 1: print_statement/) });
    expect(cut('if a <> b:\n    c').error).toMatch(/<>/);
    // valid Python 3 that tree-sitter reads as Python-2 / 3.12 statements is accepted
    expect(cut('print >> f, x\nif a:\n    b').targets).toHaveLength(1);
    expect(cut('type(a).b = 1\nif a:\n    b').targets).toHaveLength(1);
    expect(cut('type X = int\nif a:\n    b').error).toMatch(/type_alias_statement/);
    expect(cut('x = "\0"\nif a:\n    b').error).toMatch(/NUL/);
  });
  it("Python's indentation rules, which tree-sitter does not enforce, reject the code", () => {
    const cases: [string, RegExp][] = [
      ['def f():\nx = 1', /line 2, column 1: expected an indented block after line 1/],
      ['x = 1\n    y = 2\nif a:\n    b', /line 2, column 5: unexpected indent/],
      ['if a:\n    b\n  c', /line 3, column 3: (unexpected indent|unindent does not match)/],
      ['if a:\n\tb\n        c', /line 3, column 9: inconsistent use of tabs and spaces/],
      ['if a:\n    b\n  else:\n    c', /line 3, column 3: unindent does not match/],
      ['if x: a\n    b', /unexpected indent/],
      ['try:\n    a\nb = 1', /line 1, column 1: expected 'except' or 'finally' block/],
      ['try:\n    a\nelse:\n    b', /line 1, column 1: expected 'except' or 'finally' block/],
      ['try:\n    a\nelse:\n    b\nfinally:\n    c', /line 1, column 1: expected 'except' or 'finally' block/],
      ['Example :\n    "doc"', /line 1, column 1: invalid syntax/],
      ['for x in y:\n    a = b: c', /line 2, column 9: invalid syntax/],
    ];
    for (const [code, message] of cases) {
      const r = cut(code);
      expect(r.targets).toEqual([]);
      expect(r.error).toMatch(message);
    }
    // tabs used consistently are fine
    expect(cut('def f():\n\tif a:\n\t\treturn 1\n\treturn 2').targets).toHaveLength(2);
  });
  it('empty and whitespace-only files have no targets and no error', () => {
    expect(cut('')).toEqual({ code: '', targets: [] });
    expect(cut(' \n\t\n')).toEqual({ code: '', targets: [] });
  });
  it('a def with _ in its name is skipped but still counts for depth', () => {
    const r = cut('def main():\n    def helper_fn():\n        while True:\n            if x:\n                break\n    helper_fn()\nmain()');
    expect(spans(r.targets)).toEqual([
      ['if', 1, 3, 4],
      ['while', 2, 2, 4],
      ['def', 4, 0, 5],
    ]);
    expect(spans(cut('def solve_it(n):\n    for i in range(n):\n        print(i)\nsolve_it(3)').targets)).toEqual([['for', 1, 1, 2]]);
  });
  it('while/else and for/else span their else', () => {
    const r = cut('i = 0\nwhile i < 3:\n    i += 1\nelse:\n    print(i)\nfor j in []:\n    pass\nelse:\n    print(j)\nprint()');
    expect(spans(r.targets)).toEqual([
      ['while', 1, 1, 4],
      ['for', 1, 5, 8],
    ]);
  });
  it('try inside def: the try is transparent, its children are searched', () => {
    const r = cut('def run(x):\n    try:\n        if x:\n            return 1\n    except ValueError:\n        return 2\n    finally:\n        print(x)\nrun(1)');
    expect(spans(r.targets)).toEqual([
      ['if', 1, 2, 3],
      ['def', 2, 0, 7],
    ]);
  });
  it('async def and async for are neither targets nor depth levels', () => {
    const r = cut('async def main():\n    async for x in y:\n        if x:\n            print(x)\n    for z in w:\n        pass\nprint(1)');
    expect(spans(r.targets)).toEqual([
      ['if', 1, 2, 3],
      ['for', 1, 4, 5],
    ]);
  });
  it('class methods: the class is transparent, dunder methods are skipped', () => {
    const r = cut(
      'class Solution:\n    def twoSum(self, nums, target):\n        seen = {}\n        for i, n in enumerate(nums):\n            if target - n in seen:\n                return [seen[target - n], i]\n            seen[n] = i\n    def __init__(self):\n        pass\nprint(Solution)',
    );
    expect(spans(r.targets)).toEqual([
      ['if', 1, 4, 5],
      ['for', 2, 3, 6],
      ['def', 3, 1, 6],
    ]);
  });
  it('strips the solution first, like the published fim()', () => {
    const r = cut('\n\n   \nif a:\n    b\n\n\n');
    expect(r.code).toBe('if a:\n    b');
    expect(r.targets).toEqual([{ kind: 'if', depth: 1, startLine: 0, endLine: 1, pre: '\n', mid: 'if a:\n    b', suf: '\n' }]);
  });
});

describe('structurecoder matches the published code on the fixture cases', () => {
  const fixture = JSON.parse(readFileSync(fixturePath('blocks', 'structurecoder-cases.json'), 'utf8')) as {
    cases: Record<string, string>;
    published: Record<string, { pre: string; mid: string; suf: string; type: string; depth: number }[]>;
  };
  for (const [name, code] of Object.entries(fixture.cases)) {
    it(name, () => {
      const ours = cutTargets(g, code, SC).targets.map((t) => ({ pre: t.pre, mid: t.mid, suf: t.suf, type: t.kind, depth: t.depth }));
      expect(ours).toEqual(fixture.published[name]);
    });
  }
});

describe('findBlocks (editor view) under structurecoder rules', () => {
  it('reports columns in UTF-16 code units and sorts by start', () => {
    const parser = g.newParser();
    const tree = parser.parse('😀 = 1\nif 😀:\n    pass\n')!;
    // an emoji is not an identifier: tree-sitter recovers, the if block is still found
    expect(tree.rootNode.hasError).toBe(true);
    const t2 = parser.parse('x = "😀"; y = 1\nfor a in b:\n    if a: pass\n    def inner_x(): pass\n')!;
    expect(findBlocks(t2.rootNode, SC)).toEqual([
      { kind: 'for', depth: 2, startLine: 1, startColumn: 0, endLine: 3, endColumn: 23 },
      { kind: 'if', depth: 1, startLine: 2, startColumn: 4, endLine: 2, endColumn: 14 },
    ]);
    const t3 = parser.parse('s = "😀"; \nif s: pass\n')!;
    expect(t3.rootNode.child(0)!.endPosition.column).toBe(8);
    tree.delete();
    t2.delete();
    t3.delete();
    parser.delete();
  });
});
