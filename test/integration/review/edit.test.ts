// Fixing a pair in place, on the engine server in-process (test/support/inProcess.ts: the real
// features, the real store, the real sandbox): RunPairTestsRequest on an edited chosen side,
// SavePairEditRequest (the edit stored with its verdict and the isolation mode, the pair's chosen
// side and loss spans recomputed, the old side kept with the sample it came from), and
// UndoReviewRequest after edits and decisions, also once the project was closed and reopened.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { iterPrefSpans } from '../../../server/pairs/iterpref';
import { levenshtein } from '../../../server/pairs/levenshtein';
import { wholeSpan } from '../../../server/pairs/lcs';
import { getPair, type PairRecord } from '../../../server/pairs/store';
import {
  ConfigureNotification,
  PairDetailRequest,
  ReviewDecisionRequest,
  RunPairTestsRequest,
  SavePairEditRequest,
  UndoReviewRequest,
  type EngineSettings,
  type PairDetail,
} from '../../../server/protocol';
import { openProject, type Project } from '../../../server/store/db';
import {
  addDataset,
  addExecution,
  addHistory,
  addPairs,
  addProblem,
  addSample,
  addSampleJob,
  addSolution,
  addStdioTest,
  addTarget,
  pairOnTarget,
} from '../../support/fixtures';
import { startInProcess, type InProcessServer } from '../../support/inProcess';

/** The mode the engine picks on this machine (root: bubblewrap as nobody). */
const STRONGEST = process.getuid?.() === 0 ? 'bwrap-nobody' : 'bwrap-user';
const REVIEWER = os.userInfo().username;

// Two numbers on a line; print their sum.
const READ = 'a, b = map(int, input().split())\n';
const GOLDEN = 'if a >= 0:\n    print(a + b)\nelse:\n    print(b + a)';
const WRONG = 'if a >= 0:\n    print(a - b)\nelse:\n    print(b + a)';
const FIXED = 'if a >= 0:\n    print(b + a)\nelse:\n    print(a + b)';
const BROKEN = 'if a >= 0:\n    print(a * b)\nelse:\n    print(a + b)';
const UNPARSABLE = 'if a >= 0\n    print(a + b)';
// An IterPref pair's sides are whole programs.
const HISTORY_GOOD = `${READ}s = a + b\nprint(s)\n`;
const HISTORY_BAD = `${READ}s = a - b\nprint(s)\n`;
const HISTORY_EDIT = `${READ}total = b + a\nprint(total)\n`;

interface Built {
  file: string;
  /** A FIM pair: chosen sample against rejected sample of one target. */
  fim: number;
  /** An IterPref pair of a history. */
  history: number;
  chosenSample: number;
  rejectedSample: number;
}

let dir = '';
let server: InProcessServer;
let made = 0;

function settings(dbPath: string, trusted = true): EngineSettings {
  // workers: 1 on these 2-core machines; a short timeout keeps a broken program quick.
  return { dbPath, preset: 'structurecoder', extraKinds: [], trusted, exec: { testTimeoutMs: 3000, memoryMB: 512, outputKB: 64, comparator: 'strict', workers: 1, allowUnsandboxed: false } };
}

/** A project of its own for a test: one problem with three stdio tests, a FIM pair from two
 * samples with their verdicts, and an IterPref pair of a two-version history. */
