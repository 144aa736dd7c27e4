// Executions in the store, with a scripted runner standing in for the sandboxed engine (the real
// engine is exercised by test/integration/exec/cli.test.ts): which candidates are pending, how
// verdicts are written, resumed, confirmed, replaced when stale and summarised.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { importFiles } from '../../../server/import/importer';
import { runPending, type RunPendingOptions } from '../../../server/exec/runPending';
import {
  codeSha256,
  compactDetails,
  executionStats,
  isolationLabel,
  flaggedReferences,
  planCandidate,
  writeExecutions,
  type CandidateSource,
  type Selection,
} from '../../../server/exec/store';
import { datasetIdOf } from '../../../server/import/queries';
import { DEFAULT_EXEC_LIMITS, ExecAbortedError, type CandidateResult, type ExecRunner, type RunOptions, type TestSpec } from '../../../server/exec/types';
import { openProject, type Project } from '../../../server/store/db';
import type { CandidateKind, Verdict } from '../../../server/protocol';
import { addSample, addSampleJob, addTarget, CANDIDATE_SOURCES, markFlaky } from '../../support/fixtures';

// ---- a scripted runner (test double: decides a verdict from markers in the code) ------------

interface Call {
  code: string;
  tests: TestSpec[];
  opts: RunOptions | undefined;
}

/** `# VERDICT: x` in the code gives x; `# FLAKY` alternates wrong_answer / pass per call;
 * `# FAILS-ENGINE` throws a non-verdict error; everything else passes. */
const flakyCalls = new Map<string, number>(); // across runners, like a real flaky program
function scriptedRunner(opts: { delayMs?: number } = {}): ExecRunner & { calls: Call[]; inFlight: number; maxInFlight: number } {
  const r = {
    calls: [] as Call[],
    inFlight: 0,
    maxInFlight: 0,
    sandbox: { isolation: 'bwrap-nobody' as const, limits: { ...DEFAULT_EXEC_LIMITS } },
    async run(code: string, tests: TestSpec[], o?: RunOptions): Promise<CandidateResult> {
      r.calls.push({ code, tests, opts: o });
      r.inFlight++;
      r.maxInFlight = Math.max(r.maxInFlight, r.inFlight);
      try {
        if (opts.delayMs) {
          await new Promise<void>((resolve, reject) => {
            const t = setTimeout(resolve, opts.delayMs);
            o?.signal?.addEventListener('abort', () => {
              clearTimeout(t);
              reject(new ExecAbortedError('aborted'));
            });
          });
        }
        if (o?.signal?.aborted) throw new ExecAbortedError('aborted');
        if (code.includes('# FAILS-ENGINE')) throw new Error('worker crashed');
        let verdict: Verdict = 'pass';
        const m = /# VERDICT: (\w+)/.exec(code);
        if (m) verdict = m[1] as Verdict;
        if (code.includes('# FLAKY')) {
          const n = flakyCalls.get(code) ?? 0;
          flakyCalls.set(code, n + 1);
          verdict = n % 2 === 0 ? 'wrong_answer' : 'pass';
        }
        const failAt = verdict === 'pass' ? tests.length : 0;
        const ran = o?.allResults ? tests.length : Math.min(tests.length, failAt + 1);
        return {
          verdict,
          tests: Array.from({ length: ran }, (_, i) => ({
            ordinal: i,
            verdict: i === failAt ? verdict : 'pass',
            durationMs: 1,
            input: `input ${i}`,
            ...(i === failAt ? { expected: 'x', output: 'y', message: `test ${i} failed` } : {}),
          })),
          testsTotal: tests.length,
          durationMs: ran,
          comparator: o?.comparator ?? 'strict',
          sandbox: r.sandbox,
        };
      } finally {
        r.inFlight--;
      }
    },
    close: async () => undefined,
  };
  return r;
}

// ---- a project ----------------------------------------------------------------------------

let dir: string;
let p: Project;
beforeEach(() => {
  flakyCalls.clear();
  dir = mkdtempSync(path.join(tmpdir(), 'pairforge-execstore-'));
  p = openProject(path.join(dir, 'project.sqlite'));
});
afterEach(() => {
  p.close();
  rmSync(dir, { recursive: true, force: true });
});

const he = (id: string, body: string) => ({
  task_id: id,
  prompt: `def f(x):\n    """doc"""\n`,
  canonical_solution: body,
  test: 'def check(candidate):\n    assert candidate(1) == 1\n    assert candidate(2) == 2\n',
  entry_point: 'f',
});

