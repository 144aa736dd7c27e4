// The scoring tables: sides written once, the margin once both sides are in, the rewards a pair
// reads back (code point ranges, per-token rewards, loss mask, top-k), a pair edited since its
// scoring refused, the queue by margin served by its index, and the scored-pairs count.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { localTokenizer } from '../../../server/localvllm/tokenizer';
import { renderForTraining } from '../../../server/pairs/render';
import { tokenRanges } from '../../../server/scoring/offsets';
import { lossMask, pairMargin, sideSums } from '../../../server/scoring/rewards';
import { createRun, defaultRunOf, listRuns, pairRewards, pairsByMargin, sideWriter, textSha, type NewRun, type Side, type SideRow } from '../../../server/scoring/store';
import { projectStats } from '../../../server/pipeline/stats';
import { openProject, type Project } from '../../../server/store/db';
import { addDataset, addHistory, addPairs, addProblem } from '../../support/fixtures';

const NOW = '2026-01-01T00:00:00.000Z';
let dir: string;
let p: Project;

const CHOSEN = 'n = int(input())\nprint("🎉" * n)\n';
const REJECTED = 'n = int(input())\nprint("🎉" * (n + 1))\n';

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'scoring-store-'));
  p = openProject(path.join(dir, 'p.sqlite'));
  const problemId = addProblem(p, { datasetId: addDataset(p, { name: 'demo' }), externalId: 'p1', question: 'Party 🎉 n times.' });
  const historyId = addHistory(p, { problemId }).id;
  const rejectedOf = (k: number) => (k === 1 ? REJECTED : REJECTED.replace('n + 1', `n - ${k}`));
  // IterPref pairs (spans from the critical lines, as pairing computes them).
  addPairs(p, [1, 2, 3].map((k) => ({ pairKey: `ip:1:${k}`, problemId, historyId, chosen: CHOSEN, rejected: rejectedOf(k), editDistance: 1 })), NOW);
});
afterEach(() => {
  p.close();
  rmSync(dir, { recursive: true, force: true });
});

const run = (over: Partial<NewRun> = {}): NewRun => ({
  specKey: 'k',
  policy: [{ url: 'http://a', model: 'pol' }],
  reference: [{ url: 'http://a', model: 'ref' }],
  beta: 0.1,
  topK: 0,
  format: 'fim',
  family: 'qwen2.5-coder',
  trainingSentence: false,
  addSpecialTokens: true,
  selection: 'all',
  tokenizer: null,
  ...over,
});

/** A side as the job builds it, with log-probs made up from the token ids (policy > reference on
 * even ids), the local tokenizer, and the rendering the run uses. */
function sideRow(pairId: number, side: Side, topK = 0): SideRow {
  const pair = p.db.prepare<[number], { chosen: string; rejected: string; chosen_loss_spans: string; rejected_loss_spans: string }>('SELECT * FROM pairs WHERE id = ?').get(pairId)!;
  const r = renderForTraining(
    { question: 'Party 🎉 n times.', pre: '', suf: '', chosen: pair.chosen, rejected: pair.rejected, chosenSpans: JSON.parse(pair.chosen_loss_spans), rejectedSpans: JSON.parse(pair.rejected_loss_spans) },
    'fim',
    { family: 'qwen2.5-coder', trainingSentence: false },
  );
  const response = side === 'chosen' ? r.chosen : r.rejected;
  const tok = localTokenizer();
  const ids = tok.encode(response);
  const ranges = tokenRanges(response, ids.map((id) => tok.tokenString(id)))!;
  const lp = Float32Array.from(ids, (id) => -((id % 7) + 1) / 3);
  const lr = Float32Array.from(ids, (id) => -((id % 5) + 1) / 3);
  const mask = lossMask(ranges.ranges, side === 'chosen' ? r.chosenSpans : r.rejectedSpans);
  const sums = sideSums(lp, lr, mask, 0.1);
  const top = topK > 0 ? { ids: Int32Array.from({ length: ids.length * topK }, (_, i) => 300 + (i % topK)), logprobs: Float32Array.from({ length: ids.length * topK }, (_, i) => -(i % topK) - 0.5) } : null;
  return {
    pairId,
    side,
    format: r.format,
    textSha256: textSha(r.prompt, response),
    promptTokens: 10,
    spelling: ranges.spelling,
    tokenIds: ids,
    charRanges: ranges.ranges,
    lossMask: mask,
    logpPolicy: lp,
    logpRef: lr,
    topPolicy: top,
    topRef: top,
    ...sums,
    attempts: 1,
    createdAt: NOW,
  };
}

