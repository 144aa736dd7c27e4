// From how a test process ended (the worker's result) to a verdict. Pure: no I/O.
//
// Order of decisions: the worker's clock (timeout: the wall clock less the time the test waited
// for a CPU) and the output cap (output_limit) first, since they cut the program off; then death
// by signal (CPU limit -> timeout; out of memory -> memory_limit; anything else -> runtime_error);
// then the child's report: MemoryError -> memory_limit, AssertionError in humaneval/assert tests
// -> wrong_answer, other exceptions and early exits -> runtime_error; finally the comparison
// (stdio: compare.ts; call: done in the child with the same rules) -> pass / wrong_answer.
import { compareStdout } from './compare';
import { EXCERPT_CHARS, worseVerdict, type ExecLimits, type TestSpec } from './types';
import type { Comparator, TestResult, Verdict } from '../protocol';

export interface WorkerTestResult {
  status: 'exited' | 'signaled' | 'timeout' | 'output_limit';
  exit_code: number | null;
  signal: number | null;
  stdout: string;
  stdout_bytes: number;
  stderr_tail: string;
  stderr_bytes: number;
  report: ChildReport | null;
  duration_ms: number;
  cpu_ms: number | null;
  maxrss_kb: number | null;
  leftover_processes: number;
  dirty: boolean;
  /** Time the test spent waiting for a CPU, which its time limit does not count (worker.py, TestClock). */
  cpu_wait_ms?: number;
}

export interface ChildReport {
  nonce?: string;
  phase?: string;
  outcome?: 'ok' | 'exception' | 'exit' | 'memory' | 'test_error';
  exc_type?: string;
  exc_msg?: string;
  exit_code?: number;
  assertion?: boolean;
  equal?: boolean;
  output_repr?: string;
  note?: string;
  test_error?: string;
  flush_error?: string;
}

const SIGKILL = 9;
const SIGXCPU = 24;
const SIGABRT = 6;
const SIGSEGV = 11;
const SIGBUS = 7;
const STDERR_TAIL_CHARS = 2000;

export function excerpt(text: string | null | undefined, limit = EXCERPT_CHARS): string | undefined {
  if (text === null || text === undefined) return undefined;
  return text.length <= limit ? text : `${text.slice(0, limit)}... (${text.length} chars)`;
}

function tail(text: string, limit = STDERR_TAIL_CHARS): string | undefined {
  if (!text) return undefined;
  return text.length <= limit ? text : `...${text.slice(-limit)}`;
}

const MEMORY_HINT = /MemoryError|Cannot allocate memory|out of memory|std::bad_alloc|mmap\(\) failed/i;

/** A candidate's verdict: its worst test's (VERDICT_SEVERITY), pass when nothing failed. */
export function worstOf(verdicts: Iterable<Verdict>): Verdict {
  let worst: Verdict = 'pass';
  for (const v of verdicts) worst = worseVerdict(worst, v);
  return worst;
}

/** What the test expected, as shown in its details. */
function expectedOf(test: TestSpec): string | undefined {
  if (test.kind === 'stdio' || test.kind === 'call') return excerpt(test.expected);
  return excerpt(test.code);
}

