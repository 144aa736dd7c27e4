// The scoring tables (migration 006_scoring): runs, the per-side rows with their binary arrays, the
// per-pair margins, and the reads the CLI and the editor make of them (pairRewards, runs, the queue
// sorted by margin, counts).
import { createHash } from 'node:crypto';
import { renderForTraining, type TrainFormat } from '../pairs/render';
import { problemsById } from '../import/queries';
import { existingPairIds, getPair, pairIds } from '../pairs/store';
import type { Project } from '../store/db';
import { float32Blob, int32Blob, readFloat32, readInt32, readUint8, uint8Blob } from './blobs';
import { pairMargin, tokenReward } from './rewards';
import type { FimFamily } from '../protocol';

export type Side = 'chosen' | 'rejected';
export const SIDES: readonly Side[] = ['chosen', 'rejected'];

/** Which pairs a run scores: by review status, or exactly these ids. */
export type ScoreSelection = 'accepted' | 'pending' | 'all' | number[];
export const SELECTION_NAMES: readonly string[] = ['accepted', 'pending', 'all'];

export type RunStatus = 'running' | 'done' | 'stopped' | 'failed';

export interface ScoreRun {
  id: number;
  specKey: string;
  policy: { url: string; model: string }[];
  reference: { url: string; model: string }[];
  policyModel: string;
  referenceModel: string;
  beta: number;
  topK: number;
  format: TrainFormat;
  family: FimFamily;
  trainingSentence: boolean;
  addSpecialTokens: boolean;
  selection: ScoreSelection;
  tokenizer: unknown;
  status: RunStatus;
  message: string | null;
  createdAt: string;
  finishedAt: string | null;
}

interface RunRow {
  id: number;
  spec_key: string;
  policy: string;
  reference: string;
  policy_model: string;
  reference_model: string;
  beta: number;
  top_k: number;
  format: TrainFormat;
  family: FimFamily;
  training_sentence: number;
  add_special_tokens: number;
  selection: string;
  tokenizer: string | null;
  status: RunStatus;
  message: string | null;
  created_at: string;
  finished_at: string | null;
}

function parseJson<T>(s: string, where: string): T {
  try {
    return JSON.parse(s) as T;
  } catch (e) {
    throw new Error(`${where}: stored JSON does not parse: ${(e as Error).message}`);
  }
}

function toRun(r: RunRow): ScoreRun {
  const w = `score_runs row ${r.id}`;
  return {
    id: r.id,
    specKey: r.spec_key,
    policy: parseJson(r.policy, `${w} policy`),
    reference: parseJson(r.reference, `${w} reference`),
    policyModel: r.policy_model,
    referenceModel: r.reference_model,
    beta: r.beta,
    topK: r.top_k,
    format: r.format,
    family: r.family,
    trainingSentence: r.training_sentence === 1,
    addSpecialTokens: r.add_special_tokens === 1,
    selection: parseJson(r.selection, `${w} selection`),
    tokenizer: r.tokenizer === null ? null : parseJson(r.tokenizer, `${w} tokenizer`),
    status: r.status,
    message: r.message,
    createdAt: r.created_at,
    finishedAt: r.finished_at,
  };
}

export function getRun(p: Project, id: number): ScoreRun | undefined {
  const r = p.db.prepare<[number], RunRow>('SELECT * FROM score_runs WHERE id = ?').get(id);
  return r ? toRun(r) : undefined;
}

/** The newest run with this spec key ('unfinished': only one that is not done). */
export function findRun(p: Project, specKey: string, which: 'unfinished' | 'any'): ScoreRun | undefined {
  const cond = which === 'unfinished' ? "AND status <> 'done'" : '';
  const r = p.db.prepare<[string], RunRow>(`SELECT * FROM score_runs WHERE spec_key = ? ${cond} ORDER BY id DESC LIMIT 1`).get(specKey);
  return r ? toRun(r) : undefined;
}

export interface ScoreRunSummaryRow extends ScoreRun {
  pairs: number;
  scoredPairs: number;
  sides: number;
  skippedSides: number;
}

