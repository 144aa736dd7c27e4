// Chunked parsing (server/blocks/chunks.ts, documents.ts): where chunks start, that an incremental
// rescan finds the same starts as a full scan, and that DocumentTrees gives exactly the blocks of a
// full parse whenever the document parses without errors, and the chunked from-scratch reference
// (chunkedBlocks) always.
import { beforeAll, describe, expect, it } from 'vitest';
import type { ChunkStarts } from '../../../server/blocks/chunks';
import { chunkStarts, MEMBER, rescanChunkStarts, TOP } from '../../../server/blocks/chunks';
import type { ContentChange } from '../../../server/blocks/documents';
import { chunkedBlocks, DocumentTrees } from '../../../server/blocks/documents';
import { findBlocks } from '../../../server/blocks/extract';
import type { PythonGrammar } from '../../../server/blocks/parser';
import { loadPython } from '../../../server/blocks/parser';
import type { PresetOptions } from '../../../server/blocks/types';
import { rngFrom as rng } from '../../../server/localvllm/rng'; // mulberry32: seeded, so failures replay

let g: PythonGrammar;
beforeAll(async () => {
  g = await loadPython();
});


/** Chunk starts as "row" (top-level) and "row m" (member) strings, for readable expectations. */
function starts(text: string): string[] {
  const s = chunkStarts(text);
  return s.rows.map((r, i) => (s.kinds[i] === MEMBER ? `${r} m` : `${r}`));
}