function build(): Built {
  const file = path.join(dir, `project-${++made}.sqlite`);
  const p = openProject(file);
  try {
    const problemId = addProblem(p, { datasetId: addDataset(p, { name: 'demo' }), externalId: 'sum', question: 'Print a + b.' });
    for (const [input, expected] of [
      ['1 2\n', '3\n'],
      ['4 5\n', '9\n'],
      ['-1 3\n', '2\n'],
    ]) {
      addStdioTest(p, { problemId, input, expected });
    }
    const solutionId = addSolution(p, { problemId, code: `${READ}${GOLDEN}\n` });
    const target = addTarget(p, { solutionId, pre: READ, mid: GOLDEN, suf: '\n', kind: 'if', depth: 1 });
    const jobId = addSampleJob(p);
    const chosenSample = addSample(p, { jobId, targetId: target, middle: GOLDEN });
    const rejectedSample = addSample(p, { jobId, targetId: target, middle: WRONG });
    const chosenRun = addExecution(p, { kind: 'sample', id: chosenSample, verdict: 'pass', testsRun: 3 });
    const rejectedRun = addExecution(p, { kind: 'sample', id: rejectedSample, verdict: 'wrong_answer', testsRun: 1, testsTotal: 3 });
    const history = addHistory(p, { problemId, versions: [HISTORY_BAD, HISTORY_GOOD] });
    const badRun = addExecution(p, { kind: 'version', id: history.versionIds[0], verdict: 'wrong_answer', testsRun: 1, testsTotal: 3 });
    const goodRun = addExecution(p, { kind: 'version', id: history.versionIds[1], verdict: 'pass', testsRun: 3 });
    const [fim, historyPair] = addPairs(p, [
      pairOnTarget(p, target, {
        rejected: WRONG,
        editDistance: levenshtein(GOLDEN, WRONG),
        provenance: {
          pairing: { mode: 'structurecoder', comparator: 'strict' },
          chosen: { samples: [chosenSample], executions: [chosenRun], verdicts: ['pass'] },
          rejected: { samples: [rejectedSample], executions: [rejectedRun], verdicts: ['wrong_answer'] },
        },
      }),
      {
        problemId,
        historyId: history.id,
        chosen: HISTORY_GOOD,
        rejected: HISTORY_BAD,
        provenance: {
          pairing: { mode: 'iterpref', comparator: 'strict', lines: 'lcs' },
          chosen: { versionId: history.versionIds[1], ordinal: 1, execution: goodRun, verdict: 'pass' },
          rejected: { versionId: history.versionIds[0], ordinal: 0, execution: badRun, verdict: 'wrong_answer' },
        },
      },
    ]);
    return { file, fim, history: historyPair, chosenSample, rejectedSample };
  } finally {
    p.close();
  }
}

/** A new project, and the server switched to it. */
async function project(): Promise<Built> {
  const b = build();
  await server.client.sendNotification(ConfigureNotification, settings(b.file));
  return b;
}

/** Reads the project file beside the server (WAL: the server keeps writing meanwhile). */
function read<T>(file: string, body: (p: Project) => T): T {
  const p = openProject(file, { readonly: true });
  try {
    return body(p);
  } finally {
    p.close();
  }
}

const pairOf = (file: string, id: number): PairRecord => read(file, (p) => getPair(p, id)!);

interface EditRow {
  pair_id: number;
  new_text: string;
  old_text: string;
  old_chosen_spans: string;
  old_provenance: string;
  verdict: string | null;
  details: string | null;
  isolation: string | null;
  reviewer: string;
  undone_at: string | null;
}
const editsOf = (file: string, pairId: number): EditRow[] =>
  read(file, (p) => p.db.prepare<[number], EditRow>('SELECT pair_id, new_text, old_text, old_chosen_spans, old_provenance, verdict, details, isolation, reviewer, undone_at FROM pair_edits WHERE pair_id = ? ORDER BY id').all(pairId));

const detail = (pairId: number): Promise<PairDetail> => server.client.sendRequest(PairDetailRequest, { pairId });
const undo = () => server.client.sendRequest(UndoReviewRequest, {});
const roles = (d: PairDetail) => d.candidates.map((c) => [c.sampleId, c.role ?? null]);

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'pairforge-review-edit-'));
  server = await startInProcess();
});

