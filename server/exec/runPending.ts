// Runs every pending candidate of a selection through an execution engine and stores the verdicts
// (pairforge check-refs / exec). Resumable by construction: what is stored is skipped, a verdict is
// stored in a transaction with its attempt number under a UNIQUE key, and results are written in
// small batches, so a kill loses at most the last fraction of a second of work and never leaves a
// half-written or duplicated row.
import { EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_OK } from '../cli/kit';
import type { Project } from '../store/db';
import { problemTests } from '../import/queries';
import { codeSha256, emptyCounts, flakyAmong, planCandidate, planDone, storedAttempts, tally, writeExecutions, type Candidate, type ExecutionRecord, type Selection, type VerdictCounts } from './store';
import { ExecAbortedError, type CandidateResult, type ExecRunner, type TestSpec } from './types';
import type { CandidateKind, Comparator, Isolation, Verdict } from '../protocol';

export interface RunPendingOptions {
  selection: Selection;
  comparator: Comparator;
  /** Run every test of a candidate instead of stopping at its first failure. */
  allResults?: boolean;
  /** Re-run each failing candidate this many more times (attempts 1..N); disagreements are flaky. */
  confirm?: number;
  /** Run at most this many candidates now (the rest stay pending). */
  limit?: number;
  /** Candidates in flight at once (the engine queues them on its workers). */
  concurrency: number;
  signal?: AbortSignal;
  onProgress?: (p: RunProgress) => void;
  /** Clock for executed_at (tests pin it). */
  now?: () => Date;
  /** Results buffered before a write; a write happens at least every flushMs too. */
  batchSize?: number;
  flushMs?: number;
}

export interface RunProgress {
  /** Candidates of the selection looked at so far (stored, run or pending). */
  done: number;
  total: number;
  ran: number;
  kind: CandidateKind;
  /** Candidates the engine failed on so far (not verdicts: they stay pending). */
  errors: number;
}

/** The JSON summary: verdict counts (attempt 0) over every candidate of the selection that has
 * one, so a resumed run ends with the same counts as an uninterrupted one. */
export type RunSummary = VerdictCounts & {
  /** Candidates run (attempt 0) by this invocation. */
  ran: number;
  /** Candidates whose verdict was already stored. */
  skipped: number;
  /** Candidates whose problem has no tests: nothing to run them against, not counted in total. */
  no_tests: number;
  /** Candidates still without a verdict (interrupted, --limit, or an engine error). */
  pending: number;
  /** Re-runs made for --confirm by this invocation. */
  confirm_runs: number;
  /** Candidates of the selection marked flaky under this comparator. */
  flaky: number;
  /** Candidates the engine failed on (not a verdict: nothing was stored for them). */
  errors: number;
  error_messages: string[];
  comparator: Comparator;
  isolation: Isolation;
  interrupted: boolean;
  /** Verdict counts per candidate kind of the selection. */
  kinds: Partial<Record<CandidateKind, VerdictCounts>>;
  duration_s: number;
};

const PAGE = 200;

/** Storing a verdict failed (disk full, database locked for longer than busy_timeout): fatal,
 * unlike an engine error on one candidate. */
export class StoreWriteError extends Error {
  override readonly name = 'StoreWriteError';
}
const TEST_CACHE = 256;
const MAX_ERROR_MESSAGES = 20;

/** Buffers results and writes them in transactions: when batchSize are waiting, after flushMs,
 * and at the end. A failed write is rethrown to the caller at the next add() or close(). */
class BatchWriter {
  private buf: ExecutionRecord[] = [];
  private timer: NodeJS.Timeout | undefined;
  private failure: Error | undefined;
  flaky = 0;

  constructor(
    private readonly p: Project,
    private readonly batchSize: number,
    private readonly flushMs: number,
  ) {}

  add(r: ExecutionRecord): void {
    if (this.failure) throw this.failure;
    this.buf.push(r);
    if (this.buf.length >= this.batchSize) this.flush();
    else this.timer ??= setTimeout(() => this.flushQuietly(), this.flushMs);
  }

  private flushQuietly(): void {
    try {
      this.flush();
    } catch (e) {
      this.failure = e as Error;
    }
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.buf.length === 0) return;
    const batch = this.buf;
    this.buf = [];
    try {
      this.flaky += writeExecutions(this.p, batch).flaky;
    } catch (e) {
      throw new StoreWriteError(`${this.p.file}: cannot store ${batch.length} executions: ${(e as Error).message}`);
    }
  }

  close(): void {
    this.flush();
    if (this.failure) throw this.failure;
  }
}

/** Keeps the tests of the most recently used problems (a problem's samples are usually adjacent). */
function testCache(p: Project): (problemId: number) => TestSpec[] {
  const cache = new Map<number, TestSpec[]>();
  return (problemId) => {
    let tests = cache.get(problemId);
    if (tests) {
      cache.delete(problemId);
    } else {
      tests = problemTests(p, problemId);
      if (cache.size >= TEST_CACHE) cache.delete(cache.keys().next().value as number);
    }
    cache.set(problemId, tests);
    return tests;
  };
}

