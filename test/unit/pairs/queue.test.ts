// The review queue's SQL (server/pairs/queue.ts) on a hand-built project: every filter the room
// and the dashboard set, the sort by margin in a chosen scoring run (lowest first, unscored last),
// and a pair's position in the queue, each checked against what the rows themselves say.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queueCounts, queueIndexOf, queueNextIndex, queuePage } from '../../../server/pairs/queue';
import { decide, undoLast } from '../../../server/pairs/review';
import type { PairFlag, PairQueueQuery, PairStatus, Verdict } from '../../../server/protocol';
import { marginJoin } from '../../../server/scoring/store';
import { openProject, type Project } from '../../../server/store/db';
import { addDataset, addPairs, addProblem, addSample, addSampleJob, addScoringRun, addSolution, addTarget, type PairSpec } from '../../support/fixtures';

interface Made {
  id: number;
  blockKind: string;
  depth: number;
  status: PairStatus;
  verdict: Verdict;
  flags: PairFlag[];
  editDistance: number;
  rejected: string;
}

let dir = '';
let p: Project;
const made: Made[] = [];
/** Margins in the second run: a permutation of the pairs, the last pair left unscored. */
const margins = new Map<number, number>();
let run1 = 0;
let run2 = 0;

const KINDS = ['if', 'for', 'while', 'def'];
const VERDICTS: Verdict[] = ['wrong_answer', 'runtime_error', 'timeout'];
const STATUSES: PairStatus[] = ['pending', 'accepted', 'rejected', 'pending', 'flagged'];

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'pairforge-queue-'));
  p = openProject(path.join(dir, 'project.sqlite'));
  const problem = addProblem(p, { datasetId: addDataset(p), question: 'Sum the even numbers.' });
  const specs: PairSpec[] = [];
  for (let i = 0; i < 20; i++) {
    const verdict = VERDICTS[i % 3];
    const rejected = i % 6 === 0 ? `    if x %% 2 == 1:\n        total += x  # needle ${i}` : `    if x % 2 != ${i}:\n        total += x`;
    specs.push({
      problemId: problem,
      chosen: `    if x % 2 == 0:\n        total += x  # ${i}`,
      rejected,
      blockKind: KINDS[i % 4],
      depth: 1 + (i % 3),
      editDistance: (i * 7) % 11,
      flags: i % 5 === 1 ? ['too_long'] : [],
      provenance: { rejected: { verdict } },
      status: STATUSES[i % 5],
      note: STATUSES[i % 5] === 'flagged' ? 'odd' : undefined,
    });
  }
  const ids = addPairs(p, specs);
  ids.forEach((id, i) =>
    made.push({
      id,
      blockKind: KINDS[i % 4],
      depth: 1 + (i % 3),
      status: STATUSES[i % 5],
      verdict: VERDICTS[i % 3],
      flags: i % 5 === 1 ? ['too_long'] : [],
      editDistance: (i * 7) % 11,
      rejected: specs[i].rejected,
    }),
  );
  // Run 1: margins rising with the id; run 2: a shuffled order, some negative, the last unscored.
  run1 = addScoringRun(p, { policyModel: 'before', margins: new Map(ids.map((id, k) => [id, k])) });
  ids.slice(0, -1).forEach((id, k) => margins.set(id, ((k * 7) % 19) - 9 + k / 100));
  run2 = addScoringRun(p, { policyModel: 'after', margins, alsoPairs: [ids.at(-1)!] });
});

