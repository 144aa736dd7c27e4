// The execution engine: runs one candidate program against its tests on a
// pool of warm sandboxed workers and returns a verdict per test and for the candidate.
//
// A candidate takes one worker for all its tests: the worker compiles the code once, then forks
// a limited child per test (server/exec/python/worker.py). Workers are started at create(), one
// per core by default, reused across candidates, and replaced when they die (a program may kill
// its parent), stop answering (the parent's wall clock), report that they could not clean up, or
// have run RECYCLE_AFTER tests.
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import os from 'node:os';
import { chooseLaunch, statusLine } from './launch';
import { findPython, type LaunchPlan } from './sandbox';
import {
  DEFAULT_EXEC_LIMITS,
  ExecAbortedError,
  type CandidateResult,
  type EngineOptions,
  type ExecLimits,
  type ExecRunner,
  type RunOptions,
  type SandboxInfo,
  type TestSpec,
} from './types';
import type { SandboxStatus } from '../protocol';
import { testResult, worstOf, type WorkerTestResult } from './verdict';
import { WorkerGoneError, WorkerProcess, type WorkerMessage } from './worker';
import type { Comparator, TestResult } from '../protocol';
export { VERDICTS, VERDICT_SEVERITY, type TestResult, type Comparator, type Verdict } from '../protocol';

export { SandboxUnavailableError, ExecAbortedError, DEFAULT_EXEC_LIMITS } from './types';
export type { CandidateResult, TestSpec, ExecLimits } from './types';

/** Tests a worker runs before it is replaced, so slow leaks inside it cannot build up. */
export const RECYCLE_AFTER = 2000;
/** A worker whose own heap grows past this is replaced: a bigger heap makes every fork slower. */
export const RECYCLE_RSS_KB = 256 * 1024;
/** How long the parent waits beyond twice a test's own limit (the most the worker gives a test that
 * waited for a CPU) before it kills a silent worker. */
export const BACKSTOP_MS = 3000;
const LOAD_TIMEOUT_MS = 15_000;

export function resolveLimits(partial: Partial<ExecLimits> | undefined): ExecLimits {
  const limits: ExecLimits = { ...DEFAULT_EXEC_LIMITS, ...(partial ?? {}) };
  for (const [key, value] of Object.entries(limits)) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw new RangeError(`exec limit '${key}' must be a positive number, got ${JSON.stringify(value)}`);
    }
  }
  if (limits.candidateTimeoutMs < limits.testTimeoutMs) limits.candidateTimeoutMs = limits.testTimeoutMs;
  return limits;
}

const WARNING = [
  '',
  '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!',
  '!! PairForge: running untrusted programs WITHOUT A SANDBOX (explicit opt-in).             !!',
  '!! They can read and change your files, use the network and outlive the test.             !!',
  '!! Only rlimits and a private work directory apply. Install bubblewrap to run isolated.   !!',
  '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!',
  '',
].join('\n');

export class ExecEngine implements ExecRunner {
  readonly sandbox: SandboxInfo;
  private idle: WorkerProcess[] = [];
  private busy = new Set<WorkerProcess>();
  private starting = 0;
  private waiters: { resolve: (w: WorkerProcess) => void; reject: (e: Error) => void }[] = [];
  private closed = false;
  /** Workers replaced so far (died, silent, dirty or worn out): a health figure for callers. */
  recycled = 0;

  private constructor(
    private readonly plan: LaunchPlan,
    /** The isolation mode in use, the preferred one, and why they differ (launch.ts). */
    readonly status: SandboxStatus,
    readonly limits: ExecLimits,
    readonly workers: number,
    private readonly log: (line: string) => void,
    private readonly recycleAfter: number,
  ) {
    this.sandbox = { isolation: plan.mode, limits };
    // Once per engine: the mode, and why when it is not the strongest.
    if (plan.mode === 'none') this.log(`${WARNING}${status.reason ?? ''}\n`);
    else this.log(statusLine(status));
  }

  static async create(opts: EngineOptions = {}): Promise<ExecEngine> {
    const limits = resolveLimits(opts.limits);
    const workers = Math.max(1, Math.floor(opts.workers ?? os.cpus().length));
    const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
    const { plan, status, first } = await chooseLaunch({
      python: findPython(opts.python),
      limits,
      allowUnsandboxed: opts.allowUnsandboxed === true,
      ...(opts.bwrap !== undefined ? { bwrap: opts.bwrap } : {}),
      ...(opts.mode !== undefined ? { mode: opts.mode } : {}),
    });
    const engine = new ExecEngine(plan, status, limits, workers, log, Math.max(1, Math.floor(opts.recycleAfter ?? RECYCLE_AFTER)));
    engine.idle.push(first);
    // Warm every worker now; the first failure (e.g. python3 missing inside) is the caller's error.
    const started = await Promise.allSettled(Array.from({ length: workers - 1 }, () => WorkerProcess.start(plan)));
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    for (const s of started) if (s.status === 'fulfilled') engine.idle.push(s.value);
    if (failed) {
      await engine.close();
      throw failed.reason instanceof Error ? failed.reason : new Error(String(failed.reason));
    }
    return engine;
  }

