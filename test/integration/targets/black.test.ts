// cutAllTargets with Black formatting (`targets --black`) on a real project: runs the real `black`.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cutTargets, formatWithBlack } from '../../../server/blocks/cut';
import { loadPython, type PythonGrammar } from '../../../server/blocks/parser';
import { importFiles } from '../../../server/import/importer';
import { openProject, type Project } from '../../../server/store/db';
import { cutAllTargets } from '../../../server/targets/cutAll';
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

describe('cutAllTargets', () => {

  const hasBlack = spawnSync('black', ['--version']).status === 0;
  it('fails before writing anything when --black is asked for and black is missing', async () => {
    await importFiles(p, [path.join(FIXTURES, 'apps-mini.jsonl')]);
    // A PATH holding no `black`, whether or not this machine has one.
    const saved = process.env.PATH;
    process.env.PATH = dir;
    try {
      await expect(cutAllTargets(p, { preset: 'structurecoder', black: true })).rejects.toThrow(/black is not installed/);
    } finally {
      process.env.PATH = saved;
    }
    expect(projectStats(p).targets).toBe(0);
  });
  it.skipIf(!hasBlack)('formats with black before cutting', async () => {
    const f = appsFile('ugly.jsonl', [['if   a :\n  b( 1,2 )\n', 'def f(:\n']]);
    await importFiles(p, [f]);
    const s = await cutAllTargets(p, { preset: 'structurecoder', black: true });
    expect(s).toMatchObject({ preset: 'structurecoder+black', ok: 1, formatFailed: 1 });
    expect(p.db.prepare(`SELECT mid FROM targets`).get()).toEqual({ mid: 'if a:\n    b(1, 2)' });
    expect(p.db.prepare(`SELECT error FROM cuts WHERE status = 'format_failed'`).get()).toEqual({ error: expect.stringMatching(/^black could not format the code: Cannot parse/) });
  });
});

describe('cutAllTargets', () => {

  const hasBlack = spawnSync('black', ['--version']).status === 0;
  it.skipIf(!hasBlack)('formats a whole chunk with one Black run exactly as formatWithBlack does per solution', async () => {
    await importFiles(p, ['apps-mini.jsonl', 'humaneval-mini.jsonl', 'mbpp-mini.jsonl'].map((f) => path.join(FIXTURES, f)));
    await cutAllTargets(p, { preset: 'structurecoder', black: true });
    const rows = p.db.prepare(`SELECT s.code AS source, c.code AS cut FROM solutions s JOIN cuts c ON c.solution_id = s.id`).all() as { source: string; cut: string }[];
    expect(rows).toHaveLength(8);
    for (const r of rows) expect(r.cut).toBe(cutTargets(g, await formatWithBlack(r.source), { preset: 'structurecoder' }).code);
  });
});
