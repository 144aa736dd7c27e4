// The execution engine's types: what a test is, the limits a candidate runs under, and what a run
// returns. Verdicts, comparators and test kinds are vocabulary (server/protocol/vocabulary.ts); the
// engine itself is server/exec/engine.ts, the store of verdicts server/exec/store.ts.

import type { Comparator, Isolation, SandboxStatus, TestResult, Verdict } from '../protocol';
import { SETTINGS, VERDICT_SEVERITY } from '../protocol';
import type { TestSpec } from '../import/queries';

// A test is what the import stage stores (server/import/queries.ts, TestSpec).
export type { TestSpec };

export interface ExecLimits {
  /** Time per test: its wall clock, not counting time it waited for a CPU, and at most twice this
   * in all (worker.py, TestClock); enforced by the worker, backed by the parent; the CPU rlimit
   * follows it. */
  testTimeoutMs: number;
  /** Wall clock for all of a candidate's tests together. */
  candidateTimeoutMs: number;
  /** RLIMIT_AS of the test process. */
  memoryBytes: number;
  /** Bytes of stdout and of stderr kept per test; more is output_limit. */
  outputBytes: number;
  /** Size of the private tmpfs, the only writable place (also RLIMIT_FSIZE). */
  tmpfsBytes: number;
  /** RLIMIT_NOFILE of the test process. */
  openFiles: number;
  /** RLIMIT_NPROC inside the sandbox: processes at once, the worker and bwrap's init included. */
  processes: number;
}

/** The engine's limits unless told otherwise; the three a person can set are the settings'
 * defaults (server/protocol/settings.ts). */
export const DEFAULT_EXEC_LIMITS: Readonly<ExecLimits> = Object.freeze({
  testTimeoutMs: SETTINGS['exec.testTimeoutMs'].default,
  candidateTimeoutMs: 120_000,
  memoryBytes: SETTINGS['exec.memoryMB'].default * 1024 ** 2,
  outputBytes: SETTINGS['exec.outputKB'].default * 1024,
  tmpfsBytes: 64 * 1024 ** 2,
  openFiles: 64,
  processes: 64,
});

/** Every text field of a TestResult is an excerpt capped at this many characters. */
export const EXCERPT_CHARS = 2000;

export interface SandboxInfo {
  isolation: Isolation;
  limits: ExecLimits;
}

/** The mode an engine uses and why (logged once when it starts; the editor shows it). */
export interface CandidateResult {
  verdict: Verdict;
  /** The tests that ran (all of them with allResults, else up to the first failure). */
  tests: TestResult[];
  testsTotal: number;
  durationMs: number;
  comparator: Comparator;
  sandbox: SandboxInfo;
}

export interface RunOptions {
  comparator?: Comparator;
  /** Run every test instead of stopping at the first failure. */
  allResults?: boolean;
  signal?: AbortSignal;
}

export interface EngineOptions {
  /** Warm workers; default one per core. */
  workers?: number;
  limits?: Partial<ExecLimits>;
  /** Where bubblewrap cannot isolate, run without it (no isolation at all) instead of refusing.
   *  Isolation is still used wherever it works. Logged loudly. */
  allowUnsandboxed?: boolean;
  /** Where the loud warnings go; default process.stderr. */
  log?: (line: string) => void;
  /** The interpreter inside the sandbox; default PAIRFORGE_PYTHON, /usr/bin/python3, python3 on PATH. */
  python?: string;
  /** The bubblewrap binary; default bwrap from /usr/bin, /bin, /usr/local/bin or PATH. */
  bwrap?: string;
  /** Use exactly this isolation mode (no fallback; `none` needs allowUnsandboxed too). Default:
   * the strongest that works here. A mode weaker than the machine allows is logged as a warning. */
  mode?: Isolation;
  /** Tests a worker runs before it is replaced by a fresh one (default 2000). */
  recycleAfter?: number;
}

/** What ExecEngine (engine.ts) offers, for code that only needs the shape. */
export interface ExecRunner {
  run(code: string, tests: TestSpec[], opts?: RunOptions): Promise<CandidateResult>;
  close(): Promise<void>;
  readonly sandbox: SandboxInfo;
  /** The isolation mode and why (ExecEngine has it; a stand-in runner may not). */
  readonly status?: SandboxStatus;
}

/** bubblewrap is missing or cannot create namespaces here; the message says how to fix it. */
export class SandboxUnavailableError extends Error {
  override readonly name = 'SandboxUnavailableError';
}

/** run() was aborted through its signal or the engine was closed. */
export class ExecAbortedError extends Error {
  override readonly name = 'ExecAbortedError';
}

export function worseVerdict(a: Verdict, b: Verdict): Verdict {
  return VERDICT_SEVERITY.indexOf(b) > VERDICT_SEVERITY.indexOf(a) ? b : a;
}