/** Every run, newest first, with how far it got. */
export function listRuns(p: Project): ScoreRunSummaryRow[] {
  return p.db
    .prepare<[], RunRow & { pairs: number; scored_pairs: number; sides: number; skipped: number }>(
      `SELECT r.*,
         (SELECT COUNT(*) FROM score_run_pairs x WHERE x.run_id = r.id) AS pairs,
         (SELECT COUNT(*) FROM pair_scores x WHERE x.run_id = r.id) AS scored_pairs,
         (SELECT COUNT(*) FROM score_sides x WHERE x.run_id = r.id) AS sides,
         (SELECT COUNT(*) FROM score_skips x WHERE x.run_id = r.id) AS skipped
       FROM score_runs r ORDER BY r.id DESC`,
    )
    .all()
    .map((r) => ({ ...toRun(r), pairs: r.pairs, scoredPairs: r.scored_pairs, sides: r.sides, skippedSides: r.skipped }));
}

export interface NewRun {
  specKey: string;
  policy: { url: string; model: string }[];
  reference: { url: string; model: string }[];
  beta: number;
  topK: number;
  format: TrainFormat;
  family: FimFamily;
  trainingSentence: boolean;
  addSpecialTokens: boolean;
  selection: ScoreSelection;
  tokenizer: unknown;
}

export function createRun(p: Project, r: NewRun, now: string): number {
  return Number(
    p.db
      .prepare(
        `INSERT INTO score_runs (spec_key, policy, reference, policy_model, reference_model, beta, top_k, format, family,
           training_sentence, add_special_tokens, selection, tokenizer, status, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'running', ?)`,
      )
      .run(
        r.specKey,
        JSON.stringify(r.policy),
        JSON.stringify(r.reference),
        r.policy[0].model,
        r.reference[0].model,
        r.beta,
        r.topK,
        r.format,
        r.family,
        r.trainingSentence ? 1 : 0,
        r.addSpecialTokens ? 1 : 0,
        JSON.stringify(r.selection),
        JSON.stringify(r.tokenizer),
        now,
      ).lastInsertRowid,
  );
}

/** A continued run: running again, with the endpoints it now uses. */
export function reopenRun(p: Project, id: number, policy: NewRun['policy'], reference: NewRun['reference'], tokenizer: unknown): void {
  p.db
    .prepare("UPDATE score_runs SET status = 'running', message = NULL, finished_at = NULL, policy = ?, reference = ?, tokenizer = ? WHERE id = ?")
    .run(JSON.stringify(policy), JSON.stringify(reference), JSON.stringify(tokenizer), id);
}

export function finishRun(p: Project, id: number, status: RunStatus, message: string | null, now: string): void {
  p.db.prepare('UPDATE score_runs SET status = ?, message = ?, finished_at = ? WHERE id = ?').run(status, message, now, id);
}

/** Pair ids of a selection, in id order. Unknown ids are an error naming them. */
export function selectPairIds(p: Project, sel: ScoreSelection): number[] {
  if (Array.isArray(sel)) {
    const ids = [...new Set(sel)].sort((a, b) => a - b);
    const stored = existingPairIds(p, ids);
    const missing = ids.filter((id) => !stored.has(id));
    if (missing.length > 0) throw new Error(`no such pair: ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ', ...' : ''} (in ${p.file})`);
    return ids;
  }
  return pairIds(p, sel === 'all' ? undefined : sel);
}

export function addRunPairs(p: Project, runId: number, pairIds: readonly number[]): void {
  const ins = p.db.prepare('INSERT OR IGNORE INTO score_run_pairs (run_id, pair_id) VALUES (?, ?)');
  p.db.transaction(() => {
    for (const id of pairIds) ins.run(runId, id);
  }).immediate();
}

/** The (pair, side) a run still has to score: its pairs' sides neither stored nor skipped. */
export function missingSides(p: Project, runId: number): { pairId: number; side: Side }[] {
  return p.db
    .prepare<[number, number, number], { pair_id: number; side: Side }>(
      `SELECT x.pair_id, s.side FROM score_run_pairs x CROSS JOIN (SELECT 'chosen' AS side UNION ALL SELECT 'rejected') s
       WHERE x.run_id = ?
         AND NOT EXISTS (SELECT 1 FROM score_sides d WHERE d.run_id = ? AND d.pair_id = x.pair_id AND d.side = s.side)
         AND NOT EXISTS (SELECT 1 FROM score_skips k WHERE k.run_id = ? AND k.pair_id = x.pair_id AND k.side = s.side)
       ORDER BY x.pair_id, s.side`,
    )
    .all(runId, runId, runId)
    .map((r) => ({ pairId: r.pair_id, side: r.side }));
}

