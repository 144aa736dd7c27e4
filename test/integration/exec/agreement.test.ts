// Agreement: on HumanEval-style data every canonical solution
// passes in the sandbox, and deliberately broken ones get the verdict a plain `python3` run of
// prompt + completion + test + check(entry_point) gives (exit status, last exception, wall clock).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plainRun } from '../../../scripts/bench/plain-python-run.mjs';
import { ExecEngine } from '../../../server/exec/engine';
import type { Verdict } from '../../../server/protocol';
import { fixturePath } from '../../support/paths';

interface Problem {
  task_id: string;
  prompt: string;
  canonical_solution: string;
  test: string;
  entry_point: string;
  broken: { name: string; completion: string }[];
}

const FIXTURE = fixturePath('exec', 'humaneval-agreement.jsonl');
const problems: Problem[] = readFileSync(FIXTURE, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Problem);
const TIMEOUT_MS = 2000;


const program = (p: Problem, completion: string) => `${p.prompt}${completion}\n${p.test}\ncheck(${p.entry_point})`;

describe('agreement with plain Python on HumanEval-style problems', () => {
  let engine: ExecEngine;
  beforeAll(async () => {
    engine = await ExecEngine.create({ workers: 2, limits: { testTimeoutMs: TIMEOUT_MS } });
  });
  afterAll(async () => {
    await engine?.close();
  });

  const run = (p: Problem, completion: string) =>
    engine.run(p.prompt + completion, [{ kind: 'humaneval', input: null, expected: null, fn_name: p.entry_point, code: p.test, setup: null }]);

  it('has a fixture worth the name', () => {
    expect(problems.length).toBeGreaterThanOrEqual(8);
    expect(problems.reduce((n, p) => n + p.broken.length, 0)).toBeGreaterThanOrEqual(30);
  });

  it('passes every canonical solution (and plain Python agrees)', async () => {
    const results = await Promise.all(problems.map(async (p) => [p.task_id, (await run(p, p.canonical_solution)).verdict, await plainRun(program(p, p.canonical_solution), TIMEOUT_MS)]));
    for (const [id, verdict, plain] of results) {
      expect(verdict, id).toBe('pass');
      expect(plain, id).toBe('pass');
    }
  });

  it('fails every broken solution with the verdict of a plain run', async () => {
    const cases = problems.flatMap((p) => p.broken.map((b) => ({ p, b })));
    const seen = new Set<Verdict>();
    // Two at a time: the engine has two workers and the plain runs share the machine.
    for (let i = 0; i < cases.length; i += 2) {
      const batch = cases.slice(i, i + 2);
      const got = await Promise.all(batch.map(async ({ p, b }) => ({ id: `${p.task_id} ${b.name}`, engine: await run(p, b.completion), plain: await plainRun(program(p, b.completion), TIMEOUT_MS) })));
      for (const g of got) {
        expect(g.engine.verdict, `${g.id}: ${JSON.stringify(g.engine.tests[0])}`).toBe(g.plain);
        expect(g.engine.verdict, g.id).not.toBe('pass');
        seen.add(g.plain);
      }
    }
    // The broken set exercises every verdict a humaneval test can produce.
    expect([...seen].sort()).toEqual(['compile_error', 'memory_limit', 'runtime_error', 'timeout', 'wrong_answer']);
  }, 180_000);
});
