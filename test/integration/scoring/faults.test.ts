// The scoring job against the project's local vLLM stand-in (server/localvllm, real HTTP,
// in-process): every side stored once with the log-probs the models give; with 500s, resets and
// cut-off JSON on, the stored values equal a fault-free run; a server restart is waited for;
// context-length 400s skip the side with the reason; 401/404 stop with a clear message; models
// whose tokenizers differ are refused before anything is stored; an interrupted run continues
// with the same command; top-k alternatives; a later run with another policy sits beside the first.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POLICY_MODEL_NAME, REFERENCE_MODEL_NAME, startLocalVllm, type LocalVllm } from '../../../server/localvllm';
import { readFloat32, readInt32 } from '../../../server/scoring/blobs';
import { scorePairs, type ScoreSpec } from '../../../server/scoring/job';
import { rewardsView } from '../../../server/scoring/feature';
import { listRuns, pairRewards, pairRewardsWithText } from '../../../server/scoring/store';
import { openProject, type Project } from '../../../server/store/db';
import { buildScoringProject } from '../../support/scoringProject';

let dir: string;
let dbFile: string;
let p: Project;
let pairs: number;
let srv: LocalVllm;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'pairforge-scoring-faults-'));
  dbFile = path.join(dir, 'project.sqlite');
  pairs = await buildScoringProject(dbFile);
  p = openProject(dbFile);
  srv = await startLocalVllm({ db: dbFile, latencyMs: 2 });
}, 90_000);
afterAll(async () => {
  await srv?.close();
  p?.close();
  rmSync(dir, { recursive: true, force: true });
});

const fast = { retryBaseMs: 5, retryCapMs: 50, probeMs: 50 };
const spec = (s: { url: string }, extra: Partial<ScoreSpec> = {}): ScoreSpec => ({
  policy: [{ url: s.url, model: POLICY_MODEL_NAME }],
  reference: [{ url: s.url, model: REFERENCE_MODEL_NAME }],
  concurrency: 8,
  ...fast,
  ...extra,
});

interface Stored {
  key: string;
  token_ids: Buffer;
  char_ranges: Buffer;
  loss_mask: Buffer;
  logp_policy: Buffer;
  logp_ref: Buffer;
  masked_reward_sum: number;
}
const sidesOf = (run: number) =>
  p.db
    .prepare<[number], Stored>("SELECT pair_id || ':' || side AS key, token_ids, char_ranges, loss_mask, logp_policy, logp_ref, masked_reward_sum FROM score_sides WHERE run_id = ? ORDER BY pair_id, side")
    .all(run);
