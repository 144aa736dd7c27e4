// References of datasets imported as they are published pass their tests in the sandbox, as they
// do upstream: APPS stdin programs that end with a top-level `return` (the APPS harness runs them
// as a function body), MBPP setup code that uses the solution's names (the dataset's order:
// code, setup, asserts), EvalPlus inputs checked against the canonical solution's outputs.
// The bundled CLI and the real bubblewrap sandbox.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixturePath } from '../../support/paths';
import { ExecEngine } from '../../../server/exec/engine';
import { problemTests } from '../../../server/import/queries';
import type { TestSpec } from '../../../server/exec/types';
import { evalplusTests } from '../../../server/import/evalplus';
import { importFiles } from '../../../server/import/importer';
import { openProject } from '../../../server/store/db';
import { buildCli, runCli } from '../../support/cliHarness';

const FIXTURES = fixturePath('datasets');
const fixture = (name: string) => path.join(FIXTURES, name);
const stdio = (input: string, expected: string): TestSpec => ({ kind: 'stdio', input, expected, fn_name: null, code: null, setup: null });
const call = (fn: string, args: unknown[], expected: unknown): TestSpec => ({ kind: 'call', input: JSON.stringify(args), expected: JSON.stringify(expected), fn_name: fn, code: null, setup: null });

let cli: string;
let dir: string;
let engine: ExecEngine;
beforeAll(async () => {
  cli = await buildCli();
  dir = mkdtempSync(path.join(tmpdir(), 'pairforge-exec-datasets-'));
  engine = await ExecEngine.create({ workers: 2 });
}, 120_000);
afterAll(async () => {
  await engine?.close();
  rmSync(dir, { recursive: true, force: true });
  rmSync(path.dirname(cli), { recursive: true, force: true });
});

describe('check-refs on datasets as published', () => {
  it('every reference passes under both comparators; the stdin program with a top-level return among them', () => {
    const db = path.join(dir, 'all.sqlite');
    const files = ['apps-folder/train', 'sanitized-mbpp-mini.json', 'mbpp-tabs.jsonl', 'mbppplus-mini.jsonl', 'humanevalplus-mini.jsonl'].map(fixture);
    const imp = runCli(cli, ['import', ...files, '--db', db]);
    expect(imp.status, imp.stderr).toBe(0);
    for (const comparator of ['strict', 'apps']) {
      const r = runCli(cli, ['check-refs', '--db', db, '--comparator', comparator, '--json']);
      expect(r.status, r.stderr).toBe(0);
      const s = JSON.parse(r.stdout) as Record<string, unknown>;
      // 5 APPS solutions, 3 sanitized MBPP, 2 MBPP, 2 MBPP+, 1 HumanEval+
      expect(s).toMatchObject({ total: 13, pass: 13, compile_error: 0, flagged: [] });
    }
  }, 180_000);

  it('upstream agrees: MBPP as plain Python in the dataset\'s order passes; the top-level return does not compile outside a function', () => {
    for (const line of readFileSync(fixture('mbpp-tabs.jsonl'), 'utf8').trim().split('\n')) {
      const r = JSON.parse(line) as { code: string; test_setup_code: string; test_list: string[] };
      const program = [r.code, r.test_setup_code, ...r.test_list].join('\n');
      expect(spawnSync('python3', ['-c', program]).status).toBe(0);
      // the other order (setup first) is what failed: the setup uses the solution's class
      if (r.test_setup_code) expect(spawnSync('python3', ['-c', [r.test_setup_code, r.code, ...r.test_list].join('\n')]).status).not.toBe(0);
    }
    const [, withReturn] = JSON.parse(readFileSync(fixture('apps-folder/train/0007/solutions.json'), 'utf8')) as string[];
    expect(spawnSync('python3', ['-c', withReturn], { input: '0\n' }).stderr.toString()).toMatch(/SyntaxError: 'return' outside function/);
  });
});

