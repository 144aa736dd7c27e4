// A reviewer's edit as the pairs stage stores it (server/pairs/review.ts saveChosenEdit): the verdict
// of its tests always with the isolation mode they ran in (pair_edits and provenance.reviewerEdit),
// the samples the replaced side was, and undo of the edit. The engine-level flows (a real run in the
// sandbox, the room's requests) are in test/integration/review/edit.test.ts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { saveChosenEdit, undoLast, type ChosenEdit } from '../../../server/pairs/review';
import { getPair } from '../../../server/pairs/store';
import type { Isolation } from '../../../server/protocol';
import { openProject, type Project } from '../../../server/store/db';
import { addDataset, addPairs, addProblem, addSample, addSampleJob, addSolution, addTarget, pairOnTarget } from '../../support/fixtures';

let dir: string;
let p: Project;
let pairId: number;
let sampleId: number;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'pair-review-'));
  p = openProject(path.join(dir, 'p.sqlite'));
  const problemId = addProblem(p, { datasetId: addDataset(p) });
  const target = addTarget(p, { solutionId: addSolution(p, { problemId }), mid: 'x = 1' });
  sampleId = addSample(p, { jobId: addSampleJob(p), targetId: target, middle: 'x = 1' });
  [pairId] = addPairs(p, [pairOnTarget(p, target, { rejected: 'x = 2', provenance: { chosen: { samples: [sampleId] }, rejected: { samples: [] } } })]);
});
afterEach(() => {
  p.close();
  rmSync(dir, { recursive: true, force: true });
});

const edit = (text: string, run?: ChosenEdit['run']): number =>
  saveChosenEdit(p, { pairId, text, chosenSpans: [[0, text.length]], rejectedSpans: [[0, 5]], provenance: getPair(p, pairId)!.provenance, editDistance: 1, flags: [], ...(run ? { run } : {}), reviewer: 'r', now: '2026-02-01T00:00:00.000Z' });
const row = (id: number) => p.db.prepare('SELECT verdict, isolation, details FROM pair_edits WHERE id = ?').get(id);

describe('saveChosenEdit', () => {
  it('stores the verdict with its isolation mode and details, in pair_edits and provenance.reviewerEdit, with the sample the side was', () => {
    const id = edit('x = 3', { verdict: 'pass', tests: [{ ordinal: 0, verdict: 'pass', durationMs: 1 }], isolation: 'bwrap-root' });
    expect(row(id)).toEqual({ verdict: 'pass', isolation: 'bwrap-root', details: JSON.stringify([{ ordinal: 0, verdict: 'pass', durationMs: 1 }]) });
    expect(getPair(p, pairId)!.provenance.reviewerEdit).toEqual({
      id,
      reviewer: 'r',
      at: '2026-02-01T00:00:00.000Z',
      replaced: 'x = 1',
      replacedSamples: [sampleId],
      replacedEdit: null,
      verdict: 'pass',
      isolation: 'bwrap-root',
    });
    // An edit of the edit replaced no sample: it names the earlier edit.
    const second = edit('x = 4', { verdict: 'wrong_answer', tests: [], isolation: 'none' });
    expect(getPair(p, pairId)!.provenance.reviewerEdit).toMatchObject({ id: second, replaced: 'x = 3', replacedSamples: [], replacedEdit: id, isolation: 'none' });
    expect(undoLast(p)?.action).toBe('edit');
    expect(getPair(p, pairId)!.provenance.reviewerEdit).toMatchObject({ id, replacedSamples: [sampleId] });
    undoLast(p);
    expect(getPair(p, pairId)).toMatchObject({ chosen: 'x = 1', provenance: { chosen: { samples: [sampleId] } } });
    expect(getPair(p, pairId)!.provenance.reviewerEdit).toBeUndefined();
  });

  it('an edit whose tests did not run has no verdict and no mode; a mode that is none of the four is refused', () => {
    const id = edit('x = 3');
    expect(row(id)).toEqual({ verdict: null, isolation: null, details: null });
    expect(getPair(p, pairId)!.provenance.reviewerEdit).toMatchObject({ verdict: null, isolation: null });
    expect(() => edit('x = 5', { verdict: 'pass', tests: [], isolation: 'bwrap' as Isolation })).toThrow(/CHECK constraint failed/);
    expect(getPair(p, pairId)!.chosen).toBe('x = 3');
  });
});