export function runCounts(p: Project, runId: number): { pairs: number; sides: number; skippedSides: number; scoredPairs: number } {
  const n = (sql: string) => p.db.prepare<[number], { n: number }>(sql).get(runId)!.n;
  return {
    pairs: n('SELECT COUNT(*) AS n FROM score_run_pairs WHERE run_id = ?'),
    sides: n('SELECT COUNT(*) AS n FROM score_sides WHERE run_id = ?'),
    skippedSides: n('SELECT COUNT(*) AS n FROM score_skips WHERE run_id = ?'),
    scoredPairs: n('SELECT COUNT(*) AS n FROM pair_scores WHERE run_id = ?'),
  };
}

/** How a run's scored pairs came out: how many the policy already prefers on the chosen side
 * (TRL's rewards/accuracies) and the mean margin (rewards/margins). */
export function runMargins(p: Project, runId: number): { scoredPairs: number; prefersChosen: number; meanMargin: number | null } {
  const r = p.db
    .prepare<[number], { n: number; right: number | null; mean: number | null }>('SELECT COUNT(*) AS n, SUM(prefers_chosen) AS right, AVG(margin) AS mean FROM pair_scores WHERE run_id = ?')
    .get(runId)!;
  return { scoredPairs: r.n, prefersChosen: r.right ?? 0, meanMargin: r.mean };
}

/** sha256(prompt || NUL || response): what a side row was scored on. */
export function textSha(prompt: string, response: string): string {
  return createHash('sha256').update(prompt).update('\u0000').update(response).digest('hex');
}

/** One scored side, ready to store. */
export interface SideRow {
  pairId: number;
  side: Side;
  format: TrainFormat;
  textSha256: string;
  promptTokens: number;
  spelling: string;
  tokenIds: ArrayLike<number>;
  /** start, end per token (code points). */
  charRanges: ArrayLike<number>;
  lossMask: ArrayLike<number>;
  /** float32 values (as stored). */
  logpPolicy: Float32Array;
  logpRef: Float32Array;
  /** top_k > 0: per token top_k ids then top_k log-probs. */
  topPolicy: { ids: Int32Array; logprobs: Float32Array } | null;
  topRef: { ids: Int32Array; logprobs: Float32Array } | null;
  maskedTokens: number;
  maskedLogpPolicy: number;
  maskedLogpRef: number;
  rewardSum: number;
  maskedRewardSum: number;
  attempts: number;
  createdAt: string;
}

function topBlob(top: SideRow['topPolicy'], k: number): Buffer | null {
  if (!top) return null;
  const n = top.ids.length / k;
  // per token: k ids, then k log-probs
  const b = Buffer.alloc(n * k * 8);
  for (let t = 0; t < n; t++) {
    for (let j = 0; j < k; j++) {
      b.writeInt32LE(top.ids[t * k + j], (t * 2 * k + j) * 4);
      b.writeFloatLE(top.logprobs[t * k + j], (t * 2 * k + k + j) * 4);
    }
  }
  return b;
}

function readTop(b: Buffer | null, k: number): { ids: Int32Array; logprobs: Float32Array } | null {
  if (!b || k <= 0) return null;
  const n = b.length / (8 * k);
  const ids = new Int32Array(n * k);
  const logprobs = new Float32Array(n * k);
  for (let t = 0; t < n; t++) {
    for (let j = 0; j < k; j++) {
      ids[t * k + j] = b.readInt32LE((t * 2 * k + j) * 4);
      logprobs[t * k + j] = b.readFloatLE((t * 2 * k + k + j) * 4);
    }
  }
  return { ids, logprobs };
}

/** A writer of scored sides for one run: inserts each side once (a side already stored is left
 * as it is), and in the same transaction the pair's margin once both of its sides are stored. */
