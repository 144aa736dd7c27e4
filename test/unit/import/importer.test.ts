// importFiles on real SQLite files in a temporary folder: import, re-import, bad lines, .gz,
// several histories per problem, cancellation and resumption.
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BadLine } from '../../../server/protocol';
import { BATCH_SIZE, ImportError, importFiles } from '../../../server/import/importer';
import { openProject, type Project } from '../../../server/store/db';
import { projectStats } from '../../../server/pipeline/stats';
import { fixturePath } from '../../support/paths';

const FIXTURES = fixturePath('datasets');
const fixture = (name: string) => path.join(FIXTURES, name);

let dir: string;
let p: Project;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'pairforge-import-'));
  p = openProject(path.join(dir, 'project.sqlite'));
});
afterEach(() => {
  p.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Every row of the content tables, to compare a project before and after. */
function dump(pr: Project) {
  const all = (sql: string) => pr.db.prepare(sql).all();
  return {
    datasets: all('SELECT * FROM datasets ORDER BY id'),
    problems: all('SELECT * FROM problems ORDER BY id'),
    tests: all('SELECT * FROM tests ORDER BY id'),
    solutions: all('SELECT * FROM solutions ORDER BY id'),
    histories: all('SELECT * FROM histories ORDER BY id'),
    versions: all('SELECT * FROM history_versions ORDER BY id'),
  };
}

function appsLine(i: number): string {
  return JSON.stringify({
    problem_id: i,
    question: `Problem ${i}: print the input twice.`,
    solutions: JSON.stringify([`s = input()\nif s:\n    print(s + s)\n`]),
    input_output: JSON.stringify({ inputs: [`${i}\n`], outputs: [`${i}${i}\n`] }),
    difficulty: 'introductory',
    url: `https://example.org/${i}`,
    starter_code: '',
  });
}

describe('importFiles', () => {
  it('imports every fixture format with detected formats and dataset names', async () => {
    const files = ['apps-mini.jsonl', 'humaneval-mini.jsonl', 'mbpp-mini.jsonl', 'evalplus-mbpp-mini.jsonl', 'history-mini.jsonl'].map(fixture);
    const s = await importFiles(p, files);
    expect(s.cancelled).toBe(false);
    expect(s.files.map((f) => [path.basename(f.file), f.format, f.records, f.imported, f.unchanged, f.bad.length])).toEqual([
      ['apps-mini.jsonl', 'apps', 4, 4, 0, 0],
      ['humaneval-mini.jsonl', 'humaneval', 2, 2, 0, 0],
      ['mbpp-mini.jsonl', 'mbpp', 2, 2, 0, 0],
      ['evalplus-mbpp-mini.jsonl', 'mbpp', 2, 2, 0, 0],
      ['history-mini.jsonl', 'history', 4, 4, 0, 0],
    ]);
    expect(p.db.prepare('SELECT name, format FROM datasets ORDER BY name').all()).toEqual([
      { name: 'apps-mini', format: 'apps' },
      { name: 'evalplus-mbpp-mini', format: 'mbpp' },
      { name: 'history-mini', format: 'history' },
      { name: 'humaneval-mini', format: 'humaneval' },
      { name: 'mbpp-mini', format: 'mbpp' },
    ]);
    // apps: 2+1+1+0 solutions, 3+2+2+1 tests; humaneval 2+2; mbpp 2 solutions, 2+4 tests;
    // evalplus 2+2; history: problems 4002, HumanEval/2, scratch/7 (4002 has two histories).
    expect(projectStats(p)).toEqual({ datasets: 5, problems: 13, tests: 8 + 2 + 6 + 2 + 3, solutions: 4 + 2 + 2 + 2 + 2, histories: 4, versions: 9, targets: 0, samples: 0, executions: 0, pairs: 0, scoredPairs: 0 });
    const hist = p.db
      .prepare(
        `SELECT pr.external_id AS id, h.ordinal, COUNT(v.id) AS versions FROM histories h JOIN problems pr ON pr.id = h.problem_id
         JOIN history_versions v ON v.history_id = h.id GROUP BY h.id ORDER BY h.id`,
      )
      .all();
    expect(hist).toEqual([
      { id: '4002', ordinal: 0, versions: 2 },
      { id: '4002', ordinal: 1, versions: 2 },
      { id: 'HumanEval/2', ordinal: 0, versions: 3 },
      { id: 'scratch/7', ordinal: 0, versions: 2 },
    ]);
    // the last version of a history is the one expected to pass
    const last = p.db.prepare(`SELECT code FROM history_versions WHERE history_id = 1 ORDER BY ordinal DESC LIMIT 1`).get() as { code: string };
    expect(last.code).toContain('s == s[::-1]');
  });

  it('re-importing the same files changes nothing', async () => {
    const files = ['apps-mini.jsonl', 'history-mini.jsonl', 'humaneval-mini.jsonl'].map(fixture);
    await importFiles(p, files);
    const before = dump(p);
    const again = await importFiles(p, files);
    expect(again.files.map((f) => [f.imported, f.unchanged, f.bad.length])).toEqual([
      [0, 4, 0],
      [0, 4, 0],
      [0, 2, 0],
    ]);
    expect(dump(p)).toEqual(before);
  });

  it('reports bad lines with file, line and reason and imports the good ones', async () => {
    const seen: BadLine[] = [];
    const file = fixture('apps-bad.jsonl');
    const s = await importFiles(p, [file], { onBadLine: (b) => seen.push(b) });
    const f = s.files[0];
    expect(f.bad).toEqual(seen);
    expect(f.bad.map((b) => [b.line, b.reason.replace(/position \d+.*/, 'position N')])).toEqual([
      [2, 'line is not JSON: Expected double-quoted property name in JSON at position N'],
      [3, "missing field 'input_output'"],
      [5, "field 'solutions' is not a JSON string holding a list of strings (it is a list)"],
      [6, 'problem 4001 already stored with different content; not overwritten'],
      [8, 'line is a list, expected a JSON object'],
    ]);
    expect(f.bad.every((b) => b.file === file)).toBe(true);
    expect([f.records, f.imported, f.unchanged]).toEqual([7, 2, 0]);
    // the changed line did not overwrite the stored problem
    const q = p.db.prepare(`SELECT question FROM problems WHERE external_id = '4001'`).get() as { question: string };
    expect(q.question).toMatch(/print their sum/);
  });

  it('never overwrites a stored problem from another file with the same dataset name', async () => {
    await importFiles(p, [fixture('apps-mini.jsonl')]);
    const other = path.join(dir, 'apps-mini.jsonl');
    const lines = readFileSync(fixture('apps-mini.jsonl'), 'utf8').split('\n');
    lines[0] = lines[0].replace('print their sum', 'print their maximum');
    writeFileSync(other, lines.join('\n'));
    const s = await importFiles(p, [other]);
    expect(s.files[0].bad).toEqual([{ file: other, line: 1, reason: 'problem 4001 already stored with different content; not overwritten' }]);
    expect(s.files[0].unchanged).toBe(3);
  });

  it('refuses a file of another format for an existing dataset, and --dataset imports it elsewhere', async () => {
    await importFiles(p, [fixture('apps-mini.jsonl')]);
    const he = path.join(dir, 'apps-mini.jsonl');
    copyFileSync(fixture('humaneval-mini.jsonl'), he);
    await expect(importFiles(p, [he])).rejects.toThrow(/dataset 'apps-mini' already holds apps records and this file is humaneval/);
    const s = await importFiles(p, [he], { dataset: 'he' });
    expect(s.files[0].imported).toBe(2);
  });

  it('reads .jsonl.gz files (detected by content) with the same line numbers', async () => {
    const text = readFileSync(fixture('apps-bad.jsonl'));
    const gz = path.join(dir, 'apps-bad.jsonl.gz');
    writeFileSync(gz, gzipSync(text));
    const s = await importFiles(p, [gz]);
    expect(s.files[0].bad.map((b) => b.line)).toEqual([2, 3, 5, 6, 8]);
    expect(p.db.prepare('SELECT name FROM datasets').all()).toEqual([{ name: 'apps-bad' }]);
    expect(projectStats(p).problems).toBe(2);
  });

  it('a .gz cut short before its first record: reported where it broke, no dataset left behind', async () => {
    const gz = path.join(dir, 'broken.jsonl.gz');
    writeFileSync(gz, gzipSync(readFileSync(fixture('apps-mini.jsonl'))).subarray(0, 200));
    const s = await importFiles(p, [gz]);
    expect(s.files[0]).toMatchObject({ records: 0, imported: 0, datasetId: -1 });
    expect(s.files[0].bad).toEqual([{ file: gz, line: 1, reason: expect.stringMatching(/^the compressed file is cut short or damaged \(unexpected end of file\): the 0 complete records/) }]);
    expect(p.db.prepare('SELECT COUNT(*) AS n FROM datasets').get()).toEqual({ n: 0 });
  });

  it('honours --format and says when nothing can be detected', async () => {
    const odd = path.join(dir, 'odd.jsonl');
    writeFileSync(odd, '{"id": 1}\n{"id": 2}\n');
    await expect(importFiles(p, [odd])).rejects.toThrow(ImportError);
    const s = await importFiles(p, [odd], { format: 'humaneval' });
    expect(s.files[0].bad.map((b) => b.reason)).toEqual(["missing field 'task_id'", "missing field 'task_id'"]);
    await expect(importFiles(p, [path.join(dir, 'missing.jsonl')])).rejects.toThrow(/missing\.jsonl: cannot read: no such file/);
  });

  it('handles CRLF line ends, a BOM, blank lines and a last line without newline', async () => {
    const lines = readFileSync(fixture('apps-mini.jsonl'), 'utf8').trim().split('\n');
    const f = path.join(dir, 'crlf.jsonl');
    writeFileSync(f, `\ufeff${lines[0]}\r\n\r\n${lines[1]}\r\n${lines[2]}\r\n${lines[3]}`);
    const s = await importFiles(p, [f]);
    expect([s.files[0].records, s.files[0].imported, s.files[0].bad.length]).toEqual([4, 4, 0]);
  });

  it('keeps multi-byte characters intact across read chunks (1 MiB) and gzip blocks', async () => {
    const question = `Déjà vu ✓ 🐍 ${'日本語のテキスト '.repeat(40_000)}`; // > 1 MiB of UTF-8 in one line
    const rec = { task_id: 'U/1', prompt: `def f():\n    """${question}"""\n`, canonical_solution: '    return 1\n', test: 'def check(c):\n    assert c() == 1\n', entry_point: 'f' };
    const line = JSON.stringify(rec);
    const f = path.join(dir, 'unicode.jsonl');
    writeFileSync(f, `${line}\n${line.replace('U/1', 'U/2')}\n`);
    writeFileSync(`${f}.gz`, gzipSync(readFileSync(f)));
    await importFiles(p, [f]);
    await importFiles(p, [`${f}.gz`], { dataset: 'unicode-gz' });
    const rows = p.db.prepare('SELECT question FROM problems ORDER BY id').all() as { question: string }[];
    expect(rows).toHaveLength(4);
    for (const r of rows) expect(r.question).toBe(rec.prompt);
  });

  it('cancels between batches, keeps what was committed, and a re-run completes without duplicates', async () => {
    const n = BATCH_SIZE * 3 + 17;
    const f = path.join(dir, 'big.jsonl');
    writeFileSync(f, Array.from({ length: n }, (_, i) => appsLine(i)).join('\n') + '\n');
    const controller = new AbortController();
    const first = await importFiles(p, [f], {
      signal: controller.signal,
      onProgress: (e) => {
        if (e.line >= BATCH_SIZE) controller.abort();
      },
    });
    expect(first.cancelled).toBe(true);
    const stored = projectStats(p).problems;
    expect(stored).toBeGreaterThanOrEqual(BATCH_SIZE);
    expect(stored).toBeLessThan(n);
    expect(first.files[0].imported).toBe(stored);

    const second = await importFiles(p, [f]);
    expect(second.cancelled).toBe(false);
    expect([second.files[0].imported, second.files[0].unchanged]).toEqual([n - stored, stored]);
    expect(projectStats(p)).toMatchObject({ problems: n, tests: n, solutions: n });
    const distinct = p.db.prepare('SELECT COUNT(DISTINCT external_id) AS n FROM problems').get() as { n: number };
    expect(distinct.n).toBe(n);
  });
});