function decide(
  test: TestSpec,
  r: WorkerTestResult,
  comparator: Comparator,
  limits: ExecLimits,
  nonce: string,
): { verdict: Verdict; message?: string; output?: string } {
  const kb = (n: number) => Math.round(n / 1024);
  if (r.status === 'timeout') {
    const waited = r.cpu_wait_ms && r.cpu_wait_ms >= 1 ? ` (${Math.round(r.cpu_wait_ms)} ms of it spent waiting for a CPU, not counted)` : '';
    return { verdict: 'timeout', message: `time limit exceeded after ${Math.round(r.duration_ms)} ms of wall clock${waited}` };
  }
  if (r.status === 'output_limit') {
    const which = r.stdout_bytes > limits.outputBytes ? `stdout (${kb(r.stdout_bytes)}+ KiB)` : `stderr (${kb(r.stderr_bytes)}+ KiB)`;
    return { verdict: 'output_limit', message: `${which} exceeded the ${kb(limits.outputBytes)} KiB cap` };
  }
  const memoryHint = MEMORY_HINT.test(r.stderr_tail) || (r.maxrss_kb !== null && r.maxrss_kb * 1024 > limits.memoryBytes * 0.9);
  if (r.status === 'signaled') {
    const sig = r.signal ?? 0;
    const cpuLimitMs = (Math.ceil(limits.testTimeoutMs / 1000) + 1) * 1000;
    if (sig === SIGXCPU || (sig === SIGKILL && r.cpu_ms !== null && r.cpu_ms >= cpuLimitMs - 50)) {
      return { verdict: 'timeout', message: `CPU time limit exceeded (signal ${sig})` };
    }
    if (memoryHint && (sig === SIGKILL || sig === SIGABRT || sig === SIGSEGV || sig === SIGBUS)) {
      return { verdict: 'memory_limit', message: `killed by signal ${sig} while out of memory` };
    }
    return { verdict: 'runtime_error', message: `killed by signal ${sig}${sig === SIGSEGV ? ' (segmentation fault, e.g. a C stack overflow)' : ''}` };
  }
  const rep = r.report && r.report.nonce === nonce ? r.report : null;
  if (!rep) {
    // No (genuine) report: the process ended without the harness finishing the test. A stdio
    // program may end with os._exit(0) after writing its answer; anything else failed.
    if (test.kind === 'stdio' && r.exit_code === 0) return compareStdio(test, r, comparator);
    if (memoryHint) return { verdict: 'memory_limit', message: `exited with status ${r.exit_code} while out of memory` };
    return { verdict: 'runtime_error', message: `the program exited (status ${r.exit_code}) before the test finished` };
  }
  switch (rep.outcome) {
    case 'memory':
      return { verdict: 'memory_limit', message: `MemoryError${rep.exc_msg ? `: ${rep.exc_msg}` : ''} (limit ${kb(limits.memoryBytes)} KiB)` };
    case 'test_error':
      return { verdict: 'runtime_error', message: rep.test_error ?? 'the test code failed' };
    case 'exception': {
      const what = `${rep.exc_type ?? 'Exception'}${rep.exc_msg ? `: ${rep.exc_msg}` : ''}`;
      if (rep.exc_type === 'MemoryError') return { verdict: 'memory_limit', message: what };
      if (rep.assertion && (test.kind === 'humaneval' || test.kind === 'assert')) return { verdict: 'wrong_answer', message: what };
      return { verdict: 'runtime_error', message: what };
    }
    case 'exit':
      // The APPS harness swallows SystemExit and compares what was printed; strict does not.
      if (test.kind === 'stdio' && comparator === 'apps') return compareStdio(test, r, comparator);
      return { verdict: 'runtime_error', message: `the program called exit(${rep.exit_code ?? ''})` };
    case 'ok':
    default:
      break;
  }
  if (test.kind === 'stdio') return compareStdio(test, r, comparator);
  if (test.kind === 'call') {
    return rep.equal
      ? { verdict: 'pass', output: rep.output_repr }
      : { verdict: 'wrong_answer', output: rep.output_repr, message: rep.note ?? 'the returned value differs from the expected one' };
  }
  return { verdict: 'pass' };
}

function compareStdio(test: TestSpec, r: WorkerTestResult, comparator: Comparator): { verdict: Verdict; message?: string } {
  const c = compareStdout(comparator, r.stdout, test.expected ?? '');
  return c.equal ? { verdict: 'pass' } : { verdict: 'wrong_answer', message: c.reason ?? 'the output differs from the expected one' };
}

export function testResult(
  ordinal: number,
  test: TestSpec,
  r: WorkerTestResult,
  comparator: Comparator,
  limits: ExecLimits,
  nonce: string,
  /** The kernel's OOM killer acted in the sandbox's memory cgroup during this test. */
  oomKilled = false,
): TestResult {
  let d = decide(test, r, comparator, limits, nonce);
  if (oomKilled && d.verdict === 'runtime_error') {
    d = { verdict: 'memory_limit', message: `the sandbox's processes together exceeded its memory (${d.message ?? 'killed'})` };
  }
  const out: TestResult = { ordinal, verdict: d.verdict, durationMs: r.duration_ms };
  const input = excerpt(test.input);
  if (input !== undefined) out.input = input;
  const expected = expectedOf(test);
  if (expected !== undefined) out.expected = expected;
  const output = d.output ?? (r.stdout ? excerpt(r.stdout) : undefined);
  if (output !== undefined) out.output = output;
  const err = tail(r.stderr_tail);
  if (err !== undefined) out.stderrTail = err;
  if (d.message !== undefined) out.message = d.message;
  return out;
}
