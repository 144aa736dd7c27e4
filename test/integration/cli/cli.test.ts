// The bundled CLI as a user runs it: exit statuses, stderr for bad input, JSON output shapes, and
// an import killed with SIGKILL mid-way then re-run.
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli, runCli } from '../../support/cliHarness';
import { fixturePath } from '../../support/paths';

const FIXTURES = fixturePath('datasets');
const fixture = (name: string) => path.join(FIXTURES, name);
let cli: string;
let dir: string;

beforeAll(async () => {
  cli = await buildCli();
  dir = mkdtempSync(path.join(tmpdir(), 'pairforge-clitest-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(path.dirname(cli), { recursive: true, force: true });
});

const run = (...args: string[]) => runCli(cli, args);

const N_BIG = 40_000;
let bigPath: string | undefined;
/** A 40,000-record APPS file (about 18 MB), written once. */
async function bigFile(): Promise<string> {
  if (bigPath) return bigPath;
  const big = path.join(dir, 'big.jsonl');
  await new Promise<void>((resolve, reject) => {
    const out = createWriteStream(big);
    for (let i = 0; i < N_BIG; i++) {
      out.write(
        JSON.stringify({
          problem_id: i,
          question: `Problem ${i}: ${'print the input twice. '.repeat(10)}`,
          solutions: JSON.stringify([`s = input()\nif s:\n    print(s + s)\n`, 'print(input() * 2)\n']),
          input_output: JSON.stringify({ inputs: [`${i}\n`], outputs: [`${i}${i}\n`] }),
        }) + '\n',
      );
    }
    out.end();
    out.on('finish', resolve);
    out.on('error', reject);
  });
  bigPath = big;
  return big;
}

/** Polls the project through a separate read-only connection until it holds `min` problems. */
async function problemsAtLeast(db: string, min: number): Promise<number> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
    try {
      const reader = new Database(db, { readonly: true, fileMustExist: true });
      try {
        const seen = (reader.prepare('SELECT COUNT(*) AS n FROM problems').get() as { n: number }).n;
        if (seen >= min) return seen;
      } finally {
        reader.close();
      }
    } catch {
      // not created / migrated yet
    }
  }
  throw new Error(`${db}: fewer than ${min} problems after 60 s`);
}

describe('pairforge (usage)', () => {
  it('prints help per command and exits 2 on usage errors', () => {
    const main = run('--help');
    expect(main.status).toBe(0);
    expect(main.stdout).toMatch(/import FILE\.\.\. --db PROJECT\.sqlite/);
    for (const c of ['import', 'blocks', 'targets', 'check-refs', 'exec', 'stats']) {
      const h = run(c, '--help');
      expect(h.status, c).toBe(0);
      expect(h.stdout).toContain(`usage: pairforge ${c}`);
    }
    expect(run().status).toBe(2);
    const unknown = run('frobnicate');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/^pairforge: unknown command 'frobnicate' \(one of import, blocks, targets, [a-z, -]*stats[a-z, -]*; see pairforge --help\)\n$/);
    const badOpt = run('import', fixture('apps-mini.jsonl'), '--db', path.join(dir, 'x.sqlite'), '--fromat', 'apps');
    expect([badOpt.status, badOpt.stderr]).toEqual([2, 'pairforge import: unknown option --fromat (see pairforge import --help)\n']);
    expect(run('import', fixture('apps-mini.jsonl')).stderr).toContain('--db PROJECT.sqlite is required');
    expect(run('blocks', 'x.py', '--preset', 'faithful').stderr).toContain("--preset must be one of structurecoder, clean (got 'faithful')");
    expect(run('blocks', 'x.py', '--extra-kinds', 'with').stderr).toContain('--extra-kinds needs --preset clean');
    expect(run('stats', '--db', path.join(dir, 'nothing.sqlite')).status).toBe(2);
  });
});

