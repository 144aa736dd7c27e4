// The built engine server (dist/server.js) over stdio with a JSON-RPC client: blocks after open and
// after each incremental edit (compared with a fresh parse of the full text and with hand-written
// expectations), hover text, preset switch, import with progress and cancellation, the Datasets
// tree and stored documents, errors for a bad project path, and a clean shutdown.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CancellationTokenSource,
  WorkDoneProgress,
  type Hover,
  type MarkupContent,
  type TextDocumentContentChangeEvent,
} from 'vscode-languageserver-protocol/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { findBlocks } from '../../../server/blocks/extract';
import { loadPython, type PythonGrammar } from '../../../server/blocks/parser';
import type { PresetOptions } from '../../../server/blocks/types';
import {
  ConfigureNotification,
  DatasetChildrenRequest,
  DocumentContentRequest,
  ImportRequest,
  StatsRequest,
  type BlockInfo,
  type DatasetNode,
  type EngineSettings,
  type ImportSummary,
} from '../../../server/protocol';
import { ensureBuilt, startServer, stopServer, type Server } from '../../support/lspHarness';

let grammar: PythonGrammar;
let tmp: string;
let server: Server;

function expectedBlocks(text: string, opts: PresetOptions): BlockInfo[] {
  const parser = grammar.newParser();
  const tree = parser.parse(text)!;
  try {
    return findBlocks(tree.rootNode, opts).map((b) => ({
      kind: b.kind,
      depth: b.depth,
      startLine: b.startLine,
      startCharacter: b.startColumn,
      endLine: b.endLine,
      endCharacter: b.endColumn,
    }));
  } finally {
    tree.delete();
    parser.delete();
  }
}

/** kind/depth/1-based lines, for hand-written expectations. */
function spans(blocks: BlockInfo[]): string[] {
  return blocks.map((b) => `${b.kind} d${b.depth} ${b.startLine + 1}-${b.endLine + 1}`);
}

function hoverValue(h: Hover | null): string | undefined {
  return h ? (h.contents as MarkupContent).value : undefined;
}

beforeAll(async () => {
  ensureBuilt();
  grammar = await loadPython();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'pairforge-server-test-'));
  server = await startServer();
});

