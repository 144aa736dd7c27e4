// Datasets in the layouts they are published in (real SQLite files, no child processes): a JSON
// array (sanitized MBPP), APPS's folder per problem, EvalPlus rows (inputs only), MBPP with CRLF
// and tabs; and what is left when a file breaks: the complete records, a report of where, and
// never an empty dataset.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fixturePath } from '../../support/paths';
import { problemTests } from '../../../server/import/queries';
import { SETUP_AS_BEFORE } from '../../../server/import/formats';
import { ImportError, importFiles } from '../../../server/import/importer';
import { ArraySplitter, rawElements, rawMember, withoutPythonConstants } from '../../../server/import/jsonScan';
import { openProject, type Project } from '../../../server/store/db';

const FIXTURES = fixturePath('datasets');
const fixture = (name: string) => path.join(FIXTURES, name);

let dir: string;
let p: Project;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'pairforge-layouts-'));
  p = openProject(path.join(dir, 'project.sqlite'));
});
afterEach(() => {
  p.close();
  rmSync(dir, { recursive: true, force: true });
});

const datasets = () => p.db.prepare('SELECT name, format FROM datasets ORDER BY name').all();
const problems = () => p.db.prepare('SELECT external_id AS id FROM problems ORDER BY id').all().map((r) => (r as { id: string }).id);

describe('ArraySplitter', () => {
  const split = (chunks: string[]) => {
    const s = new ArraySplitter();
    const out = chunks.flatMap((c) => s.push(c));
    s.end();
    return { records: out, problems: s.problems };
  };

  it('splits an array into its elements whatever the chunking, strings with brackets and escapes included', () => {
    const text = '[\n  {"a": "]},[", "b": [1, {"c": "\\"}"}]},\n  {"d": 2}\n]\n';
    for (let size = 1; size <= text.length; size++) {
      const chunks: string[] = [];
      for (let i = 0; i < text.length; i += size) chunks.push(text.slice(i, i + size));
      const r = split(chunks);
      expect(r.problems).toEqual([]);
      expect(r.records.map((x) => [x.line, JSON.parse(x.text)])).toEqual([
        [2, { a: ']},[', b: [1, { c: '"}' }] }],
        [3, { d: 2 }],
      ]);
    }
  });

  it('says where an array is cut short, keeping the elements before', () => {
    const r = split(['[{"a": 1},\n{"b": 2},\n{"c": ']);
    expect(r.records.map((x) => x.text)).toEqual(['{"a": 1}', '{"b": 2}']);
    expect(r.problems).toEqual([{ line: 3, reason: 'the text ends inside record 3 (it starts at line 3): the array is cut short' }]);
    expect(split(['[{"a": 1},\n']).problems).toEqual([{ line: 2, reason: 'the text ends before the closing ] of the array: it is cut short' }]);
  });

  it('names a missing comma and text after the array', () => {
    expect(split(['[{"a": 1} {"b": 2}]']).problems).toEqual([{ line: 1, reason: 'a missing comma between elements' }]);
    expect(split(['[{"a": 1}]\nx']).problems).toEqual([{ line: 2, reason: 'text after the closing ] of the array' }]);
  });
});

describe('exact JSON values', () => {
  it('reads a member and the elements of an array as written, big integers and NaN / Infinity included', () => {
    const text = '{"x": "a,b", "base_input": [[10000000000000000000001, -Infinity], [NaN]], "atol": 1e-06}';
    expect(rawMember(text, 'base_input')).toBe('[[10000000000000000000001, -Infinity], [NaN]]');
    expect(rawElements(rawMember(text, 'base_input')!)).toEqual(['[10000000000000000000001, -Infinity]', '[NaN]']);
    expect(rawMember(text, 'atol')).toBe('1e-06');
    expect(rawMember(text, 'missing')).toBeUndefined();
    expect(JSON.parse(withoutPythonConstants(text)).base_input).toEqual([[1e22, null], [null]]);
    // inside strings they are text
    expect(withoutPythonConstants('{"s": "NaN Infinity"}')).toBe('{"s": "NaN Infinity"}');
  });
});

