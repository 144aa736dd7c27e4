// cutAllTargets on a real project: every solution cut once per preset key, failures recorded,
// the word limit applied, and an interrupted run finished by a re-run without duplicates.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cutTargets } from '../../../server/blocks/cut';
import { loadPython, type PythonGrammar } from '../../../server/blocks/parser';
import { importFiles } from '../../../server/import/importer';
import { documentTargets } from '../../../server/targets/documentTargets';
import { cutStats } from '../../../server/targets/cutAll';
import { openProject, type Project } from '../../../server/store/db';
import { goldenBrokenWarning } from '../../../server/pipeline/run';
import { goldenBroken } from '../../../server/sampling/golden';
import { cutAllTargets, presetKey } from '../../../server/targets/cutAll';
import { projectStats } from '../../../server/pipeline/stats';
import { fixturePath } from '../../support/paths';

const FIXTURES = fixturePath('datasets');
let g: PythonGrammar;
let dir: string;
let p: Project;
beforeAll(async () => {
  g = await loadPython();
});
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'pairforge-targets-'));
  p = openProject(path.join(dir, 'project.sqlite'));
});
afterEach(() => {
  p.close();
  rmSync(dir, { recursive: true, force: true });
});

function appsFile(name: string, solutions: string[][]): string {
  const f = path.join(dir, name);
  writeFileSync(
    f,
    solutions
      .map((sols, i) =>
        JSON.stringify({ problem_id: i, question: 'q', solutions: JSON.stringify(sols), input_output: JSON.stringify({ inputs: [], outputs: [] }) }),
      )
      .join('\n'),
  );
  return f;
}

describe('presetKey', () => {
  it('separates option sets', () => {
    expect(presetKey({ preset: 'structurecoder' })).toBe('structurecoder');
    expect(presetKey({ preset: 'structurecoder', extraKinds: ['class'], black: true })).toBe('structurecoder+black');
    expect(presetKey({ preset: 'clean', extraKinds: ['with', 'class', 'with'] })).toBe('clean[class,with]');
    expect(presetKey({ preset: 'clean', extraKinds: [] })).toBe('clean');
  });
});

