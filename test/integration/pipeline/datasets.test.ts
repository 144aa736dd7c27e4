// `pairforge run` on datasets as they are published, through the bundled CLI against the local
// stand-in server and the real sandbox: tab-indented MBPP gives pairs under `clean` and a counted
// warning under `structurecoder` (whose published start loses the tabs); a project of iteration
// histories only runs end to end to IterPref pairs without anything to sample.
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixturePath } from '../../support/paths';
import { tabIndented } from '../../../server/blocks/cut';
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

const TAB_MBPP = [fixture('mbpp-tabs.jsonl'), fixture('sanitized-mbpp-mini.json')].join(',');

describe('tab-indented MBPP', () => {
  it('clean: tab-indented targets are sampled with their indentation and give pairs', () => {
    const db = path.join(dir, 'clean.sqlite');
    const r = runCli(cli, ['run', '--db', db, '--dataset', TAB_MBPP, '--endpoint', 'local', '--preset', 'clean', '--workers', '2', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as Summary;
    expect(s.warnings).toEqual([]);
    const rows = read<{ mid: string; pairs: number; passing: number }>(
      db,
      `SELECT t.mid, (SELECT COUNT(*) FROM pairs p WHERE p.target_id = t.id) AS pairs,
              (SELECT COUNT(*) FROM samples sa JOIN executions e ON e.candidate_kind = 'sample' AND e.candidate_id = sa.id WHERE sa.target_id = t.id AND e.verdict = 'pass') AS passing
       FROM targets t`,
    );
    const tabbed = rows.filter((t) => tabIndented(t.mid));
    expect(tabbed.length).toBeGreaterThanOrEqual(8);
    // every tab-indented target has passing samples (its golden middle comes back intact), and they give pairs
    for (const t of tabbed) expect(t.passing, t.mid).toBeGreaterThan(0);
    expect(tabbed.reduce((n, t) => n + t.pairs, 0)).toBeGreaterThan(0);
    expect(s.export.counts.records).toBeGreaterThan(0);
  }, 240_000);

  it('structurecoder: the published start loses the tabs, which the run counts and says', () => {
    const db = path.join(dir, 'sc.sqlite');
    const r = runCli(cli, ['run', '--db', db, '--dataset', TAB_MBPP, '--endpoint', 'local', '--workers', '2']);
    expect(r.status, r.stderr).toBe(0);
    const tabbed = read<{ id: number; mid: string }>(db, 'SELECT id, mid FROM targets').filter((t) => tabIndented(t.mid));
    expect(tabbed.length).toBeGreaterThan(0);
    expect(r.stdout).toContain(`warning: ${tabbed.length} of the `);
    expect(r.stdout).toMatch(/targets cut now are tab-indented: the published sampling \(preset structurecoder\) keeps only the spaces of a block's indentation, so every sample of them fails to compile, the golden middle too; --preset clean keeps tabs/);
    expect(r.stderr).toMatch(/sample: warning: \d+ of the targets sampled now are tab-indented/);
    // and so it is: none of their samples compiles
    const verdicts = read<{ verdict: string }>(
      db,
      `SELECT DISTINCT e.verdict FROM samples sa JOIN executions e ON e.candidate_kind = 'sample' AND e.candidate_id = sa.id WHERE sa.target_id IN (${tabbed.map((t) => t.id).join(',')})`,
    );
    expect(verdicts).toEqual([{ verdict: 'compile_error' }]);
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
