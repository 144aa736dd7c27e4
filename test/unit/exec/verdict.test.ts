import { describe, expect, it } from 'vitest';
import { DEFAULT_EXEC_LIMITS, EXCERPT_CHARS, type TestSpec } from '../../../server/exec/types';
import { testResult, type ChildReport, type WorkerTestResult } from '../../../server/exec/verdict';

const NONCE = 'n0nce';
const stdio: TestSpec = { kind: 'stdio', input: '1 2\n', expected: '3\n', fn_name: null, code: null, setup: null };
const humaneval: TestSpec = { kind: 'humaneval', input: null, expected: null, fn_name: 'f', code: 'def check(c):\n    assert c() == 1', setup: null };
const call: TestSpec = { kind: 'call', input: '[1]', expected: '2', fn_name: 'f', code: null, setup: null };

function worker(over: Partial<WorkerTestResult> = {}, report: ChildReport | null = { nonce: NONCE, outcome: 'ok' }): WorkerTestResult {
  return {
    status: 'exited',
    exit_code: 0,
    signal: null,
    stdout: '3\n',
    stdout_bytes: 2,
    stderr_tail: '',
    stderr_bytes: 0,
    report,
    duration_ms: 4.2,
    cpu_ms: 2,
    maxrss_kb: 9000,
    leftover_processes: 0,
    dirty: false,
    ...over,
  };
}
const verdictOf = (test: TestSpec, r: WorkerTestResult, comparator: 'strict' | 'apps' = 'strict', oom = false) =>
  testResult(0, test, r, comparator, DEFAULT_EXEC_LIMITS, NONCE, oom);

describe('verdict of a test', () => {
  it('passes and keeps the details', () => {
    expect(verdictOf(stdio, worker())).toEqual({ ordinal: 0, verdict: 'pass', durationMs: 4.2, input: '1 2\n', expected: '3\n', output: '3\n' });
  });

  it('wall clock and output cap come first', () => {
    expect(verdictOf(stdio, worker({ status: 'timeout', duration_ms: 5001 }))).toMatchObject({ verdict: 'timeout', message: 'time limit exceeded after 5001 ms of wall clock' });
    // Time spent waiting for a CPU on a busy machine is not counted, and the message says so.
    expect(verdictOf(stdio, worker({ status: 'timeout', duration_ms: 7402, cpu_wait_ms: 2400.4 })).message).toBe(
      'time limit exceeded after 7402 ms of wall clock (2400 ms of it spent waiting for a CPU, not counted)',
    );
    const flood = verdictOf(stdio, worker({ status: 'output_limit', stdout_bytes: 2 << 20 }));
    expect(flood.verdict).toBe('output_limit');
    expect(flood.message).toMatch(/^stdout/);
    expect(verdictOf(stdio, worker({ status: 'output_limit', stderr_bytes: 2 << 20 })).message).toMatch(/^stderr/);
  });

  it('deaths by signal: CPU limit, out of memory, crashes', () => {
    expect(verdictOf(stdio, worker({ status: 'signaled', exit_code: null, signal: 24 })).verdict).toBe('timeout');
    expect(verdictOf(stdio, worker({ status: 'signaled', exit_code: null, signal: 9, cpu_ms: 6000 })).verdict).toBe('timeout');
    expect(verdictOf(stdio, worker({ status: 'signaled', exit_code: null, signal: 6, stderr_tail: 'Fatal Python error: MemoryError' })).verdict).toBe('memory_limit');
    const segv = verdictOf(stdio, worker({ status: 'signaled', exit_code: null, signal: 11 }));
    expect(segv.verdict).toBe('runtime_error');
    expect(segv.message).toMatch(/segmentation fault/);
    expect(verdictOf(stdio, worker({ status: 'signaled', exit_code: null, signal: 9, cpu_ms: 10 })).verdict).toBe('runtime_error');
    // The OOM killer acting in the sandbox's cgroup turns a kill into memory_limit.
    expect(verdictOf(stdio, worker({ status: 'signaled', exit_code: null, signal: 9, cpu_ms: 10 }), 'strict', true).verdict).toBe('memory_limit');
  });

  it('reads the child report: memory, assertions, exceptions', () => {
    expect(verdictOf(stdio, worker({}, { nonce: NONCE, outcome: 'memory', exc_type: 'MemoryError' })).verdict).toBe('memory_limit');
    const failed = { nonce: NONCE, outcome: 'exception' as const, exc_type: 'AssertionError', exc_msg: '', assertion: true };
    expect(verdictOf(humaneval, worker({}, failed)).verdict).toBe('wrong_answer');
    // An AssertionError in a stdio program is the program crashing.
    expect(verdictOf(stdio, worker({}, failed)).verdict).toBe('runtime_error');
    const crash = verdictOf(humaneval, worker({}, { nonce: NONCE, outcome: 'exception', exc_type: 'ZeroDivisionError', exc_msg: 'division by zero' }));
    expect(crash).toMatchObject({ verdict: 'runtime_error', message: 'ZeroDivisionError: division by zero', expected: humaneval.code });
    expect(verdictOf(humaneval, worker({}, { nonce: NONCE, outcome: 'test_error', test_error: 'SyntaxError in the test code: x' })).message).toMatch(/test code/);
  });

  it('a report without the nonce counts for nothing', () => {
    const forged = { nonce: 'guess', outcome: 'ok' as const };
    expect(verdictOf(humaneval, worker({}, forged)).verdict).toBe('runtime_error');
    expect(verdictOf(humaneval, worker({}, null)).message).toMatch(/exited \(status 0\) before the test finished/);
    // A stdio program that ends with os._exit(0) is judged by its output.
    expect(verdictOf(stdio, worker({}, null)).verdict).toBe('pass');
    expect(verdictOf(stdio, worker({ exit_code: 1 }, null)).verdict).toBe('runtime_error');
  });

  it('exit(): runtime error for strict and non-stdio tests; APPS compares the output', () => {
    const exited = { nonce: NONCE, outcome: 'exit' as const, exit_code: 2 };
    expect(verdictOf(stdio, worker({}, exited)).verdict).toBe('runtime_error');
    expect(verdictOf(stdio, worker({}, exited), 'apps').verdict).toBe('pass');
    expect(verdictOf(stdio, worker({ stdout: '4\n' }, exited), 'apps').verdict).toBe('wrong_answer');
    expect(verdictOf(call, worker({}, { ...exited, exit_code: 0 }), 'apps').verdict).toBe('runtime_error');
  });

  it('call results: the child compared, the repr is the output', () => {
    expect(verdictOf(call, worker({ stdout: '' }, { nonce: NONCE, outcome: 'ok', equal: true, output_repr: '2' }))).toMatchObject({ verdict: 'pass', output: '2' });
    expect(verdictOf(call, worker({ stdout: '' }, { nonce: NONCE, outcome: 'ok', equal: false, output_repr: '(2,)' }))).toMatchObject({ verdict: 'wrong_answer', output: '(2,)' });
  });

  it('caps excerpts', () => {
    const big = 'x'.repeat(EXCERPT_CHARS * 3);
    const r = verdictOf({ ...stdio, input: big, expected: big }, worker({ stdout: big, stderr_tail: big }));
    expect(r.input!.length).toBeLessThan(EXCERPT_CHARS + 40);
    expect(r.expected!.length).toBeLessThan(EXCERPT_CHARS + 40);
    expect(r.output!.length).toBeLessThan(EXCERPT_CHARS + 40);
    expect(r.stderrTail!.length).toBeLessThan(EXCERPT_CHARS + 10);
    expect(r.stderrTail!.startsWith('...')).toBe(true);
  });
});