describe('chunkStarts', () => {
  const cases: [string, string, string[]][] = [
    ['decorators start their chunk; blank and comment lines belong before', 'import a\n@dec\n\n# c\n@dec2(1)\ndef f():\n    pass\nx = 1\n', ['0', '1', '7']],
    ['else/elif/except/finally continue; elsewhere does not', 'if a:\n    pass\nelif b:\n    pass\nelse:\n    pass\ntry:\n  x\nexcept E:\n  y\nfinally:\n  z\nelsewhere = 1\n', ['0', '6', '12']],
    ['column-0 comments between and inside statements', 'x = 1\n# comment\ny = 2\ndef f():\n# inside\n    return 1\nz = 2\n', ['0', '2', '3', '6']],
    ['backslash continuations', 'x = 1 + \\\n2\ny = 3 \\\n  + 4\nz = 5\n', ['0', '2', '4']],
    ['brackets spanning lines with column-0 content', 'a = [x\nfor x in y]\nfoo(\n1)\nb = {\n@c,\n}\nd = 2\n', ['0', '2', '4', '7']],
    ['triple-quoted strings hide column-0 code', 's = """\ndef f():\n    pass\n"""\nt = \'\'\'\nclass A: \'\n\'\'\'\ndef g(): pass\n', ['0', '4', '7']],
    ['f-strings, raw strings and escaped quotes', 's = f"{x}(" + rb\'\\\'\' + "\\"("\nt = 1\nu = r"\\\\"\nv = 2\n', ['0', '1', '2', '3']],
    ['an escaped line break continues a single-quoted string', 's = "a\\\ndef f(): pass"\nt = 1\n', ['0', '2']],
    ['CRLF', 'x = 1\r\ny = (\r\n1)\r\n\r\nz = 2\r\n', ['0', '1', '4']],
    ['tabs', 'def f():\n\tif x:\n\t\tpass\ny = 1\n', ['0', '3']],
    ['unicode identifiers are not keywords', 'größe = 1\nelseé = 2\ndefine = 3\n', ['0', '1', '2']],
    ['an unclosed bracket is reset by a column-0 def', 'x = foo(\ndef g():\n    pass\ny = 1\n', ['0', '1', '3']],
    ['... and by an indented return', 'def f():\n    x = (\n    return 1\ny = 2\n', ['0', '3']],
    ['... but not by if, for, from, not, await, lambda or @', 'x = foo(\nif y:\n    z\nfor z in w:\n  z\nfrom a\nnot a\nawait b\nlambda: c\n@d\n', ['0']],
    ['an unterminated single-quoted string ends at the line break', 'x = "abc\ny = 2\n', ['0', '1']],
    ['an unterminated triple-quoted string runs to the end', 'x = """abc\ny = 2\ndef f(): pass\n', ['0']],
    ['indented first line', '  x = 1\ny = 2\n', ['0', '1']],
    [
      'class bodies split at def/class/decorator lines at the body level',
      'class A(\n  B):\n    """doc"""\n    def f(self):\n        def inner(): pass\n\n    @property\n    def g(self):\n        return 1\n    x = 1\n    class C:\n        pass\n    async  def h(self): pass\ndef k(): pass\n',
      ['0', '3 m', '6 m', '10 m', '12 m', '13'],
    ],
    ['the first body statement never starts a member chunk', 'class A:\n    def f(self): pass\n    def g(self): pass\n', ['0', '2 m']],
    ['decorated classes split too; decorated functions do not', '@dataclass\nclass A:\n    x: int\n    def f(self): pass\n@d\ndef f():\n    x = 1\n    def g(): pass\n', ['0', '3 m', '4']],
    ['a line indented unlike the body is no member start', 'class A:\n\tx = 1\n        def f(): pass\n', ['0']],
    ['an inline class body has no members', 'class A: pass\ndef f(): pass\n', ['0', '1']],
    ['... not even with indented lines after it', 'class A: x = 1\n    def f(self): pass\n    def g(self): pass\n', ['0']],
    // tree-sitter reads these line breaks as whitespace (NEWLINE cannot come there) and parses
    // each pair as one statement without errors
    ['a compound header without a colon continues on the next line', 'def top\n(a): pass\nclass A\n(B): pass\nx = 1\n', ['0', '2', '4']],
    ['so does a statement ending in an operator, comma or keyword', 'x =\ny\nz = a +\n\n# c\nb\nimport a as\nb\nw = 1\n', ['0', '2', '6', '8']],
    ['... and `from m` before an `import` line', 'from m\nimport n\nimport o\np = 1\n', ['0', '3']],
    ['`from m import *` is finished, `x = a *` is not', 'from m import *\nx = a *\nb\ny = 1\n', ['0', '1', '3']],
    ['lines no statement starts with continue the one before', 'f = lambda x\n: x\ny = 1.\nz = ...\nw = 2\n', ['0', '2', '4']],
    ['`...`, strings and closing brackets end statements', 'x = ...\ny = "a"\nz = f(a)\nw = 2\n', ['0', '1', '2', '3']],
    ['an unfinished statement is reset by a def line', 'x =\ndef g():\n    pass\n', ['0', '1']],
    [
      'a line indented less than the class body ends its members',
      'class A:\n    def f(self):\n        pass\n  y = 2\n    def g(self): pass\nz = 1\n',
      ['0', '5'],
    ],
  ];
  for (const [name, text, want] of cases) {
    it(name, () => {
      expect(starts(text)).toEqual(want);
    });
  }

  it('offsets are line starts, rows count "\\n" only', () => {
    const text = 'x = 1\r\nclass A:\n    y = 2\n    def f(self): pass\n';
    const s = chunkStarts(text);
    expect(s).toEqual({ offsets: [0, 7, 26], rows: [0, 1, 3], kinds: [TOP, TOP, MEMBER] });
  });
});

