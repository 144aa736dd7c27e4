// The layout scan behind the structurecoder cut (server/blocks/indentation.ts): where logical
// lines start, which of them open a compound statement, and which lines look like `x = a: b`.
// (The cut against Python's own `ast` on random programs is test/integration/blocks/astOracle.test.ts.)
import { describe, expect, it } from 'vitest';
import { scanLayout } from '../../../server/blocks/indentation';

describe('scanLayout', () => {
  const cases: [string, string | undefined][] = [
    ['if a:\n    b\n', undefined],
    ['if a:\n\n   \n    b\n', undefined],
    ['x = (1,\n2)\nif a:\n  b', undefined],
    ['s = """\nno: indent\n   rules: here"""\nif a:\n b', undefined],
    ['x = 1 + \\\n        2\n', undefined],
    ['if a:\r\n    b\r\n', undefined],
    ['if a:\n    pass\n\f    b', undefined],
    ['def f():\nx = 1', '2:1 expected an indented block after line 1'],
    ['def f():\n\n', '3:1 expected an indented block after line 1'],
    ['if a:', '1:1 expected an indented block after line 1'],
    ['x = 1\n    y = 2', '2:5 unexpected indent'],
    ['if x: a\n    b', '2:5 unexpected indent'],
    ['x = (1,\n  2)\n  y', '3:3 unexpected indent'],
    ['if a:\n    b\n  c', '3:3 unindent does not match any outer indentation level'],
    ['if a:\n    b\n  else:\n    c', '3:3 unindent does not match any outer indentation level'],
    ['if a:\n\tb\n        c', '3:9 inconsistent use of tabs and spaces in indentation'],
    ['if a:\n        b\nif c:\n\td', undefined],
    ['if a:\n        b\n\tc', '3:2 inconsistent use of tabs and spaces in indentation'],
    ['lse:\n    x = 1', '1:1 invalid syntax'],
    // a backslash continuation at a line start: the first backslash's column, when not 0, is the level
    ['def f():\n    a\n\\\n    b\n    c\n', undefined],
    ['def f():\n    a\n  \\\n    b\n    c\n', '4:5 unindent does not match any outer indentation level'],
    ['def f():\n    a\n\\\nb\n', undefined],
    ['x = 1\n\\\n\\\nclass A:\n    pass\n', undefined],
    ['def f():\n    a\n    \\\n  b\n', undefined],
    ['if a:\n    Example :\n        "doc"', '2:5 invalid syntax'],
    ['class A(B,\n        C):\n    match x:\n        case 1:\n            pass', undefined],
  ];
  it('heads: the logical lines that start with a compound keyword (or print / exec / type), as offsets', () => {
    const code = 'import os\nif a:\n    x = (1,\n  if_)\n    for i in x: pass\nelse:\n    print(1)\nclass C:\n    type = 3\n';
    const words = scanLayout(code).heads.map((at) => code.slice(at, code.indexOf('\n', at)));
    expect(words).toEqual(['if a:', 'for i in x: pass', 'else:', 'print(1)', 'class C:', 'type = 3']);
  });
  it('suspects: rows of lines with a `:` outside brackets after an assignment', () => {
    const code = 'x: int = 1\nf = lambda: 0\nd = {1: 2}\ny = a: b\nz = (1 +\n  2): c\nw == a: b\nv := 1\n';
    expect(scanLayout(code).suspects).toEqual([1, 1, 3, 3, 4, 5]);
  });
  it('lessGreater: `<>` outside strings only', () => {
    expect(scanLayout('if a <> b:\n    c').lessGreater).toBe(true);
    expect(scanLayout('s = "<>"\nt = a < b > c').lessGreater).toBe(false);
  });
  for (const [code, expected] of cases) {
    it(JSON.stringify(code), () => {
      const e = scanLayout(code).error;
      expect(e && `${e.row + 1}:${e.column + 1} ${e.message}`).toBe(expected);
      if (e) expect(e.kind).toBe(e.message === 'invalid syntax' ? 'syntax' : 'indentation');
    });
  }
});