describe('pairforge import', () => {
  it('imports, reports bad lines as FILE:LINE: reason on stderr, exits 1, and a re-import changes nothing', () => {
    const db = path.join(dir, 'a.sqlite');
    const bad = fixture('apps-bad.jsonl');
    const r = run('import', fixture('apps-mini.jsonl'), bad, '--db', db);
    expect(r.status).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines.map((l) => l.replace(/position \d+.*/, 'position N'))).toEqual([
      `${bad}:2: line is not JSON: Expected double-quoted property name in JSON at position N`,
      `${bad}:3: missing field 'input_output'`,
      `${bad}:5: field 'solutions' is not a JSON string holding a list of strings (it is a list)`,
      `${bad}:6: problem 4001 already stored with different content; not overwritten`,
      `${bad}:8: line is a list, expected a JSON object`,
    ]);
    expect(r.stdout).toContain(`${fixture('apps-mini.jsonl')}: apps, 4 records: 4 imported, 0 unchanged, 0 bad`);
    expect(r.stdout).toContain(`${bad}: apps, 7 records: 2 imported, 0 unchanged, 5 bad`);

    const before = run('stats', '--db', db, '--json');
    const again = run('import', fixture('apps-mini.jsonl'), '--db', db, '--json');
    expect(again.status).toBe(0);
    expect(again.stderr).toBe('');
    const summary = JSON.parse(again.stdout) as { files: { imported: number; unchanged: number; format: string }[]; cancelled: boolean };
    expect(summary.cancelled).toBe(false);
    expect(summary.files.map((f) => [f.format, f.imported, f.unchanged])).toEqual([['apps', 0, 4]]);
    expect(run('stats', '--db', db, '--json').stdout).toBe(before.stdout);
  });

  it('exits 2 naming a missing file, before importing anything', () => {
    const db = path.join(dir, 'm.sqlite');
    const r = run('import', fixture('apps-mini.jsonl'), path.join(dir, 'nope.jsonl'), '--db', db);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`pairforge import: no such file: ${path.join(dir, 'nope.jsonl')}\n`);
  });

  it('a .gz cut short: the complete records are imported, the break is named with its line, exit 1, no empty dataset', () => {
    const db = path.join(dir, 'gz.sqlite');
    const lines = readFileSync(fixture('apps-mini.jsonl'), 'utf8').split('\n').filter(Boolean);
    const whole = gzipSync(Buffer.from(`${lines.join('\n')}\n`));
    const cut = path.join(dir, 'cut.jsonl.gz');
    writeFileSync(cut, whole.subarray(0, whole.length - 12));
    const r = run('import', cut, '--db', db, '--json');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^${cut.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:${lines.length}: the compressed file is cut short or damaged`, 'm'));
    const summary = JSON.parse(r.stdout) as { files: { imported: number }[] };
    expect(summary.files[0].imported).toBe(lines.length - 1);
    // A file cut before its first record: nothing imported, no dataset left behind, exit 1.
    const early = path.join(dir, 'early.jsonl.gz');
    writeFileSync(early, whole.subarray(0, 20));
    const db2 = path.join(dir, 'gz2.sqlite');
    const r2 = run('import', early, '--db', db2);
    expect(r2.status).toBe(1);
    const stats = JSON.parse(run('stats', '--db', db2, '--json').stdout) as { datasets: number; problems: number };
    expect(stats).toMatchObject({ datasets: 0, problems: 0 });
  });

  it('honours --format', () => {
    const db = path.join(dir, 'f.sqlite');
    const r = run('import', fixture('humaneval-mini.jsonl'), '--db', db, '--format', 'mbpp', '--json');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).files[0].format).toBe('mbpp');
    expect(run('import', fixture('humaneval-mini.jsonl'), '--db', db, '--format', 'csv').stderr).toContain('--format must be one of apps, humaneval, mbpp, history');
  });

  it('survives kill -9 mid-import: committed batches stay, a re-run completes with exact counts', async () => {
    const n = N_BIG;
    const big = await bigFile();
    const db = path.join(dir, 'crash.sqlite');
    const child = spawn(process.execPath, [cli, 'import', big, '--db', db], { stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    // Kill as soon as a few batches are committed (polled through a separate reader, as WAL allows).
    await problemsAtLeast(db, 2000);
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');

    const reader = new Database(db, { readonly: true });
    const stored = (reader.prepare('SELECT COUNT(*) AS n FROM problems').get() as { n: number }).n;
    const sols = (reader.prepare('SELECT COUNT(*) AS n FROM solutions').get() as { n: number }).n;
    reader.close();
    expect(stored).toBeGreaterThanOrEqual(2000);
    expect(stored).toBeLessThan(n);
    // whole batches only: a problem is never stored without its solutions
    expect(stored % 500).toBe(0);
    expect(sols).toBe(2 * stored);

    const rerun = run('import', big, '--db', db, '--json');
    expect(rerun.status).toBe(0);
    const f = (JSON.parse(rerun.stdout) as { files: { imported: number; unchanged: number; records: number }[] }).files[0];
    expect(f).toMatchObject({ records: n, imported: n - stored, unchanged: stored });
    const stats = JSON.parse(run('stats', '--db', db, '--json').stdout);
    expect(stats).toMatchObject({ datasets: 1, problems: n, tests: n, solutions: 2 * n, targets: 0 });
    const check = new Database(db, { readonly: true });
    expect((check.prepare('SELECT COUNT(DISTINCT external_id) AS n FROM problems').get() as { n: number }).n).toBe(n);
    expect(check.pragma('integrity_check', { simple: true })).toBe('ok');
    check.close();
  }, 120_000);
  it('Ctrl-C stops cleanly: exit 130, what was read is committed, a re-run finishes', async () => {
    const big = await bigFile();
    const db = path.join(dir, 'sigint.sqlite');
    const child = spawn(process.execPath, [cli, 'import', big, '--db', db], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    await problemsAtLeast(db, 1000);
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stderr).toContain('interrupted: finishing the current batch');
    expect(stdout).toContain('interrupted: batches already written are kept');
    const m = /(\d+) records: (\d+) imported/.exec(stdout);
    expect(m).not.toBeNull();
    const imported = Number(m![2]);
    expect(imported).toBeLessThan(N_BIG);
    const stats = JSON.parse(run('stats', '--db', db, '--json').stdout);
    expect(stats.problems).toBe(imported);
    const rerun = JSON.parse(run('import', big, '--db', db, '--json').stdout);
    expect(rerun.files[0]).toMatchObject({ imported: N_BIG - imported, unchanged: imported });
  }, 120_000);
});

describe('pairforge blocks', () => {
  it('prints one JSON line per block, files in argument order, blocks in source order', () => {
    const a = path.join(dir, 'a.py');
    const b = path.join(dir, 'b.py');
    writeFileSync(a, 'def solve(n):\n    # count down\n    while n:\n        n -= 1\n    return n\n');
    writeFileSync(b, 'for i in range(3):\n    if i:\n        print(i)\n    elif i == 0:\n        pass\n');
    const r = run('blocks', b, a, '--preset', 'structurecoder', '--jsonl');
    expect(r.status).toBe(0);
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const row of rows) expect(Object.keys(row)).toEqual(['file', 'type', 'depth', 'start_line', 'end_line', 'pre', 'mid', 'suf']);
    expect(rows.map((x) => [path.basename(x.file as string), x.type, x.depth, x.start_line, x.end_line])).toEqual([
      ['b.py', 'for', 3, 1, 5],
      ['b.py', 'if', 2, 2, 5],
      ['a.py', 'def', 2, 1, 4],
      ['a.py', 'while', 1, 2, 3],
    ]);
    // lines refer to the comment-stripped code that was cut
    expect(rows[3]).toMatchObject({ pre: 'def solve(n):\n', mid: '    while n:\n        n -= 1', suf: '\n    return n' });

    const json = run('blocks', a, '--preset', 'clean', '--json');
    expect(json.status).toBe(0);
    expect((JSON.parse(json.stdout) as { type: string }[]).map((x) => x.type)).toEqual(['def', 'while']);
    expect(run('blocks', a).stdout).toBe(`${a}:1-4: def depth 2\n${a}:2-3: while depth 1\n`);
  });

  it('reports a file that does not parse on stderr, keeps going, exits 1', () => {
    const good = path.join(dir, 'good.py');
    const broken = path.join(dir, 'broken.py');
    writeFileSync(good, 'if x:\n    y()\n');
    writeFileSync(broken, 'def f(:\n    pass\n');
    const r = run('blocks', broken, good, '--jsonl');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^${broken.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: does not parse: syntax error at line 1`));
    expect(r.stdout.trim().split('\n').map((l) => JSON.parse(l).file)).toEqual([good]);
  });
});