describe('scored sides and margins', () => {
  it('a side is written once; the margin appears when both sides are in, equal to the formula', () => {
    const id = createRun(p, run(), NOW);
    const w = sideWriter(p, id, 0.1, 0);
    const c = sideRow(1, 'chosen');
    expect(w.write([c], new Map())).toBe(1);
    expect(p.db.prepare('SELECT COUNT(*) AS n FROM pair_scores').get()).toEqual({ n: 0 });
    expect(w.write([c], new Map())).toBe(0); // again: nothing new
    const r = sideRow(1, 'rejected');
    expect(w.write([r], new Map())).toBe(1);
    const row = p.db.prepare('SELECT * FROM pair_scores WHERE run_id = ? AND pair_id = 1').get(id) as { margin: number; prefers_chosen: number; chosen_reward: number; rejected_reward: number };
    expect(row.margin).toBe(pairMargin(0.1, c, r));
    expect(row.chosen_reward).toBe(c.maskedRewardSum);
    expect(row.rejected_reward).toBe(r.maskedRewardSum);
    expect(row.prefers_chosen).toBe(row.margin > 0 ? 1 : 0);
    expect(p.db.prepare('SELECT COUNT(*) AS n FROM score_sides').get()).toEqual({ n: 2 });
    expect(projectStats(p).scoredPairs).toBe(1);
    // binary arrays: 4 bytes a token for ids and each log-prob, 8 for the range, 1 for the mask
    const sizes = p.db.prepare("SELECT length(token_ids) AS ids, length(char_ranges) AS ranges, length(loss_mask) AS mask, length(logp_policy) AS lp, tokens FROM score_sides WHERE side = 'chosen'").get() as Record<string, number>;
    expect(sizes).toEqual({ ids: 4 * sizes.tokens, ranges: 8 * sizes.tokens, mask: sizes.tokens, lp: 4 * sizes.tokens, tokens: c.tokenIds.length });
  });

  it('pairRewards: code point ranges, each token’s text and reward, the loss mask, the sums and the margin', () => {
    const id = createRun(p, run(), NOW);
    const w = sideWriter(p, id, 0.1, 0);
    const c = sideRow(1, 'chosen');
    const r = sideRow(1, 'rejected');
    w.write([c, r], new Map());
    const out = pairRewards(p, 1);
    expect(Object.keys(out)).toEqual(['pair', 'run', 'beta', 'margin', 'sides']);
    expect(out).toMatchObject({ pair: 1, run: id, beta: 0.1, margin: pairMargin(0.1, c, r) });
    const rej = out.sides.rejected;
    expect(rej.reward_sum).toBe(r.rewardSum);
    expect(rej.masked_reward_sum).toBe(r.maskedRewardSum);
    expect(Object.keys(rej.tokens[0])).toEqual(['text', 'start', 'end', 'logp_policy', 'logp_ref', 'reward', 'in_loss']);
    // the tokens spell the response, in code points (the emoji is one code point, four byte tokens)
    const chars = Array.from(REJECTED);
    expect(rej.tokens.at(-1)!.end).toBe(chars.length);
    const emojiTokens = rej.tokens.filter((t) => t.text === '🎉');
    expect(emojiTokens).toHaveLength(4);
    for (const t of rej.tokens) {
      expect(t.text).toBe(chars.slice(t.start, t.end).join(''));
      expect(t.reward).toBeCloseTo(0.1 * (t.logp_policy - t.logp_ref), 12);
    }
    // only the critical line of the rejected side is in the loss
    const critical = rej.tokens.filter((t) => t.in_loss);
    const first = critical[0].start;
    expect(chars.slice(first, critical.at(-1)!.end).join('')).toBe('print("🎉" * (n + 1))\n');
    expect(rej.tokens.filter((t) => !t.in_loss).map((t) => t.text).join('')).toBe('n = int(input())\n');
    expect(out.sides.chosen.tokens.every((t) => t.in_loss)).toBe(true);
    expect(rej.masked_reward_sum).toBeCloseTo(critical.reduce((a, t) => a + t.reward, 0), 9);
  });

  it('top-k alternatives come back with their texts; a later run is the default; an unscored side says why', () => {
    const a = createRun(p, run(), NOW);
    sideWriter(p, a, 0.1, 0).write([sideRow(1, 'chosen'), sideRow(1, 'rejected')], new Map());
    const b = createRun(p, run({ specKey: 'k2', topK: 2, policy: [{ url: 'http://a', model: 'checkpoint-2' }] }), NOW);
    const w = sideWriter(p, b, 0.1, 2);
    w.write([sideRow(1, 'chosen', 2)], new Map([[300, 'foo'], [301, ' bar']]));
    // run b has only the chosen side: the default is still run a (both sides); b is read when asked
    expect(defaultRunOf(p, 1)).toBe(a);
    const fromB = pairRewards(p, 1, b);
    expect(fromB.margin).toBeNull();
    expect(fromB.sides.rejected).toMatchObject({ tokens: [], reward_sum: null, skipped: expect.stringMatching(/not scored yet/) });
    expect(fromB.sides.chosen.tokens[0].top_policy).toEqual([
      { token: 'foo', id: 300, logp: -0.5 },
      { token: ' bar', id: 301, logp: -1.5 },
    ]);
    w.skip(1, 'rejected', 'the prompt and response do not fit the model\'s context (maximum context length is 64)', NOW);
    expect(pairRewards(p, 1, b).sides.rejected.skipped).toMatch(/maximum context length is 64/);
    w.write([sideRow(1, 'rejected', 2)], new Map());
    // a skipped side stays skipped in the queue's eyes only until it is stored; now both are in
    expect(defaultRunOf(p, 1)).toBe(b);
    expect(listRuns(p).map((r) => [r.id, r.scoredPairs, r.skippedSides])).toEqual([
      [b, 1, 1],
      [a, 1, 0],
    ]);
  });

  it('a pair whose text changed since it was scored is refused with a clear message; unknown pairs and runs too', () => {
    const id = createRun(p, run(), NOW);
    sideWriter(p, id, 0.1, 0).write([sideRow(2, 'chosen'), sideRow(2, 'rejected')], new Map());
    p.db.prepare("UPDATE pairs SET rejected = 'print(0)\n' WHERE id = 2").run();
    expect(() => pairRewards(p, 2)).toThrow(/pair 2 changed since run \d+ scored its rejected side/);
    expect(() => pairRewards(p, 3)).toThrow('pair 3 has not been scored (run pairforge score)');
    expect(() => pairRewards(p, 99)).toThrow(/no pair 99/);
    expect(() => pairRewards(p, 1, 42)).toThrow(/no scoring run 42/);
  });

  it('the queue by margin, both ways, and the query uses the (run, margin) index', () => {
    const id = createRun(p, run(), NOW);
    const w = sideWriter(p, id, 0.1, 0);
    for (const pair of [1, 2, 3]) w.write([sideRow(pair, 'chosen'), sideRow(pair, 'rejected')], new Map());
    const asc = pairsByMargin(p, id);
    expect(asc).toHaveLength(3);
    expect(new Set(asc.map((r) => r.margin)).size).toBe(3);
    expect(asc.map((r) => r.margin)).toEqual([...asc.map((r) => r.margin)].sort((x, y) => x - y));
    expect(pairsByMargin(p, id, { order: 'desc', limit: 1 })[0].pairId).toBe(asc.at(-1)!.pairId);
    const plan = p.db.prepare('EXPLAIN QUERY PLAN SELECT pair_id, margin FROM pair_scores WHERE run_id = ? ORDER BY margin ASC, pair_id LIMIT 500').all(id) as { detail: string }[];
    expect(plan.map((x) => x.detail).join(' ')).toMatch(/USING INDEX pair_scores_margin/);
  });
});
