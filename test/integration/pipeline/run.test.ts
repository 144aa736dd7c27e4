// `pairforge run` end to end through the bundled CLI on the fixture dataset (test/fixtures/pipeline):
// real sandbox for the reference check, real targets, pairs and export; a second run changes
// nothing. The sampling stage is exercised against the local vLLM-compatible server, and
// --whole-programs adds whole-program targets whose pairs are exported as kind 'full'.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli, runCli } from '../../support/cliHarness';
import { fixturePath } from '../../support/paths';

const FIXTURES = fixturePath('pipeline');
const DATASETS = [path.join(FIXTURES, 'mini-apps.jsonl'), path.join(FIXTURES, 'mini-history.jsonl')].join(',');
let cli: string;
let dir: string;

beforeAll(async () => {
  cli = await buildCli();
  dir = mkdtempSync(path.join(tmpdir(), 'pairforge-run-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(path.dirname(cli), { recursive: true, force: true });
});

interface Summary {
  stages: { stage: string; status: string; summary: Record<string, unknown> }[];
  pairs: Record<string, { pairs: number; inserted: number; unchanged: number }>;
  export: { dir: string; counts: { records: number; byKind: Record<string, number> } };
  cancelled: boolean;
}

function runPipeline(db: string, ...extra: string[]): Summary {
  const r = runCli(cli, ['run', '--db', db, '--dataset', DATASETS, '--endpoint', 'local', '--workers', '2', '--json', ...extra]);
  if (r.status !== 0) throw new Error(`run exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Summary;
}

describe('pairforge run', () => {
  it('without sampling: references checked in the sandbox, IterPref pairs exported; a re-run changes nothing', () => {
    const db = path.join(dir, 'nosample.sqlite');
    const s = runPipeline(db, '--skip', 'sample');
    expect(s.stages.map((x) => `${x.stage}:${x.status}`)).toEqual(['import:done', 'check-refs:done', 'targets:done', 'sample:skipped', 'exec:done', 'pairs:done', 'export:done']);
    const refs = s.stages.find((x) => x.stage === 'check-refs')!.summary;
    // 2 reference solutions pass; of the 3 history versions the first two fail, the last passes.
    expect(refs).toMatchObject({ total: 5, pass: 3, wrong_answer: 2 });
    expect(s.pairs.iterpref).toMatchObject({ pairs: 1, inserted: 1 });
    expect(s.export.counts).toMatchObject({ records: 1, byKind: { iterpref: 1 } });
    const [rec] = readFileSync(path.join(s.export.dir, 'pairs.trl.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const critical = rec.rejected_loss_spans.map(([a, b]: [number, number]) => rec.rejected.slice(a, b)).join('');
    // Either failing version may be picked (seeded); its critical lines are what differs from the final one.
    expect(['    if x >= 0:\n', '# first try\n    if x != 0:\n        c = c + 1\n']).toContain(critical);
    const again = runPipeline(db, '--skip', 'sample');
    expect(again.stages.find((x) => x.stage === 'import')!.summary).toMatchObject({ imported: 0, unchanged: 3 });
    expect(again.stages.find((x) => x.stage === 'check-refs')!.summary).toMatchObject({ ran: 0, total: 5 });
    expect(again.pairs.iterpref).toMatchObject({ pairs: 1, inserted: 0, unchanged: 1 });
    expect(readFileSync(path.join(again.export.dir, 'pairs.trl.jsonl'), 'utf8')).toBe(readFileSync(path.join(s.export.dir, 'pairs.trl.jsonl'), 'utf8'));
  }, 120_000);

  it('the whole pipeline against the local server: FIM and IterPref pairs exported; a re-run samples and runs nothing again', () => {
    const db = path.join(dir, 'full.sqlite');
    const s = runPipeline(db);
    expect(s.stages.map((x) => `${x.stage}:${x.status}`)).toEqual(['import:done', 'check-refs:done', 'targets:done', 'sample:done', 'exec:done', 'pairs:done', 'export:done']);
    const sample = s.stages.find((x) => x.stage === 'sample')!.summary;
    const targets = s.stages.find((x) => x.stage === 'targets')!.summary.targets as number;
    expect(targets).toBeGreaterThan(0);
    expect(sample).toMatchObject({ status: 'done', n: 5, targets, expected: 5 * targets, samples: 5 * targets, produced: 5 * targets });
    const exec = s.stages.find((x) => x.stage === 'exec')!.summary;
    expect(exec).toMatchObject({ total: 5 * targets, ran: 5 * targets, errors: 0 });
    expect(s.pairs.structurecoder.pairs).toBeGreaterThan(0);
    expect(s.pairs.iterpref).toMatchObject({ pairs: 1 });
    expect(s.export.counts.records).toBe(s.pairs.structurecoder.pairs + 1);
    expect(s.export.counts.byKind).toEqual({ fim: s.pairs.structurecoder.pairs, iterpref: 1 });
    const recs = readFileSync(path.join(s.export.dir, 'pairs.trl.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    for (const r of recs.filter((x) => x.metadata.kind === 'fim')) {
      expect(r.metadata.models).toEqual(['pairforge-local-vllm']);
      expect(r.chosen).not.toBe(r.rejected);
      if (r.metadata.format === 'fim') expect(r.prompt.startsWith('<|fim_prefix|># Count the positive numbers.') || r.prompt.startsWith('<|fim_prefix|># Print the largest')).toBe(true);
    }
    const manifest = JSON.parse(readFileSync(path.join(s.export.dir, 'manifest.json'), 'utf8'));
    expect(manifest.filters.tokenCounting).toEqual(['tokenize']);
    expect(manifest.sampling.jobs).toHaveLength(1);

    const again = runPipeline(db);
    expect(again.stages.find((x) => x.stage === 'sample')!.summary).toMatchObject({ resumed: true, produced: 0, samples: 5 * targets });
    expect(again.stages.find((x) => x.stage === 'exec')!.summary).toMatchObject({ ran: 0, total: 5 * targets });
    expect(again.pairs.structurecoder).toMatchObject({ inserted: 0, pairs: s.pairs.structurecoder.pairs });
    expect(readFileSync(path.join(again.export.dir, 'pairs.trl.jsonl'), 'utf8')).toBe(readFileSync(path.join(s.export.dir, 'pairs.trl.jsonl'), 'utf8'));

    // --whole-programs on the same project: the solutions already cut get their whole-program
    // targets, the same sampling job takes them (chat prompt), and 'full' pairs reach the export.
    const whole = runPipeline(db, '--whole-programs');
    const solutions = s.stages.find((x) => x.stage === 'targets')!.summary.solutions as number;
    expect(whole.stages.find((x) => x.stage === 'targets')!.summary).toMatchObject({ alreadyCut: solutions, cut: 0, targets: 0, programs: solutions });
    const all = targets + solutions;
    expect(whole.stages.find((x) => x.stage === 'sample')!.summary).toMatchObject({ resumed: true, targets: all, samples: 5 * all, produced: 5 * solutions });
    expect(whole.stages.find((x) => x.stage === 'exec')!.summary).toMatchObject({ total: 5 * all, ran: 5 * solutions, errors: 0 });
    const full = whole.export.counts.byKind.full;
    expect(full).toBeGreaterThanOrEqual(1);
    expect(whole.export.counts.byKind).toEqual({ fim: s.pairs.structurecoder.pairs, full, iterpref: 1 });
    const wholeRecs = readFileSync(path.join(whole.export.dir, 'pairs.trl.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const fulls = wholeRecs.filter((x) => x.metadata.kind === 'full');
    expect(fulls).toHaveLength(full);
    for (const r of fulls) {
      // always chat: the question's chat prompt ending in an open fence, whole programs as responses, all of them in the loss
      expect(r.metadata).toMatchObject({ format: 'chat', block_kind: 'program', depth: 0, models: ['pairforge-local-vllm'] });
      expect(r.prompt.startsWith('<|im_start|>system\n')).toBe(true);
      expect(r.prompt.endsWith('<|im_end|>\n<|im_start|>assistant\n```python\n')).toBe(true);
      expect(r.chosen).not.toBe(r.rejected);
      expect(r.chosen).toMatch(/print\(/);
      expect(r.chosen_loss_spans).toEqual([[0, r.chosen.length]]);
      expect(r.rejected_loss_spans).toEqual([[0, r.rejected.length]]);
    }
    const wholeAgain = runPipeline(db, '--whole-programs');
    expect(wholeAgain.stages.find((x) => x.stage === 'targets')!.summary).toMatchObject({ cut: 0, targets: 0, programs: 0 });
    expect(wholeAgain.stages.find((x) => x.stage === 'sample')!.summary).toMatchObject({ produced: 0, samples: 5 * all });
    expect(wholeAgain.stages.find((x) => x.stage === 'exec')!.summary).toMatchObject({ ran: 0 });
    expect(readFileSync(path.join(wholeAgain.export.dir, 'pairs.trl.jsonl'), 'utf8')).toBe(readFileSync(path.join(whole.export.dir, 'pairs.trl.jsonl'), 'utf8'));
  }, 240_000);

  it('usage errors', () => {
    const r = runCli(cli, ['run', '--db', path.join(dir, 'x.sqlite'), '--skip', 'nope']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown stage 'nope'/);
    const m = runCli(cli, ['run', '--db', path.join(dir, 'x.sqlite'), '--dataset', '/no/such.jsonl', '--endpoint', 'local']);
    expect(m.status).toBe(2);
    expect(m.stderr).toMatch(/no such file: \/no\/such.jsonl/);
    // the stand-in server is never a default: sampling needs an endpoint, named (once the import
    // shows there are reference solutions to sample; what it imported is kept)
    const e = runCli(cli, ['run', '--db', path.join(dir, 'x.sqlite'), '--dataset', DATASETS]);
    expect(e.status).toBe(2);
    expect(e.stderr).toMatch(/--endpoint URL is required: the project holds 2 reference solutions .*\(or --endpoint local/);
  });
});