export function sideWriter(p: Project, runId: number, beta: number, topK: number): { write(rows: readonly SideRow[], tokenTexts: ReadonlyMap<number, string>): number; skip(pairId: number, side: Side, reason: string, now: string): void } {
  const insert = p.db.prepare(
    `INSERT INTO score_sides (run_id, pair_id, side, format, text_sha256, prompt_tokens, tokens, spelling, token_ids, char_ranges, loss_mask,
       logp_policy, logp_ref, top_policy, top_ref, masked_tokens, masked_logp_policy, masked_logp_ref, reward_sum, masked_reward_sum, attempts, created_at)
     VALUES (@run, @pairId, @side, @format, @textSha256, @promptTokens, @tokens, @spelling, @tokenIds, @charRanges, @lossMask,
       @logpPolicy, @logpRef, @topPolicy, @topRef, @maskedTokens, @maskedLogpPolicy, @maskedLogpRef, @rewardSum, @maskedRewardSum, @attempts, @createdAt)
     ON CONFLICT (run_id, pair_id, side) DO NOTHING`,
  );
  const both = p.db.prepare<[number, number], { side: Side; masked_logp_policy: number; masked_logp_ref: number; masked_reward_sum: number }>(
    'SELECT side, masked_logp_policy, masked_logp_ref, masked_reward_sum FROM score_sides WHERE run_id = ? AND pair_id = ?',
  );
  const insertPair = p.db.prepare(
    `INSERT INTO pair_scores (run_id, pair_id, chosen_reward, rejected_reward, margin, prefers_chosen, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_id, pair_id) DO NOTHING`,
  );
  const insertText = p.db.prepare('INSERT OR IGNORE INTO score_token_texts (run_id, token_id, text) VALUES (?, ?, ?)');
  const insertSkip = p.db.prepare('INSERT OR IGNORE INTO score_skips (run_id, pair_id, side, reason, created_at) VALUES (?, ?, ?, ?, ?)');
  const write = p.db.transaction((rows: readonly SideRow[], tokenTexts: ReadonlyMap<number, string>): number => {
    let stored = 0;
    const touched = new Map<number, string>();
    for (const r of rows) {
      const changes = insert.run({
        run: runId,
        pairId: r.pairId,
        side: r.side,
        format: r.format,
        textSha256: r.textSha256,
        promptTokens: r.promptTokens,
        tokens: r.tokenIds.length,
        spelling: r.spelling,
        tokenIds: int32Blob(r.tokenIds),
        charRanges: int32Blob(r.charRanges),
        lossMask: uint8Blob(r.lossMask),
        logpPolicy: float32Blob(r.logpPolicy),
        logpRef: float32Blob(r.logpRef),
        topPolicy: topBlob(r.topPolicy, topK),
        topRef: topBlob(r.topRef, topK),
        maskedTokens: r.maskedTokens,
        maskedLogpPolicy: r.maskedLogpPolicy,
        maskedLogpRef: r.maskedLogpRef,
        rewardSum: r.rewardSum,
        maskedRewardSum: r.maskedRewardSum,
        attempts: r.attempts,
        createdAt: r.createdAt,
      }).changes;
      stored += changes;
      if (changes) touched.set(r.pairId, r.createdAt);
    }
    for (const [pairId, at] of touched) {
      const sides = both.all(runId, pairId);
      const c = sides.find((s) => s.side === 'chosen');
      const rj = sides.find((s) => s.side === 'rejected');
      if (!c || !rj) continue;
      const margin = pairMargin(beta, { maskedLogpPolicy: c.masked_logp_policy, maskedLogpRef: c.masked_logp_ref }, { maskedLogpPolicy: rj.masked_logp_policy, maskedLogpRef: rj.masked_logp_ref });
      insertPair.run(runId, pairId, c.masked_reward_sum, rj.masked_reward_sum, margin, margin > 0 ? 1 : 0, at);
    }
    for (const [id, text] of tokenTexts) insertText.run(runId, id, text);
    return stored;
  });
  return {
    write: (rows, tokenTexts) => write.immediate(rows, tokenTexts),
    skip: (pairId, side, reason, now) => {
      insertSkip.run(runId, pairId, side, reason, now);
    },
  };
}

// ---- reads ------------------------------------------------------------------------------------

export interface TokenReward {
  text: string;
  start: number;
  end: number;
  logp_policy: number;
  logp_ref: number;
  reward: number;
  in_loss: boolean;
  /** Only for runs with top-k: the k likeliest tokens under each model. */
  top_policy?: { token: string | null; id: number; logp: number }[];
  top_ref?: { token: string | null; id: number; logp: number }[];
}