/** A source with every construct the scanner knows, for random edits. */
const RICH = [
  'import os  # a comment',
  '@decorator(',
  '    arg)',
  'def top(a, b=(1,',
  '2)):',
  '    """Docstring with def at column 0:',
  'def not_real():',
  '    """',
  '    s = f"{a}(" + rb\'\\\'\'',
  '    if a:',
  '        return [x',
  'for x in b]',
  '    elif b:',
  '        pass',
  '    else:',
  '        t = 1 + \\',
  '2',
  '# column-0 comment inside',
  '    return t',
  '',
  'class Klass(Base):',
  '    """Doc."""',
  '    x = 1',
  '',
  '    @property',
  '    def prop(self):',
  '        while self.x:',
  '            self.x -= 1',
  '        return self.x',
  '',
  '    def method(self, y):',
  '        try:',
  '            for i in y:',
  '                if i:',
  '                    continue',
  '        except ValueError:',
  '            pass',
  '        finally:',
  '            y = None',
  '',
  '    class Inner:',
  '        def deep(self):',
  '            with open(x) as f:',
  '                return f',
  '',
  '    async def run(self):',
  '        async for a in b:',
  '            await a',
  '',
  'try:',
  '    import json',
  'except ImportError:',
  '    json = None',
  '',
  'größe = {"ü": \'\'\'multi',
  'line\'\'\'}',
  'if größe:',
  '\tprint(größe)',
  '',
].join('\n');

const EDIT_CHARS = ['a', 'x', ' ', '(', ')', '[', ']', ':', '\n', '"', "'", '#', '.', ',', '\\', '\t', '"""', 'def ', 'class C:\n', '    ', '@', 'else:', 'ü'];

interface Edit {
  at: number;
  removed: string;
  inserted: string;
}

/** A random edit: insert a snippet, delete 1-3 characters, or replace. */
function randomEdit(next: () => number, text: string): Edit {
  const at = Math.floor(next() * (text.length + 1));
  const r = next();
  const len = r < 0.4 ? 0 : Math.min(text.length - at, 1 + Math.floor(next() * 3));
  const inserted = r < 0.8 && r >= 0.6 ? '' : EDIT_CHARS[Math.floor(next() * EDIT_CHARS.length)];
  return { at, removed: text.slice(at, at + len), inserted };
}

describe('rescanChunkStarts', () => {
  it('finds the same chunk starts as a full scan after 3,000 random edits and undos', () => {
    const next = rng(11);
    let text = RICH;
    let s: ChunkStarts = chunkStarts(text);
    const undo: Edit[] = [];
    for (let step = 0; step < 3000; step++) {
      let e: Edit;
      if (undo.length > 0 && next() < 0.45) {
        const u = undo.pop()!;
        e = { at: u.at, removed: u.inserted, inserted: u.removed };
      } else {
        e = randomEdit(next, text);
        undo.push(e);
      }
      text = text.slice(0, e.at) + e.inserted + text.slice(e.at + e.removed.length);
      s = rescanChunkStarts(s, text, e.at, e.at + e.removed.length, e.at + e.inserted.length);
      expect({ step, s }).toEqual({ step, s: chunkStarts(text) });
    }
  });
});

/** LSP position of a UTF-16 offset (no lone "\r" in these texts). */
function positionOf(text: string, offset: number): { line: number; character: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length - 1;
  return { line, character: offset - (before.lastIndexOf('\n') + 1) };
}

function fullParse(text: string, opts: PresetOptions) {
  const parser = g.newParser();
  const tree = parser.parse(text)!;
  const out = { blocks: findBlocks(tree.rootNode, opts), hasErrors: tree.rootNode.hasError };
  tree.delete();
  parser.delete();
  return out;
}

const SC: PresetOptions = { preset: 'structurecoder' };
const CLEAN: PresetOptions = { preset: 'clean', extraKinds: ['class', 'try', 'with', 'async_def'] };

/** Applies one edit to the open document and checks it against both references. */
function check(docs: DocumentTrees, uri: string, text: string, label: string): boolean {
  let valid = false;
  for (const opts of [SC, CLEAN]) {
    const got = docs.blocks(uri, opts);
    expect({ label, ...got }).toEqual({ label, ...chunkedBlocks(g, text, opts) });
    const want = fullParse(text, opts);
    if (!want.hasErrors) {
      valid = true;
      expect({ label, ...got }).toEqual({ label, ...want });
    }
  }
  return valid;
}

