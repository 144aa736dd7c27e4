// `pairforge check-refs` and `pairforge exec` as a user runs them: the bundled CLI, the real
// sandboxed engine (bubblewrap). Agreement with plain Python on deliberately broken programs,
// flagged references, samples, --confirm, comparators, stats, Ctrl-C, and a run killed with
// SIGKILL mid-way then re-run (nothing lost, nothing duplicated, nothing left running).
import Database from 'better-sqlite3';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openProject } from '../../../server/store/db';
import { buildCli, runCli } from '../../support/cliHarness';
import { addSample, addSampleJob } from '../../support/fixtures';
import { fixturePath } from '../../support/paths';
import { noteSandboxes, settledStrays, type SandboxSet } from './hostile';

const FIXTURES = fixturePath('datasets');
const fixture = (name: string) => path.join(FIXTURES, name);
const VERDICT_KEYS = ['total', 'pass', 'wrong_answer', 'runtime_error', 'timeout', 'memory_limit', 'output_limit', 'compile_error'];
/** The mode an engine of this user gets: the CLI runs from a private temporary folder (cliHarness.ts). */
const STRONGEST = process.getuid?.() === 0 ? 'bwrap-nobody' : 'bwrap-user';
let cli: string;
let dir: string;

beforeAll(async () => {
  cli = await buildCli();
  dir = mkdtempSync(path.join(tmpdir(), 'pairforge-execcli-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(path.dirname(cli), { recursive: true, force: true });
});

const run = (...args: string[]) => runCli(cli, args);
function json(r: ReturnType<typeof run>): Record<string, unknown> & { flagged?: Record<string, unknown>[] } {
  try {
    return JSON.parse(r.stdout) as ReturnType<typeof json>;
  } catch {
    throw new Error(`not JSON (exit ${r.status}): ${r.stdout}\nstderr: ${r.stderr}`);
  }
}
const verdictCounts = (s: Record<string, unknown>) => Object.fromEntries(VERDICT_KEYS.map((k) => [k, s[k]]));

function reader<T>(db: string, f: (d: Database.Database) => T): T {
  const d = new Database(db, { readonly: true, fileMustExist: true });
  try {
    return f(d);
  } finally {
    d.close();
  }
}

/** What a plain `python3` run (no sandbox, the same memory limit) says about a HumanEval
 * program: the verdict the engine has to agree with. */
function plainPythonVerdict(program: string, test: string, entryPoint: string, timeoutMs: number, memoryBytes: number): string {
  const harness = `
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (${memoryBytes}, ${memoryBytes}))
src = sys.stdin.read()
try:
    code = compile(src, '<candidate>', 'exec')
except SyntaxError:
    sys.exit(3)
ns = {}
try:
    exec(code, ns)
    ns['check'](ns['${entryPoint}'])
except AssertionError:
    sys.exit(4)
except MemoryError:
    sys.exit(5)
`;
  const r = spawnSync('python3', ['-c', harness], { input: `${program}\n${test}`, timeout: timeoutMs, encoding: 'utf8' });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT') return 'timeout';
  return { 0: 'pass', 3: 'compile_error', 4: 'wrong_answer', 5: 'memory_limit' }[r.status ?? -1] ?? 'runtime_error';
}

describe('pairforge check-refs', () => {
  it('canonical solutions pass; broken history versions get the verdict plain Python gives; failing references are flagged', () => {
    const db = path.join(dir, 'refs.sqlite');
    expect(run('import', fixture('humaneval-mini.jsonl'), fixture('history-broken.jsonl'), '--db', db).status).toBe(0);
    const r = run('check-refs', '--db', db, '--json', '--timeout-ms', '1000', '--memory-mb', '256');
    const s = json(r);
    expect(r.stderr).toMatch(/check-refs: 4 solutions, 8 versions; \d+ workers, isolated \(bwrap-(nobody|user)\), comparator strict, 1000 ms per test/);
    expect(s).toMatchObject({ isolation: STRONGEST, comparator: 'strict', ran: 12, skipped: 0, pending: 0, errors: 0, interrupted: false });
    // Every canonical solution passes its own tests.
    expect(s.kinds).toMatchObject({ solution: { total: 4, pass: 4 } });

    // Every version's verdict is what plain Python says.
    const rows = reader(db, (d) =>
      d
        .prepare<[], { code: string; test: string; entry: string; verdict: string; v: number; task: string }>(
          `SELECT v.code, t.code AS test, t.fn_name AS entry, e.verdict, v.ordinal AS v, pr.external_id AS task
           FROM executions e JOIN history_versions v ON e.candidate_kind = 'version' AND v.id = e.candidate_id
           JOIN histories h ON h.id = v.history_id JOIN problems pr ON pr.id = h.problem_id JOIN tests t ON t.problem_id = pr.id
           ORDER BY pr.external_id, v.ordinal`,
        )
        .all(),
    );
    expect(rows.map((x) => `${x.task} v${x.v + 1} ${x.verdict}`)).toEqual([
      'Broken/0 v1 compile_error',
      'Broken/0 v2 wrong_answer',
      'Broken/0 v3 runtime_error',
      'Broken/0 v4 timeout',
      'Broken/0 v5 memory_limit',
      'Broken/0 v6 pass',
      'Broken/1 v1 pass',
      'Broken/1 v2 wrong_answer',
    ]);
    for (const x of rows) expect(x.verdict, `${x.task} v${x.v + 1}`).toBe(plainPythonVerdict(x.code, x.test, x.entry, 1000, 256 * 1024 ** 2));

    // Only the failing final version is flagged (earlier versions are expected to fail), with
    // where it is and why.
    expect(r.status).toBe(1);
    expect(s.flagged).toHaveLength(1);
    expect(s.flagged![0]).toMatchObject({ kind: 'version', dataset: 'history-broken', problem: 'Broken/1', history: 1, version: 2, verdict: 'wrong_answer' });
    expect((s.flagged![0].failure as { message: string }).message).toMatch(/AssertionError/);
    const human = run('check-refs', '--db', db);
    expect(human.stdout).toContain('1 reference fails its own tests:');
    expect(human.stdout).toContain('history-broken/Broken/1 history 1 v2 (final): wrong_answer');

    // A re-run runs nothing and ends with the same counts.
    const again = json(run('check-refs', '--db', db, '--json'));
    expect(again).toMatchObject({ ran: 0, skipped: 12 });
    expect(verdictCounts(again)).toEqual(verdictCounts(s));

    // stats: executions and verdict counts.
    const stats = json(run('stats', '--db', db, '--json'));
    expect(stats.executions).toBe(12);
    expect(stats.verdicts).toEqual({ strict: verdictCounts(s) });
    // Every stored verdict names the sandbox mode it was reached in.
    expect(stats.isolation).toEqual({ [STRONGEST]: 12 });
    expect(run('stats', '--db', db).stdout).toMatch(new RegExp(`^  sandbox: +12 ${STRONGEST}$`, 'm'));
  });

  it('refuses bad options with exit 2 before running anything', () => {
    const db = path.join(dir, 'usage.sqlite');
    expect(run('import', fixture('humaneval-mini.jsonl'), '--db', db).status).toBe(0);
    const cases: [string[], string][] = [
      [['--comparator', 'loose'], "--comparator must be one of strict, apps (got 'loose')"],
      [['--dataset', 'nope'], "no dataset 'nope' in"],
      [['--workers', '0'], '--workers must be an integer >= 1'],
      [['--timeout-ms', 'soon'], "--timeout-ms must be an integer from 100 to 600000 (got 'soon')"],
    ];
    for (const [args, msg] of cases) {
      const r = run('check-refs', '--db', db, ...args);
      expect([r.status, r.stderr], args.join(' ')).toEqual([2, expect.stringContaining(msg)]);
    }
    const kinds = run('exec', '--db', db, '--kinds', 'solution,pair');
    expect([kinds.status, kinds.stderr]).toEqual([2, "pairforge exec: unknown kind 'pair' in --kinds (one of solution, version, sample)\n"]);
    expect(run('check-refs', '--db', path.join(dir, 'none.sqlite')).status).toBe(2);
    expect(reader(db, (d) => d.prepare('SELECT COUNT(*) AS n FROM executions').get())).toEqual({ n: 0 });
  });

  it('--dataset and --limit select what runs now; the rest stays pending', () => {
    const db = path.join(dir, 'select.sqlite');
    expect(run('import', fixture('humaneval-mini.jsonl'), fixture('history-broken.jsonl'), '--db', db).status).toBe(0);
    const first = json(run('check-refs', '--db', db, '--json', '--dataset', 'humaneval-mini', '--limit', '1'));
    expect(first).toMatchObject({ ran: 1, total: 1, pending: 1, flagged: [] });
    const second = json(run('check-refs', '--db', db, '--json', '--dataset', 'humaneval-mini'));
    expect(second).toMatchObject({ ran: 1, skipped: 1, total: 2, pass: 2, pending: 0 });
    expect(reader(db, (d) => d.prepare('SELECT COUNT(*) AS n FROM executions').get())).toEqual({ n: 2 });
  });

  it('refuses to run without bubblewrap, saying how to fix it; --allow-unsandboxed is the loudly warned fallback', () => {
    const db = path.join(dir, 'unsandboxed.sqlite');
    expect(run('import', fixture('humaneval-mini.jsonl'), '--db', db).status).toBe(0);
    // bubblewrap present: the opt-in changes nothing, everything stays isolated
    const isolated = run('check-refs', '--db', db, '--json', '--allow-unsandboxed');
    expect(json(isolated)).toMatchObject({ isolation: STRONGEST, total: 2, pass: 2 });
    // no bubblewrap: refused, exit 2, nothing stored
    const noBwrap = { env: { PAIRFORGE_BWRAP: path.join(dir, 'no-such-bwrap') } };
    expect(run('import', fixture('humaneval-mini.jsonl'), '--db', path.join(dir, 'refused.sqlite')).status).toBe(0);
    const refused = runCli(cli, ['check-refs', '--db', path.join(dir, 'refused.sqlite'), '--json'], noBwrap);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('apt-get install bubblewrap');
    expect(refused.stderr).toContain('--allow-unsandboxed');
    expect(reader(path.join(dir, 'refused.sqlite'), (d) => d.prepare('SELECT COUNT(*) AS n FROM executions').get())).toEqual({ n: 0 });
    // no bubblewrap and the opt-in: runs, warned loudly, recorded as not isolated
    const fresh = path.join(dir, 'fallback.sqlite');
    expect(run('import', fixture('humaneval-mini.jsonl'), '--db', fresh).status).toBe(0);
    const r = runCli(cli, ['check-refs', '--db', fresh, '--json', '--allow-unsandboxed'], noBwrap);
    expect(r.stderr).toContain('WITHOUT A SANDBOX');
    expect(r.stderr).toContain('NOT ISOLATED');
    expect(json(r)).toMatchObject({ isolation: 'none', total: 2, pass: 2 });
    const sandbox = reader(fresh, (d) => d.prepare<[], { sandbox: string }>('SELECT sandbox FROM executions LIMIT 1').get()!);
    expect(JSON.parse(sandbox.sandbox).isolation).toBe('none');
  });
});

describe('pairforge exec', () => {
  it('runs samples as pre + middle + suf, confirms failures, keeps comparators apart', () => {
    const db = path.join(dir, 'samples.sqlite');
    expect(run('import', fixture('humaneval-mini.jsonl'), '--db', db).status).toBe(0);
    expect(run('targets', '--db', db).status).toBe(0);
    // Samples as the sampling stage stores them: one per target with its own middle (passes),
    // one whose middle raises (fails wherever the block runs).
    const w = openProject(db);
    const targets = w.db.prepare<[], { id: number; mid: string }>('SELECT id, mid FROM targets ORDER BY id').all();
    expect(targets.length).toBeGreaterThan(2);
    const job = addSampleJob(w);
    for (const t of targets) {
      addSample(w, { jobId: job, targetId: t.id, middle: t.mid });
      const indent = /^[ \t]*/.exec(t.mid)![0];
      addSample(w, { jobId: job, targetId: t.id, middle: `${indent}raise RuntimeError('sampled')\n` });
    }
    w.close();

    const r = run('exec', '--db', db, '--json', '--kinds', 'sample', '--confirm', '2');
    const s = json(r);
    expect(r.status, r.stderr).toBe(0);
    expect(s).toMatchObject({ total: 2 * targets.length, pass: targets.length, runtime_error: targets.length, flaky: 0, confirm_runs: 2 * targets.length });
    const attempts = reader(db, (d) =>
      d.prepare<[], { attempts: string }>("SELECT group_concat(attempt) AS attempts FROM executions WHERE candidate_kind = 'sample' GROUP BY candidate_id ORDER BY candidate_id").all(),
    );
    expect(attempts.map((a) => a.attempts)).toEqual(targets.flatMap(() => ['0', '0,1,2']));

    // Another comparator is another verdict; everything else (references) is pending for exec.
    const all = json(run('exec', '--db', db, '--json', '--comparator', 'apps'));
    expect(all).toMatchObject({ comparator: 'apps', ran: 2 + 2 * targets.length, total: 2 + 2 * targets.length, pass: 2 + targets.length });
    const stats = json(run('stats', '--db', db, '--json'));
    expect(stats.verdicts).toMatchObject({ strict: { total: 2 * targets.length }, apps: { total: 2 + 2 * targets.length } });
    expect(json(run('exec', '--db', db, '--json', '--kinds', 'sample', '--job', String(job + 1)))).toMatchObject({ total: 0, ran: 0 });
  });
});

describe('resumability', () => {
  const N = 40;
  /** N HumanEval-style problems whose solutions take 0.1 s each; every 4th is broken. */
  function slowFile(): string {
    const f = path.join(dir, 'slow.jsonl');
    const lines = Array.from({ length: N }, (_, i) =>
      JSON.stringify({
        task_id: `Slow/${i}`,
        prompt: 'import time\n\n\ndef f(x):\n    """x after a while"""\n',
        canonical_solution: `    time.sleep(0.1)\n    return x${i % 4 === 0 ? ' + 1' : ''}\n`,
        test: `def check(candidate):\n    assert candidate(${i}) == ${i}\n`,
        entry_point: 'f',
      }),
    );
    writeFileSync(f, `${lines.join('\n')}\n`);
    return f;
  }
  const expected = { total: N, pass: N - N / 4, wrong_answer: N / 4, runtime_error: 0, timeout: 0, memory_limit: 0, output_limit: 0, compile_error: 0 };

  function start(db: string): { child: ChildProcess; done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string }> } {
    const child = spawn(process.execPath, [cli, 'check-refs', '--db', db, '--json', '--workers', '2'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr!.resume();
    const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal, stdout })),
    );
    return { child, done };
  }

  async function executionsAtLeast(db: string, min: number): Promise<number> {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 25));
      try {
        const n = reader(db, (d) => (d.prepare('SELECT COUNT(*) AS n FROM executions').get() as { n: number }).n);
        if (n >= min) return n;
      } catch {
        // not migrated yet
      }
    }
    throw new Error(`${db}: fewer than ${min} executions after 30 s`);
  }

  const stored = (db: string) =>
    reader(db, (d) => d.prepare<[], { n: number; keys: number }>("SELECT COUNT(*) AS n, COUNT(DISTINCT candidate_id) AS keys FROM executions WHERE candidate_kind = 'solution'").get()!);

  /** Sandbox processes started from this test's bundle (their bwrap command line names it). */
  const leftovers = () =>
    spawnSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' })
      .stdout.split('\n')
      .filter((l) => l.includes(path.dirname(cli)) && !l.includes(' ps '));

  it('a run killed with SIGKILL loses and duplicates nothing, leaves nothing running, and a re-run finishes it', async () => {
    const db = path.join(dir, 'killed.sqlite');
    expect(run('import', slowFile(), '--db', db).status).toBe(0);
    const { child, done } = start(db);
    await executionsAtLeast(db, 4);
    // The CLI (by its path) and its sandboxes (by their PID namespaces), found by the checks below.
    expect(leftovers()).toHaveLength(1);
    const sandboxes: SandboxSet = new Map();
    noteSandboxes(child.pid!, sandboxes);
    expect(sandboxes.size).toBeGreaterThanOrEqual(2);
    child.kill('SIGKILL');
    const exit = await done;
    expect(exit.signal).toBe('SIGKILL');
    const before = stored(db);
    expect(before.n).toBeLessThan(N);
    expect(before.n).toBe(before.keys);
    // The sandboxes go with the killed engine (their channel closes; --die-with-parent).
    await new Promise((r) => setTimeout(r, 500));
    expect(leftovers()).toEqual([]);
    expect(await settledStrays(child.pid!, path.dirname(cli), sandboxes)).toEqual([]);

    const r = run('check-refs', '--db', db, '--json');
    const s = json(r);
    expect(s).toMatchObject({ skipped: before.n, ran: N - before.n, pending: 0, interrupted: false });
    expect(verdictCounts(s)).toEqual(expected);
    expect(stored(db)).toEqual({ n: N, keys: N });
    expect(s.flagged).toHaveLength(N / 4);
  });

  it('Ctrl-C stops after the running candidates, exits 130 with the summary, and a re-run finishes', async () => {
    const db = path.join(dir, 'interrupted.sqlite');
    expect(run('import', slowFile(), '--db', db).status).toBe(0);
    const { child, done } = start(db);
    await executionsAtLeast(db, 4);
    child.kill('SIGINT');
    const exit = await done;
    expect(exit.code).toBe(130);
    const s = JSON.parse(exit.stdout) as Record<string, number | boolean>;
    expect(s.interrupted).toBe(true);
    const after = stored(db);
    expect(s.total).toBe(after.n);
    expect(s.pending).toBe(N - after.n);
    expect(after.n).toBeLessThan(N);
    const again = json(run('check-refs', '--db', db, '--json'));
    expect(again).toMatchObject({ skipped: after.n, ran: N - after.n, interrupted: false });
    expect(verdictCounts(again)).toEqual(expected);
  });
});