describe('how the program text is run', () => {
  const ends = 'import sys\nn = int(input())\nif n == 0:\n    print("none")\n    return\nprint(n * 2)\n';

  it('a stdin program with a top-level return runs as a function body, line numbers kept', async () => {
    const r = await engine.run(ends, [stdio('0\n', 'none\n'), stdio('4\n', '8\n')]);
    expect(r.verdict, JSON.stringify(r.tests)).toBe('pass');
    const crash = await engine.run('x = int(input())\nif x:\n    return\nprint(1 / x)\n', [stdio('0\n', '')]);
    expect(crash.tests[0]).toMatchObject({ verdict: 'runtime_error' });
    expect(crash.tests[0].stderrTail).toMatch(/line 4/);
  });

  it('not for other programs: a top-level return is still a compile error in call-based problems', async () => {
    const r = await engine.run('def f(x):\n    return x\nreturn\n', [call('f', [1], 1)]);
    expect(r.verdict).toBe('compile_error');
    expect(r.tests[0].message).toMatch(/'return' outside function \(line 3\)/);
  });

  it('MBPP setup code runs after the solution, in its namespace', async () => {
    const p = openProject(path.join(dir, 'mbpp.sqlite'));
    try {
      await importFiles(p, [fixture('mbpp-tabs.jsonl')]);
      const row = p.db.prepare<[], { id: number; code: string }>("SELECT pr.id, s.code FROM problems pr JOIN solutions s ON s.problem_id = pr.id WHERE pr.external_id = '912'").get()!;
      const tests = problemTests(p, row.id);
      expect(tests[0].setup).toContain('root = Node(1)');
      expect((await engine.run(row.code, tests)).verdict).toBe('pass');
      // a solution without the class fails on the setup, as it would in plain Python
      const r = await engine.run('def count_leaves(node):\n    return 0\n', tests);
      expect(r.tests[0]).toMatchObject({ verdict: 'runtime_error', message: expect.stringMatching(/NameError: name 'Node' is not defined/) });
    } finally {
      p.close();
    }
  });

  it('EvalPlus tests compare with the canonical solution: tuples restored, exact big integers, float tolerance, a clear message', async () => {
    const p = openProject(path.join(dir, 'plus.sqlite'));
    try {
      await importFiles(p, [fixture('mbppplus-mini.jsonl'), fixture('humanevalplus-mini.jsonl')]);
      const testsOf = (id: string) => problemTests(p, p.db.prepare<[string], { id: number }>('SELECT id FROM problems WHERE external_id = ?').get(id)!.id);
      // Mbpp/106 passes only when its second argument is a tuple (tuple + tuple)
      expect((await engine.run('def add_lists(a, b):\n    return b + tuple(a)\n', testsOf('Mbpp/106'))).verdict).toBe('pass');
      const wrong = await engine.run('def add_lists(a, b):\n    return tuple(a) + b\n', testsOf('Mbpp/106'));
      expect(wrong.verdict).toBe('wrong_answer');
      expect(wrong.tests[0].message).toMatch(/AssertionError: input \[\[5, 6, 7\], \(9, 10\)\]: expected \(9, 10, 5, 6, 7\), got \(5, 6, 7, 9, 10\)/);
      // the big integers are exact: min() of two ints that differ by 1 beyond 2^53
      expect((await engine.run('def minimum(a, b):\n    return a if a < b else b\n', testsOf('Mbpp/9404'))).verdict).toBe('pass');
      expect((await engine.run('def minimum(a, b):\n    return float(min(a, b))\n', testsOf('Mbpp/9404'))).verdict).toBe('wrong_answer');
      // floats within EvalPlus's tolerance (1e-6 when atol is 0) pass
      expect((await engine.run('def mean(xs):\n    return sum(xs) / len(xs) + 1e-9\n', testsOf('HumanEval/9002'))).verdict).toBe('pass');
      expect((await engine.run('def mean(xs):\n    return sum(xs) / len(xs) + 1e-3\n', testsOf('HumanEval/9002'))).verdict).toBe('wrong_answer');
      // an entry point named like HumanEval's check() is not hidden by the test (MBPP+ has one)
      const check = evalplusTests({ dataset: 'mbpp', taskId: 'Mbpp/9056', entryPoint: 'check', reference: 'def check(n):\n    return n == 2 * int(str(n)[::-1]) - 1\n', atol: '0', base: ['[70]', '[23]'], plus: [] });
      const asSpecs = check.map((t): TestSpec => ({ kind: t.kind, input: null, expected: null, fn_name: null, code: t.code ?? null, setup: t.setup ?? null }));
      expect((await engine.run('def check(n):\n    return 2 * int(str(n)[::-1]) == n + 1\n', asSpecs)).verdict).toBe('pass');
    } finally {
      p.close();
    }
  });
});
