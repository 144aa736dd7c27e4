// The items behind the dashboard's marks without pairs (server/dashboard/items.ts, the stages'
// list queries) on a hand-built project: exactly which problems, reference solutions, targets and
// samples each query lists, in id order, under which comparator, with the total when cut.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboardItems } from '../../../server/dashboard/items';
import { storeUri } from '../../../server/import/browse';
import type { DashboardItemsQuery } from '../../../server/protocol';
import { openProject, type Project } from '../../../server/store/db';
import { addDataset, addExecutions, addHistory, addProblem, addSample, addSampleJob, addSolution, addTarget } from '../../support/fixtures';

let dir = '';
let p: Project;
const id: Record<string, number> = {};

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'pairforge-items-'));
  p = openProject(path.join(dir, 'project.sqlite'));
  const ds = addDataset(p, { name: 'ds' });
  const a = addProblem(p, { datasetId: ds, externalId: 'a' });
  const b = addProblem(p, { datasetId: ds, externalId: 'b' });
  const c = addProblem(p, { datasetId: ds, externalId: 'c' });
  id.sA1 = addSolution(p, { problemId: a, code: 'x = 1\nfor i in range(3):\n    x += i\nprint(x)\n' });
  id.sA2 = addSolution(p, { problemId: a });
  id.sB1 = addSolution(p, { problemId: b });
  const h = addHistory(p, { problemId: c, versions: ['print(1)\n', 'print(2)\n'] });
  id.vC2 = h.versionIds[1];
  id.tA1 = addTarget(p, { solutionId: id.sA1, kind: 'for', depth: 1, pre: 'x = 1\n', mid: 'for i in range(3):\n    x += i\n', suf: 'print(x)\n', startLine: 1, endLine: 2 });
  id.tA2 = addTarget(p, { solutionId: id.sA1, kind: 'if', depth: 2, startLine: 4, endLine: 4 });
  id.tB1 = addTarget(p, { solutionId: id.sB1, kind: 'for', depth: 1, startLine: 0, endLine: 1 });
  const job1 = addSampleJob(p);
  const job2 = addSampleJob(p);
  id.job1 = job1;
  id.job2 = job2;
  id.s1 = addSample(p, { jobId: job1, targetId: id.tA1, middle: 'for i in range(3):\n    x += i\n', model: 'm1' });
  id.s2 = addSample(p, { jobId: job1, targetId: id.tA1, middle: 'for i in range(2):\n    x += i\n', model: 'm1' });
  id.s3 = addSample(p, { jobId: job2, targetId: id.tA1, middle: 'pass\n', model: 'm2' });
  id.s4 = addSample(p, { jobId: job1, targetId: id.tA2, middle: 'pass\n', model: 'm1' });
  addExecutions(p, [
    { kind: 'solution', id: id.sA1, verdict: 'pass' },
    { kind: 'solution', id: id.sA2, verdict: 'wrong_answer', testsRun: 2, testsTotal: 3 },
    { kind: 'solution', id: id.sB1, verdict: 'pass', comparator: 'apps' },
    { kind: 'sample', id: id.s1, verdict: 'pass' },
    { kind: 'sample', id: id.s2, verdict: 'wrong_answer' },
    { kind: 'sample', id: id.s4, verdict: 'pass', comparator: 'apps' },
  ]);
});