  /** How workers are isolated: 'bwrap-nobody', 'bwrap-root', 'bwrap-user' or 'none' (types.ts, Isolation). */
  get mode(): LaunchPlan['mode'] {
    return this.plan.mode;
  }

  private async acquire(signal?: AbortSignal): Promise<WorkerProcess> {
    if (this.closed) throw new ExecAbortedError('the execution engine is closed');
    if (signal?.aborted) throw new ExecAbortedError('aborted');
    for (;;) {
      const w = this.idle.pop();
      if (!w) break;
      if (w.alive) {
        this.busy.add(w);
        return w;
      }
    }
    if (this.busy.size + this.starting < this.workers) {
      this.starting++;
      try {
        const w = await WorkerProcess.start(this.plan);
        if (this.closed) {
          await w.kill();
          throw new ExecAbortedError('the execution engine is closed');
        }
        this.busy.add(w);
        return w;
      } finally {
        this.starting--;
      }
    }
    return new Promise((resolve, reject) => {
      const entry = {
        resolve: (w: WorkerProcess) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(w);
        },
        reject: (e: Error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
      };
      const onAbort = () => {
        this.waiters = this.waiters.filter((x) => x !== entry);
        reject(new ExecAbortedError('aborted'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(entry);
    });
  }

  private release(w: WorkerProcess, recycle: boolean): void {
    this.busy.delete(w);
    if (recycle || !w.alive || w.testsRun >= this.recycleAfter || this.closed) {
      this.recycled += this.closed ? 0 : 1;
      void w.kill();
      const next = this.waiters.shift();
      // A waiter gets a fresh worker (acquire starts one, since a slot is free now).
      if (next) this.acquire().then(next.resolve, next.reject);
      return;
    }
    const next = this.waiters.shift();
    if (next) {
      this.busy.add(w);
      next.resolve(w);
    } else this.idle.push(w);
  }

  async run(code: string, tests: TestSpec[], opts: RunOptions = {}): Promise<CandidateResult> {
    if (tests.length === 0) throw new RangeError('a candidate needs at least one test to get a verdict');
    const comparator: Comparator = opts.comparator ?? 'strict';
    if (comparator !== 'strict' && comparator !== 'apps') throw new RangeError(`unknown comparator '${String(comparator)}' (strict or apps)`);
    // The candidate's clock starts when it gets a worker, not while it waits in the queue.
    let started = performance.now();
    let deadline = Infinity;
    const results: TestResult[] = [];
    const finish = (): CandidateResult => ({
      verdict: worstOf(results.map((r) => r.verdict)),
      tests: results,
      testsTotal: tests.length,
      durationMs: Math.round((performance.now() - started) * 1000) / 1000,
      comparator,
      sandbox: { isolation: this.sandbox.isolation, limits: { ...this.limits } },
    });
    const nonces = tests.map(() => randomBytes(12).toString('hex'));
    const plainTests = tests.map((t) => ({ kind: t.kind, input: t.input, expected: t.expected, fn_name: t.fn_name, code: t.code, setup: t.setup }));
    const aborted = () => opts.signal?.aborted === true || this.closed;
    const abortError = () => new ExecAbortedError(this.closed ? 'the execution engine was closed' : 'aborted');

    let worker: WorkerProcess | undefined;
    let recycle = false;
    let loadedOn: WorkerProcess | undefined;
    /** Asks the worker to run tests[start:], compiling the code first on a worker that has not seen it. */
    const startRun = (w: WorkerProcess, start: number) => {
      w.send({
        op: 'run',
        ...(loadedOn === w ? {} : { code }),
        tests: plainTests,
        start,
        nonces,
        test_timeout_ms: this.limits.testTimeoutMs,
        candidate_ms: Math.max(1, Math.floor(deadline - performance.now())),
        all_results: opts.allResults === true,
        comparator,
        prelude: comparator === 'apps',
        limits: this.limits,
      });
    };
    const failed = (r: TestResult) => r.verdict !== 'pass';
    const stopHere = () => !opts.allResults && results.some(failed);
    let outOfTime = false;
    try {
      // Each pass of this loop is one run request on one worker; a new pass follows when the
      // worker stopped on a test the parent judged a pass, or had to be replaced.
      while (results.length < tests.length && !stopHere()) {
        const next = results.length;
        if (performance.now() >= deadline) {
          results.push({ ordinal: next, verdict: 'timeout', durationMs: 0, message: `candidate wall clock limit (${this.limits.candidateTimeoutMs} ms) reached before this test` });
          break;
        }
        if (!worker || !worker.alive) {
          if (worker) this.release(worker, true);
          worker = await this.acquire(opts.signal);
          if (deadline === Infinity) {
            started = performance.now();
            deadline = started + this.limits.candidateTimeoutMs;
          }
          recycle = false;
        }
        const w: WorkerProcess = worker;
        const needsLoad = loadedOn !== w;
        startRun(w, next);
        if (needsLoad) {
          let loaded: WorkerMessage;
          try {
            loaded = await w.receive(LOAD_TIMEOUT_MS, opts.signal);
          } catch (e) {
            if (!(e instanceof WorkerGoneError)) throw e;
            if (e.reason === 'killed' || aborted()) throw abortError();
            // The worker died or hung while compiling: a hostile program can crash the compiler.
            recycle = true;
            results.push({ ordinal: next, verdict: 'runtime_error', durationMs: 0, message: `the sandbox failed while loading the program: ${e.message}` });
            break;
          }
          if (loaded.op !== 'loaded') throw new Error(`the sandbox worker answered ${JSON.stringify(loaded).slice(0, 200)} to a run request`);
          if (loaded.ok !== true) {
            const where = typeof loaded.line === 'number' ? ` (line ${loaded.line})` : '';
            results.push({ ordinal: 0, verdict: 'compile_error', durationMs: 0, message: `${String(loaded.error)}${where}` });
            return finish();
          }
          loadedOn = w;
        }
        let stopSent = false;
        let oomSeen = w.oomKills();
        // Results stream in until the worker says done.
        for (;;) {
          const expectOrdinal = results.length;
          const remaining = Math.max(1, deadline - performance.now());
          // The worker may give a test up to twice its limit when it waited for a CPU (worker.py, TestClock).
          const waitMs = Math.min(2 * this.limits.testTimeoutMs, remaining) + BACKSTOP_MS;
          const t0 = performance.now();
          let msg: WorkerMessage;
          try {
            msg = await w.receive(waitMs, opts.signal);
          } catch (e) {
            if (!(e instanceof WorkerGoneError)) throw e;
            if (e.reason === 'killed' || aborted()) throw abortError();
            recycle = true;
            const durationMs = Math.round((performance.now() - t0) * 1000) / 1000;
            results.push(
              e.reason === 'timeout'
                ? { ordinal: expectOrdinal, verdict: 'timeout', durationMs, message: `no answer within ${Math.round(waitMs)} ms; the sandbox was killed` }
                : { ordinal: expectOrdinal, verdict: 'runtime_error', durationMs, message: 'the program killed its sandbox (the worker process died)' },
            );
            this.release(w, true);
            worker = undefined;
            break;
          }
          if (msg.op === 'result') {
            w.testsRun++;
            const r = msg as unknown as WorkerTestResult & { ordinal: number };
            if (r.dirty) recycle = true;
            const oomNow = w.oomKills();
            results.push(testResult(r.ordinal, tests[r.ordinal], r, comparator, this.limits, nonces[r.ordinal], oomNow > oomSeen));
            oomSeen = oomNow;
            if (stopHere() && !stopSent) {
              // The worker may think this test passed (it only knows the plain cases): stop it.
              stopSent = true;
              w.send({ op: 'stop' });
            }
          } else if (msg.op === 'error') {
            recycle = true;
            results.push({ ordinal: expectOrdinal, verdict: 'runtime_error', durationMs: 0, message: `the sandbox could not run the test: ${String(msg.error)}` });
          } else if (msg.op === 'done') {
            if (msg.reason === 'candidate_time' && results.length < tests.length && !stopHere()) {
              outOfTime = true;
              results.push({ ordinal: results.length, verdict: 'timeout', durationMs: 0, message: `candidate wall clock limit (${this.limits.candidateTimeoutMs} ms) reached before this test` });
            }
            if (typeof msg.rss_kb === 'number' && msg.rss_kb > RECYCLE_RSS_KB) recycle = true;
            if (msg.reason === 'dirty' || msg.reason === 'error') {
              // Go on (if at all) on a fresh worker.
              this.release(w, true);
              worker = undefined;
            }
            break;
          } else {
            throw new Error(`the sandbox worker sent ${JSON.stringify(msg).slice(0, 200)}`);
          }
        }
        if (outOfTime) break;
      }
      return finish();
    } catch (e) {
      if (e instanceof WorkerGoneError && e.reason === 'killed') throw abortError();
      if (aborted()) throw abortError();
      throw e;
    } finally {
      if (worker) this.release(worker, recycle || aborted());
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.waiters.splice(0)) w.reject(new ExecAbortedError('the execution engine is closed'));
    const all = [...this.idle, ...this.busy];
    this.idle = [];
    await Promise.all(all.map((w) => w.close()));
    if (this.plan.workdir) rmSync(this.plan.workdir, { recursive: true, force: true });
  }
}
