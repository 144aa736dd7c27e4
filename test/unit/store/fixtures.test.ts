// The fixture builders' defaults agree with what the stages themselves store: target lines with
// what cutting gives, verdicts with what the exec stage counts as current, pair spans with what
// pairing computes; and ordinals, ids and reviews come out as a test expects them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cutTargets } from '../../../server/blocks/cut';
import { loadPython, type PythonGrammar } from '../../../server/blocks/parser';
import { codeSha256, planCandidate, storedAttempts } from '../../../server/exec/store';
import { problemTests } from '../../../server/import/queries';
import { iterPrefSpans } from '../../../server/pairs/iterpref';
import { getPair } from '../../../server/pairs/store';
import { openProject, type Project } from '../../../server/store/db';
import {
  addDataset,
  addExecution,
  addExecutions,
  addHistory,
  addPairs,
  addProblem,
  addSample,
  addSampleJob,
  addSolution,
  addStdioTest,
  addTarget,
  pairDraft,
  pairOnTarget,
} from '../../support/fixtures';

const PROGRAM = ['for i in range(3):', '    if i:', '        print(i)', 'while False:', '    pass', 'print(0)', ''].join('\n');

let grammar: PythonGrammar;
let dir: string;
let p: Project;
let problemId: number;
beforeAll(async () => {
  grammar = await loadPython();
});
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'fixtures-'));
  p = openProject(path.join(dir, 'p.sqlite'));
  problemId = addProblem(p, { datasetId: addDataset(p) });
});
afterEach(() => {
  p.close();
  rmSync(dir, { recursive: true, force: true });
});

const row = <T>(sql: string, ...params: unknown[]): T => p.db.prepare(sql).get(...params) as T;

describe('tests', () => {
  it('are stdio tests in the order added, as the engine reads them', () => {
    addStdioTest(p, { problemId, input: '1\n', expected: '2\n' });
    addStdioTest(p, { problemId, input: '5\n', expected: '6\n' });
    expect(problemTests(p, problemId)).toEqual([
      { kind: 'stdio', input: '1\n', expected: '2\n', fn_name: null, code: null, setup: null },
      { kind: 'stdio', input: '5\n', expected: '6\n', fn_name: null, code: null, setup: null },
    ]);
  });
});

describe('targets', () => {
  it('default start and end lines are those cutting gives, under both presets', () => {
    const solutionId = addSolution(p, { problemId, code: PROGRAM });
    for (const preset of ['structurecoder', 'clean'] as const) {
      const cut = cutTargets(grammar, PROGRAM, { preset });
      expect(cut.targets.length).toBeGreaterThanOrEqual(3);
      expect(cut.targets.some((t) => t.startLine === 0)).toBe(true);
      for (const t of cut.targets) {
        const id = addTarget(p, { solutionId, preset, kind: t.kind, depth: t.depth, pre: t.pre, mid: t.mid, suf: t.suf });
        expect(row(`SELECT start_line AS startLine, end_line AS endLine FROM targets WHERE id = ?`, id), `${preset} ${t.kind}`).toEqual({ startLine: t.startLine, endLine: t.endLine });
      }
    }
  });

  it('ordinals count per parent, sample indexes per job and target', () => {
    const other = addProblem(p, { datasetId: 1 });
    expect([problemId, problemId, other].map((id) => row<{ ordinal: number }>('SELECT ordinal FROM solutions WHERE id = ?', addSolution(p, { problemId: id })).ordinal)).toEqual([0, 1, 0]);
    expect(row('SELECT external_id AS e FROM problems WHERE id = ?', other)).toEqual({ e: `p${other}` });
    const target = addTarget(p, { solutionId: 1 });
    expect(addTarget(p, { solutionId: 1, mid: 'while x:\n    pass', kind: 'while' })).toBe(target + 1);
    const [a, b] = [addSampleJob(p), addSampleJob(p)];
    const index = (jobId: number) => row<{ sample_index: number }>('SELECT sample_index FROM samples WHERE id = ?', addSample(p, { jobId, targetId: target, middle: 'x' })).sample_index;
    expect([index(a), index(a), index(b), index(a)]).toEqual([0, 1, 0, 2]);
  });
});