async function load(records: object[], name = 'he'): Promise<void> {
  const f = path.join(dir, `${name}.jsonl`);
  writeFileSync(f, records.map((r) => JSON.stringify(r)).join('\n'));
  const s = await importFiles(p, [f]);
  expect(s.files[0].bad).toEqual([]);
}

/** Dataset he: 3 HumanEval problems (one reference broken). Dataset hist: a HumanEval problem
 * with its reference and a history of 3 versions (the first two failing), and a history without
 * tests. */
async function standard(): Promise<void> {
  await load([he('T/0', '    return x\n'), he('T/1', '    return x  # VERDICT: wrong_answer\n'), he('T/2', '    return x\n')]);
  await load(
    [
      {
        ...he('H/0', '    return x\n'),
        versions: ['def f(x):\n    return 0  # VERDICT: wrong_answer\n', 'def f(x):\n    return x  # VERDICT: runtime_error\n', 'def f(x):\n    return x\n'],
      },
      { task_id: 'bare/1', question: 'q', versions: ['def g():\n    pass\n'] },
    ],
    'hist',
  );
}

const SOURCES = CANDIDATE_SOURCES;
/** The sources of these kinds, in the order given. */
const of = (...kinds: CandidateKind[]): CandidateSource[] => kinds.map((k) => SOURCES[k]);

const opts = (o: Partial<RunPendingOptions> = {}): RunPendingOptions => ({
  selection: { sources: of('solution', 'version', 'sample') },
  comparator: 'strict',
  concurrency: 2,
  ...o,
});

const executions = () =>
  p.db
    .prepare<[], { candidate_kind: string; candidate_id: number; attempt: number; comparator: string; verdict: string }>(
      'SELECT candidate_kind, candidate_id, attempt, comparator, verdict FROM executions ORDER BY candidate_kind, candidate_id, comparator, attempt',
    )
    .all();

describe('planCandidate', () => {
  const row = (attempt: number, verdict: Verdict, sha = 'a') => ({ attempt, verdict, code_sha256: sha });
  it('runs what is missing and nothing else', () => {
    expect(planCandidate([], 'a', 0)).toEqual({ confirmations: [] });
    expect(planCandidate([], 'a', 2)).toEqual({ confirmations: [1, 2] });
    expect(planCandidate([row(0, 'pass')], 'a', 3)).toEqual({ first: 'pass', confirmations: [] });
    expect(planCandidate([row(0, 'timeout')], 'a', 0)).toEqual({ first: 'timeout', confirmations: [] });
    expect(planCandidate([row(0, 'timeout'), row(1, 'timeout')], 'a', 3)).toEqual({ first: 'timeout', confirmations: [2, 3] });
  });
  it('treats rows of other code as absent', () => {
    expect(planCandidate([row(0, 'pass', 'old')], 'a', 0)).toEqual({ confirmations: [] });
    expect(planCandidate([row(0, 'timeout', 'a'), row(1, 'pass', 'old')], 'a', 1)).toEqual({ confirmations: [1] });
  });
});

describe('candidates', () => {
  it('lists solutions, versions and samples with their problems, filtered by dataset and job', async () => {
    await standard();
    await load([he('U/0', '    return x\n')], 'other');
    const all: Selection = { sources: of('solution', 'version', 'sample') };
    expect(SOURCES.solution.count(p, all)).toBe(5);
    expect(SOURCES.version.count(p, all)).toBe(4);
    const he_ = datasetIdOf(p, 'he');
    expect(SOURCES.solution.count(p, { ...all, datasetId: he_ })).toBe(3);
    expect(() => datasetIdOf(p, 'nope')).toThrow(/no dataset 'nope' in .*there are: he, hist, other/);
    const page1 = SOURCES.solution.page(p, all, 0, 2);
    expect(page1.map((c) => c.id)).toEqual([1, 2]);
    expect(SOURCES.solution.page(p, all, page1[1].id, 10).map((c) => c.id)).toEqual([3, 4, 5]);

    // A sample's program is its target's pre + middle + suf; its problem is the target's.
    const sol = p.db.prepare<[], { id: number; problem_id: number }>('SELECT id, problem_id FROM solutions WHERE id = 2').get()!;
    const ver = p.db.prepare<[], { id: number; problem_id: number }>('SELECT v.id, h.problem_id FROM history_versions v JOIN histories h ON h.id = v.history_id LIMIT 1').get()!;
    const t1 = addTarget(p, { solutionId: sol.id, pre: 'def f(x):\n', mid: '    return x\n', suf: '' });
    const t2 = addTarget(p, { versionId: ver.id, pre: 'A', mid: 'B', suf: 'C' });
    const job = addSampleJob(p);
    const job2 = addSampleJob(p);
    addSample(p, { jobId: job, targetId: t1, middle: '    return 2 * x\n' });
    addSample(p, { jobId: job2, targetId: t2, middle: 'MIDDLE' });
    const samples = SOURCES.sample.page(p, all, 0, 10);
    expect(samples.map((c) => [c.problemId, c.code])).toEqual([
      [sol.problem_id, 'def f(x):\n    return 2 * x\n'],
      [ver.problem_id, 'AMIDDLEC'],
    ]);
    expect(SOURCES.sample.page(p, { ...all, jobId: job2 }, 0, 10).map((c) => c.code)).toEqual(['AMIDDLEC']);
  });
});