describe('cutAllTargets', () => {
  it('stores exactly the targets cutTargets gives, once', async () => {
    await importFiles(p, ['apps-mini.jsonl', 'humaneval-mini.jsonl', 'mbpp-mini.jsonl'].map((f) => path.join(FIXTURES, f)));
    const solutions = p.db.prepare('SELECT id, code FROM solutions ORDER BY id').all() as { id: number; code: string }[];
    const first = await cutAllTargets(p, { preset: 'structurecoder' });
    const expected = solutions.map((s) => cutTargets(g, s.code, { preset: 'structurecoder' }));
    const total = expected.reduce((n, r) => n + r.targets.length, 0);
    expect(first).toMatchObject({ preset: 'structurecoder', solutions: solutions.length, alreadyCut: 0, cut: solutions.length, ok: solutions.length, targets: total, cancelled: false });
    expect(total).toBeGreaterThan(10);
    for (const [i, s] of solutions.entries()) {
      const rows = p.db
        .prepare('SELECT kind, depth, start_line AS startLine, end_line AS endLine, pre, mid, suf FROM targets WHERE solution_id = ? ORDER BY ordinal')
        .all(s.id);
      expect(rows).toEqual(expected[i].targets);
      const cut = p.db.prepare(`SELECT code, status FROM cuts WHERE solution_id = ?`).get(s.id);
      expect(cut).toEqual({ code: expected[i].code, status: 'ok' });
    }
    const again = await cutAllTargets(p, { preset: 'structurecoder' });
    expect(again).toMatchObject({ alreadyCut: solutions.length, cut: 0, targets: 0 });
    expect(projectStats(p).targets).toBe(total);
    // another preset key is a separate set
    const clean = await cutAllTargets(p, { preset: 'clean', extraKinds: ['class'] });
    expect(clean).toMatchObject({ preset: 'clean[class]', cut: solutions.length });
    expect(projectStats(p).targets).toBe(total + clean.targets);
  });
  it('counts the targets cut now whose golden middle does not survive the preset\'s start and post-processing, and warns', async () => {
    // a column-0 def over a tab-indented body, `  for` over `  \tif`, a continuation line inside
    // brackets at the block's level (with tabs, and with spaces): the first line has a tab in 2 of the 5
    await importFiles(p, [path.join(FIXTURES, 'mbpp-tabs-body.jsonl')]);
    // The check is the sampling stage's, passed in (the pipeline does so).
    const check = (preset: 'structurecoder' | 'clean') => (t: { kind: string; mid: string }) => goldenBroken(t, preset);
    const sc = await cutAllTargets(p, { preset: 'structurecoder', goldenCheck: check('structurecoder') });
    expect(sc).toMatchObject({ targets: 6, goldenBroken: 5 });
    expect(goldenBrokenWarning(sc)).toMatch(/^5 of the 6 targets cut now have a golden middle that does not survive the published start and post-processing \(preset structurecoder/);
    expect(await cutAllTargets(p, { preset: 'structurecoder', goldenCheck: check('structurecoder') })).toMatchObject({ targets: 0, goldenBroken: 0 });
    const clean = await cutAllTargets(p, { preset: 'clean', goldenCheck: check('clean') });
    expect(clean).toMatchObject({ targets: 9, goldenBroken: 0 });
    expect(goldenBrokenWarning(clean)).toBeUndefined();
  });
  it('records solutions that do not parse and skips ones over 2048 words', async () => {
    const long = `x = [${Array.from({ length: 2100 }, (_, i) => `${i},`).join(' ')}]\nif x:\n    print(x)\n`;
    const edge = `x = [${Array.from({ length: 2046 }, (_, i) => `${i},`).join(' ')}]\n`; // 2048 words
    const f = appsFile('mixed.jsonl', [['def f(:\n    pass\n', 'if a:\n    b()\n'], [long, edge]]);
    await importFiles(p, [f]);
    const s = await cutAllTargets(p, { preset: 'structurecoder' });
    expect(s).toMatchObject({ cut: 4, ok: 2, unparsed: 1, tooLong: 1, targets: 1 });
    const rows = p.db.prepare('SELECT status, error, words FROM cuts ORDER BY solution_id').all() as { status: string; error: string | null; words: number }[];
    expect(rows.map((r) => r.status)).toEqual(['unparsed', 'ok', 'too_long', 'ok']);
    expect(rows[0].error).toMatch(/syntax error at line 1/);
    const words = long.split(/\s+/).filter(Boolean).length;
    expect(words).toBeGreaterThan(2048);
    expect(rows[2]).toMatchObject({ error: `${words} words > 2048`, words });
    expect(rows[3].words).toBe(2048);
    expect(cutStats(p)).toEqual([{ preset: 'structurecoder', solutions: 4, ok: 2, unparsed: 1, tooLong: 1, formatFailed: 0, targets: 1 }]);
  });
  it('stops between chunks on abort, and a re-run cuts the rest without duplicates', async () => {
    const n = 450;
    const f = appsFile('many.jsonl', Array.from({ length: n }, (_, i) => [`for i in range(${i}):\n    if i % 2:\n        print(i)\n`]));
    await importFiles(p, [f]);
    const controller = new AbortController();
    const first = await cutAllTargets(p, {
      preset: 'structurecoder',
      signal: controller.signal,
      onProgress: (done) => {
        if (done > 0) controller.abort();
      },
    });
    expect(first.cancelled).toBe(true);
    expect(first.cut).toBeGreaterThan(0);
    expect(first.cut).toBeLessThan(n);
    const second = await cutAllTargets(p, { preset: 'structurecoder' });
    expect(second).toMatchObject({ alreadyCut: first.cut, cut: n - first.cut, cancelled: false });
    expect(projectStats(p).targets).toBe(2 * n);
    const dup = p.db.prepare('SELECT COUNT(*) AS n FROM (SELECT solution_id FROM cuts GROUP BY solution_id, preset HAVING COUNT(*) > 1)').get() as { n: number };
    expect(dup.n).toBe(0);
  });
  it('stores one whole-program target per solution cut ok with --whole-programs, also for solutions cut before, once', async () => {
    const prog = 'n = int(input())  # read\nfor i in range(n):\n    print(i)\n';
    const f = appsFile('progs.jsonl', [[prog, 'def f(:\n    pass\n'], ['x = 1\n', '   \n# only a comment\n']]);
    await importFiles(p, [f]);
    const programs = () =>
      p.db.prepare(`SELECT solution_id, preset, ordinal, depth, start_line, end_line, pre, mid, suf FROM targets WHERE kind = 'program' ORDER BY solution_id`).all();
    // Cut without the option: no program targets.
    const plain = await cutAllTargets(p, { preset: 'structurecoder' });
    expect(plain).toMatchObject({ cut: 4, ok: 3, unparsed: 1, targets: 1, programs: 0 });
    expect(programs()).toEqual([]);
    // Re-run with it: nothing is cut again, but every solution cut ok whose code is not blank gets
    // its whole program (the code as cut: stripped, comments removed), after its blocks.
    const withPrograms = await cutAllTargets(p, { preset: 'structurecoder', wholePrograms: true });
    expect(withPrograms).toMatchObject({ alreadyCut: 4, cut: 0, targets: 0, programs: 2, cancelled: false });
    const ids = (p.db.prepare('SELECT id FROM solutions ORDER BY id').all() as { id: number }[]).map((r) => r.id);
    expect(programs()).toEqual([
      { solution_id: ids[0], preset: 'structurecoder', ordinal: 1, depth: 0, start_line: 0, end_line: 2, pre: '', mid: 'n = int(input())\nfor i in range(n):\n    print(i)', suf: '' },
      { solution_id: ids[2], preset: 'structurecoder', ordinal: 0, depth: 0, start_line: 0, end_line: 0, pre: '', mid: 'x = 1', suf: '' },
    ]);
    // Idempotent: a re-run adds nothing; the cut bookkeeping still counts blocks only.
    expect(await cutAllTargets(p, { preset: 'structurecoder', wholePrograms: true })).toMatchObject({ cut: 0, targets: 0, programs: 0 });
    expect(projectStats(p).targets).toBe(3);
    expect(cutStats(p)).toEqual([{ preset: 'structurecoder', solutions: 4, ok: 3, unparsed: 1, tooLong: 0, formatFailed: 0, targets: 1 }]);
    // A fresh preset key cut with the option gets its blocks and programs in one run.
    const clean = await cutAllTargets(p, { preset: 'clean', wholePrograms: true });
    expect(clean).toMatchObject({ preset: 'clean', cut: 4, programs: 2 });
    expect(p.db.prepare(`SELECT mid FROM targets WHERE preset = 'clean' AND kind = 'program' ORDER BY solution_id`).all()).toEqual([
      { mid: 'n = int(input())\nfor i in range(n):\n    print(i)\n' },
      { mid: 'x = 1\n' },
    ]);
    // The editor places blocks only: no lens or tint for the whole program.
    const ref = { problemId: 1, dataset: 'progs', externalId: '0', via: 'store' as const, solutionId: ids[0], tests: 0 };
    expect(documentTargets(p, ref, prog, 'structurecoder').map((t) => t.kind)).toEqual(['for']);
  });
});
