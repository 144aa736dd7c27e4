// From the engine's result to what the editor shows: traceback lines and the test views.
import { describe, expect, it } from 'vitest';
import { failureLine, runTestsResult, tracebackLine } from '../../../server/exec/testResults';
import { DEFAULT_EXEC_LIMITS, type CandidateResult } from '../../../server/exec/types';
import { type ProblemRef } from '../../../server/protocol';

describe('test results', () => {
  const isCand = (f: string) => f === '<candidate>';

  it('takes the innermost candidate frame of a traceback, within the document', () => {
    const tb = [
      'Traceback (most recent call last):',
      '  File "/sandbox/harness.py", line 40, in run',
      '  File "<candidate>", line 9, in <module>',
      '  File "<candidate>", line 4, in solve',
      '  File "/usr/lib/python3.11/json/__init__.py", line 346, in loads',
      'ValueError: boom',
    ].join('\n');
    expect(tracebackLine(tb, 20, isCand)).toBe(3);
    expect(tracebackLine(tb, 5, isCand)).toBe(3);
    expect(tracebackLine(tb, 3, isCand)).toBeUndefined();
    expect(tracebackLine(undefined, 10, isCand)).toBeUndefined();
    expect(tracebackLine('no frames here', 10, isCand)).toBeUndefined();
  });
  it('maps an engine result to the editor view, with kinds and lines only on failures', () => {
    const problem: ProblemRef = { problemId: 1, dataset: 'd', externalId: 'p', via: 'header', tests: 2 };
    const r: CandidateResult = {
      verdict: 'runtime_error',
      testsTotal: 2,
      durationMs: 40,
      comparator: 'strict',
      sandbox: { isolation: 'bwrap-nobody', limits: { ...DEFAULT_EXEC_LIMITS } },
      tests: [
        { ordinal: 0, verdict: 'pass', durationMs: 10, input: '1\n', expected: '1\n', output: '1\n' },
        { ordinal: 1, verdict: 'runtime_error', durationMs: 12, input: '0\n', stderrTail: 'x', message: 'ZeroDivisionError' },
      ],
    };
    const v = runTestsResult(problem, 4, r, ['stdio', 'stdio'], () => 6);
    expect(v).toMatchObject({ version: 4, verdict: 'runtime_error', isolation: 'bwrap-nobody', comparator: 'strict', testsTotal: 2 });
    expect(v.tests[0]).toEqual({ ordinal: 0, kind: 'stdio', verdict: 'pass', durationMs: 10, input: '1\n', expected: '1\n', output: '1\n' });
    expect(v.tests[1]).toEqual({ ordinal: 1, kind: 'stdio', verdict: 'runtime_error', durationMs: 12, input: '0\n', stderrTail: 'x', message: 'ZeroDivisionError', line: 6 });
  });
});

describe('failure lines from the engine', () => {
  it('uses the <solution> frames, and the message line of a compile error', () => {
    const base = { ordinal: 0, durationMs: 1 };
    expect(failureLine({ ...base, verdict: 'runtime_error', stderrTail: 'Traceback (most recent call last):\n  File "<solution>", line 5, in <module>\n  File "<solution>", line 2, in f\nZeroDivisionError: division by zero' }, 10)).toBe(1);
    expect(failureLine({ ...base, verdict: 'runtime_error', stderrTail: '  File "<test>", line 1, in <module>\nAssertionError' }, 10)).toBeUndefined();
    expect(failureLine({ ...base, verdict: 'compile_error', message: 'SyntaxError: invalid syntax (line 3)' }, 10)).toBe(2);
    expect(failureLine({ ...base, verdict: 'wrong_answer', message: 'line 3 differs' }, 10)).toBeUndefined();
  });
});