describe('a JSON array file (sanitized MBPP as published)', () => {
  it('imports its records, with line numbers of where each starts; as .gz too', async () => {
    const s = await importFiles(p, [fixture('sanitized-mbpp-mini.json')]);
    expect(s.files[0]).toMatchObject({ format: 'mbpp', records: 3, imported: 3, bad: [] });
    expect(datasets()).toEqual([{ name: 'sanitized-mbpp-mini', format: 'mbpp' }]);
    expect(problems()).toEqual(['901', '902', '903']);
    const gz = path.join(dir, 'again.json.gz');
    writeFileSync(gz, gzipSync(readFileSync(fixture('sanitized-mbpp-mini.json'))));
    const again = await importFiles(p, [gz], { dataset: 'sanitized-mbpp-mini' });
    expect(again.files[0]).toMatchObject({ records: 3, imported: 0, unchanged: 3 });
  });

  it('reports a bad record by the line it starts on and imports the others', async () => {
    const f = path.join(dir, 'bad.json');
    writeFileSync(f, '[\n  {"task_id": 1, "code": "x = 1", "test_list": ["assert x == 1"]},\n  {"task_id": 2, "code": 5, "test_list": []},\n  7\n]\n');
    const s = await importFiles(p, [f]);
    expect(s.files[0].bad.map((b) => [b.line, b.reason])).toEqual([
      [3, "field 'code' is a number, expected a string"],
      [4, 'record is a number, expected a JSON object'],
    ]);
    expect(problems()).toEqual(['1']);
  });
});

describe('APPS in its folder layout', () => {
  it('imports a folder of problem folders as APPS records: ids from the folder names, starter code, metadata; other files ignored', async () => {
    const train = fixture('apps-folder/train');
    const s = await importFiles(p, [train]);
    expect(s.files[0]).toMatchObject({ format: 'apps', records: 2, imported: 2, bad: [] });
    expect(datasets()).toEqual([{ name: 'train', format: 'apps' }]);
    const rows = p.db.prepare('SELECT external_id, difficulty, url, starter_code FROM problems ORDER BY id').all();
    expect(rows).toEqual([
      { external_id: '7', difficulty: 'introductory', url: 'https://example.invalid/pairforge-fixture/sum', starter_code: '' },
      { external_id: '42', difficulty: 'interview', url: 'https://example.invalid/pairforge-fixture/kth', starter_code: readFileSync(path.join(train, '0042/starter_code.py'), 'utf8') },
    ]);
    const tests = p.db.prepare("SELECT kind, COUNT(*) AS n FROM tests GROUP BY kind ORDER BY kind").all();
    expect(tests).toEqual([{ kind: 'call', n: 2 }, { kind: 'stdio', n: 3 }]);
    expect(p.db.prepare('SELECT COUNT(*) AS n FROM solutions').get()).toEqual({ n: 5 });
    // the same problems again: unchanged
    expect((await importFiles(p, [train])).files[0]).toMatchObject({ imported: 0, unchanged: 2 });
  });

  it('a single problem folder goes into its split\'s dataset; a folder of splits is refused naming them', async () => {
    await importFiles(p, [fixture('apps-folder/train/0042')]);
    expect(datasets()).toEqual([{ name: 'train', format: 'apps' }]);
    await expect(importFiles(p, [fixture('apps-folder')])).rejects.toThrow(/apps-folder: a folder, but no APPS problem folder .*it holds train: import the folders of problems themselves/);
  });

  it('names the file of a problem folder that is broken, and imports the rest', async () => {
    const train = path.join(dir, 'train');
    cpSync(fixture('apps-folder/train'), train, { recursive: true });
    writeFileSync(path.join(train, '0007/input_output.json'), '{"inputs": ["1\\n"],\n "outputs": [}');
    mkdirSync(path.join(train, '0100'));
    writeFileSync(path.join(train, '0100/solutions.json'), '["print(1)"]');
    const s = await importFiles(p, [train]);
    expect(s.files[0].bad.map((b) => [path.relative(train, b.file), b.reason.replace(/:.*/, '')])).toEqual([
      ['0007/input_output.json', 'not JSON'],
      ['0100/question.txt', 'missing'],
    ]);
    expect(problems()).toEqual(['42']);
  });
});