function isAbort(e: unknown, signal: AbortSignal | undefined): boolean {
  return e instanceof ExecAbortedError || (e as Error)?.name === 'AbortError' || signal?.aborted === true;
}

export async function runPending(p: Project, runner: ExecRunner, opts: RunPendingOptions): Promise<RunSummary> {
  const started = Date.now();
  const { selection: sel, comparator, signal } = opts;
  const confirm = Math.max(0, opts.confirm ?? 0);
  const now = opts.now ?? (() => new Date());
  const writer = new BatchWriter(p, opts.batchSize ?? 32, opts.flushMs ?? 250);
  const testsOf = testCache(p);
  const s: RunSummary = {
    ...emptyCounts(),
    ran: 0,
    skipped: 0,
    no_tests: 0,
    pending: 0,
    confirm_runs: 0,
    flaky: 0,
    errors: 0,
    error_messages: [],
    comparator,
    isolation: runner.sandbox.isolation,
    interrupted: false,
    kinds: {},
    duration_s: 0,
  };
  const count = (kind: CandidateKind, v: Verdict) => {
    tally(s, v);
    tally((s.kinds[kind] ??= emptyCounts()), v);
  };
  for (const source of sel.sources) s.kinds[source.kind] = emptyCounts();

  const total = sel.sources.reduce((n, source) => n + source.count(p, sel), 0);
  // Every candidate seen, for counting the flaky ones once the confirmation runs are stored.
  const seen = new Map<CandidateKind, number[]>();
  let done = 0;
  let launched = 0;
  const limit = opts.limit ?? Infinity;
  const inflight = new Set<Promise<void>>();
  const runOnce = (c: Candidate, tests: TestSpec[]): Promise<CandidateResult> =>
    runner.run(c.code, tests, { comparator, allResults: opts.allResults === true, ...(signal ? { signal } : {}) });
  const record = (c: Candidate, attempt: number, sha: string, result: CandidateResult) =>
    writer.add({ kind: c.kind, id: c.id, problemId: c.problemId, attempt, codeSha256: sha, result, executedAt: now().toISOString() });

  const work = async (c: Candidate, tests: TestSpec[], sha: string, first: Verdict | undefined, confirmations: number[]) => {
    try {
      if (first === undefined) {
        const r = await runOnce(c, tests);
        record(c, 0, sha, r);
        first = r.verdict;
        s.ran++;
      }
      if (first !== 'pass') {
        for (const attempt of confirmations) {
          if (signal?.aborted) break;
          record(c, attempt, sha, await runOnce(c, tests));
          s.confirm_runs++;
        }
      }
    } catch (e) {
      if (e instanceof StoreWriteError) throw e;
      if (!isAbort(e, signal)) {
        s.errors++;
        if (s.error_messages.length < MAX_ERROR_MESSAGES) s.error_messages.push(`${c.kind} ${c.id}: ${(e as Error).message}`);
      }
    } finally {
      if (first === undefined) s.pending++;
      else count(c.kind, first);
      done++;
      opts.onProgress?.({ done, total, ran: s.ran, kind: c.kind, errors: s.errors });
    }
  };

  try {
    for (const source of sel.sources) {
      const kind = source.kind;
      const ids: number[] = [];
      seen.set(kind, ids);
      for (let after = 0; ; ) {
        const page = source.page(p, sel, after, PAGE);
        if (page.length === 0) break;
        for (const c of page) {
          after = c.id;
          ids.push(c.id);
          const tests = testsOf(c.problemId);
          if (tests.length === 0) {
            s.no_tests++;
            done++;
            continue;
          }
          const sha = codeSha256(c.code);
          const plan = planCandidate(storedAttempts(p, kind, c.id, comparator), sha, confirm);
          if (planDone(plan) || signal?.aborted || launched >= limit) {
            if (plan.first === undefined) s.pending++;
            else {
              count(kind, plan.first);
              if (planDone(plan)) s.skipped++;
            }
            done++;
            continue;
          }
          launched++;
          const task = work(c, tests, sha, plan.first, plan.confirmations).finally(() => inflight.delete(task));
          inflight.add(task);
          while (inflight.size >= opts.concurrency) await Promise.race(inflight);
        }
        opts.onProgress?.({ done, total, ran: s.ran, kind, errors: s.errors });
      }
    }
    await Promise.all(inflight);
  } finally {
    // Whatever finished is stored even when something above threw.
    await Promise.allSettled(inflight);
    writer.close();
  }
  for (const [kind, ids] of seen) s.flaky += flakyAmong(p, kind, ids, comparator).size;
  s.interrupted = signal?.aborted === true;
  s.duration_s = Math.round((Date.now() - started) / 10) / 100;
  return s;
}

/** The exit status a run ends with: interrupted 130; engine errors or `bad` (flagged references)
 * 1; else 0. */
export function exitStatusOf(s: RunSummary, bad = false): number {
  if (s.interrupted) return EXIT_INTERRUPTED;
  return s.errors > 0 || bad ? EXIT_BAD_INPUT : EXIT_OK;
}
