// Test kinds, comparators, verdict details and engine behaviour, in the real sandbox.
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExecEngine } from '../../../server/exec/engine';
import { ExecAbortedError, SandboxUnavailableError, type TestSpec } from '../../../server/exec/types';
import { REF_FACTOR, referenceMs } from './hostile';

const stdio = (input: string, expected: string): TestSpec => ({ kind: 'stdio', input, expected, fn_name: null, code: null, setup: null });
const call = (fn: string, args: unknown[], expected: unknown): TestSpec => ({ kind: 'call', input: JSON.stringify(args), expected: JSON.stringify(expected), fn_name: fn, code: null, setup: null });
const humaneval = (entry: string, code: string): TestSpec => ({ kind: 'humaneval', input: null, expected: null, fn_name: entry, code, setup: null });
const assertion = (code: string, setup: string | null = null): TestSpec => ({ kind: 'assert', input: null, expected: null, fn_name: null, code, setup });
const STRONGEST = process.getuid?.() === 0 ? 'bwrap-nobody' : 'bwrap-user';

describe('execution engine in the sandbox', () => {
  let engine: ExecEngine;
  beforeAll(async () => {
    engine = await ExecEngine.create({ workers: 2, limits: { testTimeoutMs: 2000 } });
  });
  afterAll(async () => {
    await engine?.close();
  });

  describe('stdio', () => {
    it('feeds stdin the way programs read it (input(), sys.stdin, open(0))', async () => {
      const tests = [stdio('3\n1 2 3\n', '6\n'), stdio('1\n-5', '-5')];
      for (const code of [
        'n = int(input())\nprint(sum(map(int, input().split())))',
        'import sys\ndata = sys.stdin.read().split()\nprint(sum(map(int, data[1:])))',
        'lines = open(0).read().splitlines()\nprint(sum(int(x) for x in lines[1].split()))',
        'import sys\ninput = sys.stdin.readline\nn = int(input())\nprint(sum(map(int, input().split())))',
      ]) {
        const r = await engine.run(code, tests);
        expect(r.verdict, `${code}\n${JSON.stringify(r.tests)}`).toBe('pass');
        expect(r.tests).toHaveLength(2);
        expect(r.testsTotal).toBe(2);
      }
    });

    it('runs the program as __main__ and keeps unicode intact', async () => {
      const r = await engine.run('def main():\n    print("héllo ✓", input())\nif __name__ == "__main__":\n    main()', [stdio('wörld', 'héllo ✓ wörld')]);
      expect(r.verdict).toBe('pass');
    });

    it('reports wrong answers with input, expected, output and the differing line', async () => {
      const r = await engine.run('print(int(input()) + 1)', [stdio('1', '2'), stdio('5', '7'), stdio('9', '10')]);
      expect(r.verdict).toBe('wrong_answer');
      expect(r.tests).toHaveLength(2); // stops at the first failure
      expect(r.tests[1]).toMatchObject({ ordinal: 1, verdict: 'wrong_answer', input: '5', expected: '7', output: '6\n', message: 'line 1: expected "7", got "6"' });
      expect(r.comparator).toBe('strict');
      expect(r.sandbox.isolation).toBe(STRONGEST);
      expect(r.sandbox.limits.testTimeoutMs).toBe(2000);
    });

    it('runs every test with allResults and takes the worst verdict', async () => {
      const code = 'x = int(input())\nif x == 2: raise ValueError("two")\nprint(x * 10)';
      const r = await engine.run(code, [stdio('1', '10'), stdio('2', '20'), stdio('3', '31'), stdio('4', '40')], { allResults: true });
      expect(r.tests.map((t) => t.verdict)).toEqual(['pass', 'runtime_error', 'wrong_answer', 'pass']);
      expect(r.verdict).toBe('runtime_error');
      const crash = r.tests[1];
      expect(crash.message).toBe('ValueError: two');
      // The traceback names the candidate's own line, as a plain run would.
      expect(crash.stderrTail).toMatch(/line 2[\s\S]*raise ValueError\("two"\)[\s\S]*ValueError: two/);
      expect(crash.durationMs).toBeGreaterThan(0);
    });

    it('strict vs apps: tokens out of order, the APPS imports, and exit codes', async () => {
      const unordered = await Promise.all(['strict', 'apps'].map((c) => engine.run('print("3 1 2")', [stdio('', '1 2 3')], { comparator: c as 'strict' | 'apps' })));
      expect(unordered.map((r) => r.verdict)).toEqual(['wrong_answer', 'pass']);
      expect(unordered[1].comparator).toBe('apps');
      // APPS runs programs with its block of imports in front; strict runs the program as it is.
      const prelude = 'print(sqrt(16), Counter("aab")["a"])';
      expect((await engine.run(prelude, [stdio('', '4.0 2')], { comparator: 'apps' })).verdict).toBe('pass');
      const strict = await engine.run(prelude, [stdio('', '4.0 2')]);
      expect(strict.verdict).toBe('runtime_error');
      expect(strict.tests[0].message).toMatch(/NameError/);
      // A non-zero exit is a runtime error for strict; APPS swallows SystemExit and compares.
      const exiting = 'print(42)\nimport sys\nsys.exit(3)';
      expect((await engine.run(exiting, [stdio('', '42')])).verdict).toBe('runtime_error');
      expect((await engine.run(exiting, [stdio('', '42')], { comparator: 'apps' })).verdict).toBe('pass');
      expect((await engine.run('print(42)\nexit()', [stdio('', '42')])).verdict).toBe('pass');
    });
  });

  describe('call', () => {
    it('calls a function with the JSON arguments; tuples compare as lists; APPS-wrapped outputs', async () => {
      const code = 'def pair(a, b):\n    return (b, a)';
      expect((await engine.run(code, [call('pair', [1, 2], [2, 1])])).verdict).toBe('pass');
      expect((await engine.run(code, [call('pair', [1, 2], [[2, 1]])])).verdict).toBe('pass');
      expect((await engine.run(code, [call('pair', [1, 2], [[2, 1]])], { comparator: 'apps' })).verdict).toBe('pass');
      const wrong = await engine.run(code, [call('pair', [1, 2], [1, 2])]);
      expect(wrong.verdict).toBe('wrong_answer');
      expect(wrong.tests[0]).toMatchObject({ output: '(2, 1)', expected: '[1,2]', input: '[1,2]' });
    });

    it('uses the method of class Solution when the code defines one (LeetCode style, List without import)', async () => {
      const code = 'class Solution:\n    def twoSum(self, nums: List[int], target: int) -> List[int]:\n        seen = {}\n        for i, n in enumerate(nums):\n            if target - n in seen:\n                return [seen[target - n], i]\n            seen[n] = i';
      const r = await engine.run(code, [call('twoSum', [[2, 7, 11, 15], 9], [[0, 1]]), call('twoSum', [[3, 2, 4], 6], [1, 2])], { allResults: true });
      expect(r.tests.map((t) => t.verdict)).toEqual(['pass', 'pass']);
    });

    it('strict keeps types apart where APPS (Python ==) does not; floats within tolerance', async () => {
      const code = 'def f(x):\n    return x > 0';
      expect((await engine.run(code, [call('f', [1], 1)])).verdict).toBe('wrong_answer');
      expect((await engine.run(code, [call('f', [1], 1)], { comparator: 'apps' })).verdict).toBe('pass');
      const third = 'def third(x):\n    return x / 3';
      expect((await engine.run(third, [call('third', [1], 0.3333333)])).verdict).toBe('pass');
      expect((await engine.run(third, [call('third', [1], 0.3333333)], { comparator: 'apps' })).verdict).toBe('wrong_answer');
    });

    it('turns the string keys of a leading dict argument into ints, as APPS does', async () => {
      const r = await engine.run('def total(d):\n    return sum(k * v for k, v in d.items())', [call('total', [{ '2': 3, '5': 1 }], 11)]);
      expect(r.verdict, JSON.stringify(r.tests)).toBe('pass');
    });

    it('malformed call tests are blamed on the test', async () => {
    const bad = await engine.run('def f(x):\n    return x', [{ ...call('f', [1], 1), input: '[1,' }]);
    expect(bad.verdict).toBe('runtime_error');
    expect(bad.tests[0].message).toMatch(/not JSON/);
    const nameless = await engine.run('def f(x):\n    return x', [{ ...call('f', [1], 1), fn_name: null }]);
    expect(nameless.tests[0].message).toBe('a call test needs fn_name');
  });

  it('a missing function is a runtime error that says so', async () => {
      const r = await engine.run('def other():\n    pass', [call('wanted', [], 1)]);
      expect(r.verdict).toBe('runtime_error');
      expect(r.tests[0].message).toMatch(/NameError: the program defines no function 'wanted'/);
    });
  });

  describe('humaneval and assert', () => {
    it('humaneval: check(candidate) on the entry point', async () => {
      const test = 'def check(candidate):\n    assert candidate(2, 3) == 5\n    assert candidate(-1, 1) == 0';
      expect((await engine.run('def add(a, b):\n    return a + b', [humaneval('add', test)])).verdict).toBe('pass');
      const wrong = await engine.run('def add(a, b):\n    return a - b', [humaneval('add', test)]);
      expect(wrong.verdict).toBe('wrong_answer');
      expect(wrong.tests[0].message).toBe('AssertionError');
      expect(wrong.tests[0].expected).toContain('def check(candidate)');
      expect((await engine.run('def plus(a, b):\n    return a + b', [humaneval('add', test)])).verdict).toBe('runtime_error');
    });

    it('assert: setup runs first, then the candidate, then the asserts (MBPP)', async () => {
      const setup = 'import math\nHELPER = 10';
      const r = await engine.run('def scaled(x):\n    return x * HELPER', [assertion('assert scaled(2) == 20', setup), assertion('assert math.isclose(scaled(0.1), 1.0)', setup)]);
      expect(r.verdict, JSON.stringify(r.tests)).toBe('pass');
      const bad = await engine.run('def scaled(x):\n    return x', [assertion('assert scaled(2) == 20', setup)]);
      expect(bad.verdict).toBe('wrong_answer');
    });

    it('a broken test (not the candidate) is reported as such', async () => {
      const r = await engine.run('x = 1', [assertion('assert x ==')]);
      expect(r.verdict).toBe('runtime_error');
      expect(r.tests[0].message).toMatch(/SyntaxError in the test code/);
    });
  });

  it('compile errors stop before any test runs and name the line', async () => {
    const r = await engine.run('def f(:\n    pass', [stdio('', ''), stdio('', '')]);
    expect(r.verdict).toBe('compile_error');
    expect(r.tests).toEqual([{ ordinal: 0, verdict: 'compile_error', durationMs: 0, message: expect.stringMatching(/^SyntaxError: .*\(line 1\)$/) }]);
    expect(r.testsTotal).toBe(2);
  });

  it('the candidate wall clock cuts a slow candidate short', async () => {
    // Room for two 0.6 s tests and what running them costs on this machine right now.
    const ref = await referenceMs(engine);
    const budget = Math.round(1500 + 20 * ref);
    const small = await ExecEngine.create({ workers: 1, limits: { testTimeoutMs: 1000, candidateTimeoutMs: budget } });
    try {
      const r = await small.run('import time\ntime.sleep(0.6)\nprint(1)', Array.from({ length: 8 }, () => stdio('', '1')));
      expect(r.verdict).toBe('timeout');
      expect(r.tests.slice(0, 2).map((t) => t.verdict)).toEqual(['pass', 'pass']);
      expect(r.tests.length).toBeLessThan(8);
      expect(r.durationMs).toBeLessThan(budget + 1000 + REF_FACTOR * ref);
    } finally {
      await small.close();
    }
  });

  it('time spent waiting for a worker does not count against a candidate', async () => {
    const one = await ExecEngine.create({ workers: 1, limits: { testTimeoutMs: 1000, candidateTimeoutMs: 1000 } });
    try {
      const ref = await referenceMs(one);
      const runs = await Promise.all(Array.from({ length: 3 }, () => one.run('import time\ntime.sleep(0.6)\nprint(1)', [stdio('', '1')])));
      expect(runs.map((r) => r.verdict)).toEqual(['pass', 'pass', 'pass']);
      // Queued, the third would count 1.2 s of waiting: each counts only its own 0.6 s.
      for (const r of runs) expect(r.durationMs).toBeLessThan(1000 + 10 * ref);
    } finally {
      await one.close();
    }
  });

  it('abort stops a running candidate at once', async () => {
    const ref = await referenceMs(engine);
    const ac = new AbortController();
    const t0 = performance.now();
    setTimeout(() => ac.abort(), 200);
    await expect(engine.run('while True: pass', [stdio('', '')], { signal: ac.signal })).rejects.toBeInstanceOf(ExecAbortedError);
    expect(performance.now() - t0).toBeLessThan(1500 + REF_FACTOR * ref);
    expect((await engine.run('print(1)', [stdio('', '1')])).verdict).toBe('pass');
  });

  it('queues more candidates than workers', async () => {
    const runs = await Promise.all(Array.from({ length: 7 }, (_, i) => engine.run(`print(${i} * 2)`, [stdio('', String(i * 2))])));
    expect(runs.map((r) => r.verdict)).toEqual(Array(7).fill('pass'));
  });

  it('replaces a worker after recycleAfter tests, and the replacement works', async () => {
    const small = await ExecEngine.create({ workers: 1, recycleAfter: 3, limits: { testTimeoutMs: 2000 } });
    try {
      for (let i = 0; i < 7; i++) {
        const r = await small.run('import os\nprint(os.getppid())', [stdio('', '2')]);
        // The test's parent is the worker: pid 2 in every sandbox (bwrap's init is 1).
        expect(r.verdict, JSON.stringify(r.tests)).toBe('pass');
      }
      expect(small.recycled).toBe(2);
    } finally {
      await small.close();
    }
  });

  it('refuses a candidate without tests and bad limits', async () => {
    await expect(engine.run('print(1)', [])).rejects.toThrow(/at least one test/);
    await expect(ExecEngine.create({ limits: { memoryBytes: -1 } })).rejects.toThrow(/'memoryBytes' must be a positive number/);
  });
});

