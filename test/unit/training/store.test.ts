// The training tables (server/training/store.ts, migration 008) and reading heldout_tokens.jsonl.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openProject, type Project } from '../../../server/store/db';
import { createRun, type NewRun } from '../../../server/scoring/store';
import { readHeldout } from '../../../server/training/results';
import {
  addMetrics,
  clearMetrics,
  createTrainingRun,
  earlierRunDirs,
  findTrainingRun,
  getTrainingRun,
  interruptedSends,
  listTrainingRuns,
  metricsCount,
  metricsOf,
  trainingSummaries,
  updateTrainingRun,
  type NewTrainingRun,
} from '../../../server/training/store';

let dir: string;
let p: Project;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'pairforge-training-store-'));
  p = openProject(path.join(dir, 'p.sqlite'));
});
afterEach(() => {
  p.close();
  rmSync(dir, { recursive: true, force: true });
});

const NOW = '2026-12-07T04:00:00.000Z';
const run = (over: Partial<NewTrainingRun> = {}): NewTrainingRun => ({
  name: 'r1',
  host: 'gpu',
  sshConfig: null,
  sshOptions: ['ProxyJump=bastion'],
  remoteDir: '~/pairforge-runs',
  launcher: 'python',
  python: '~/.pairforge/venv/bin/python',
  model: null,
  tiny: true,
  config: { max_steps: 4 },
  sender: 'this-host 4242',
  ...over,
});

describe('training runs', () => {
  it("the dashboard's before/after: a run's held-out results over the policy's newest scoring before it, never another run's trained model", () => {
    const scoring = (at: string) =>
      createRun(
        p,
        { specKey: `k${at}`, policy: [{ url: 'http://gpu:8000', model: 'policy' }], reference: [{ url: 'http://gpu:8000', model: 'ref' }], beta: 0.1, topK: 0, format: 'fim', family: 'qwen2.5-coder', trainingSentence: false, addSpecialTokens: false, selection: 'all', tokenizer: null } satisfies NewRun,
        at,
      );
    const base = scoring('2026-12-07T01:00:00.000Z');
    const first = createTrainingRun(p, run({ name: 'first' }), '2026-12-07T02:00:00.000Z');
    const firstHeldOut = scoring('2026-12-07T02:10:00.000Z');
    updateTrainingRun(p, first, { status: 'succeeded', scoreRunId: firstHeldOut }, '2026-12-07T02:10:00.000Z');
    const second = createTrainingRun(p, run({ name: 'second' }), '2026-12-07T03:00:00.000Z');
    const secondHeldOut = scoring('2026-12-07T03:10:00.000Z');
    updateTrainingRun(p, second, { status: 'succeeded', scoreRunId: secondHeldOut }, '2026-12-07T03:10:00.000Z');
    const third = createTrainingRun(p, run({ name: 'third' }), '2026-12-07T04:00:00.000Z');
    expect(trainingSummaries(p).map((r) => [r.id, r.beforeRunId, r.afterRunId])).toEqual([
      [third, null, null],
      [second, base, secondHeldOut],
      [first, base, firstHeldOut],
    ]);
  });

  it('are recorded uploading, then updated field by field', () => {
    const id = createTrainingRun(p, run(), NOW);
    expect(getTrainingRun(p, id)).toMatchObject({ id, name: 'r1', status: 'uploading', sshOptions: ['ProxyJump=bastion'], tiny: true, config: { max_steps: 4 }, runDir: null, metricsOffset: 0 });
    updateTrainingRun(p, id, { runDir: '/home/me/runs/r1', status: 'running', remotePid: 42, exportOptions: { format: 'trl' }, uploadBytes: 100 }, '2026-12-07T04:00:05.000Z');
    expect(getTrainingRun(p, id)).toMatchObject({ runDir: '/home/me/runs/r1', status: 'running', remotePid: 42, exportOptions: { format: 'trl' }, updatedAt: '2026-12-07T04:00:05.000Z' });
  });

  it('a name is one folder per host and remote folder: taken names are refused, naming the run', () => {
    const id = createTrainingRun(p, run(), NOW);
    expect(() => createTrainingRun(p, run(), NOW)).toThrow(`the run name 'r1' is taken on gpu:~/pairforge-runs by run ${id} (uploading)`);
    createTrainingRun(p, run({ host: 'gpu2' }), NOW);
    createTrainingRun(p, run({ remoteDir: '/scratch' }), NOW);
    expect(listTrainingRuns(p).map((r) => r.id)).toEqual([id + 2, id + 1, id]);
  });

  it('are found by id or by name (the newest); an unknown one names the newest runs', () => {
    const a = createTrainingRun(p, run({ name: 'x' }), NOW);
    const b = createTrainingRun(p, run({ name: 'x', host: 'other' }), NOW);
    const c = createTrainingRun(p, run({ name: String(a + 100) }), NOW);
    expect(findTrainingRun(p, String(a)).id).toBe(a);
    expect(findTrainingRun(p, 'x').id).toBe(b);
    // A name that looks like an id that does not exist.
    expect(findTrainingRun(p, String(a + 100)).id).toBe(c);
    expect(() => findTrainingRun(p, 'nope')).toThrow(/no training run 'nope' .*\(newest: 3 '101', 2 'x', 1 'x'\)/);
  });

  it('earlier run folders on the same host hold an upload to link against', () => {
    const a = createTrainingRun(p, run({ name: 'a' }), NOW);
    const b = createTrainingRun(p, run({ name: 'b' }), NOW);
    const c = createTrainingRun(p, run({ name: 'c' }), NOW);
    const d = createTrainingRun(p, run({ name: 'd', host: 'elsewhere' }), NOW);
    updateTrainingRun(p, a, { runDir: '/r/a', uploadBytes: 10 }, NOW);
    updateTrainingRun(p, b, { runDir: '/r/b' }, NOW); // its upload failed
    updateTrainingRun(p, d, { runDir: '/r/d', uploadBytes: 10 }, NOW);
    expect(earlierRunDirs(p, 'gpu', c)).toEqual(['/r/a']);
  });
});