const marginsOf = (run: number) => p.db.prepare<[number], { pair_id: number; margin: number }>('SELECT pair_id, margin FROM pair_scores WHERE run_id = ? ORDER BY pair_id').all(run);
const post = async (url: string, body: unknown) => (await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).json() as Promise<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('scoring against the local vLLM stand-in', () => {
  let clean: Stored[];
  let cleanRun: number;

  it('scores every side once; the stored log-probs are the models’ own; every pair gets a margin', async () => {
    const s = await scorePairs(p, 'all', spec(srv));
    expect(s).toMatchObject({ status: 'done', resumed: false, pairs, scoredPairs: pairs, sides: 2 * pairs, produced: 2 * pairs, skippedSides: 0, failed: 0, retries: 0 });
    expect(s.policy[0]).toMatchObject({ ok: true, model: POLICY_MODEL_NAME });
    // requests: one /tokenize per prompt and per response, two completions per side
    expect(s.requests).toBe(pairs + 2 * pairs + 4 * pairs);
    cleanRun = s.runId;
    clean = sidesOf(s.runId);
    expect(clean.map((r) => r.key)).toHaveLength(2 * pairs);
    expect(marginsOf(s.runId)).toHaveLength(pairs);
    expect(s.prefersChosen).toBeGreaterThan(0);

    // One side checked against the servers directly: tokenize what the export renders, ask both models.
    const r = pairRewards(p, 1, s.runId);
    const stored = clean[0];
    const ids = Array.from(readInt32(stored.token_ids));
    const pair = p.db.prepare<[], { pre: string; suf: string; chosen: string; question: string }>('SELECT pa.pre, pa.suf, pa.chosen, pr.question FROM pairs pa JOIN problems pr ON pr.id = pa.problem_id WHERE pa.id = 1').get()!;
    const prompt = `<|fim_prefix|>${pair.question.split('\n').map((l) => (l.trim() === '' ? '' : `# ${l}`)).join('\n')}\n\n${pair.pre}<|fim_suffix|>${pair.suf}<|fim_middle|>`;
    const promptIds = (await post(`${srv.url}/tokenize`, { model: POLICY_MODEL_NAME, prompt })).tokens as number[];
    const respIds = (await post(`${srv.url}/tokenize`, { model: POLICY_MODEL_NAME, prompt: `${pair.chosen}<|endoftext|>` })).tokens as number[];
    expect(ids).toEqual(respIds);
    const all = [...promptIds, ...respIds];
    for (const [model, blob, field] of [
      [POLICY_MODEL_NAME, stored.logp_policy, 'logp_policy'],
      [REFERENCE_MODEL_NAME, stored.logp_ref, 'logp_ref'],
    ] as const) {
      const a = await post(`${srv.url}/v1/completions`, { model, prompt: all, max_tokens: 1, prompt_logprobs: 0 });
      const want = respIds.map((id, j) => Math.fround(a.choices[0].prompt_logprobs[promptIds.length + j][String(id)].logprob));
      expect(Array.from(readFloat32(blob))).toEqual(want);
      expect(r.sides.chosen.tokens.map((t) => t[field])).toEqual(want);
    }
    // the whole response is in the loss of a FIM pair; the tokens spell it
    expect(r.sides.chosen.tokens.every((t) => t.in_loss)).toBe(true);
    expect(r.sides.chosen.tokens.map((t) => t.text).join('')).toBe(`${pair.chosen}<|endoftext|>`);
    // the same command again: the finished run is not continued (it would score nothing); --resume would
    const again = await scorePairs(p, 'all', spec(srv), { reuse: 'any' });
    expect(again).toMatchObject({ runId: s.runId, resumed: true, produced: 0, status: 'done' });
    expect(again.requests).toBe(0);
  }, 60_000);

  it('astral and non-ASCII responses: token texts are code point slices of the response', async () => {
    const id = p.db.prepare<[], { id: number }>("SELECT id FROM pairs WHERE pair_key = 'sc:astral'").get()!.id;
    const r = pairRewards(p, id, cleanRun);
    const resp = Array.from(p.db.prepare<[number], { rejected: string }>('SELECT rejected FROM pairs WHERE id = ?').get(id)!.rejected + '<|endoftext|>');
    const toks = r.sides.rejected.tokens;
    expect(toks.at(-1)!.end).toBe(resp.length);
    for (const t of toks) expect(t.text).toBe(resp.slice(t.start, t.end).join(''));
    expect(toks.filter((t) => t.text === '😀')).toHaveLength(4);
    expect(toks.filter((t) => t.text === '中')).toHaveLength(3);
    // The editor's view: UTF-16 offsets into the same response, every token where its text is,
    // also after the characters several byte tokens share (their texts joined would repeat them).
    const { rewards, responses } = pairRewardsWithText(p, id, cleanRun);
    const view = rewardsView(rewards, responses);
    const utf16 = resp.join('');
    expect(view.rejected.tokens).toHaveLength(toks.length);
    for (const t of view.rejected.tokens) expect(utf16.slice(t.start, t.end)).toBe(t.text);
    expect(view.rejected.tokens.at(-1)!.end).toBe(utf16.length);
  });

  it('with 500s, resets and cut-off JSON on, stores exactly the values of the fault-free run', async () => {
    const faulty = await startLocalVllm({ db: dbFile, latencyMs: 2, faults: { error500: 0.15, reset: 0.1, malformed: 0.1, seed: 5 } });
    try {
      const s = await scorePairs(p, 'all', spec(faulty, { maxRetries: 10 }), { reuse: 'none' });
      expect(s.status).toBe('done');
      expect(s.retries).toBeGreaterThan(5);
      const st = faulty.stats();
      expect(st.faults['500'] + st.faults.reset + st.faults.malformed).toBeGreaterThan(5);
      expect(sidesOf(s.runId)).toEqual(clean);
      expect(marginsOf(s.runId)).toEqual(marginsOf(cleanRun));
    } finally {
      await faulty.close();
    }
  }, 90_000);

  it('a server that restarts mid-run is waited for', async () => {
    const flaky = await startLocalVllm({ db: dbFile, latencyMs: 2, faults: { restartEvery: 25, restartDownMs: 300 } });
    try {
      const s = await scorePairs(p, 'all', spec(flaky), { reuse: 'none' });
      expect(s.status).toBe('done');
      expect(flaky.stats().restarts).toBeGreaterThan(0);
      expect(sidesOf(s.runId)).toEqual(clean);
    } finally {
      await flaky.close();
    }
  }, 90_000);

  it('interrupted, then the same command: continues the run and scores only the missing sides', async () => {
    const slow = await startLocalVllm({ db: dbFile, latencyMs: 30 });
    try {
      const ac = new AbortController();
      const first = await scorePairs(p, 'all', spec(slow, { concurrency: 2, beta: 0.25 }), {
        signal: ac.signal,
        onProgress: (pr) => {
          if (pr.done >= 6) ac.abort();
        },
      });
      expect(first.status).toBe('stopped');
      expect(first.message).toMatch(/interrupted; run the same pairforge score command again to continue run \d+/);
      expect(first.sides).toBeGreaterThanOrEqual(6);
      expect(first.sides).toBeLessThan(2 * pairs);
      const second = await scorePairs(p, 'all', spec(slow, { concurrency: 8, beta: 0.25 }));
      expect(second).toMatchObject({ runId: first.runId, resumed: true, status: 'done', sides: 2 * pairs, produced: 2 * pairs - first.sides });
      // the per-token values do not depend on beta or on the interruption
      const strip = (rows: Stored[]) => rows.map(({ masked_reward_sum: _m, ...rest }) => rest);
      expect(strip(sidesOf(second.runId))).toEqual(strip(clean));
      // beta scales the margins
      const m = marginsOf(second.runId);
      marginsOf(cleanRun).forEach((x, i) => expect(m[i].margin).toBeCloseTo(2.5 * x.margin, 9));
    } finally {
      await slow.close();
    }
  }, 90_000);

  it('skips the sides whose prompt does not fit the context, with the reason', async () => {
    const promptLens = await Promise.all(
      p.db
        .prepare<[], { pre: string; suf: string }>("SELECT pre, suf FROM pairs WHERE kind = 'fim'")
        .all()
        .map(async (x) => ((await post(`${srv.url}/tokenize`, { prompt: x.pre + x.suf })).tokens as number[]).length),
    );
    promptLens.sort((a, b) => a - b);
    const small = await startLocalVllm({ db: dbFile, maxModelLen: promptLens[Math.floor(promptLens.length / 2)] });
    try {
      const s = await scorePairs(p, 'all', spec(small), { reuse: 'none' });
      expect(s.status).toBe('done');
      expect(s.skippedSides).toBeGreaterThan(0);
      expect(s.sides + s.skippedSides).toBe(2 * pairs);
      const reasons = p.db.prepare<[number], { reason: string }>('SELECT reason FROM score_skips WHERE run_id = ?').all(s.runId);
      expect(reasons.every((r) => /maximum context length is \d+/.test(r.reason))).toBe(true);
      // a pair with a skipped side has no margin, and its rewards say why
      const skipped = p.db.prepare<[number], { pair_id: number }>('SELECT pair_id FROM score_skips WHERE run_id = ? LIMIT 1').get(s.runId)!.pair_id;
      const r = pairRewards(p, skipped, s.runId);
      expect(r.margin).toBeNull();
      expect([r.sides.chosen.skipped, r.sides.rejected.skipped].some((x) => x && /context/.test(x))).toBe(true);
      // The room's view says the same: no margin, each side's reason, a scored side's tokens kept.
      const { rewards, responses } = pairRewardsWithText(p, skipped, s.runId);
      const view = rewardsView(rewards, responses);
      expect(view).toMatchObject({ margin: null, prefersChosen: null });
      for (const side of ['chosen', 'rejected'] as const) {
        if (r.sides[side].skipped) expect(view[side]).toMatchObject({ tokens: [], skipped: r.sides[side].skipped });
        else expect(view[side].tokens).toHaveLength(r.sides[side].tokens.length);
      }
    } finally {
      await small.close();
    }
  }, 60_000);

  it('401 and 404 stop with a clear message; a missing model is named before anything runs', async () => {
    await expect(scorePairs(p, 'all', spec(srv, { reference: [{ url: srv.url, model: 'no-such-model' }] }))).rejects.toThrow(
      /no usable reference endpoint: http:\/\/127\.0\.0\.1:\d+ \(no-such-model\): the server does not serve 'no-such-model' \(it serves: pairforge-local-vllm, pairforge-local-policy, pairforge-local-reference\)/,
    );
    const locked = await startLocalVllm({ db: dbFile, apiKey: 'sesame' });
    try {
      await expect(scorePairs(p, 'all', spec(locked))).rejects.toThrow(/no usable policy endpoint: .*401 Unauthorized: the server needs an API key/);
      // past the health check (as when a key is revoked mid-run): the run fails with the server's answer
      const s = await scorePairs(p, 'all', spec(locked), { skipHealthCheck: true, reuse: 'none' });
      expect(s.status).toBe('failed');
      expect(s.message).toMatch(/401 .*set PAIRFORGE_API_KEY/);
      expect(s.sides).toBe(0);
      const ok = await scorePairs(p, [1, 2], spec(locked, { policy: [{ url: locked.url, model: POLICY_MODEL_NAME, apiKey: 'sesame' }], reference: [{ url: locked.url, model: REFERENCE_MODEL_NAME, apiKey: 'sesame' }] }));
      // it continued the failed run (same models and values); its other pairs are still unscored
      expect(ok).toMatchObject({ runId: s.runId, resumed: true, status: 'done', selected: 2, sides: 4, pairs });
      const row = p.db.prepare<[number], { status: string; message: string }>('SELECT status, message FROM score_runs WHERE id = ?').get(s.runId)!;
      expect(row.status).toBe('stopped');
      expect(row.message).toMatch(new RegExp(`${2 * pairs - 4} sides of pairs an earlier command added to run ${s.runId} are not scored yet`));
      const runs = p.db.prepare<[], { policy: string; reference: string }>('SELECT policy, reference FROM score_runs').all();
      expect(JSON.stringify(runs)).not.toContain('sesame');
    } finally {
      await locked.close();
    }
    const s = await scorePairs(p, [1], spec(srv, { reference: [{ url: srv.url, model: 'gone-model' }] }), { skipHealthCheck: true, reuse: 'none' }).catch((e: Error) => e);
    // /tokenize names the model too: the probe already fails with the 404
    expect(String(s)).toMatch(/reference http:\/\/127\.0\.0\.1:\d+ \(gone-model\): \/tokenize failed: .*404 .*does not exist/);
  }, 60_000);

  it('the pairs a command selects join the run for the same models and values (the editor scores a selection at a time)', async () => {
    const a = await scorePairs(p, [1, 2], spec(srv, { beta: 0.3 }));
    expect(a).toMatchObject({ status: 'done', resumed: false, pairs: 2, selected: 2, sides: 4, produced: 4 });
    const b = await scorePairs(p, [2, 3], spec(srv, { beta: 0.3 }), { reuse: 'any' });
    expect(b).toMatchObject({ runId: a.runId, resumed: true, status: 'done', pairs: 3, selected: 2, sides: 6, produced: 2, scoredPairs: 3 });
    expect(b.requests).toBe(1 + 2 + 4); // pair 3 only: its prompt, two responses, four completions
    expect(p.db.prepare<[number], { status: string }>('SELECT status FROM score_runs WHERE id = ?').get(a.runId)!.status).toBe('done');
  });

  it('refuses models whose tokenizers differ, before anything is stored', async () => {
    const other = await startLocalVllm({ db: dbFile, tokenizer: 'chars' });
    const runsBefore = listRuns(p).length;
    try {
      await expect(scorePairs(p, 'all', spec(srv, { reference: [{ url: other.url, model: REFERENCE_MODEL_NAME }] }))).rejects.toThrow(
        /the policy http:\/\/127\.0\.0\.1:\d+ \(pairforge-local-policy\) and the reference http:\/\/127\.0\.0\.1:\d+ \(pairforge-local-reference\) tokenize differently \(token \d+: .* vs .*\); per-token rewards across different tokenizers mean nothing, so nothing was scored/,
      );
      expect(listRuns(p).length).toBe(runsBefore);
    } finally {
      await other.close();
    }
  });

  it('top-k: the k likeliest tokens of each model are stored and read back with their texts', async () => {
    const s = await scorePairs(p, [1, 2], spec(srv, { topK: 3 }));
    expect(s.status).toBe('done');
    const r = pairRewards(p, 1, s.runId);
    const t = r.sides.rejected.tokens[3];
    expect(t.top_policy).toHaveLength(3);
    expect(t.top_ref).toHaveLength(3);
    expect(t.top_policy!.every((x) => typeof x.token === 'string' && x.logp <= 0)).toBe(true);
    // likeliest first; the token's own log-prob is never above the best alternative
    expect(t.top_policy![0].logp).toBeGreaterThanOrEqual(t.top_policy![2].logp);
    expect(t.logp_policy).toBeLessThanOrEqual(t.top_policy![0].logp + 1e-6);
    // the values themselves are those of the run without top-k
    const plain = pairRewards(p, 1, cleanRun);
    expect(r.sides.rejected.tokens.map((x) => x.logp_policy)).toEqual(plain.sides.rejected.tokens.map((x) => x.logp_policy));
  });

  it('a later run with another policy (a "trained checkpoint") sits beside the first and the two compare', async () => {
    const s = await scorePairs(p, 'all', spec(srv, { policy: [{ url: srv.url, model: srv.model }] }));
    expect(s.status).toBe('done');
    expect(s.runId).not.toBe(cleanRun);
    const before = pairRewards(p, 1, cleanRun);
    const after = pairRewards(p, 1, s.runId);
    expect(after.sides.chosen.tokens.map((t) => t.logp_ref)).toEqual(before.sides.chosen.tokens.map((t) => t.logp_ref));
    expect(after.sides.chosen.tokens.map((t) => t.logp_policy)).not.toEqual(before.sides.chosen.tokens.map((t) => t.logp_policy));
    const runs = listRuns(p).filter((r) => r.id === cleanRun || r.id === s.runId);
    expect(runs.map((r) => r.policyModel).sort()).toEqual([POLICY_MODEL_NAME, srv.model].sort());
  });
});