describe('without bubblewrap', () => {
  it('refuses to run and says how to fix it', async () => {
    const err = await ExecEngine.create({ bwrap: '/nonexistent/bwrap' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SandboxUnavailableError);
    expect(String((err as Error).message)).toMatch(/apt-get install bubblewrap[\s\S]*explicit opt-in/);
  });

  it('the opt-in never downgrades a working sandbox', async () => {
    const lines: string[] = [];
    const e = await ExecEngine.create({ allowUnsandboxed: true, workers: 1, log: (l) => lines.push(l) });
    try {
      expect(e.sandbox.isolation).toBe(STRONGEST);
      // One line about the mode, no warning.
      expect(lines).toEqual([expect.stringMatching(new RegExp(`^sandbox: ${STRONGEST} \\(`))]);
    } finally {
      await e.close();
    }
  });

  it('unisolated, workers running at the same time do not share a work folder', async () => {
    // Each worker empties its work folder between tests: a shared one would pull it from under
    // the other worker's test.
    const e = await ExecEngine.create({ bwrap: '/nonexistent/bwrap', allowUnsandboxed: true, workers: 2, limits: { testTimeoutMs: 5000 }, log: () => undefined });
    try {
      const code = 'import os, time\nopen("mine", "w").write("x")\nfor _ in range(20):\n    time.sleep(0.005)\n    assert os.listdir(".") == ["mine"], os.listdir(".")\nprint("ok")';
      const results = await Promise.all(Array.from({ length: 16 }, () => e.run(code, [stdio('', 'ok')])));
      expect(results.map((r) => r.verdict), JSON.stringify(results.find((r) => r.verdict !== 'pass')?.tests)).toEqual(results.map(() => 'pass'));
    } finally {
      await e.close();
    }
  });

  it('runs unisolated only on explicit opt-in, and says so loudly', async () => {
    const lines: string[] = [];
    const e = await ExecEngine.create({ bwrap: '/nonexistent/bwrap', allowUnsandboxed: true, workers: 1, limits: { testTimeoutMs: 1000 }, log: (l) => lines.push(l) });
    try {
      expect(lines.join('\n')).toMatch(/WITHOUT A SANDBOX[\s\S]*bubblewrap \(bwrap\) is not installed/);
      expect(e.sandbox.isolation).toBe('none');
      const r = await e.run('import os\nprint(os.getcwd().endswith("/w"))\nimport subprocess\nsubprocess.Popen(["sleep", "301.25"])', [stdio('', 'True')]);
      expect(r.verdict, JSON.stringify(r.tests)).toBe('pass');
      // Even unisolated, what the program started is killed when its test ends.
      const left = readdirSync('/proc').filter((n) => /^\d+$/.test(n)).filter((n) => {
        try {
          return readFileSync(`/proc/${n}/cmdline`, 'utf8').includes('301.25');
        } catch {
          return false;
        }
      });
      expect(left).toEqual([]);
      expect(r.sandbox.isolation).toBe('none');
      expect((await e.run('while True: pass', [stdio('', '')])).verdict).toBe('timeout');
    } finally {
      await e.close();
    }
  }, 20_000);
});