describe('pairforge targets and stats', () => {
  it('cuts stored solutions once and reports counts', () => {
    const db = path.join(dir, 't.sqlite');
    expect(run('import', fixture('apps-mini.jsonl'), fixture('humaneval-mini.jsonl'), fixture('history-mini.jsonl'), '--db', db).status).toBe(0);
    const t = run('targets', '--db', db, '--preset', 'structurecoder', '--json');
    expect(t.status).toBe(0);
    const s = JSON.parse(t.stdout);
    expect(s).toMatchObject({ preset: 'structurecoder', solutions: 8, cut: 8, ok: 8, unparsed: 0, cancelled: false });
    const again = JSON.parse(run('targets', '--db', db, '--json').stdout);
    expect(again).toMatchObject({ alreadyCut: 8, cut: 0, targets: 0 });
    const stats = run('stats', '--db', db, '--json');
    expect(stats.status).toBe(0);
    const js = JSON.parse(stats.stdout);
    expect(js).toEqual({
      datasets: 3,
      problems: 9,
      tests: 8 + 2 + 3,
      solutions: 8,
      histories: 4,
      versions: 9,
      targets: s.targets,
      samples: 0,
      executions: 0,
      pairs: 0,
      scoredPairs: 0,
      verdicts: {},
      flaky: 0,
      isolation: {},
      cuts: [{ preset: 'structurecoder', solutions: 8, ok: 8, unparsed: 0, tooLong: 0, formatFailed: 0, targets: s.targets }],
    });
    const human = run('stats', '--db', db);
    expect(human.stdout).toMatch(/^\s+targets\s+\d+$/m);
  });
});