describe('runPending', () => {
  it('stores one verdict per candidate with details and sandbox, and a re-run runs nothing', async () => {
    await standard();
    const r = scriptedRunner();
    const s = await runPending(p, r, opts({ now: () => new Date('2026-11-23T10:00:00Z') }));
    expect(s).toMatchObject({ total: 7, pass: 4, wrong_answer: 2, runtime_error: 1, ran: 7, skipped: 0, no_tests: 1, pending: 0, errors: 0, interrupted: false });
    expect(s.kinds.solution).toMatchObject({ total: 4, pass: 3, wrong_answer: 1 });
    expect(s.kinds.version).toMatchObject({ total: 3, pass: 1, wrong_answer: 1, runtime_error: 1 });
    expect(r.calls.every((c) => c.tests.length === 1 && c.tests[0].kind === 'humaneval' && c.opts?.comparator === 'strict')).toBe(true);
    const row = p.db.prepare<[], Record<string, unknown>>("SELECT * FROM executions WHERE candidate_kind = 'solution' AND candidate_id = 2").get()!;
    expect(row).toMatchObject({ attempt: 0, comparator: 'strict', verdict: 'wrong_answer', tests_run: 1, tests_total: 1, executed_at: '2026-11-23T10:00:00.000Z' });
    expect(JSON.parse(row.details as string)).toEqual([{ ordinal: 0, verdict: 'wrong_answer', durationMs: 1, input: 'input 0', expected: 'x', output: 'y', message: 'test 0 failed' }]);
    expect(JSON.parse(row.sandbox as string)).toEqual({ isolation: 'bwrap-nobody', limits: DEFAULT_EXEC_LIMITS });
    const code = p.db.prepare<[], { code: string }>('SELECT code FROM solutions WHERE id = 2').get()!.code;
    expect(row.code_sha256).toBe(codeSha256(code));

    const r2 = scriptedRunner();
    const again = await runPending(p, r2, opts());
    expect(r2.calls).toHaveLength(0);
    expect({ ...again, duration_s: 0 }).toEqual({ ...s, ran: 0, skipped: 7, duration_s: 0 });
  });

  it('versions report their own verdicts (runtime_error in the middle of a history)', async () => {
    await standard();
    await runPending(p, scriptedRunner(), opts({ selection: { sources: of('version') } }));
    const byVersion = p.db
      .prepare<[], { ordinal: number; verdict: string }>(
        "SELECT v.ordinal, e.verdict FROM executions e JOIN history_versions v ON v.id = e.candidate_id WHERE e.candidate_kind = 'version' AND v.history_id = 1 ORDER BY v.ordinal",
      )
      .all();
    expect(byVersion).toEqual([
      { ordinal: 0, verdict: 'wrong_answer' },
      { ordinal: 1, verdict: 'runtime_error' },
      { ordinal: 2, verdict: 'pass' },
    ]);
  });

  it('keeps concurrency bounded and passes allResults and the comparator through', async () => {
    await standard();
    const r = scriptedRunner({ delayMs: 5 });
    await runPending(p, r, opts({ concurrency: 3, allResults: true, comparator: 'apps' }));
    expect(r.maxInFlight).toBe(3);
    expect(r.calls.every((c) => c.opts?.allResults === true && c.opts.comparator === 'apps')).toBe(true);
    expect(new Set(executions().map((e) => e.comparator))).toEqual(new Set(['apps']));
    // Another comparator is another verdict: strict runs everything again.
    const r2 = scriptedRunner();
    await runPending(p, r2, opts());
    expect(r2.calls).toHaveLength(7);
    expect(executions()).toHaveLength(14);
  });

  it('an interrupted run stores what finished and a re-run completes it without duplicates', async () => {
    const many = Array.from({ length: 30 }, (_, i) => he(`M/${i}`, i % 3 === 0 ? '    return x  # VERDICT: timeout\n' : '    return x\n'));
    await load(many);
    const full = await (async () => {
      // The same data in a second project, run without interruption, is the reference summary.
      const q = openProject(path.join(dir, 'ref.sqlite'));
      const f = path.join(dir, 'he.jsonl');
      await importFiles(q, [f]);
      const s = await runPending(q, scriptedRunner(), opts());
      q.close();
      return s;
    })();
    const ctl = new AbortController();
    const r = scriptedRunner({ delayMs: 10 });
    const s = await runPending(p, r, opts({ signal: ctl.signal, onProgress: (e) => e.ran >= 8 && ctl.abort() }));
    expect(s.interrupted).toBe(true);
    const stored = executions().length;
    expect(stored).toBeGreaterThanOrEqual(8);
    expect(stored).toBeLessThan(30);
    expect(s.ran).toBe(stored);
    expect(s.pending).toBe(30 - stored);
    expect(s.total).toBe(stored);

    const r2 = scriptedRunner();
    const s2 = await runPending(p, r2, opts());
    expect(r2.calls).toHaveLength(30 - stored);
    expect(s2).toMatchObject({ total: 30, skipped: stored, ran: 30 - stored, pending: 0, interrupted: false });
    expect(executions()).toHaveLength(30);
    expect({ ...s2, ran: 0, skipped: 0, duration_s: 0 }).toEqual({ ...full, ran: 0, skipped: 0, duration_s: 0 });
  });

  it('--limit runs at most N now and leaves the rest pending', async () => {
    await standard();
    const s = await runPending(p, scriptedRunner(), opts({ limit: 2 }));
    expect(s).toMatchObject({ ran: 2, total: 2, pending: 5 });
    const s2 = await runPending(p, scriptedRunner(), opts({ limit: 100 }));
    expect(s2).toMatchObject({ ran: 5, skipped: 2, total: 7, pending: 0 });
  });

  it('engine errors are counted and named, nothing is stored for them, and they stay pending', async () => {
    await load([he('E/0', '    return x  # FAILS-ENGINE\n'), he('E/1', '    return x\n')]);
    const s = await runPending(p, scriptedRunner(), opts());
    expect(s).toMatchObject({ total: 1, pass: 1, errors: 1, pending: 1 });
    expect(s.error_messages).toEqual(['solution 1: worker crashed']);
    expect(executions()).toHaveLength(1);
  });

  it('--confirm re-runs failing candidates, marks disagreements flaky, and resumes the missing attempts', async () => {
    await load([
      he('C/0', '    return x  # FLAKY\n'),
      he('C/1', '    return x  # VERDICT: timeout\n'),
      he('C/2', '    return x\n'),
    ]);
    // First without --confirm: one verdict each.
    await runPending(p, scriptedRunner(), opts());
    expect(executions().map((e) => [e.candidate_id, e.attempt, e.verdict])).toEqual([
      [1, 0, 'wrong_answer'],
      [2, 0, 'timeout'],
      [3, 0, 'pass'],
    ]);
    // --confirm 1 adds attempt 1 to the failing ones only (FLAKY's second call passes).
    const r = scriptedRunner();
    const s = await runPending(p, r, opts({ confirm: 1 }));
    expect(r.calls).toHaveLength(2);
    expect(s).toMatchObject({ confirm_runs: 2, flaky: 1, ran: 0, total: 3, wrong_answer: 1, timeout: 1, pass: 1 });
    // --confirm 3 adds attempts 2 and 3 only.
    const r3 = scriptedRunner();
    const s3 = await runPending(p, r3, opts({ confirm: 3 }));
    expect(s3.confirm_runs).toBe(4);
    expect(executions().filter((e) => e.candidate_id === 2).map((e) => e.attempt)).toEqual([0, 1, 2, 3]);
    const flaky = p.db.prepare<[], { candidate_id: number; verdicts: string }>('SELECT candidate_id, verdicts FROM flaky_candidates').all();
    expect(flaky.map((f) => f.candidate_id)).toEqual([1]);
    expect(JSON.parse(flaky[0].verdicts)[0]).toBe('wrong_answer');
    expect(JSON.parse(flaky[0].verdicts)).toHaveLength(4);
    // Fully confirmed: nothing left.
    const r4 = scriptedRunner();
    await runPending(p, r4, opts({ confirm: 3 }));
    expect(r4.calls).toHaveLength(0);
  });

  it('a fresh candidate run with --confirm gets its verdict and its confirmations in one go', async () => {
    await load([he('C/0', '    return x  # VERDICT: runtime_error\n')]);
    const s = await runPending(p, scriptedRunner(), opts({ confirm: 2 }));
    expect(s).toMatchObject({ ran: 1, confirm_runs: 2, flaky: 0, runtime_error: 1 });
    expect(executions().map((e) => e.attempt)).toEqual([0, 1, 2]);
  });

  it('replaces a verdict whose code no longer matches its candidate (a reused id)', async () => {
    await load([he('S/0', '    return x  # VERDICT: wrong_answer\n')]);
    await runPending(p, scriptedRunner(), opts({ confirm: 1 }));
    markFlaky(p, { kind: 'solution', id: 1 });
    // The solution's code changes under the same id (as a delete + re-insert reusing it would).
    p.db.prepare("UPDATE solutions SET code = 'def f(x):\n    return x\n' WHERE id = 1").run();
    const r = scriptedRunner();
    const s = await runPending(p, r, opts({ confirm: 1 }));
    expect(r.calls).toHaveLength(1);
    expect(s).toMatchObject({ ran: 1, pass: 1, total: 1, flaky: 0 });
    expect(executions().map((e) => [e.attempt, e.verdict])).toEqual([[0, 'pass']]);
    expect(p.db.prepare('SELECT COUNT(*) AS n FROM flaky_candidates').get()).toEqual({ n: 0 });
  });

  it('runs samples as pre + middle + suf against their problem', async () => {
    await load([he('P/0', '    return x\n')]);
    const t = addTarget(p, { solutionId: 1, pre: 'def f(x):\n', mid: '    return x\n', suf: '# tail\n' });
    const job = addSampleJob(p);
    addSample(p, { jobId: job, targetId: t, middle: '    return x  # VERDICT: wrong_answer\n' });
    addSample(p, { jobId: job, targetId: t, middle: '    return x\n' });
    const r = scriptedRunner();
    const s = await runPending(p, r, opts({ selection: { sources: of('sample') } }));
    expect(s).toMatchObject({ total: 2, pass: 1, wrong_answer: 1 });
    expect(r.calls.map((c) => c.code)).toEqual(['def f(x):\n    return x  # VERDICT: wrong_answer\n# tail\n', 'def f(x):\n    return x\n# tail\n']);
    expect(executions().map((e) => e.candidate_kind)).toEqual(['sample', 'sample']);
  });
});

