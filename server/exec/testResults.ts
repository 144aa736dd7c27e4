// Turns the engine's verdict on a document into what the editor shows: per test the verdict,
// the input / expected / actual excerpts, and the document line a failure points at. Pure.
import type { CandidateResult } from './types';
import type { ProblemRef, RunTestsResult, TestKind, TestRunView, TestResult } from '../protocol';

const FRAME = /File "([^"]*)", line (\d+)/g;

/** The file name the engine compiles a candidate under (server/exec/python/child.py SOLUTION_FILE). */
export const CANDIDATE_FILE = '<solution>';

export function isCandidateFile(file: string): boolean {
  return file === CANDIDATE_FILE;
}

/** The document line a failing test points at: the candidate's innermost traceback frame, or for
 * a compile error the line its message names. */
export function failureLine(t: TestResult, lineCount: number): number | undefined {
  const fromTrace = tracebackLine(t.stderrTail, lineCount, isCandidateFile) ?? tracebackLine(t.message, lineCount, isCandidateFile);
  if (fromTrace !== undefined || t.verdict !== 'compile_error') return fromTrace;
  const m = /\bline (\d+)/.exec(t.message ?? '');
  const n = m ? Number(m[1]) : 0;
  return n >= 1 && n <= lineCount ? n - 1 : undefined;
}

/**
 * The 0-based document line of the innermost traceback frame that belongs to the candidate, or
 * undefined. `isCandidateFile` says which file names are the candidate's (the engine's choice);
 * frames in the harness and the standard library are skipped. Lines past the document's end are
 * dropped (a harness that prepends code would shift them; better no squiggle than a wrong one).
 */
export function tracebackLine(stderr: string | undefined, lineCount: number, isCandidateFile: (file: string) => boolean): number | undefined {
  if (!stderr) return undefined;
  let line: number | undefined;
  for (const m of stderr.matchAll(FRAME)) {
    if (!isCandidateFile(m[1])) continue;
    const n = Number(m[2]);
    if (n >= 1 && n <= lineCount) line = n - 1;
  }
  if (line !== undefined) return line;
  // A syntax error has no frame of its own: `  File "x", line N` then the caret lines.
  return undefined;
}

function view(t: TestResult, kind: TestKind, lineOf: (t: TestResult) => number | undefined): TestRunView {
  const v: TestRunView = { ordinal: t.ordinal, kind, verdict: t.verdict, durationMs: t.durationMs };
  for (const k of ['input', 'expected', 'output', 'stderrTail', 'message'] as const) if (t[k] !== undefined) v[k] = t[k];
  if (t.verdict !== 'pass') {
    const line = lineOf(t);
    if (line !== undefined) v.line = line;
  }
  return v;
}

export function runTestsResult(
  problem: ProblemRef,
  version: number,
  r: CandidateResult,
  kinds: readonly TestKind[],
  lineOf: (t: TestResult) => number | undefined,
): RunTestsResult {
  return {
    problem,
    version,
    verdict: r.verdict,
    testsTotal: r.testsTotal,
    durationMs: r.durationMs,
    comparator: r.comparator,
    isolation: r.sandbox.isolation,
    tests: r.tests.map((t) => view(t, kinds[t.ordinal] ?? 'stdio', lineOf)),
  };
}