describe('DocumentTrees (chunked)', () => {
  it('the rich source parses without errors and has member chunks', () => {
    expect(fullParse(RICH, SC).hasErrors).toBe(false);
    expect(chunkStarts(RICH).kinds.filter((k) => k === MEMBER).length).toBeGreaterThan(2);
  });

  // `pending`: how many edits may wait for their undo. A walk with at most two reaches hundreds of
  // valid states; an unbounded one drifts into broken code, where incremental reparses that end in
  // errors must still equal parsing from scratch (seed 23 hit one at step 54).
  for (const [seed, eol, pending] of [
    [21, '\n', 2],
    [22, '\n', 2],
    [23, '\r\n', 2],
    [23, '\r\n', Infinity],
  ] as const) {
    it(`400 random edits with undos (seed ${seed}, ${JSON.stringify(eol)}, ${pending} pending): full parse when valid, chunked reference always`, () => {
      const next = rng(seed);
      const docs = new DocumentTrees(g);
      const uri = 'file:///rich.py';
      let text = RICH.replace(/\n/g, eol);
      docs.open(uri, text);
      const undo: Edit[] = [];
      let valid = 0;
      let broken = 0;
      for (let step = 0; step < 400; step++) {
        let e: Edit;
        if (undo.length >= pending || (undo.length > 0 && next() < 0.5)) {
          const u = undo.pop()!;
          e = { at: u.at, removed: u.inserted, inserted: u.removed };
        } else {
          e = randomEdit(next, text);
          // an editor never splits a "\r\n"
          if (text[e.at - 1] === '\r' || text[e.at + e.removed.length - 1] === '\r') continue;
          undo.push(e);
        }
        const change: ContentChange = { range: { start: positionOf(text, e.at), end: positionOf(text, e.at + e.removed.length) }, text: e.inserted };
        text = text.slice(0, e.at) + e.inserted + text.slice(e.at + e.removed.length);
        docs.change(uri, [change], text);
        if (check(docs, uri, text, `step ${step}`)) valid++;
        else broken++;
      }
      expect(valid).toBeGreaterThan(pending === 2 ? 100 : 0);
      expect(broken).toBeGreaterThan(50);
      docs.dispose();
    });
  }

  it('an inserted """ merges chunks to the end, and removing it splits them again', () => {
    const docs = new DocumentTrees(g);
    const uri = 'q';
    docs.open(uri, RICH);
    // the top-level `try:`: three chunks follow it (`try`, `größe = ...`, `if größe:`)
    const at = RICH.indexOf('\ntry:\n') + 1;
    const before = chunkStarts(RICH).offsets.filter((o) => o < at).length;
    expect(chunkStarts(RICH).offsets.length).toBe(before + 3);
    const merged = RICH.slice(0, at) + '"""' + RICH.slice(at);
    docs.change(uri, [{ range: { start: positionOf(RICH, at), end: positionOf(RICH, at) }, text: '"""' }], merged);
    // the unterminated string's chunk runs to the end of the file
    expect(chunkStarts(merged).offsets).toEqual([...chunkStarts(RICH).offsets.slice(0, before), at]);
    const got = docs.blocks(uri, SC);
    expect(got).toEqual(chunkedBlocks(g, merged, SC));
    expect(got.hasErrors).toBe(true);
    // the chunks before the quote keep their blocks (tree-sitter may still recover blocks after it)
    const line = positionOf(RICH, at).line;
    const unchanged = (bs: { startLine: number }[]) => bs.filter((b) => b.startLine < line);
    expect(unchanged(got.blocks)).toEqual(unchanged(fullParse(RICH, SC).blocks));
    docs.change(uri, [{ range: { start: positionOf(merged, at), end: positionOf(merged, at + 3) }, text: '' }], RICH);
    expect(docs.blocks(uri, SC)).toEqual(fullParse(RICH, SC));
    expect(docs.blocks(uri, CLEAN)).toEqual(fullParse(RICH, CLEAN));
    docs.dispose();
  });

  it('texts tree-sitter accepts though Python does not give the blocks of a full parse', () => {
    const texts = [
      'def top\n(a):\n    if a: pass\nclass A\n(B):\n    def f(self):\n        while 1: pass\n    def g(self): pass\n',
      'x =\ny\ndef f():\n    for a in b: pass\nfrom m\nimport n\nif q:\n    pass\n',
      'class A:\n    def f(self):\n        if a: pass\n  y = 2\n    def g(self):\n        for b in c: pass\nz = 1\n',
      'class A: x = 1\n    def f(self):\n        if a: pass\n    def g(self): pass\n',
    ];
    for (const text of texts) {
      for (const opts of [SC, CLEAN]) {
        const want = fullParse(text, opts);
        expect({ text, hasErrors: want.hasErrors }).toEqual({ text, hasErrors: false });
        expect({ text, ...chunkedBlocks(g, text, opts) }).toEqual({ text, ...want });
      }
    }
  });

  it('an unclosed bracket stays inside its chunk: the next def is still a block', () => {
    const text = 'x = foo(\ndef g():\n    if a:\n        pass\n';
    const got = chunkedBlocks(g, text, SC);
    expect(got.hasErrors).toBe(true);
    expect(got.blocks).toEqual([
      { kind: 'def', depth: 2, startLine: 1, startColumn: 0, endLine: 3, endColumn: 12 },
      { kind: 'if', depth: 1, startLine: 2, startColumn: 4, endLine: 3, endColumn: 12 },
    ]);
  });

  it('a class split into member chunks gets its block composed (clean, class targeted)', () => {
    const text = '@deco\nclass A:\n    x = 1\n    def f(self):\n        if x:\n            for y in x:\n                pass\n    def g(self):\n        pass\n\n# tail\n';
    expect(starts(text)).toEqual(['0', '3 m', '7 m']);
    const docs = new DocumentTrees(g);
    docs.open('c', text, CLEAN);
    const got = docs.blocks('c');
    expect(got.blocks[0]).toEqual({ kind: 'class', depth: 4, startLine: 0, startColumn: 0, endLine: 8, endColumn: 12 });
    expect(got).toEqual(fullParse(text, CLEAN));
    // an edit inside a method changes the class's depth
    const edited = text.replace('            for y in x:\n                pass\n', '            pass\n');
    const from = positionOf(text, text.indexOf('            for'));
    const to = positionOf(text, text.indexOf('    def g'));
    docs.change('c', [{ range: { start: from, end: to }, text: '            pass\n' }], edited);
    expect(docs.blocks('c').blocks[0].depth).toBe(3);
    expect(docs.blocks('c')).toEqual(fullParse(edited, CLEAN));
    docs.dispose();
  });

  it('several changes in one event, and a change that only touches a chunk boundary', () => {
    const docs = new DocumentTrees(g);
    let text = RICH;
    docs.open('m', text);
    // insert a statement at the very start of the `try:` line, and delete one at the end
    const a = text.indexOf('try:\n');
    const changes: ContentChange[] = [{ range: { start: positionOf(text, a), end: positionOf(text, a) }, text: 'while q:\n    q -= 1\n' }];
    text = text.slice(0, a) + 'while q:\n    q -= 1\n' + text.slice(a);
    const b = text.indexOf('if größe:');
    changes.push({ range: { start: positionOf(text, b), end: positionOf(text, text.length) }, text: '' });
    text = text.slice(0, b);
    docs.change('m', changes, text);
    expect(docs.blocks('m', SC)).toEqual(fullParse(text, SC));
    expect(docs.blocks('m', CLEAN)).toEqual(fullParse(text, CLEAN));
    docs.dispose();
  });
});