describe('writeExecutions', () => {
  const result = (verdict: Verdict): CandidateResult => ({
    verdict,
    tests: [{ ordinal: 0, verdict, durationMs: 2 }],
    testsTotal: 1,
    durationMs: 2,
    comparator: 'strict',
    sandbox: { isolation: 'bwrap-nobody', limits: { ...DEFAULT_EXEC_LIMITS } },
  });
  it('keeps the first of two writers of the same verdict and writes a batch all or nothing', async () => {
    await load([he('W/0', '    return x\n')]);
    const rec = { kind: 'solution' as const, id: 1, problemId: 1, attempt: 0, codeSha256: 'a', executedAt: 't' };
    expect(writeExecutions(p, [{ ...rec, result: result('pass') }])).toEqual({ inserted: 1, duplicates: 0, flaky: 0 });
    expect(writeExecutions(p, [{ ...rec, result: result('timeout') }])).toEqual({ inserted: 0, duplicates: 1, flaky: 0 });
    // The second record names a problem that does not exist: the whole batch rolls back.
    expect(() => writeExecutions(p, [{ ...rec, attempt: 1, result: result('pass') }, { ...rec, attempt: 2, problemId: 999, result: result('pass') }])).toThrow(/FOREIGN KEY/);
    expect(executions()).toEqual([{ candidate_kind: 'solution', candidate_id: 1, attempt: 0, comparator: 'strict', verdict: 'pass' }]);
  });

  it('compacts passing tests to ordinal, verdict and duration', () => {
    expect(
      compactDetails([
        { ordinal: 0, verdict: 'pass', durationMs: 1, input: 'a', output: 'b' },
        { ordinal: 1, verdict: 'timeout', durationMs: 5, input: 'c', message: 'm' },
      ]),
    ).toEqual([
      { ordinal: 0, verdict: 'pass', durationMs: 1 },
      { ordinal: 1, verdict: 'timeout', durationMs: 5, input: 'c', message: 'm' },
    ]);
  });
});