afterAll(async () => {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('fixing a pair in place (engine in-process, real sandbox)', () => {
  it('RunPairTestsRequest runs the edited chosen side in the sandbox: pass, wrong_answer, compile_error, each with the isolation mode; nothing is stored', async () => {
    const b = await project();
    const before = pairOf(b.file, b.fim);
    const ok = await server.client.sendRequest(RunPairTestsRequest, { pairId: b.fim, chosen: FIXED, workDoneToken: 'run-1' });
    expect(ok).toMatchObject({ verdict: 'pass', testsTotal: 3, isolation: STRONGEST });
    expect(ok.tests.map((t) => t.verdict)).toEqual(['pass', 'pass', 'pass']);
    expect(server.progress.get('run-1')?.[0]).toMatchObject({ kind: 'begin', title: `Running the tests of pair ${b.fim}` });

    const wrong = await server.client.sendRequest(RunPairTestsRequest, { pairId: b.fim, chosen: BROKEN });
    expect(wrong).toMatchObject({ verdict: 'wrong_answer', testsTotal: 3, isolation: STRONGEST });
    // Every test runs (a reviewer wants to see each failure): 1*2 and 4*5 are wrong, -1+3 is right.
    expect(wrong.tests.map((t) => t.verdict)).toEqual(['wrong_answer', 'wrong_answer', 'pass']);
    expect(wrong.tests[0]).toMatchObject({ expected: '3\n', output: '2\n' });

    const unparsable = await server.client.sendRequest(RunPairTestsRequest, { pairId: b.fim, chosen: UNPARSABLE });
    expect(unparsable).toMatchObject({ verdict: 'compile_error', isolation: STRONGEST });
    expect(unparsable.tests[0].message).toMatch(/^SyntaxError/);

    // A whole program (IterPref) runs as it is.
    expect(await server.client.sendRequest(RunPairTestsRequest, { pairId: b.history, chosen: HISTORY_EDIT })).toMatchObject({ verdict: 'pass', isolation: STRONGEST });

    expect(pairOf(b.file, b.fim)).toEqual(before);
    expect(editsOf(b.file, b.fim)).toEqual([]);
  });

  it('refuses an empty chosen side, a pair that does not exist, and (untrusted) any run', async () => {
    const b = await project();
    await expect(server.client.sendRequest(SavePairEditRequest, { pairId: b.fim, chosen: '  \n' })).rejects.toThrow('save edit: the chosen side is empty');
    await expect(server.client.sendRequest(RunPairTestsRequest, { pairId: 999, chosen: FIXED })).rejects.toThrow(/no pair 999/);
    await server.client.sendNotification(ConfigureNotification, settings(b.file, false));
    await expect(server.client.sendRequest(SavePairEditRequest, { pairId: b.fim, chosen: FIXED })).rejects.toThrow(/save edit: this workspace is not trusted/);
    await expect(server.client.sendRequest(RunPairTestsRequest, { pairId: b.fim, chosen: FIXED })).rejects.toThrow(/run tests: this workspace is not trusted/);
    expect(editsOf(b.file, b.fim)).toEqual([]);
  });

  it('SavePairEditRequest stores the edit with its verdict and isolation mode, recomputes the chosen side and its spans, and keeps the old side with the sample it came from', async () => {
    const b = await project();
    const before = pairOf(b.file, b.fim);
    expect(roles(await detail(b.fim))).toEqual([
      [b.chosenSample, 'chosen'],
      [b.rejectedSample, 'rejected'],
    ]);

    const saved = await server.client.sendRequest(SavePairEditRequest, { pairId: b.fim, chosen: FIXED, workDoneToken: 'save-1' });
    expect(server.progress.get('save-1')?.[0]).toMatchObject({ kind: 'begin', title: `Testing and saving the edit of pair ${b.fim}` });
    // The answer is the pair as the room shows it now.
    expect(saved).toMatchObject({ pairId: b.fim, status: 'pending', chosen: FIXED, rejected: WRONG, chosenSpans: wholeSpan(FIXED), editDistance: levenshtein(FIXED, WRONG) });
    expect(saved.edit).toEqual({ id: expect.any(Number), reviewer: REVIEWER, at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), replaced: GOLDEN, replacedSamples: [b.chosenSample], verdict: 'pass', isolation: STRONGEST });
    // The replaced sample is no longer labelled the chosen side; the run that passed it is not shown for the edit.
    expect(roles(saved)).toEqual([
      [b.chosenSample, 'replaced'],
      [b.rejectedSample, 'rejected'],
    ]);
    expect(saved.chosenRun).toBeUndefined();
    expect(saved.rejectedRun).toMatchObject({ verdict: 'wrong_answer' });
    expect(await detail(b.fim)).toEqual(saved);

    // Stored: the pair's new side and fields, its provenance with the reviewer's edit.
    const after = pairOf(b.file, b.fim);
    expect(after).toMatchObject({ chosen: FIXED, chosenSpans: wholeSpan(FIXED), rejectedSpans: before.rejectedSpans, editDistance: levenshtein(FIXED, WRONG), status: 'pending' });
    expect(after.provenance.reviewerEdit).toEqual({ ...saved.edit, replacedEdit: null });
    expect(after.provenance.chosen).toEqual(before.provenance.chosen);
    // ... and pair_edits: the verdict with its details and isolation mode, and all it replaced.
    const [row] = editsOf(b.file, b.fim);
    expect(row).toMatchObject({ new_text: FIXED, old_text: GOLDEN, verdict: 'pass', isolation: STRONGEST, reviewer: REVIEWER, undone_at: null });
    expect(JSON.parse(row.old_chosen_spans)).toEqual(before.chosenSpans);
    expect(JSON.parse(row.old_provenance)).toEqual(before.provenance);
    expect((JSON.parse(row.details!) as { verdict: string }[]).map((t) => t.verdict)).toEqual(['pass', 'pass', 'pass']);
  });

  it('SavePairEditRequest saves an edit that fails its tests (not refused), with its failing verdict; an IterPref pair gets its critical-line spans recomputed', async () => {
    const b = await project();
    const before = pairOf(b.file, b.history);
    const broken = `${READ}total = a * b\nprint(total)\n`;
    const saved = await server.client.sendRequest(SavePairEditRequest, { pairId: b.history, chosen: broken });
    const expected = iterPrefSpans(broken, HISTORY_BAD);
    expect(saved).toMatchObject({
      chosen: broken,
      chosenSpans: expected.chosenSpans,
      rejectedSpans: expected.rejectedSpans,
      editDistance: expected.diff.rejectedCritical.length + expected.diff.chosenCritical.length,
    });
    // A history side is no sample: nothing to name, no candidates to relabel.
    expect(saved.edit).toMatchObject({ verdict: 'wrong_answer', isolation: STRONGEST, replaced: HISTORY_GOOD, replacedSamples: [] });
    expect(saved.candidates).toEqual([]);
    expect(saved.rejectedSpans).not.toEqual(before.rejectedSpans);
    expect(editsOf(b.file, b.history)).toMatchObject([{ verdict: 'wrong_answer', isolation: STRONGEST }]);

    // An IterPref edit that passes: its rejected spans follow the new critical lines.
    const fixed = await server.client.sendRequest(SavePairEditRequest, { pairId: b.history, chosen: HISTORY_EDIT });
    expect(fixed.rejectedSpans).toEqual(iterPrefSpans(HISTORY_EDIT, HISTORY_BAD).rejectedSpans);
    expect(fixed.edit).toMatchObject({ verdict: 'pass', isolation: STRONGEST });
  });

  it('UndoReviewRequest restores the old chosen side, its spans and the candidate roles; an edit of an edit is undone one at a time', async () => {
    const b = await project();
    const before = pairOf(b.file, b.fim);
    const shownBefore = await detail(b.fim);
    const first = await server.client.sendRequest(SavePairEditRequest, { pairId: b.fim, chosen: FIXED });
    // A second edit replaces the first: no sample, the earlier edit instead.
    const second = await server.client.sendRequest(SavePairEditRequest, { pairId: b.fim, chosen: BROKEN });
    expect(second.edit).toMatchObject({ replaced: FIXED, replacedSamples: [], verdict: 'wrong_answer', isolation: STRONGEST });
    expect(pairOf(b.file, b.fim).provenance.reviewerEdit).toMatchObject({ replacedEdit: first.edit!.id });
    expect(roles(second)).toEqual([
      [b.chosenSample, 'replaced'],
      [b.rejectedSample, 'rejected'],
    ]);

    expect(await undo()).toEqual({ action: 'edit', pairs: [{ pairId: b.fim, status: 'pending' }] });
    expect(await detail(b.fim)).toEqual(first);

    expect(await undo()).toEqual({ action: 'edit', pairs: [{ pairId: b.fim, status: 'pending' }] });
    const restored = pairOf(b.file, b.fim);
    expect(restored).toEqual({ ...before, updatedAt: restored.updatedAt });
    expect(restored.provenance.reviewerEdit).toBeUndefined();
    expect(await detail(b.fim)).toEqual(shownBefore);
    expect(roles(shownBefore)[0]).toEqual([b.chosenSample, 'chosen']);
    // The edits are kept, marked undone.
    expect(editsOf(b.file, b.fim).map((e) => [e.new_text, e.undone_at !== null])).toEqual([
      [FIXED, true],
      [BROKEN, true],
    ]);
    expect(await undo()).toBeNull();
  });

  it('decisions and an edit are undone newest first, a decision on several pairs at once', async () => {
    const b = await project();
    const decide = (pairIds: number[], status: 'accepted' | 'rejected' | 'flagged', note?: string) =>
      server.client.sendRequest(ReviewDecisionRequest, { pairIds, status, ...(note !== undefined ? { note } : {}) });
    const status = async (id: number) => (await detail(id)).status;

    expect(await decide([b.fim, b.history], 'accepted')).toMatchObject({ updated: 2 });
    await server.client.sendRequest(SavePairEditRequest, { pairId: b.fim, chosen: FIXED });
    expect(await decide([b.fim], 'flagged', 'check the else branch')).toMatchObject({ updated: 1 });
    expect(await detail(b.fim)).toMatchObject({ status: 'flagged', note: 'check the else branch', chosen: FIXED });

    expect(await undo()).toEqual({ action: 'status', pairs: [{ pairId: b.fim, status: 'accepted' }] });
    expect(await detail(b.fim)).toMatchObject({ status: 'accepted', note: null, chosen: FIXED });
    // The edit keeps the status the pair has.
    expect(await undo()).toEqual({ action: 'edit', pairs: [{ pairId: b.fim, status: 'accepted' }] });
    expect(await detail(b.fim)).toMatchObject({ status: 'accepted', chosen: GOLDEN });
    const both = await undo();
    expect(both?.action).toBe('status');
    expect([...(both?.pairs ?? [])].sort((x, y) => x.pairId - y.pairId)).toEqual([
      { pairId: b.fim, status: 'pending' },
      { pairId: b.history, status: 'pending' },
    ]);
    expect([await status(b.fim), await status(b.history)]).toEqual(['pending', 'pending']);
    expect(await undo()).toBeNull();
  });

  it('after the project is closed and reopened (a new engine in-process on the same file), undo still undoes the last action', async () => {
    const b = await project();
    const before = pairOf(b.file, b.fim);
    await server.client.sendRequest(ReviewDecisionRequest, { pairIds: [b.history], status: 'rejected' });
    await server.client.sendRequest(SavePairEditRequest, { pairId: b.fim, chosen: FIXED });
    // Shut the engine down (it closes the project file) and start another one on the file.
    await server.stop();
    server = await startInProcess();
    await server.client.sendNotification(ConfigureNotification, settings(b.file));

    expect(await detail(b.fim)).toMatchObject({ chosen: FIXED, edit: { verdict: 'pass', isolation: STRONGEST, replacedSamples: [b.chosenSample] } });
    expect(await undo()).toEqual({ action: 'edit', pairs: [{ pairId: b.fim, status: 'pending' }] });
    const restored = pairOf(b.file, b.fim);
    expect(restored).toEqual({ ...before, updatedAt: restored.updatedAt });
    expect(await undo()).toEqual({ action: 'status', pairs: [{ pairId: b.history, status: 'pending' }] });
    expect(await undo()).toBeNull();
  });
});
