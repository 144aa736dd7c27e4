// Score Pairs from the editor: the engine's request, in-process against the local stand-in. The
// selection is scored with the family the editor sends (pairforge.training.family: what is scored
// is what is trained), with work-done progress; a cancel stops the run with what it scored kept;
// the room's rewards request answers for a pair it scored.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CancellationTokenSource } from 'vscode-languageserver-protocol/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POLICY_MODEL_NAME, REFERENCE_MODEL_NAME, startLocalVllm, type LocalVllm } from '../../../server/localvllm';
import { ConfigureNotification, PairRewardsRequest, ScorePairsRequest, type PairRewardsView, type ScorePairsResult } from '../../../server/protocol';
import { listRuns } from '../../../server/scoring/store';
import { openProject } from '../../../server/store/db';
import { buildScoringProject } from '../../support/scoringProject';
import { startInProcess, type InProcessServer } from '../../support/inProcess';

let dir = '';
let db = '';
let srv: LocalVllm;
let slow: LocalVllm;
let server: InProcessServer;
let pairIds: number[] = [];

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'pairforge-scoring-editor-'));
  db = path.join(dir, 'project.sqlite');
  await buildScoringProject(db);
  const p = openProject(db);
  pairIds = (p.db.prepare('SELECT id FROM pairs ORDER BY id').all() as { id: number }[]).map((r) => r.id);
  p.close();
  srv = await startLocalVllm({ db, latencyMs: 2 });
  slow = await startLocalVllm({ db, latencyMs: 150 });
  server = await startInProcess();
  await server.client.sendNotification(ConfigureNotification.method, { dbPath: db, preset: 'structurecoder', extraKinds: [], trusted: true });
}, 120_000);

afterAll(async () => {
  await server?.stop();
  await srv?.close();
  await slow?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const endpoints = (s: LocalVllm) => ({ policy: { url: s.baseURL, model: POLICY_MODEL_NAME }, reference: { url: s.baseURL, model: REFERENCE_MODEL_NAME } });

function runsOf(): ReturnType<typeof listRuns> {
  const p = openProject(db, { readonly: true });
  try {
    return listRuns(p);
  } finally {
    p.close();
  }
}

describe('Score Pairs in the editor', () => {
  it('scores the selected pairs with the family sent, reporting progress; the room then reads their rewards', async () => {
    const chosen = pairIds.slice(0, 3);
    const r = (await server.client.sendRequest(ScorePairsRequest.method, { pairIds: chosen, ...endpoints(srv), family: 'deepseek-coder', concurrency: 4, workDoneToken: 'score-1' })) as ScorePairsResult;
    expect(r).toMatchObject({ status: 'done', pairs: 3, scoredPairs: 3, cancelled: false, failed: 0 });
    const run = runsOf().find((x) => x.id === r.runId)!;
    expect(run.family).toBe('deepseek-coder');
    const reports = server.progress.get('score-1') ?? [];
    expect(reports[0]).toMatchObject({ kind: 'begin', title: 'Scoring pairs', cancellable: true });
    expect(reports.some((x) => x.kind === 'report' && /^\d+ \/ 6 sides/.test(x.message ?? ''))).toBe(true);
    expect(reports.at(-1)).toMatchObject({ kind: 'end' });
    const view = (await server.client.sendRequest(PairRewardsRequest.method, { pairId: chosen[0], runId: r.runId })) as PairRewardsView;
    expect(view.runId).toBe(r.runId);
    expect(view.chosen.tokens.length).toBeGreaterThan(0);
    expect(view.margin).toBeCloseTo(view.chosen.maskedRewardSum - view.rejected.maskedRewardSum, 4);
    // A pair of no scoring in that run: an answer (the room's empty state), not an error.
    expect(await server.client.sendRequest(PairRewardsRequest.method, { pairId: pairIds.at(-1), runId: r.runId })).toBeNull();
  });

  it('a cancel stops the run: what it scored is kept, and it says so', async () => {
    const source = new CancellationTokenSource();
    const stop = setInterval(() => {
      if ((server.progress.get('score-2') ?? []).some((x) => x.kind === 'report' && /^[1-9]\d* \//.test(x.message ?? ''))) source.cancel();
    }, 5);
    let r: ScorePairsResult;
    try {
      r = (await server.client.sendRequest(ScorePairsRequest.method, { ...endpoints(slow), concurrency: 2, workDoneToken: 'score-2' }, source.token)) as ScorePairsResult;
    } finally {
      clearInterval(stop);
    }
    expect(r.cancelled).toBe(true);
    expect(r.status).toBe('stopped');
    expect(r.pairs).toBe(pairIds.length);
    expect(r.scoredPairs).toBeLessThan(pairIds.length);
    const run = runsOf().find((x) => x.id === r.runId)!;
    expect(run.status).toBe('stopped');
    expect(run.family).toBe('qwen2.5-coder');
  });
});