export interface SideRewards {
  /** The format this side was scored in (whole programs are always chat). */
  format?: TrainFormat;
  tokens: TokenReward[];
  reward_sum: number | null;
  masked_reward_sum: number | null;
  /** Why the side was not scored. */
  skipped?: string;
}

export interface PairRewards {
  pair: number;
  run: number;
  beta: number;
  margin: number | null;
  sides: Record<Side, SideRewards>;
}

interface SideDb {
  side: Side;
  format: TrainFormat;
  text_sha256: string;
  token_ids: Buffer;
  char_ranges: Buffer;
  loss_mask: Buffer;
  logp_policy: Buffer;
  logp_ref: Buffer;
  top_policy: Buffer | null;
  top_ref: Buffer | null;
  reward_sum: number;
  masked_reward_sum: number;
}

/** The run a pair's rewards are read from by default: the newest that scored both of its sides,
 * else the newest that holds anything of it. */
export function defaultRunOf(p: Project, pairId: number): number | undefined {
  const both = p.db.prepare<[number], { run_id: number }>('SELECT run_id FROM pair_scores WHERE pair_id = ? ORDER BY run_id DESC LIMIT 1').get(pairId);
  if (both) return both.run_id;
  const any = p.db
    .prepare<[number, number], { run_id: number }>(
      'SELECT MAX(run_id) AS run_id FROM (SELECT run_id FROM score_sides WHERE pair_id = ? UNION ALL SELECT run_id FROM score_skips WHERE pair_id = ?)',
    )
    .get(pairId, pairId);
  return any?.run_id ?? undefined;
}

/** A pair's per-token rewards in a run (default: defaultRunOf): what `pairforge rewards --json`
 * prints and the editor shows. Offsets are code points of the rendered response. Throws with a
 * clear message when the pair, the run or its scores do not exist, or the pair changed since. */
export function pairRewards(p: Project, pairId: number, runId?: number): PairRewards {
  return pairRewardsWithText(p, pairId, runId).rewards;
}

/** pairRewards, with the rendered responses its offsets index (the editor maps code points to
 * its UTF-16 offsets over them: token texts cannot rebuild the response, since byte-level tokens
 * that share one character each carry the whole character). */