describe('flaggedReferences and executionStats', () => {
  it('flags failing solutions and failing final versions only, with where they are and why', async () => {
    await standard();
    // A second history whose final version fails.
    await load([{ ...he('T/9', '    return x\n'), versions: ['def f(x):\n    return x\n', 'def f(x):\n    return -x  # VERDICT: wrong_answer\n'] }], 'hist2');
    await runPending(p, scriptedRunner(), opts());
    const flagged = flaggedReferences(p, { sources: of('solution', 'version') }, 'strict');
    expect(flagged.map((f) => [f.kind, f.dataset, f.problem, f.solution ?? null, f.history ?? null, f.version ?? null, f.verdict])).toEqual([
      ['solution', 'he', 'T/1', 1, null, null, 'wrong_answer'],
      ['version', 'hist2', 'T/9', null, 1, 2, 'wrong_answer'],
    ]);
    expect(flagged[0].uri).toBe('pairforge:/he/T%2F1/solution-1.py?solution=2');
    expect(flagged[0].failure).toEqual({ test: 0, verdict: 'wrong_answer', message: 'test 0 failed', input: 'input 0', expected: 'x', output: 'y' });
    expect(flaggedReferences(p, { sources: of('solution'), datasetId: datasetIdOf(p, 'hist2') }, 'strict')).toEqual([]);
    expect(flaggedReferences(p, { sources: of('solution', 'version') }, 'apps')).toEqual([]);

    const st = executionStats(p);
    expect(st.executions).toBe(10);
    expect(st.verdicts.strict).toMatchObject({ total: 10, pass: 6, wrong_answer: 3, runtime_error: 1 });
    expect(st.flaky).toBe(0);
    expect(st.isolation).toEqual({ 'bwrap-nobody': 10 });
  });

  it('counts stored verdicts per sandbox mode, rows of older engines and unreadable ones too', async () => {
    await standard();
    await runPending(p, scriptedRunner(), opts());
    const ids = p.db.prepare<[], { id: number }>('SELECT id FROM executions ORDER BY id').all().map((r) => r.id);
    const set = p.db.prepare('UPDATE executions SET sandbox = ? WHERE id = ?');
    // An older engine recorded only 'bwrap'; a row may also say nothing readable.
    set.run(JSON.stringify({ isolation: 'bwrap', limits: DEFAULT_EXEC_LIMITS }), ids[0]);
    set.run(JSON.stringify({ isolation: 'bwrap', limits: DEFAULT_EXEC_LIMITS }), ids[1]);
    set.run(JSON.stringify({ isolation: 'bwrap-root', limits: DEFAULT_EXEC_LIMITS }), ids[2]);
    set.run(JSON.stringify({ isolation: 'none', limits: DEFAULT_EXEC_LIMITS }), ids[3]);
    set.run('not json', ids[4]);
    set.run(JSON.stringify({ limits: DEFAULT_EXEC_LIMITS }), ids[5]);
    expect(ids.length).toBeGreaterThan(6);
    expect(executionStats(p).isolation).toEqual({ 'bwrap-nobody': ids.length - 6, 'bwrap-root': 1, bwrap: 2, none: 1, unknown: 2 });
    expect(isolationLabel('bwrap')).toMatch(/not recorded/);
    expect(isolationLabel('none')).toMatch(/NOT ISOLATED/);
    expect(isolationLabel('bwrap-user')).toBe('bwrap-user');
  });

  it('deleting a solution or a version deletes its verdicts', async () => {
    await standard();
    await runPending(p, scriptedRunner(), opts({ confirm: 1 }));
    const before = executions().length;
    p.db.prepare('DELETE FROM solutions WHERE id = 2').run();
    expect(executions().some((e) => e.candidate_kind === 'solution' && e.candidate_id === 2)).toBe(false);
    p.db.prepare('DELETE FROM histories WHERE id = 1').run(); // cascades to its versions
    expect(executions().filter((e) => e.candidate_kind === 'version')).toEqual([]);
    expect(executions().length).toBeLessThan(before);
  });
});