afterAll(() => {
  p?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const items = (q: DashboardItemsQuery, comparator: 'strict' | 'apps' = 'strict', limit = 1000) => dashboardItems(p, q, comparator, limit);
const solutionUri = (problem: string, n: number, solutionId: number) => storeUri('ds', problem, { solution: n, solutionId });
const labels = (q: DashboardItemsQuery, comparator: 'strict' | 'apps' = 'strict') => items(q, comparator).items.map((i) => i.label);

describe('the items behind a dashboard mark', () => {
  it('problems, each opening its first solution, else its first history\'s final version', () => {
    expect(items({ what: 'problems' })).toEqual({
      total: 3,
      items: [
        { label: 'ds/a', description: '2 reference solutions', open: { kind: 'document', uri: solutionUri('a', 1, id.sA1) } },
        { label: 'ds/b', description: '1 reference solution', open: { kind: 'document', uri: solutionUri('b', 1, id.sB1) } },
        { label: 'ds/c', description: '0 reference solutions', open: { kind: 'document', uri: storeUri('ds', 'c', { history: 1, version: 2, versionId: id.vC2 }) } },
      ],
    });
    // Cut: the first of them, and how many there are.
    expect(items({ what: 'problems' }, 'strict', 1)).toEqual({ total: 3, items: [expect.objectContaining({ label: 'ds/a' })] });
  });

  it('reference solutions: all with their verdict, or those passing / failing their own tests under the comparator', () => {
    expect(items({ what: 'references' })).toEqual({
      total: 3,
      items: [
        { label: 'ds/a solution 1', description: 'pass (1/1 tests)', open: { kind: 'document', uri: solutionUri('a', 1, id.sA1) } },
        { label: 'ds/a solution 2', description: 'wrong_answer (2/3 tests)', open: { kind: 'document', uri: solutionUri('a', 2, id.sA2) } },
        { label: 'ds/b solution 1', description: 'not run', open: { kind: 'document', uri: solutionUri('b', 1, id.sB1) } },
      ],
    });
    expect(labels({ what: 'references', tests: 'pass' })).toEqual(['ds/a solution 1']);
    expect(labels({ what: 'references', tests: 'fail' })).toEqual(['ds/a solution 2']);
    expect(labels({ what: 'references', tests: 'pass' }, 'apps')).toEqual(['ds/b solution 1']);
    expect(items({ what: 'references', tests: 'fail' }, 'apps')).toEqual({ total: 0, items: [] });
    expect(items({ what: 'references' }, 'strict', 2).total).toBe(3);
  });

  it('targets: all, or those with exactly k samples (0: not sampled yet)', () => {
    expect(items({ what: 'targets' })).toEqual({
      total: 3,
      items: [
        { label: `target ${id.tA1}: for, depth 1`, description: 'ds/a solution 1, lines 2-3', open: { kind: 'document', uri: solutionUri('a', 1, id.sA1) } },
        { label: `target ${id.tA2}: if, depth 2`, description: 'ds/a solution 1, lines 5-5', open: { kind: 'document', uri: solutionUri('a', 1, id.sA1) } },
        { label: `target ${id.tB1}: for, depth 1`, description: 'ds/b solution 1, lines 1-2', open: { kind: 'document', uri: solutionUri('b', 1, id.sB1) } },
      ],
    });
    expect(labels({ what: 'targets', samples: 3 })).toEqual([`target ${id.tA1}: for, depth 1`]);
    expect(labels({ what: 'targets', samples: 1 })).toEqual([`target ${id.tA2}: if, depth 2`]);
    expect(labels({ what: 'targets', samples: 0 })).toEqual([`target ${id.tB1}: for, depth 1`]);
    expect(items({ what: 'targets', samples: 2 })).toEqual({ total: 0, items: [] });
    expect(items({ what: 'targets', samples: 0 }, 'strict', 0)).toEqual({ total: 1, items: [] });
  });

  it('samples: of a job and model, with a verdict, none or any, under the comparator', () => {
    const sample = (s: string, target: string, ordinal: number, job: string, model: string, verdict: string) => ({
      label: `sample ${id[s]} (target ${id[target]} #${ordinal}, job ${id[job]})`,
      description: `${model} · ${verdict}`,
      open: { kind: 'sample', targetId: id[target], sampleId: id[s], ordinal },
    });
    expect(items({ what: 'samples' })).toEqual({
      total: 4,
      items: [
        sample('s1', 'tA1', 1, 'job1', 'm1', 'pass'),
        sample('s2', 'tA1', 2, 'job1', 'm1', 'wrong_answer'),
        sample('s3', 'tA1', 3, 'job2', 'm2', 'not run'),
        sample('s4', 'tA2', 1, 'job1', 'm1', 'not run'),
      ],
    });
    const ids = (q: DashboardItemsQuery, comparator: 'strict' | 'apps' = 'strict') => items(q, comparator).items.map((i) => (i.open as { sampleId: number }).sampleId);
    expect(ids({ what: 'samples', verdict: 'run' })).toEqual([id.s1, id.s2]);
    expect(ids({ what: 'samples', verdict: 'not run' })).toEqual([id.s3, id.s4]);
    expect(ids({ what: 'samples', jobId: id.job1, model: 'm1' })).toEqual([id.s1, id.s2, id.s4]);
    expect(ids({ what: 'samples', jobId: id.job1, model: 'm1', verdict: 'pass' })).toEqual([id.s1]);
    expect(ids({ what: 'samples', jobId: id.job1, model: 'm1', verdict: 'not run' })).toEqual([id.s4]);
    expect(ids({ what: 'samples', jobId: id.job2, model: 'm1' })).toEqual([]);
    expect(ids({ what: 'samples', model: 'm2', verdict: 'not run' })).toEqual([id.s3]);
    // Another comparator, other verdicts.
    expect(ids({ what: 'samples', verdict: 'run' }, 'apps')).toEqual([id.s4]);
    expect(ids({ what: 'samples', jobId: id.job1, model: 'm1', verdict: 'pass' }, 'apps')).toEqual([id.s4]);
    expect(items({ what: 'samples', verdict: 'not run' }, 'strict', 1)).toEqual({ total: 2, items: [sample('s3', 'tA1', 3, 'job2', 'm2', 'not run')] });
  });
});