export function pairRewardsWithText(p: Project, pairId: number, runId?: number): { rewards: PairRewards; responses: Record<Side, string> } {
  const pair = getPair(p, pairId);
  if (!pair) throw new Error(`no pair ${pairId} in ${p.file}`);
  const rid = runId ?? defaultRunOf(p, pairId);
  if (rid === undefined) throw new Error(`pair ${pairId} has not been scored (run pairforge score)`);
  const run = getRun(p, rid);
  if (!run) throw new Error(`no scoring run ${rid} in ${p.file}`);
  const rows = p.db.prepare<[number, number], SideDb>('SELECT * FROM score_sides WHERE run_id = ? AND pair_id = ?').all(rid, pairId);
  const skips = p.db.prepare<[number, number], { side: Side; reason: string }>('SELECT side, reason FROM score_skips WHERE run_id = ? AND pair_id = ?').all(rid, pairId);
  if (rows.length === 0 && skips.length === 0) throw new Error(`run ${rid} has not scored pair ${pairId}${runId === undefined ? '' : ` (pairforge score --resume continues it)`}`);
  const question = problemsById(p, [pair.problemId]).get(pair.problemId)?.question ?? '';
  // Rendered as its sides were scored: their stored format (a run of held-out pairs imported from
  // a training run holds FIM and chat records; a scored run's sides have the run's format, or chat
  // where FIM does not apply, which renders the same).
  const rendered = renderForTraining({ ...pair, question }, rows[0]?.format ?? run.format, { family: run.family, trainingSentence: run.trainingSentence });
  const texts = new Map<number, string>();
  if (run.topK > 0) for (const r of p.db.prepare<[number], { token_id: number; text: string }>('SELECT token_id, text FROM score_token_texts WHERE run_id = ?').iterate(rid)) texts.set(r.token_id, r.text);
  const sideOf = (side: Side): SideRewards => {
    const r = rows.find((x) => x.side === side);
    if (!r) {
      const why = skips.find((x) => x.side === side)?.reason ?? 'not scored yet (the run was interrupted: pairforge score --resume continues it)';
      return { tokens: [], reward_sum: null, masked_reward_sum: null, skipped: why };
    }
    const response = side === 'chosen' ? rendered.chosen : rendered.rejected;
    if (textSha(rendered.prompt, response) !== r.text_sha256) {
      throw new Error(`pair ${pairId} changed since run ${rid} scored its ${side} side: its per-token rewards no longer match the text (score it again)`);
    }
    const chars = Array.from(response);
    const ranges = readInt32(r.char_ranges, 'char_ranges');
    const mask = readUint8(r.loss_mask);
    const lp = readFloat32(r.logp_policy, 'logp_policy');
    const lr = readFloat32(r.logp_ref, 'logp_ref');
    const ids = readInt32(r.token_ids, 'token_ids');
    const k = run.topK;
    const tp = readTop(r.top_policy, k);
    const tr = readTop(r.top_ref, k);
    const alternatives = (top: { ids: Int32Array; logprobs: Float32Array }, t: number) => {
      const out: { token: string | null; id: number; logp: number }[] = [];
      for (let j = 0; j < k; j++) {
        const id = top.ids[t * k + j];
        if (id >= 0) out.push({ token: texts.get(id) ?? null, id, logp: top.logprobs[t * k + j] });
      }
      return out;
    };
    const tokens: TokenReward[] = [];
    for (let t = 0; t < ids.length; t++) {
      const start = ranges[2 * t];
      const end = ranges[2 * t + 1];
      tokens.push({
        text: chars.slice(start, end).join(''),
        start,
        end,
        logp_policy: lp[t],
        logp_ref: lr[t],
        reward: tokenReward(run.beta, lp[t], lr[t]),
        in_loss: mask[t] === 1,
        ...(tp ? { top_policy: alternatives(tp, t) } : {}),
        ...(tr ? { top_ref: alternatives(tr, t) } : {}),
      });
    }
    return { format: r.format, tokens, reward_sum: r.reward_sum, masked_reward_sum: r.masked_reward_sum };
  };
  const margin = p.db.prepare<[number, number], { margin: number }>('SELECT margin FROM pair_scores WHERE run_id = ? AND pair_id = ?').get(rid, pairId)?.margin ?? null;
  return {
    rewards: { pair: pairId, run: rid, beta: run.beta, margin, sides: { chosen: sideOf('chosen'), rejected: sideOf('rejected') } },
    responses: { chosen: rendered.chosen, rejected: rendered.rejected },
  };
}

export interface MarginRow {
  pairId: number;
  margin: number;
  chosenReward: number;
  rejectedReward: number;
  prefersChosen: boolean;
}

/** A run's scored pairs by margin (the review queue: 'asc' puts the pairs the policy gets most
 * wrong first), a page at a time; served by the (run, margin) index. */
export function pairsByMargin(p: Project, runId: number, opts: { order?: 'asc' | 'desc'; limit?: number; offset?: number } = {}): MarginRow[] {
  const dir = opts.order === 'desc' ? 'DESC' : 'ASC';
  return p.db
    .prepare<[number, number, number], { pair_id: number; margin: number; chosen_reward: number; rejected_reward: number; prefers_chosen: number }>(
      `SELECT pair_id, margin, chosen_reward, rejected_reward, prefers_chosen FROM pair_scores WHERE run_id = ? ORDER BY margin ${dir}, pair_id LIMIT ? OFFSET ?`,
    )
    .all(runId, opts.limit ?? 500, opts.offset ?? 0)
    .map((r) => ({ pairId: r.pair_id, margin: r.margin, chosenReward: r.chosen_reward, rejectedReward: r.rejected_reward, prefersChosen: r.prefers_chosen === 1 }));
}

/** Pairs scored in at least one run, for `pairforge stats`. */
export function scoredPairCount(p: Project): number {
  return p.db.prepare<[], { n: number }>('SELECT COUNT(DISTINCT pair_id) AS n FROM pair_scores').get()!.n;
}

/** The margin of a run as a join on the review queue's pairs (server/pairs/queue.ts ScoreJoin). */
export function marginJoin(runId: number): { join: string; params: number[]; margin: string } {
  return { join: 'LEFT JOIN pair_scores ps ON ps.pair_id = p.id AND ps.run_id = ?', params: [runId], margin: 'ps.margin' };
}
