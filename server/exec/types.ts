// The execution engine's contract (issue 3): what a test is, the limits a candidate runs under,
// and the verdicts it gets. EXECSTORE (store + CLI) and EDITOR2 (Run Tests) compile against this
// file; the engine itself is server/exec/engine.ts.

export type Verdict =
  | 'pass'
  | 'wrong_answer'
  | 'runtime_error'
  | 'timeout'
  | 'memory_limit'
  | 'output_limit'
  | 'compile_error';

/** Every verdict in a fixed order: the keys of a JSON summary. */
export const VERDICTS: readonly Verdict[] = [
  'pass',
  'wrong_answer',
  'runtime_error',
  'timeout',
  'memory_limit',
  'output_limit',
  'compile_error',
];

/**
 * How bad a verdict is, from best to worst: a candidate's verdict is its worst test's. The order
 * goes by how far the program got: it ran and printed something wrong (wrong_answer); it ran but
 * flooded its output (output_limit); it crashed (runtime_error); it exhausted memory
 * (memory_limit) or time (timeout), which cut it off before it could finish at all; it never ran
 * (compile_error: every test fails the same way).
 */
export const VERDICT_SEVERITY: readonly Verdict[] = [
  'pass',
  'wrong_answer',
  'output_limit',
  'runtime_error',
  'memory_limit',
  'timeout',
  'compile_error',
];

export type Comparator = 'strict' | 'apps';
export const COMPARATORS: readonly Comparator[] = ['strict', 'apps'];

export type TestKind = 'stdio' | 'call' | 'humaneval' | 'assert';

/**
 * One test, exactly a `tests` row (server/import/formats.ts):
 * - stdio: `input` is stdin, `expected` the expected stdout.
 * - call: `input` is a JSON list of arguments, `expected` a JSON value, `fn_name` the function
 *   (a method of `class Solution` when the candidate defines one).
 * - humaneval: `code` defines check(candidate), `fn_name` is the entry point.
 * - assert: `code` holds assert statement(s); `setup` runs before them.
 */
export interface TestSpec {
  kind: TestKind;
  input: string | null;
  expected: string | null;
  fn_name: string | null;
  code: string | null;
  setup: string | null;
}

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

export const DEFAULT_LIMITS: Readonly<ExecLimits> = Object.freeze({
  testTimeoutMs: 5000,
  candidateTimeoutMs: 120_000,
  memoryBytes: 2 * 1024 ** 3,
  outputBytes: 1024 ** 2,
  tmpfsBytes: 64 * 1024 ** 2,
  openFiles: 64,
  processes: 64,
});

/** Per-test details; every text field is an excerpt capped at EXCERPT_CHARS. */
export interface TestResult {
  /** 0-based position of the test in the list given to run(). */
  ordinal: number;
  verdict: Verdict;
  durationMs: number;
  input?: string;
  expected?: string;
  output?: string;
  stderrTail?: string;
  message?: string;
}

export const EXCERPT_CHARS = 2000;

/**
 * How an engine's workers are isolated (docs/execution.md, "Isolation"), strongest first:
 * - `bwrap-nobody`: the engine runs as root and starts bubblewrap as uid/gid 65534, which makes
 *   its own user namespace: nothing in the sandbox is root anywhere;
 * - `bwrap-root`: the engine runs as root but bubblewrap cannot run as 65534 here (unprivileged
 *   user namespaces are off, or 65534 cannot reach the interpreter); root starts bubblewrap inside
 *   a user namespace the engine made, in which the sandbox is host uid 65534 again;
 * - `bwrap-user`: the engine runs as an ordinary user, whose uid the sandbox maps to 65534;
 * - `none`: no isolation at all (explicit opt-in only).
 * Inside, the three bubblewrap modes look the same to a program; they differ in who starts
 * bubblewrap and in what the host must allow.
 */
export type Isolation = 'bwrap-nobody' | 'bwrap-root' | 'bwrap-user' | 'none';
export const ISOLATIONS: readonly Isolation[] = ['bwrap-nobody', 'bwrap-root', 'bwrap-user', 'none'];

/** What the `sandbox` column of a stored verdict may say: a mode, or `bwrap` from engines that
 * did not yet record which bubblewrap arrangement they used. */
export type StoredIsolation = Isolation | 'bwrap';

/** Whether a verdict was reached inside bubblewrap. */
export function isIsolated(i: StoredIsolation): boolean {
  return i !== 'none';
}

export interface SandboxInfo {
  isolation: Isolation;
  limits: ExecLimits;
}

/** The mode an engine uses and why (logged once when it starts; the editor shows it). */
export interface SandboxStatus {
  mode: Isolation;
  /** The strongest mode for the engine's user: `bwrap-nobody` as root, `bwrap-user` otherwise. */
  preferred: Isolation;
  /** Why the mode is not the preferred one (a failed start's message, or the pinned mode). */
  reason?: string;
  /** The mode is weaker than the preferred one. */
  warning: boolean;
}

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