afterAll(() => {
  p?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Every row of the queue under a query, a page of 7 at a time (pages meet without gaps). */
function all(q: PairQueueQuery): { ids: number[]; margins: (number | null)[]; total: number } {
  const score = q.runId !== undefined ? marginJoin(q.runId) : undefined;
  const ids: number[] = [];
  const ms: (number | null)[] = [];
  let total = -1;
  for (let offset = 0; total < 0 || offset < total; offset += 7) {
    const page = queuePage(p, q, offset, 7, score);
    total = page.total;
    for (const r of page.rows) {
      ids.push(r.pairId);
      ms.push(r.margin);
    }
    if (page.rows.length === 0) break;
  }
  return { ids, margins: ms, total };
}

const idsWhere = (pred: (m: Made) => boolean) => made.filter(pred).map((m) => m.id);

describe('the review queue', () => {
  it('sorts by margin in the chosen run: the policy prefers the rejected side first, unscored last', () => {
    const q = all({ runId: run2, sort: 'margin' });
    const scored = [...margins].sort((a, b) => a[1] - b[1] || a[0] - b[0]).map(([id]) => id);
    expect(q.ids).toEqual([...scored, made.at(-1)!.id]);
    expect(q.margins.slice(0, -1)).toEqual(scored.map((id) => expect.closeTo(margins.get(id)!, 5)));
    expect(q.margins.at(-1)).toBeNull();
    expect(q.margins[0]).toBeLessThan(0);
    // Descending: the best first, the unscored pair still last.
    expect(all({ runId: run2, sort: 'margin', descending: true }).ids).toEqual([...[...scored].reverse(), made.at(-1)!.id]);
    // Another run, another order: the run is what decides.
    expect(all({ runId: run1, sort: 'margin' }).ids).toEqual(made.map((m) => m.id));
    // Without a run there is no margin to sort by: id order, no margins shown.
    const none = all({ sort: 'margin' });
    expect(none.ids).toEqual(made.map((m) => m.id));
    expect(none.margins.every((m) => m === null)).toBe(true);
  });

  it('sorts by edit distance, ties by id', () => {
    const want = [...made].sort((a, b) => a.editDistance - b.editDistance || a.id - b.id).map((m) => m.id);
    expect(all({ sort: 'edit_distance' }).ids).toEqual(want);
  });

  it('filters by block kind, depth, rejected verdict, status and flags, alone and together', () => {
    const cases: [PairQueueQuery, (m: Made) => boolean][] = [
      [{ blockKinds: ['for', 'def'] }, (m) => m.blockKind === 'for' || m.blockKind === 'def'],
      [{ depths: [2] }, (m) => m.depth === 2],
      [{ rejectedVerdicts: ['timeout'] }, (m) => m.verdict === 'timeout'],
      [{ statuses: ['pending', 'flagged'] }, (m) => m.status === 'pending' || m.status === 'flagged'],
      [{ flags: 'any' }, (m) => m.flags.length > 0],
      [{ flags: 'none' }, (m) => m.flags.length === 0],
      [{ flags: ['too_long'] }, (m) => m.flags.includes('too_long')],
      [{ blockKinds: ['if'], depths: [1], rejectedVerdicts: ['wrong_answer'] }, (m) => m.blockKind === 'if' && m.depth === 1 && m.verdict === 'wrong_answer'],
    ];
    for (const [query, pred] of cases) {
      const want = idsWhere(pred);
      expect(want.length, JSON.stringify(query)).toBeGreaterThan(0);
      const got = all(query);
      expect(got.ids, JSON.stringify(query)).toEqual(want);
      expect(got.total).toBe(want.length);
      const counts = queueCounts(p, query);
      for (const s of ['pending', 'accepted', 'rejected', 'flagged'] as const) expect(counts[s], `${JSON.stringify(query)} ${s}`).toBe(made.filter((m) => pred(m) && m.status === s).length);
    }
  });

  it('filters by a margin range in the chosen run (unscored pairs are outside every range)', () => {
    const q: PairQueueQuery = { runId: run2, marginMin: -3, marginMax: 2.5 };
    const want = [...margins].filter(([, m]) => m >= -3 && m <= 2.5).map(([id]) => id).sort((a, b) => a - b);
    expect(want.length).toBeGreaterThan(2);
    const got = all(q);
    expect(got.ids).toEqual(want);
    expect(got.total).toBe(want.length);
    const counts = queueCounts(p, q, marginJoin(run2));
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(want.length);
  });

  it('searches the problem, chosen and rejected by words and word prefixes', () => {
    expect(all({ search: 'needle' }).ids).toEqual(idsWhere((m) => m.rejected.includes('needle')));
    expect(all({ search: 'need 12' }).ids).toEqual(idsWhere((m) => m.rejected.includes('needle 12')));
    expect(all({ search: 'even numbers' }).total).toBe(made.length);
    expect(all({ search: '"; DROP TABLE pairs; --' }).total).toBe(0);
    expect(all({}).total).toBe(made.length);
  });

  it("gives a pair's position under the same query, or -1 when the query leaves it out", () => {
    for (const query of [{}, { runId: run2, sort: 'margin' }, { runId: run2, sort: 'margin', descending: true }, { depths: [3] }, { sort: 'edit_distance' }] as PairQueueQuery[]) {
      const { ids } = all(query);
      const score = query.runId !== undefined ? marginJoin(query.runId) : undefined;
      for (const m of made) expect(queueIndexOf(p, query, m.id, score), `${JSON.stringify(query)} pair ${m.id}`).toBe(ids.indexOf(m.id));
    }
    expect(queueIndexOf(p, {}, 10_000)).toBe(-1);
  });

  it('finds the next pair of a status after a position, in the queue\'s order (the room\'s n)', () => {
    const status = new Map(made.map((m) => [m.id, m.status]));
    for (const query of [{}, { runId: run2, sort: 'margin' }, { sort: 'edit_distance', descending: true }, { depths: [1, 2] }] as PairQueueQuery[]) {
      const { ids } = all(query);
      const score = query.runId !== undefined ? marginJoin(query.runId) : undefined;
      for (const s of ['pending', 'flagged'] as const) {
        for (let after = -1; after < ids.length; after++) {
          const want = ids.findIndex((id, i) => i > after && status.get(id) === s);
          expect(queueNextIndex(p, query, after, s, score), `${JSON.stringify(query)} ${s} after ${after}`).toBe(want);
        }
      }
    }
  });
});

describe('the review queue by review day', () => {
  let dir2 = '';
  let q: Project;
  const pair: Record<string, number> = {};

  beforeAll(() => {
    dir2 = mkdtempSync(path.join(tmpdir(), 'pairforge-queue-day-'));
    q = openProject(path.join(dir2, 'project.sqlite'));
    const problem = addProblem(q, { datasetId: addDataset(q), question: 'Count.' });
    const ids = addPairs(q, ['a', 'b', 'c', 'd', 'e'].map((k) => ({ problemId: problem, chosen: `x = '${k}'\n`, rejected: `x = ${k}\n` })));
    [pair.a, pair.b, pair.c, pair.d, pair.e] = ids;
    const at = (day: string, time = '10:00:00.000') => `${day}T${time}Z`;
    decide(q, { pairIds: [pair.a, pair.b], status: 'accepted', reviewer: 't', now: at('2026-03-01', '00:00:00.000') });
    decide(q, { pairIds: [pair.b], status: 'rejected', reviewer: 't', now: at('2026-03-02', '23:59:59.999') });
    decide(q, { pairIds: [pair.c], status: 'flagged', reviewer: 't', now: at('2026-03-02') });
    // Decided on the 2nd, then undone: no decision of that day any more.
    decide(q, { pairIds: [pair.d], status: 'accepted', reviewer: 't', now: at('2026-03-02') });
    undoLast(q, at('2026-03-02', '11:00:00.000'));
  });

  afterAll(() => {
    q?.close();
    if (dir2) rmSync(dir2, { recursive: true, force: true });
  });

  const ids = (query: PairQueueQuery) => queuePage(q, query, 0, 100).rows.map((r) => r.pairId);

  it('lists the pairs with a decision that day (UTC), not undone, with the status asked', () => {
    expect(ids({ reviewedOn: '2026-03-01' })).toEqual([pair.a, pair.b]);
    expect(ids({ reviewedOn: '2026-03-02' })).toEqual([pair.b, pair.c]);
    // The dashboard's bar: the day and the status (a pair decided again since has its new status).
    expect(ids({ reviewedOn: '2026-03-02', statuses: ['rejected'] })).toEqual([pair.b]);
    expect(ids({ reviewedOn: '2026-03-01', statuses: ['accepted'] })).toEqual([pair.a]);
    expect(queueCounts(q, { reviewedOn: '2026-03-02' })).toEqual(expect.objectContaining({ rejected: 1, flagged: 1, accepted: 0, pending: 0 }));
    expect(ids({ reviewedOn: '2026-03-03' })).toEqual([]);
    expect(ids({ reviewedOn: '2026-03' })).toEqual([]); // not a day: nothing
    expect(queueIndexOf(q, { reviewedOn: '2026-03-02' }, pair.c)).toBe(1);
  });
});

describe('the review queue by the rejected side\'s sampling job and model', () => {
  let dir3 = '';
  let q: Project;
  const pair: Record<string, number> = {};
  let job1 = 0;
  let job2 = 0;

  beforeAll(() => {
    dir3 = mkdtempSync(path.join(tmpdir(), 'pairforge-queue-job-'));
    q = openProject(path.join(dir3, 'project.sqlite'));
    const problem = addProblem(q, { datasetId: addDataset(q), question: 'Count.' });
    const target = addTarget(q, { solutionId: addSolution(q, { problemId: problem }) });
    job1 = addSampleJob(q);
    job2 = addSampleJob(q);
    const s1 = addSample(q, { jobId: job1, targetId: target, middle: 'a\n', model: 'm1' });
    const s2 = addSample(q, { jobId: job1, targetId: target, middle: 'b\n', model: 'm2' });
    const s3 = addSample(q, { jobId: job2, targetId: target, middle: 'c\n', model: 'm1' });
    const s4 = addSample(q, { jobId: job2, targetId: target, middle: 'd\n', model: 'm1' });
    const fim = (k: string, samples: number[], verdict: Verdict): PairSpec => ({
      problemId: problem,
      targetId: target,
      chosen: `x = '${k}'\n`,
      rejected: `x = ${k}\n`,
      provenance: { rejected: { samples, verdicts: [verdict] } },
    });
    [pair.p1, pair.p2, pair.p3, pair.p4, pair.p5] = addPairs(q, [
      fim('p1', [s1], 'wrong_answer'),
      fim('p2', [s2], 'wrong_answer'),
      // A rejected side several samples were: any of them counts.
      fim('p3', [s3, s1], 'timeout'),
      fim('p4', [s4], 'timeout'),
      // A history pair: its rejected side is a version, no sample.
      { problemId: problem, chosen: 'x = 1\n', rejected: 'x = 2\n', provenance: { rejected: { verdict: 'wrong_answer' } } },
    ]);
  });

  afterAll(() => {
    q?.close();
    if (dir3) rmSync(dir3, { recursive: true, force: true });
  });

  const ids = (query: PairQueueQuery) => queuePage(q, query, 0, 100).rows.map((r) => r.pairId);

  it('lists the pairs whose rejected side is a sample of that job and model', () => {
    expect(ids({ rejectedSampleJob: { jobId: job1, model: 'm1' } })).toEqual([pair.p1, pair.p3]);
    expect(ids({ rejectedSampleJob: { jobId: job1, model: 'm2' } })).toEqual([pair.p2]);
    expect(ids({ rejectedSampleJob: { jobId: job2, model: 'm1' } })).toEqual([pair.p3, pair.p4]);
    expect(ids({ rejectedSampleJob: { jobId: job2, model: 'm2' } })).toEqual([]);
    // The dashboard's segment: the job and model with the verdict.
    expect(ids({ rejectedSampleJob: { jobId: job1, model: 'm1' }, rejectedVerdicts: ['wrong_answer'] })).toEqual([pair.p1]);
    expect(ids({ rejectedSampleJob: { jobId: job2, model: 'm1' }, rejectedVerdicts: ['timeout'] })).toEqual([pair.p3, pair.p4]);
    expect(ids({ rejectedVerdicts: ['wrong_answer'] })).toEqual([pair.p1, pair.p2, pair.p5]);
    expect(queueCounts(q, { rejectedSampleJob: { jobId: job1, model: 'm1' } }).pending).toBe(2);
  });
});