describe('sends cut short', () => {
  it('are the uploading runs of this machine whose sending process is gone', () => {
    const gone = createTrainingRun(p, run({ name: 'a', sender: 'this-host 11' }), NOW);
    createTrainingRun(p, run({ name: 'b', sender: 'this-host 12' }), NOW); // still sending
    createTrainingRun(p, run({ name: 'c', sender: 'other-host 11' }), NOW); // another machine's
    const started = createTrainingRun(p, run({ name: 'd', sender: 'this-host 11' }), NOW);
    updateTrainingRun(p, started, { status: 'running', sender: null }, NOW);
    expect(interruptedSends(p, 'this-host', (pid) => pid === 12).map((r) => r.id)).toEqual([gone]);
  });
});

describe('metrics', () => {
  it('are stored in order from the offset they were read at, once, and read again from 0 after a cut-back', () => {
    const id = createTrainingRun(p, run(), NOW);
    expect(addMetrics(p, id, 0, [{ step: 1, data: '{"step":1}' }, { step: 2, data: '{"step":2}' }], 22, NOW)).toBe(true);
    // A second follower that read from 0 too finds the offset moved: nothing doubled.
    expect(addMetrics(p, id, 0, [{ step: 1, data: '{"step":1}' }], 11, NOW)).toBe(false);
    expect(addMetrics(p, id, 22, [{ step: 3, data: '{"step":3}' }], 33, NOW)).toBe(true);
    expect(metricsOf(p, id).map((m) => [m.line, m.step])).toEqual([[1, 1], [2, 2], [3, 3]]);
    expect(getTrainingRun(p, id)!.metricsOffset).toBe(33);
    clearMetrics(p, id, NOW);
    expect(metricsCount(p, id)).toBe(0);
    expect(getTrainingRun(p, id)!.metricsOffset).toBe(0);
  });
});

describe('heldout_tokens.jsonl', () => {
  const line = (o: object) => JSON.stringify(o);
  const runLine = { type: 'run', format: 1, beta: 0.5, policy_model: 'model', reference_model: 'tiny-model', step: 8, family: 'qwen2.5-coder', training_sentence: false, add_special_tokens: true, export_sha256: 'ab' };
  const side = { type: 'side', pair_id: 2, pair_key: 'k', line: 1, side: 'chosen', format: 'fim', text_sha256: 'x', prompt_tokens: 3, token_ids: [1, 2], char_ranges: [[0, 1], [1, 2]], in_loss: [1, 0], logp_policy: [-1, -2], logp_ref: [-1, -2] };

  it('reads the run line and each side', () => {
    const f = path.join(dir, 'h.jsonl');
    writeFileSync(f, [line(runLine), line(side), line({ type: 'summary', pairs: 1 }), ''].join('\n'));
    const r = readHeldout(f);
    expect(r.run.beta).toBe(0.5);
    expect(r.sides).toEqual([{ line: 2, side }]);
  });

  it('bad lines are errors naming the file, line and field', () => {
    const f = path.join(dir, 'h.jsonl');
    writeFileSync(f, [line(runLine), line({ ...side, logp_ref: [-1] })].join('\n'));
    expect(() => readHeldout(f)).toThrow(`${f} line 2: logp_ref has 1 entries, token_ids 2`);
    writeFileSync(f, [line(runLine), line({ ...side, side: 'left' })].join('\n'));
    expect(() => readHeldout(f)).toThrow(`${f} line 2: side is "left"`);
    writeFileSync(f, line(side));
    expect(() => readHeldout(f)).toThrow(`${f}: no "run" line`);
    writeFileSync(f, '{"type": "run"');
    expect(() => readHeldout(f)).toThrow(`${f} line 1: not JSON`);
  });
});