afterAll(() => {
  if (server && server.proc.exitCode === null) server.proc.kill();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('engine server over stdio', () => {
  const structurecoder: PresetOptions = { preset: 'structurecoder', extraKinds: [] };
  let settings: EngineSettings;

  it('pushes blocks after open and after every incremental edit, hovers on first lines', async () => {
    settings = { dbPath: path.join(tmp, 'proj', 'project.sqlite'), preset: 'structurecoder', extraKinds: [] };
    await server.conn.sendNotification(ConfigureNotification, settings);
    const uri = pathToFileURL(path.join(tmp, 'solve.py')).href;
    const v1 = ['import sys', '', 'def solve(n):', '    total = 0', '    for i in range(n):', '        total += i', '    return total', '', 'print(solve(3))', ''].join('\n');
    let doc = TextDocument.create(uri, 'python', 1, v1);
    await server.conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'python', version: 1, text: v1 } });
    let got = await server.blocks(uri, (p) => p.version === 1);
    expect(got.preset).toBe('structurecoder');
    expect(got.hasErrors).toBe(false);
    expect(spans(got.blocks)).toEqual(['def d2 3-7', 'for d1 5-6']);
    expect(got.blocks).toEqual(expectedBlocks(v1, structurecoder));

    const edit = async (changes: TextDocumentContentChangeEvent[]) => {
      const version = doc.version + 1;
      doc = TextDocument.update(doc, changes, version);
      await server.conn.sendNotification('textDocument/didChange', { textDocument: { uri, version }, contentChanges: changes });
      const p = await server.blocks(uri, (b) => b.version === version);
      expect(p.blocks).toEqual(expectedBlocks(doc.getText(), structurecoder));
      return p;
    };
    const at = (line: number, character: number) => ({ line, character });

    // 1. Insert a line at the top: everything moves down one line.
    got = await edit([{ range: { start: at(0, 0), end: at(0, 0) }, text: '# header\n' }]);
    expect(spans(got.blocks)).toEqual(['def d2 4-8', 'for d1 6-7']);

    // 2. Add an if block inside the for: depths grow.
    got = await edit([{ range: { start: at(6, 18), end: at(6, 18) }, text: '\n        if i % 2:\n            total -= 1' }]);
    expect(spans(got.blocks)).toEqual(['def d3 4-10', 'for d2 6-9', 'if d1 8-9']);
    const hover = await server.conn.sendRequest('textDocument/hover', { textDocument: { uri }, position: at(5, 10) });
    expect(hoverValue(hover as Hover | null)).toBe('for block \u00b7 depth 2 \u00b7 lines 6\u20139');
    expect(hoverValue((await server.conn.sendRequest('textDocument/hover', { textDocument: { uri }, position: at(3, 0) })) as Hover)).toBe(
      'def block · depth 3 · lines 4–10',
    );
    expect(await server.conn.sendRequest('textDocument/hover', { textDocument: { uri }, position: at(4, 3) })).toBeNull();

    // 3. Delete the whole for block (lines 6-9, 1-based): the def becomes a leaf.
    got = await edit([{ range: { start: at(5, 0), end: at(9, 0) }, text: '' }]);
    expect(spans(got.blocks)).toEqual(['def d1 4-6']);

    // 4. Unicode: astral and accented characters before the edit points, two changes in one event
    //    (the second in the coordinates left by the first).
    got = await edit([
      { range: { start: at(1, 0), end: at(1, 0) }, text: "ñame = 'é😀😀'; t = 1\n" },
      { range: { start: at(1, 21), end: at(1, 21) }, text: '\nif ñame:\n    while t:\n        t -= 1' },
    ]);
    expect(doc.getText().split('\n').slice(1, 5)).toEqual(["ñame = 'é😀😀'; t = 1", 'if ñame:', '    while t:', '        t -= 1']);
    expect(spans(got.blocks)).toEqual(['if d2 3-5', 'while d1 4-5', 'def d1 8-10']);
    // Replace text after the astral characters on the same line.
    got = await edit([{ range: { start: at(1, 13), end: at(1, 21) }, text: "'; t = 22" }]);
    expect(doc.getText().split('\n')[1]).toBe("ñame = 'é😀😀'; t = 22");
    expect(spans(got.blocks)).toEqual(['if d2 3-5', 'while d1 4-5', 'def d1 8-10']);

    // 5. A syntax error keeps the recovered blocks and says so.
    got = await edit([{ range: { start: at(7, 0), end: at(7, 0) }, text: 'def broken(:\n' }]);
    expect(got.hasErrors).toBe(true);

    // 6. Switching the preset re-sends the blocks of open documents under the new rules.
    const cls = pathToFileURL(path.join(tmp, 'cls.py')).href;
    const clsText = 'class A:\n    def f_x(self):\n        with open(p) as f:\n            return 1\n';
    await server.conn.sendNotification('textDocument/didOpen', { textDocument: { uri: cls, languageId: 'python', version: 1, text: clsText } });
    expect((await server.blocks(cls, (p) => p.version === 1)).blocks).toEqual([]); // structurecoder skips the underscore def
    const clean: PresetOptions = { preset: 'clean', extraKinds: ['class', 'with'] };
    await server.conn.sendNotification(ConfigureNotification, { ...settings, preset: 'clean', extraKinds: ['class', 'with'] });
    const re = await server.blocks(cls, (p) => p.preset === 'clean');
    expect(re.blocks).toEqual(expectedBlocks(clsText, clean));
    expect(spans(re.blocks)).toEqual(['class d3 1-4', 'def d2 2-4', 'with d1 3-4']);
    expect(
      hoverValue((await server.conn.sendRequest('textDocument/hover', { textDocument: { uri: cls }, position: at(2, 9) })) as Hover),
    ).toBe('with block · depth 1 · lines 3–4');
    await server.conn.sendNotification(ConfigureNotification, settings);
    await server.blocks(cls, (p) => p.preset === 'structurecoder' && p.blocks.length === 0);
    await server.conn.sendNotification('textDocument/didClose', { textDocument: { uri: cls } });
  });

  it('follows single-character edits in a 2,000-line file (and reports the latency)', async () => {
    const fn = (i: number) =>
      [`def f${i}(xs):`, '    total = 0', '    for x in xs:', '        if x > 0:', '            total += x', '        elif x < 0:',
        '            total -= x', '        else:', '            while total > 100:', '                total //= 2', '    return total', '',
        `class C${i}:`, '    def m(self, n):', '        with open("p") as f:', '            return [n for _ in f]', '', '', '', ''].join('\n');
    const text = Array.from({ length: 100 }, (_, i) => fn(i)).join('\n') + '\n';
    const uri = pathToFileURL(path.join(tmp, 'big.py')).href;
    let doc = TextDocument.create(uri, 'python', 1, text);
    expect(doc.lineCount).toBeGreaterThanOrEqual(2000);
    await server.conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'python', version: 1, text } });
    const first = await server.blocks(uri, (p) => p.version === 1);
    expect(first.blocks).toEqual(expectedBlocks(text, structurecoder));
    const times: number[] = [];
    for (let k = 0; k < 120; k++) {
      // Alternately type a character into a condition and delete it again, at varying places.
      const line = 20 * ((k * 37) % 100) + 3;
      const version = doc.version + 1;
      const change: TextDocumentContentChangeEvent =
        k % 2 === 0
          ? { range: { start: { line, character: 15 }, end: { line, character: 15 } }, text: '1' }
          : { range: { start: { line: 20 * ((((k - 1) * 37) % 100)) + 3, character: 15 }, end: { line: 20 * ((((k - 1) * 37) % 100)) + 3, character: 16 } }, text: '' };
      doc = TextDocument.update(doc, [change], version);
      const t0 = performance.now();
      await server.conn.sendNotification('textDocument/didChange', { textDocument: { uri, version }, contentChanges: [change] });
      const got = await server.blocks(uri, (p) => p.version === version);
      times.push(performance.now() - t0);
      if (k % 15 === 0) expect(got.blocks).toEqual(expectedBlocks(doc.getText(), structurecoder));
    }
    times.sort((a, b) => a - b);
    // Round trip over stdio including the server's 10 ms debounce; a figure for the notes, not a limit.
    console.log(`2,000-line file, edit -> blocks notification: p50 ${times[times.length >> 1].toFixed(1)} ms, p95 ${times[Math.floor(times.length * 0.95)].toFixed(1)} ms`);
    await server.conn.sendNotification('textDocument/didClose', { textDocument: { uri } });
  });

  it('imports with progress, lists datasets and serves stored documents', async () => {
    await expect(server.conn.sendRequest(StatsRequest, {})).rejects.toThrow(/no project file at .*project\.sqlite/);
    const solution0 = 'n = int(input())\nfor _ in range(n):\n    if n > 1:\n        print(n)\n';
    const solution1 = 'def main():\n    print(1)\n\nmain()\n';
    const rec = (id: number, sols: string[]) =>
      JSON.stringify({
        problem_id: id,
        question: `Problem ${id}`,
        solutions: JSON.stringify(sols),
        input_output: JSON.stringify({ inputs: ['1\n'], outputs: ['1\n'] }),
        difficulty: 'introductory',
        url: `https://example.com/${id}`,
        starter_code: '',
      });
    const file = path.join(tmp, 'tiny.jsonl');
    writeFileSync(file, [rec(1, [solution0, solution1]), '{not json', rec(2, [solution1])].join('\n') + '\n');

    const progress: string[] = [];
    server.conn.onProgress(WorkDoneProgress.type, 'imp-1', (v) => {
      progress.push(v.kind);
    });
    const summary: ImportSummary = await server.conn.sendRequest(ImportRequest, { files: [file], workDoneToken: 'imp-1' });
    expect(summary.cancelled).toBe(false);
    expect(summary.files).toHaveLength(1);
    expect(summary.files[0]).toMatchObject({ format: 'apps', records: 3, imported: 2, unchanged: 0 });
    expect(summary.files[0].bad).toHaveLength(1);
    expect(summary.files[0].bad[0]).toMatchObject({ file, line: 2 });
    expect(progress[0]).toBe('begin');
    expect(progress.at(-1)).toBe('end');

    const again: ImportSummary = await server.conn.sendRequest(ImportRequest, { files: [file] });
    expect(again.files[0]).toMatchObject({ imported: 0, unchanged: 2 });

    const stats = await server.conn.sendRequest(StatsRequest, {});
    expect(stats).toMatchObject({ datasets: 1, problems: 2, solutions: 3 });

    const datasets: DatasetNode[] = await server.conn.sendRequest(DatasetChildrenRequest, {});
    expect(datasets.map((d) => [d.kind, d.label])).toEqual([['dataset', 'tiny']]);
    const problems: DatasetNode[] = await server.conn.sendRequest(DatasetChildrenRequest, { parent: datasets[0].id });
    expect(problems.map((p) => p.kind)).toEqual(['problem', 'problem']);
    const sols: DatasetNode[] = await server.conn.sendRequest(DatasetChildrenRequest, { parent: problems[0].id });
    const withUri = sols.filter((s) => s.kind === 'solution');
    expect(withUri).toHaveLength(2);
    const texts = await Promise.all(withUri.map((s) => server.conn.sendRequest(DocumentContentRequest, { uri: s.uri! })));
    expect(texts.map((t) => t.text)).toEqual([solution0, solution1]);

    // A stored solution opened as a document gets its blocks like a file does.
    const stored = withUri[0].uri!;
    expect(stored.startsWith('pairforge:')).toBe(true);
    await server.conn.sendNotification('textDocument/didOpen', { textDocument: { uri: stored, languageId: 'python', version: 1, text: solution0 } });
    const b = await server.blocks(stored, (p) => p.version === 1);
    expect(spans(b.blocks)).toEqual(['for d2 2-4', 'if d1 3-4']);
    await expect(server.conn.sendRequest(DocumentContentRequest, { uri: 'pairforge:/x/y/solution-1.py?solution=999999' })).rejects.toThrow(/999999|no such/);
  });

  it('cancels an import between batches and keeps what was committed', async () => {
    const big = path.join(tmp, 'big.jsonl');
    const lines: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      lines.push(JSON.stringify({ task_id: `T/${i}`, prompt: `def f${i}(x):\n`, canonical_solution: '    return x\n', test: 'def check(c):\n    assert c(1) == 1\n', entry_point: `f${i}` }));
    }
    writeFileSync(big, lines.join('\n') + '\n');
    const cts = new CancellationTokenSource();
    server.conn.onProgress(WorkDoneProgress.type, 'imp-big', (v) => {
      // Cancel once the import is under way (the first report comes after some batches).
      if (v.kind === 'report') cts.cancel();
    });
    const summary: ImportSummary = await server.conn.sendRequest(ImportRequest, { files: [big], workDoneToken: 'imp-big' }, cts.token);
    expect(summary.cancelled).toBe(true);
    expect(summary.files[0].imported).toBeGreaterThan(0);
    expect(summary.files[0].imported).toBeLessThan(20_000);
    const stats = await server.conn.sendRequest(StatsRequest, {});
    expect(stats.problems).toBe(2 + summary.files[0].imported);
  });

  it('reports a clear error for a bad or missing project path', async () => {
    const dir = path.join(tmp, 'a-directory');
    mkdirSync(dir);
    await server.conn.sendNotification(ConfigureNotification, { ...settings, dbPath: dir });
    await expect(server.conn.sendRequest(StatsRequest, {})).rejects.toThrow(new RegExp(`${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*pairforge\\.project\\.path`));
    await expect(server.conn.sendRequest(ImportRequest, { files: [path.join(tmp, 'tiny.jsonl')] })).rejects.toThrow(/pairforge\.project\.path/);
    await server.conn.sendNotification(ConfigureNotification, { ...settings, dbPath: '' });
    await expect(server.conn.sendRequest(StatsRequest, {})).rejects.toThrow('no project open: set pairforge.project.path');
    await expect(server.conn.sendRequest(ImportRequest, { files: [] })).rejects.toThrow(/non-empty array/);
    // Back to the good project: the store is still there.
    await server.conn.sendNotification(ConfigureNotification, settings);
    expect((await server.conn.sendRequest(StatsRequest, {})).datasets).toBe(2);
    await expect(server.conn.sendRequest(ImportRequest, { files: [path.join(tmp, 'missing.jsonl')] })).rejects.toThrow(/missing\.jsonl.*no such file/);
  });

  it('shuts down and exits with status 0', async () => {
    expect(await stopServer(server)).toBe(0);
    expect(server.stderr()).not.toMatch(/Error|exception/i);
  });
});