describe('EvalPlus rows (MBPP+ / HumanEval+)', () => {
  it('turns every input into a test that compares with the canonical solution; the shared setup is stored once', async () => {
    const s = await importFiles(p, [fixture('mbppplus-mini.jsonl'), fixture('humanevalplus-mini.jsonl')]);
    expect(s.files.map((f) => [f.format, f.imported, f.bad.length])).toEqual([
      ['mbpp', 2, 0],
      ['humaneval', 1, 0],
    ]);
    const byProblem = (id: string) => {
      const pr = p.db.prepare<[string], { id: number }>('SELECT id FROM problems WHERE external_id = ?').get(id)!;
      return { stored: p.db.prepare<[number], { setup: string; code: string }>('SELECT setup, code FROM tests WHERE problem_id = ? ORDER BY ordinal').all(pr.id), tests: problemTests(p, pr.id) };
    };
    // Mbpp/106: 2 base + 2 plus inputs; its second argument is restored to a tuple
    const m106 = byProblem('Mbpp/106');
    expect(m106.tests).toHaveLength(4);
    expect(m106.stored.slice(1).every((t) => t.setup === SETUP_AS_BEFORE)).toBe(true);
    expect(m106.tests.every((t) => t.kind === 'assert' && t.setup === m106.stored[0].setup)).toBe(true);
    expect(m106.tests[0].setup).toContain('return [inp[0], tuple(inp[1])] + list(inp[2:])');
    expect(m106.tests[2].code).toBe('# Mbpp/106 plus_input[0]\n_pf_check(add_lists, _pf_json.loads("[[], [1, 2]]"))\n');
    // exact values: the big integers and -Infinity as written; "plus_input": {} is none
    const m404 = byProblem('Mbpp/9404');
    expect(m404.tests.map((t) => t.code)).toEqual([
      '# Mbpp/9404 base_input[0]\n_pf_check(minimum, _pf_json.loads("[1, 2]"))\n',
      '# Mbpp/9404 base_input[1]\n_pf_check(minimum, _pf_json.loads("[10000000000000000000003, 10000000000000000000001]"))\n',
      '# Mbpp/9404 base_input[2]\n_pf_check(minimum, _pf_json.loads("[-Infinity, 3.5]"))\n',
    ]);
    // HumanEval+: the reference is prompt + canonical_solution, the solution too
    const he = byProblem('HumanEval/9002');
    expect(he.tests).toHaveLength(4);
    expect(he.tests[0].setup).toContain('def mean(xs: list) -> float:');
    expect(p.db.prepare("SELECT s.code FROM solutions s JOIN problems pr ON pr.id = s.problem_id WHERE pr.external_id = 'HumanEval/9002'").get()).toEqual({
      code: 'def mean(xs: list) -> float:\n    """The mean of a non-empty list."""\n    return sum(xs) / len(xs)\n',
    });
  });
});

