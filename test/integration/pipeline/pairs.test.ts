// pairs and export through the bundled CLI on the fixture dataset: import and targets by the CLI,
// samples and verdicts built as the sampling and execution stages store them, then
// `pairs` (both modes), `export` (three formats), `--from-manifest`, `stats --json`, and usage
// errors.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openProject } from '../../../server/store/db';
import { buildCli, runCli } from '../../support/cliHarness';
import { addExecution, addSample, addSampleJob } from '../../support/fixtures';
import type { Verdict } from '../../../server/protocol';
import { fixturePath } from '../../support/paths';

const FIXTURES = fixturePath('pipeline');
let cli: string;
let dir: string;
let db: string;

const run = (...args: string[]) => runCli(cli, args);
const json = (r: ReturnType<typeof run>) => {
  if (r.status !== 0) throw new Error(`exit ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, unknown>;
};

/** What the sampling and exec stages would store: per target, a wrong middle (the first `for`/`while`
 * line's comparison flipped) and the golden middle as a passing one; per history version its
 * verdict from running the fixture's tests by hand (see the fixture: v1, v2 fail, v3 passes). */
function simulateSamplingAndExec(): void {
  const p = openProject(db);
  try {
    const jobId = addSampleJob(p, { params: { n: 2, temperature: 0.7 } });
    const targets = p.db.prepare<[], { id: number; mid: string }>('SELECT id, mid FROM targets WHERE solution_id IS NOT NULL ORDER BY id').all();
    for (const t of targets) {
      const wrong = t.mid.replace(' > ', ' >= ').replace(' < ', ' <= ');
      const middles: [string, Verdict][] = [
        [wrong === t.mid ? `${t.mid}\n    pass` : wrong, 'wrong_answer'],
        [t.mid, 'pass'],
      ];
      for (const [middle, verdict] of middles) addExecution(p, { kind: 'sample', id: addSample(p, { jobId, targetId: t.id, middle }), verdict, testsRun: 3 });
    }
    const versions = p.db.prepare<[], { id: number; ordinal: number }>('SELECT id, ordinal FROM history_versions ORDER BY id').all();
    for (const v of versions) addExecution(p, { kind: 'version', id: v.id, verdict: v.ordinal === 2 ? 'pass' : 'wrong_answer', testsRun: 3 });
  } finally {
    p.close();
  }
}

beforeAll(async () => {
  cli = await buildCli();
  dir = mkdtempSync(path.join(tmpdir(), 'pairforge-pairs-cli-'));
  db = path.join(dir, 'p.sqlite');
  json(run('import', '--db', db, '--json', path.join(FIXTURES, 'mini-apps.jsonl'), path.join(FIXTURES, 'mini-history.jsonl')));
  json(run('targets', '--db', db, '--json'));
  simulateSamplingAndExec();
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(path.dirname(cli), { recursive: true, force: true });
});

describe('pairforge pairs / export', () => {
  it('pairs both modes; a re-run changes nothing', () => {
    const sc = json(run('pairs', '--db', db, '--mode', 'structurecoder', '--json'));
    expect(sc).toMatchObject({ mode: 'structurecoder', comparator: 'strict', unexecuted: 0 });
    expect(sc.pairs).toBeGreaterThan(0);
    expect(sc.inserted).toBe(sc.pairs);
    const ip = json(run('pairs', '--db', db, '--mode', 'iterpref', '--json'));
    expect(ip).toMatchObject({ sources: 1, paired: 1, pairs: 1, inserted: 1 });
    const again = json(run('pairs', '--db', db, '--mode', 'structurecoder', '--json'));
    expect(again).toMatchObject({ inserted: 0, updated: 0, unchanged: sc.pairs });
    const stats = json(run('stats', '--db', db, '--json'));
    expect(stats.pairs).toBe((sc.pairs as number) + 1);
    const human = run('pairs', '--db', db, '--mode', 'iterpref');
    expect(human.status).toBe(0);
    expect(human.stdout).toMatch(/iterpref \(strict verdicts\): 1 pairs from 1 of 1 histories: 0 new, 0 updated, 1 unchanged/);
  });

  it('export trl with --include-pending, then the same export again from its manifest', () => {
    const out = path.join(dir, 'trl');
    const s = json(run('export', '--db', db, '--format', 'trl', '--include-pending', '--out', out, '--json'));
    const lines = readFileSync(path.join(out, 'pairs.trl.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.length).toBe((s.counts as { records: number }).records);
    const ip = lines.find((l) => l.metadata.kind === 'iterpref');
    expect(ip.metadata.format).toBe('chat');
    expect(ip.rejected_loss_spans.length).toBeGreaterThan(0);
    for (const l of lines) {
      for (const [a, b] of [...l.chosen_loss_spans, ...l.rejected_loss_spans]) expect(0 <= a && a < b).toBe(true);
      expect(l.prompt.length).toBeGreaterThan(0);
    }
    const manifest = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8'));
    expect(manifest.datasets.map((d: { name: string }) => d.name).sort()).toEqual(['mini-apps', 'mini-history']);
    expect(manifest.sampling.jobs[0]).toMatchObject({ id: 1, family: 'qwen2.5-coder', params: { n: 2, temperature: 0.7 } });
    expect(manifest.models).toEqual(['fixture-model']);
    const again = json(run('export', '--db', db, '--from-manifest', path.join(out, 'manifest.json'), '--out', path.join(dir, 'trl2'), '--json'));
    expect(again.reproduced).toEqual({ identical: true, differing: [] });
    expect(readFileSync(path.join(dir, 'trl2', 'pairs.trl.jsonl'), 'utf8')).toBe(readFileSync(path.join(out, 'pairs.trl.jsonl'), 'utf8'));
  });

  it('export structurecoder and llamafactory', () => {
    const sc = json(run('export', '--db', db, '--format', 'structurecoder', '--include-pending', '--mode', 'structurecoder', '--out', path.join(dir, 'sc'), '--json'));
    expect((sc.options as { epochs: number }).epochs).toBe(3);
    const first = JSON.parse(readFileSync(path.join(dir, 'sc', 'pairs.structurecoder.jsonl'), 'utf8').split('\n')[0]);
    expect(Object.keys(first.chosen)).toEqual(['query', 'response_pre', 'response_mid', 'response_suf']);
    json(run('export', '--db', db, '--format', 'llamafactory', '--include-pending', '--out', path.join(dir, 'lf'), '--json'));
    expect(JSON.parse(readFileSync(path.join(dir, 'lf', 'dataset_info.json'), 'utf8')).pairforge_dpo.ranking).toBe(true);
  });

  it('accepted only by default: nothing reviewed, nothing exported', () => {
    const s = json(run('export', '--db', db, '--format', 'trl', '--out', path.join(dir, 'none'), '--json'));
    expect((s.counts as { pairs: number }).pairs).toBe(0);
  });

  it('usage errors exit 2 and say what is wrong', () => {
    const noMode = run('pairs', '--db', db);
    expect(noMode.status).toBe(2);
    expect(noMode.stderr).toMatch(/--mode structurecoder\|iterpref is required/);
    const bad = run('pairs', '--db', db, '--mode', 'iterpref', '--admit-errors');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/structurecoder options/);
    const badRate = run('export', '--db', db, '--format', 'trl', '--out', path.join(dir, 'x'), '--fim-rate', '2');
    expect(badRate.status).toBe(2);
    expect(badRate.stderr).toMatch(/--fim-rate must be between 0 and 1/);
    const ts = run('export', '--db', db, '--format', 'structurecoder', '--out', path.join(dir, 'x'), '--training-sentence');
    expect(ts.status).toBe(2);
  });
});
