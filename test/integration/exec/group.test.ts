// A candidate's stdin/stdout tests share one forked child (worker.py run_group, child.py
// main_group). Each test must still get what a fresh child gives it: its own stdin, namespace,
// streams, empty tmpfs, CPU limit and wall clock, no process or thread or timer left by an earlier
// test, and the full memory limit. These programs try to carry something from one test to the next.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExecEngine } from '../../../server/exec/engine';
import type { TestSpec } from '../../../server/exec/types';
import { REF_FACTOR, referenceMs } from './hostile';

const stdio = (input: string, expected: string): TestSpec => ({ kind: 'stdio', input, expected, fn_name: null, code: null, setup: null });
const same = (n: number, input: string, expected: string) => Array.from({ length: n }, () => stdio(input, expected));

describe('stdin/stdout tests grouped in one child', () => {
  let engine: ExecEngine;
  beforeAll(async () => {
    engine = await ExecEngine.create({ workers: 1, limits: { testTimeoutMs: 1500, memoryBytes: 512 * 1024 * 1024 } });
  });
  afterAll(async () => {
    await engine?.close();
  });

  it('gives every test its own stdin, namespace and streams', async () => {
    const code = [
      'import sys',
      'try:',
      '    seen',
      '    print("leak")',
      'except NameError:',
      '    seen = 1',
      'data = sys.stdin.read().split()',
      'print(sum(map(int, data)))',
    ].join('\n');
    const tests = [stdio('1 2', '3'), stdio('10 20 30', '60'), stdio('', '0'), stdio('-4', '-4')];
    const r = await engine.run(code, tests, { allResults: true });
    expect(r.tests.map((t) => t.verdict)).toEqual(['pass', 'pass', 'pass', 'pass']);
  });

  it('runs the tests in one process, where interpreter state carries over as in the APPS harness', async () => {
    // The documented trade-off (docs/execution.md, Speed): modules and their state are shared by
    // the candidate's own tests. This also proves the group path is taken.
    const code = 'import sys\nprint("later" if hasattr(sys, "_pf_seen") else "first")\nsys._pf_seen = 1';
    const r = await engine.run(code, [stdio('', 'first'), stdio('', 'later'), stdio('', 'later')]);
    expect(r.tests.map((t) => t.verdict)).toEqual(['pass', 'pass', 'pass']);
    // Another candidate (and a single test) starts from a fresh child.
    expect((await engine.run(code, [stdio('', 'first')])).verdict).toBe('pass');
  });

  it('empties the tmpfs between tests', async () => {
    const code = 'import os\nprint("old" if os.path.exists("/tmp/mark") else "new")\nopen("/tmp/mark", "w").write("x")\nprint(sorted(os.listdir(".")))\nopen("f", "w").write("y")';
    const r = await engine.run(code, same(4, '', 'new\n[]'), { allResults: true });
    expect(r.tests.map((t) => t.verdict)).toEqual(['pass', 'pass', 'pass', 'pass']);
  });

  it('a CPU limit per test, not per group', async () => {
    // Each test burns 1 s of CPU; the CPU limit is 5 s per test (4 s rounded up + 1), 6 s in all.
    const own = await ExecEngine.create({ workers: 1, limits: { testTimeoutMs: 4000 } });
    try {
      const code = 'import time\nt = time.process_time()\nwhile time.process_time() - t < 1.0:\n    pass\nprint("ok")';
      const r = await own.run(code, same(6, '', 'ok'), { allResults: true });
      expect(r.tests.map((t) => t.verdict), JSON.stringify(r.tests)).toEqual(Array(6).fill('pass'));
    } finally {
      await own.close();
    }
  }, 60_000);

  it('a wall clock per test: one slow test times out, the others still pass', async () => {
    const code = 'import time\ns = input()\nif s == "slow":\n    time.sleep(60)\nprint(s)';
    const ref = await referenceMs(engine);
    const r = await engine.run(code, [stdio('a', 'a'), stdio('slow', 'slow'), stdio('b', 'b'), stdio('c', 'c')], { allResults: true });
    expect(r.tests.map((t) => t.verdict)).toEqual(['pass', 'timeout', 'pass', 'pass']);
    // Sleeping waits for no CPU: the limit holds on the wall clock (slack grows with the load).
    expect(r.tests[1].durationMs).toBeLessThan(1500 + 1000 + REF_FACTOR * ref);
  });

  it('stops at the first failure, and runs the rest in fresh children with allResults', async () => {
    const code = 'x = int(input())\nprint(x * 2 if x != 3 else 0)';
    const tests = [1, 2, 3, 4, 5].map((x) => stdio(String(x), String(x * 2)));
    const first = await engine.run(code, tests);
    expect(first.verdict).toBe('wrong_answer');
    expect(first.tests.map((t) => t.verdict)).toEqual(['pass', 'pass', 'wrong_answer']);
    const all = await engine.run(code, tests, { allResults: true });
    expect(all.tests.map((t) => t.verdict)).toEqual(['pass', 'pass', 'wrong_answer', 'pass', 'pass']);
  });

  it('timers, signal handlers and threads of one test do not reach the next', async () => {
    const code = [
      'import signal, threading, time, sys',
      'signal.signal(signal.SIGALRM, lambda *a: print("alarm"))',
      'signal.setitimer(signal.ITIMER_REAL, 0.05)',
      'signal.signal(signal.SIGTERM, signal.SIG_IGN)',
      'def later():',
      '    time.sleep(0.1)',
      '    print("thread")',
      'threading.Thread(target=later, daemon=True).start()',
      'print(input())',
    ].join('\n');
    const r = await engine.run(code, [stdio('a', 'a'), stdio('b', 'b'), stdio('c', 'c')], { allResults: true });
    expect(r.tests.map((t) => [t.verdict, t.output])).toEqual([
      ['pass', 'a\n'],
      ['pass', 'b\n'],
      ['pass', 'c\n'],
    ]);
  });

  it('a background process started by one test is gone before the next', async () => {
    const code = [
      'import os, subprocess',
      'print(len([p for p in os.listdir("/proc") if p.isdigit()]))',
      'subprocess.Popen(["sleep", "30"], start_new_session=True)',
    ].join('\n');
    // The sandbox's processes: its init, the worker, the test (and /proc's listing of itself).
    const r = await engine.run(code, same(3, '', '3'), { allResults: true });
    expect(r.tests.map((t) => [t.verdict, t.output])).toEqual([
      ['pass', '3\n'],
      ['pass', '3\n'],
      ['pass', '3\n'],
    ]);
  });

  it('memory kept by one test does not shrink the next test\'s limit', async () => {
    // 300 MiB kept in a global each time: under the 512 MiB limit once, not twice.
    const code = 'keep = bytearray(300 * 1024 * 1024)\nprint(len(keep) // (1024 * 1024))';
    const r = await engine.run(code, same(3, '', '300'), { allResults: true });
    expect(r.tests.map((t) => t.verdict)).toEqual(['pass', 'pass', 'pass']);
  });

  it('state changed by a test (cwd, environment, rlimits, recursion limit, closed stdin) is reset', async () => {
    const code = [
      'import os, sys, resource',
      'print(os.getcwd(), os.environ.get("LEAK"), sys.getrecursionlimit(), resource.getrlimit(resource.RLIMIT_NOFILE)[0], input())',
      'os.chdir("/")',
      'os.environ["LEAK"] = "1"',
      'sys.setrecursionlimit(50)',
      'resource.setrlimit(resource.RLIMIT_NOFILE, (8, 8))',
      'os.close(0)',
    ].join('\n');
    const r = await engine.run(code, [stdio('a', '/tmp/w None 1000 64 a'), stdio('b', '/tmp/w None 1000 64 b'), stdio('c', '/tmp/w None 1000 64 c')], { allResults: true });
    expect(r.tests.map((t) => [t.verdict, t.output])).toEqual([
      ['pass', '/tmp/w None 1000 64 a\n'],
      ['pass', '/tmp/w None 1000 64 b\n'],
      ['pass', '/tmp/w None 1000 64 c\n'],
    ]);
  });

  it('os._exit after the answer, closing stdout, and killing the group child still give per-test verdicts', async () => {
    const exiting = await engine.run('import os, sys\nprint(input())\nsys.stdout.flush()\nos._exit(0)', [stdio('a', 'a'), stdio('b', 'b'), stdio('c', 'c')]);
    expect(exiting.tests.map((t) => t.verdict)).toEqual(['pass', 'pass', 'pass']);
    const closing = await engine.run('import os\nprint(input(), flush=True)\nos.close(1)', [stdio('a', 'a'), stdio('b', 'b'), stdio('c', 'c')]);
    expect(closing.tests.map((t) => t.verdict)).toEqual(['pass', 'pass', 'pass']);
    const killing = await engine.run('import os, signal\ns = input()\nif s == "die":\n    os.kill(os.getpid(), signal.SIGKILL)\nprint(s)', [stdio('a', 'a'), stdio('die', 'die'), stdio('c', 'c')], { allResults: true });
    expect(killing.tests.map((t) => t.verdict)).toEqual(['pass', 'runtime_error', 'pass']);
  });
});