describe('line endings', () => {
  it('MBPP code with CRLF is stored with LF (the record as published stays in raw); tabs are kept', async () => {
    await importFiles(p, [fixture('mbpp-tabs.jsonl')]);
    const rows = p.db.prepare<[], { code: string; raw: string; setup: string }>(
      'SELECT s.code, pr.raw, t.setup FROM solutions s JOIN problems pr ON pr.id = s.problem_id JOIN tests t ON t.problem_id = pr.id AND t.ordinal = 0 ORDER BY pr.id',
    ).all();
    for (const r of rows) {
      expect(r.code).not.toContain('\r');
      expect(r.code).toContain('\n\t');
      expect(JSON.parse(r.raw).code).toContain('\r\n');
    }
    expect(rows[1].setup).toBe('root = Node(1) \nroot.left = Node(2) \nroot.right = Node(3) \nroot.left.left = Node(4) \nsingle = Node(5) ');
    // raw is each record's own line of the file, as published.
    const lines = readFileSync(fixture('mbpp-tabs.jsonl'), 'utf8').split('\n').filter((l) => l.trim() !== '');
    expect(rows.map((r) => r.raw)).toEqual(lines);
  });

  it('history versions too', async () => {
    const f = path.join(dir, 'h.jsonl');
    writeFileSync(f, `${JSON.stringify({ task_id: 'h/1', versions: ['x = 1\r\nprint(x)\r\n', 'print(1)\r'] })}\n`);
    await importFiles(p, [f]);
    expect(p.db.prepare('SELECT code FROM history_versions ORDER BY ordinal').all()).toEqual([{ code: 'x = 1\nprint(x)\n' }, { code: 'print(1)\n' }]);
  });
});

describe('a file that breaks', () => {
  const lines = (n: number) =>
    Array.from({ length: n }, (_, i) => JSON.stringify({ task_id: i + 1, code: `def f():\n    return ${i}\n`, test_list: [`assert f() == ${i}`] })).join('\n') + '\n';

  it('a truncated .gz: its complete records are imported, where it broke is reported', async () => {
    const gz = path.join(dir, 'cut.jsonl.gz');
    const whole = gzipSync(Buffer.from(lines(3000)));
    writeFileSync(gz, whole.subarray(0, Math.floor(whole.length * 0.6)));
    const s = await importFiles(p, [gz]);
    const f = s.files[0];
    expect(f.bad).toHaveLength(1);
    const m = /the (\d+) complete records before this point were read/.exec(f.bad[0].reason)!;
    expect(f.bad[0].reason).toMatch(/^the compressed file is cut short or damaged \(unexpected end of file\)/);
    const complete = Number(m[1]);
    expect(complete).toBeGreaterThan(500);
    expect(f.bad[0].line).toBe(complete + 1);
    expect(f.imported).toBe(complete);
    expect(problems()).toHaveLength(complete);
  });

  it('a truncated JSON array .gz: the complete records too', async () => {
    const recs = Array.from({ length: 2000 }, (_, i) => ({ task_id: i + 1, code: `def f():\n    return ${i}\n`, test_list: [`assert f() == ${i}`] }));
    const gz = path.join(dir, 'cut.json.gz');
    const whole = gzipSync(Buffer.from(JSON.stringify(recs, null, 2)));
    writeFileSync(gz, whole.subarray(0, Math.floor(whole.length * 0.5)));
    const s = await importFiles(p, [gz]);
    expect(s.files[0].bad).toHaveLength(1);
    expect(s.files[0].imported).toBeGreaterThan(300);
    expect(s.files[0].imported).toBeLessThan(2000);
  });

  it('no empty dataset: not when every record is refused, not when the file breaks before its first record', async () => {
    const f = path.join(dir, 'refused.jsonl');
    writeFileSync(f, readFileSync(fixture('apps-mini.jsonl')));
    const s = await importFiles(p, [f], { format: 'mbpp' });
    expect(s.files[0].bad.length).toBe(4);
    expect(s.files[0].datasetId).toBe(-1);
    const gz = path.join(dir, 'early.jsonl.gz');
    writeFileSync(gz, gzipSync(Buffer.from(lines(100))).subarray(0, 30));
    await importFiles(p, [gz]);
    const notJson = path.join(dir, 'nothing.jsonl');
    writeFileSync(notJson, 'hello\n');
    await expect(importFiles(p, [notJson])).rejects.toThrow(/nothing\.jsonl: no line has the fields of a known format/);
    expect(datasets()).toEqual([]);
    // a folder that holds no problem
    const empty = path.join(dir, 'empty');
    mkdirSync(empty);
    await expect(importFiles(p, [empty])).rejects.toBeInstanceOf(ImportError);
    expect(datasets()).toEqual([]);
  });
});