describe('executions', () => {
  it("judge the candidate's program as it is now, or a given other program (stale)", () => {
    const t = addTarget(p, { solutionId: addSolution(p, { problemId }), pre: 'A\n', mid: 'B', suf: '\nC' });
    const job = addSampleJob(p);
    const [fresh, stale] = [addSample(p, { jobId: job, targetId: t, middle: 'M' }), addSample(p, { jobId: job, targetId: t, middle: 'N' })];
    const ids = addExecutions(p, [
      { kind: 'sample', id: fresh, verdict: 'wrong_answer', testsRun: 3 },
      { kind: 'sample', id: stale, verdict: 'pass', code: 'other' },
    ]);
    expect(ids).toHaveLength(2);
    expect(row('SELECT problem_id, tests_run, tests_total, verdict FROM executions WHERE id = ?', ids[0])).toEqual({ problem_id: problemId, tests_run: 3, tests_total: 3, verdict: 'wrong_answer' });
    expect(planCandidate(storedAttempts(p, 'sample', fresh, 'strict'), codeSha256('A\nM\nC'), 0)).toEqual({ first: 'wrong_answer', confirmations: [] });
    expect(planCandidate(storedAttempts(p, 'sample', stale, 'strict'), codeSha256('A\nN\nC'), 0)).toEqual({ confirmations: [] });
    expect(() => addExecution(p, { kind: 'version', id: 1, verdict: 'pass' })).toThrow(/no version 1/);
    expect(() => addExecution(p, { kind: 'sample', id: fresh, verdict: 'pass' })).toThrow(/already stored/);
    expect(row('SELECT verdict FROM executions WHERE id = ?', ids[0])).toEqual({ verdict: 'wrong_answer' });
  });
});

describe('pairs', () => {
  it('IterPref spans and edit distance as pairing computes them; FIM spans over each side', () => {
    const chosen = 'n = 1\nprint(n)\n';
    const rejected = 'n = 1\nprint(m)\n';
    const ip = pairDraft({ problemId, historyId: addHistory(p, { problemId, versions: [rejected, chosen] }).id, chosen, rejected });
    const critical = iterPrefSpans(chosen, rejected);
    expect(ip).toMatchObject({ mode: 'iterpref', kind: 'iterpref', chosenSpans: critical.chosenSpans, rejectedSpans: critical.rejectedSpans, goldenLines: 3 });
    expect(ip.editDistance).toBe(critical.diff.chosenCritical.length + critical.diff.rejectedCritical.length);
    expect(ip.rejectedSpans).not.toEqual([[0, rejected.length]]);
    const fim = pairDraft({ problemId, chosen: 'ab', rejected: 'abc' });
    expect(fim).toMatchObject({ mode: 'structurecoder', kind: 'fim', chosenSpans: [[0, 2]], rejectedSpans: [[0, 3]], editDistance: null, dupKey: fim.pairKey });
    expect(pairDraft({ problemId, chosen: 'ab', rejected: 'abd' }).pairKey).not.toBe(fim.pairKey);
  });

  it('are stored in order with their target context, and a status is a reviewer decision', () => {
    const t = addTarget(p, { solutionId: addSolution(p, { problemId }), pre: 'n = 3\n', mid: 'if n:\n    pass', suf: '\n', kind: 'if', depth: 2 });
    const ids = addPairs(p, [
      pairOnTarget(p, t, { rejected: 'if not n:\n    pass' }),
      pairOnTarget(p, t, { rejected: 'if n > 1:\n    pass', status: 'accepted', note: 'ok' }),
    ]);
    expect(ids).toHaveLength(2);
    expect(getPair(p, ids[0])).toMatchObject({ problemId, targetId: t, pre: 'n = 3\n', suf: '\n', blockKind: 'if', depth: 2, goldenLines: 2, chosen: 'if n:\n    pass', status: 'pending' });
    expect(getPair(p, ids[1])).toMatchObject({ rejected: 'if n > 1:\n    pass', status: 'accepted', note: 'ok' });
    expect(p.db.prepare('SELECT pair_id, old_status, new_status FROM pair_reviews').all()).toEqual([{ pair_id: ids[1], old_status: 'pending', new_status: 'accepted' }]);
  });
});
