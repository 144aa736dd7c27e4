// `pairforge run` on datasets as they are published, through the bundled CLI against the local
// stand-in server and the real sandbox: tab-indented MBPP gives pairs under `clean`, and under
// `structurecoder` (whose published start and cut count only spaces and every physical line) a
// warning that counts exactly the targets whose samples all fail to compile; a project of
// iteration histories only runs end to end to IterPref pairs without anything to sample.
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixturePath } from '../../support/paths';
import { buildCli, runCli } from '../../support/cliHarness';

const FIXTURES = fixturePath('datasets');
const fixture = (name: string) => path.join(FIXTURES, name);
let cli: string;
let dir: string;

beforeAll(async () => {
  cli = await buildCli();
  dir = mkdtempSync(path.join(tmpdir(), 'pairforge-run-datasets-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(path.dirname(cli), { recursive: true, force: true });
});

interface Summary {
  stages: { stage: string; status: string; summary: Record<string, unknown>; note?: string }[];
  pairs: Record<string, { pairs: number; paired: number; sources: number; skipped: Record<string, number> }>;
  export: { counts: { records: number; byKind: Record<string, number> }; leftOut?: { total: number } };
  warnings: string[];
}

function read<T>(db: string, sql: string): T[] {
  const d = new Database(db, { readonly: true });
  try {
    return d.prepare(sql).all() as T[];
  } finally {
    d.close();
  }
}

// Tabs in the first line of a block (mbpp-tabs, sanitized-mbpp-mini) and the shapes where the
// first line has none (mbpp-tabs-body: a column-0 def with a tab-indented body, `  for` over a
// `  \tif`, a continuation line inside brackets at the block's level, with tabs and with spaces).
const TAB_MBPP = [fixture('mbpp-tabs.jsonl'), fixture('sanitized-mbpp-mini.json'), fixture('mbpp-tabs-body.jsonl')].join(',');

/** A tab in the indentation of some line. */
const tabbed = (mid: string) => /^[ \f]*\t/m.test(mid);

/** Per target: its middle, how many samples it has, how many of them pass / do not compile. */
function verdictsByTarget(db: string) {
  return read<{ id: number; mid: string; samples: number; pass: number; compileErrors: number; pairs: number }>(
    db,
    `SELECT t.id, t.mid, COUNT(e.id) AS samples, COALESCE(SUM(e.verdict = 'pass'), 0) AS pass, COALESCE(SUM(e.verdict = 'compile_error'), 0) AS compileErrors,
            (SELECT COUNT(*) FROM pairs p WHERE p.target_id = t.id) AS pairs
     FROM targets t LEFT JOIN samples sa ON sa.target_id = t.id LEFT JOIN executions e ON e.candidate_kind = 'sample' AND e.candidate_id = sa.id
     GROUP BY t.id ORDER BY t.id`,
  );
}

describe('tab-indented MBPP', () => {
  it('clean: tab-indented targets and continuation lines are sampled as they are and give pairs', () => {
    const db = path.join(dir, 'clean.sqlite');
    const r = runCli(cli, ['run', '--db', db, '--dataset', TAB_MBPP, '--endpoint', 'local', '--preset', 'clean', '--workers', '2', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as Summary;
    expect(s.warnings).toEqual([]);
    const rows = verdictsByTarget(db);
    const withTabs = rows.filter((t) => tabbed(t.mid));
    expect(withTabs.length).toBeGreaterThanOrEqual(14);
    // every target has passing samples (its golden middle comes back intact), the ones with tabs
    // or a continuation line at the block's level (`\tif (...) and in_range( \n\tlo, ...`) too
    for (const t of rows) expect(t.pass, t.mid).toBeGreaterThan(0);
    expect(rows.filter((t) => t.mid.includes('in_range( \n\tlo') || t.mid.includes('(x <\n    0)')).map((t) => t.mid.split('\n')[0].trimEnd())).toEqual([
      'def both_in(lo, hi, a, b):',
      '\tif (lo <= a <= hi) and in_range(',
      'def clamp(x):',
      '    if (x <',
    ]);
    expect(withTabs.reduce((n, t) => n + t.pairs, 0)).toBeGreaterThan(0);
    expect(s.export.counts.records).toBeGreaterThan(0);
  }, 240_000);

  it('structurecoder: the warning counts exactly the targets whose samples all fail to compile, first line tabbed or not', () => {
    const db = path.join(dir, 'sc.sqlite');
    const r = runCli(cli, ['run', '--db', db, '--dataset', TAB_MBPP, '--endpoint', 'local', '--workers', '2']);
    expect(r.status, r.stderr).toBe(0);
    const rows = verdictsByTarget(db);
    expect(rows.every((t) => t.samples === 5)).toBe(true);
    const failing = rows.filter((t) => t.compileErrors === t.samples);
    const warned = /warning: (\d+) of the (\d+) targets cut now have a golden middle that does not survive the published start and post-processing \(preset structurecoder: only spaces count as indentation, and a block ends at the first line indented no deeper than its first, even inside brackets or strings\), e\.g\. tab-indented blocks or tabs in a block's body: samples written like it come back cut and fail, as a rule to compile; --preset clean keeps tabs and continuation lines/.exec(r.stdout);
    expect(warned, r.stdout).not.toBeNull();
    expect(Number(warned![2])).toBe(rows.length);
    expect(Number(warned![1])).toBe(failing.length);
    // the shapes a first-line test misses are among them: tabs in the body only, and a continuation
    // line in spaces (the import stores LF line endings)
    expect(failing.map((t) => t.mid)).toEqual(
      expect.arrayContaining(['def gcd(a, b):\n\treturn math.gcd(a, b)', "  for w in s.split(' '):\n  \tif len(w) > k:\n  \t\tout.append(w)", '    if (x <\n    0):\n        return 0']),
    );
    // and the targets not counted are sampled fine
    for (const t of rows.filter((x) => !failing.includes(x))) expect(t.pass, t.mid).toBeGreaterThan(0);
    expect(r.stderr).toContain(`sample: warning: ${failing.length} of the ${rows.length} targets prompted now have a golden middle that does not survive`);
  }, 240_000);
});

describe('a project of iteration histories only', () => {
  it('runs end to end to IterPref pairs, exit 0, with or without an endpoint; a history without tests is said so', () => {
    for (const endpoint of [[], ['--endpoint', 'local']]) {
      const db = path.join(dir, `hist${endpoint.length}.sqlite`);
      const r = runCli(cli, ['run', '--db', db, '--dataset', fixture('history-only.jsonl'), ...endpoint, '--workers', '2', '--json']);
      expect(r.status, r.stderr).toBe(0);
      const s = JSON.parse(r.stdout) as Summary;
      expect(s.stages.map((x) => `${x.stage}:${x.status}`)).toEqual(['import:done', 'check-refs:done', 'targets:done', 'sample:skipped', 'exec:done', 'pairs:done', 'export:done']);
      expect(s.stages.find((x) => x.stage === 'sample')!.note).toMatch(/no reference solutions to cut \(iteration histories only; IterPref pairs need no samples\)/);
      // bitcount (buggy, fixed) and gcd (two failing versions, then a passing one) pair; scratch/1 has no tests
      expect(s.pairs.iterpref).toMatchObject({ sources: 3, paired: 2, pairs: 2, skipped: { no_tests: 1 } });
      expect(s.export.counts).toMatchObject({ records: 2, byKind: { iterpref: 2 } });
    }
    const text = runCli(cli, ['run', '--db', path.join(dir, 'hist0.sqlite')]);
    expect(text.status).toBe(0);
    expect(text.stdout).toContain('  sample     skipped');
    expect(text.stdout).toContain('    no pair from 1: 1 no tests to run the versions on');
  }, 240_000);

  it('a project with reference solutions still needs an endpoint: a usage error after the import, which is kept', () => {
    const db = path.join(dir, 'needs.sqlite');
    const r = runCli(cli, ['run', '--db', db, '--dataset', fixture('mbpp-tabs.jsonl')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--endpoint URL is required: the project holds 2 reference solutions .*What was imported is kept/);
    expect(read<{ n: number }>(db, 'SELECT COUNT(*) AS n FROM problems')).toEqual([{ n: 2 }]);
    expect(runCli(cli, ['run', '--db', db, '--skip', 'sample', '--json']).status).toBe(0);
  }, 120_000);
});
