// A scoring run: every side of the selected pairs scored under a policy and a reference model,
// token by token (docs/scoring.md). For each side: render it exactly as the export writes it
// (pairs/render.ts), tokenize the prompt and the response separately with the endpoint's /tokenize,
// send the concatenated ids to both models with prompt_logprobs, read each response token's
// log-probability, map the tokens to character ranges of the response, and store the arrays with
// the side's sums; once both sides of a pair are stored, its margin.
//
// Before anything is scored, both models must tokenize a probe text identically (ids and token
// strings): rewards across different tokenizers mean nothing. Every answer is checked at the
// boundary (the ids the server took are the ids sent).
//
// Faults and resume follow sampling (server/sampling/attempts.ts): retries with backoff on 5xx,
// dropped connections and garbage; 401/403/404 stop the run with the server's message; a prompt
// over the context length is recorded as a skip of that side. score_sides has PRIMARY KEY (run,
// pair, side) and rows are inserted with ON CONFLICT DO NOTHING in small transactions (every
// 100 ms or 256 rows), so `kill -9` loses at most the unwritten sides and running the same command
// again (it continues the newest unfinished run with the same options) scores each missing side
// exactly once.
import { createHash } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { FAMILIES, renderForTraining, type Family, type Rendered, type TrainFormat } from '../pairs/render';
import { RequestAborts, requestWithRetries, type Attempted, type RequestCounters, type RetryPolicy } from '../sampling/attempts';
import { rootUrl, type Health, type SamplingError } from '../sampling/client';
import { EndpointPool, type PoolEndpoint } from '../sampling/endpoints';
import { DEFAULTS as SAMPLING_DEFAULTS } from '../sampling/job';
import type { Project } from '../store/db';
import { tokenRanges } from './offsets';
import { lossMask, sideSums } from './rewards';
import {
  addRunPairs,
  createRun,
  findRun,
  finishRun,
  getRun,
  missingSides,
  reopenRun,
  runCounts,
  runMargins,
  selectPairIds,
  sideWriter,
  textSha,
  type RunStatus,
  type ScoreSelection,
  type Side,
  type SideRow,
} from './store';
import { parsePromptLogprobs, parseTokenize, promptLogprobsBody, tokenizationDifference, tokenizeBody, tokenizerProbe, type PositionLogprob, type Tokenized } from './vllm';

export const SCORE_DEFAULTS = {
  beta: 0.1,
  topK: 0,
  format: 'fim' as TrainFormat,
  family: 'qwen2.5-coder' as Family,
  addSpecialTokens: true,
  concurrency: 64,
} as const;

/** vLLM refuses more prompt log-probabilities than its --max-logprobs (default 20). */
export const MAX_TOP_K = 20;

export interface ScoreSpec {
  /** The model being trained (or a checkpoint of it); several endpoints share the work. */
  policy: PoolEndpoint[];
  /** The frozen reference model. */
  reference: PoolEndpoint[];
  beta?: number;
  /** Alternatives stored per token under each model (0..20). */
  topK?: number;
  /** 'fim' (default): FIM pairs in FIM format, whole programs and IterPref pairs in chat, as the
   * export renders them; 'chat': every pair in chat format. */
  format?: TrainFormat;
  family?: Family;
  /** Append the published trainer's sentence to the question (as `export --training-sentence`). */
  trainingSentence?: boolean;
  /** Tokenize the prompt with add_special_tokens (a BOS where the tokenizer has one), as a
   * trainer's `tokenizer(prompt)` does; the response never gets special tokens. */
  addSpecialTokens?: boolean;
  /** Requests in flight per endpoint. */
  concurrency?: number;
  timeoutMs?: number;
  maxRetries?: number;
  retryBaseMs?: number;
  retryCapMs?: number;
  downWaitMs?: number;
  probeMs?: number;
  downAfter?: number;
}

export interface ScoreProgress {
  runId: number;
  /** Sides the run has in all (two per pair). */
  total: number;
  /** Stored or skipped (before this call and by it). */
  done: number;
  skipped: number;
  failed: number;
  inFlight: number;
  elapsedMs: number;
}

export interface ScoreOptions {
  signal?: AbortSignal;
  onProgress?: (p: ScoreProgress) => void;
  /** Messages for the user (endpoint down/back, skips, retries given up); stderr in the CLI. */
  log?: (m: string) => void;
  /** Continue the newest run with the same options: 'unfinished' (default: run the same command
   * again after a crash), 'any' (also a finished one: only what it has not scored yet), 'none'
   * (always a new run). */
  reuse?: 'none' | 'unfinished' | 'any';
  /** Skip the /health + /v1/models check (tests of the fault handling). */
  skipHealthCheck?: boolean;
}

export interface ScoreSummary {
  runId: number;
  status: RunStatus;
  /** True when an existing run was continued. */
  resumed: boolean;
  beta: number;
  format: TrainFormat;
  family: Family;
  pairs: number;
  /** Pairs with both sides scored (and so a margin). */
  scoredPairs: number;
  /** Of those, how many the policy already prefers on the chosen side (margin > 0). */
  prefersChosen: number;
  meanMargin: number | null;
  /** Sides stored in the run now, and by this call. */
  sides: number;
  produced: number;
  skippedSides: number;
  /** Sides given up after retries in this call (not stored; a resume scores them). */
  failed: number;
  requests: number;
  retries: number;
  elapsedMs: number;
  policy: Health[];
  reference: Health[];
  message?: string;
}

function num(name: string, v: number | undefined, dflt: number, lo: number, hi: number, int: boolean): number {
  const x = v ?? dflt;
  if (typeof x !== 'number' || !Number.isFinite(x) || x < lo || x > hi || (int && !Number.isInteger(x))) {
    throw new Error(`${name}: ${int ? 'an integer' : 'a number'} from ${lo} to ${hi} expected (got ${String(v)})`);
  }
  return x;
}

interface Checked {
  beta: number;
  topK: number;
  format: TrainFormat;
  family: Family;
  trainingSentence: boolean;
  addSpecialTokens: boolean;
  concurrency: number;
}

/** Checks a spec; the message names the field. */
export function checkScoreSpec(spec: ScoreSpec): Checked {
  for (const [name, list] of [
    ['policy', spec.policy],
    ['reference', spec.reference],
  ] as const) {
    if (!Array.isArray(list) || list.length === 0) throw new Error(`${name}: at least one endpoint (url, model) expected`);
    list.forEach((e, i) => {
      rootUrl(e.url);
      if (typeof e.model !== 'string' || e.model === '') throw new Error(`${name}[${i}].model: missing`);
    });
    if (new Set(list.map((e) => e.model)).size > 1) throw new Error(`${name}: every endpoint must serve the same model (got ${[...new Set(list.map((e) => e.model))].join(', ')})`);
  }
  const beta = num('beta', spec.beta, SCORE_DEFAULTS.beta, Number.MIN_VALUE, 1e6, false);
  const format = spec.format ?? SCORE_DEFAULTS.format;
  if (format !== 'fim' && format !== 'chat') throw new Error(`format: fim or chat expected (got '${String(format)}')`);
  const family = spec.family ?? SCORE_DEFAULTS.family;
  if (!(FAMILIES as readonly string[]).includes(family)) throw new Error(`family: one of ${FAMILIES.join(', ')} expected (got '${String(family)}')`);
  return {
    beta,
    topK: num('top_k', spec.topK, SCORE_DEFAULTS.topK, 0, MAX_TOP_K, true),
    format,
    family,
    trainingSentence: spec.trainingSentence === true,
    addSpecialTokens: spec.addSpecialTokens ?? SCORE_DEFAULTS.addSpecialTokens,
    concurrency: num('concurrency', spec.concurrency, SCORE_DEFAULTS.concurrency, 1, 4096, true),
  };
}

/** What makes two runs the same command: models, values, rendering and selection (not URLs,
 * keys or concurrency). */
export function scoreSpecKey(spec: ScoreSpec, c: Checked, selection: ScoreSelection): string {
  const key = {
    policy: spec.policy[0].model,
    reference: spec.reference[0].model,
    beta: c.beta,
    topK: c.topK,
    format: c.format,
    family: c.family,
    trainingSentence: c.trainingSentence,
    addSpecialTokens: c.addSpecialTokens,
    selection: Array.isArray(selection) ? [...new Set(selection)].sort((a, b) => a - b) : selection,
  };
  return createHash('sha256').update(JSON.stringify(key)).digest('hex');
}

const now = () => new Date().toISOString();
const storedEndpoints = (list: PoolEndpoint[]) => list.map((e) => ({ url: rootUrl(e.url), model: e.model }));

/** The text both models must tokenize alike: code, and the control tokens of the format scored. */
function probeText(c: Checked): string {
  const pair = { question: 'probe', pre: 'x = 1\n', suf: '\ny = 2\n', chosen: 'z = 3', rejected: 'z = 4', chosenSpans: [], rejectedSpans: [] };
  const opts = { family: c.family, trainingSentence: false };
  const fim = renderForTraining(pair, 'fim', opts);
  const chat = renderForTraining(pair, 'chat', opts);
  return tokenizerProbe([fim.prompt + fim.chosen, chat.prompt]);
}

/** Tokenizes the probe on every endpoint (with and without special tokens); throws when any two
 * disagree. Returns what the run records about the tokenizer. */
async function checkTokenizers(policy: EndpointPool, reference: EndpointPool, c: Checked, signal: AbortSignal | undefined): Promise<{ probeSha256: string; probeTokens: number; maxModelLen: number | null }> {
  const text = probeText(c);
  const slots = [...policy.slots.map((s) => ({ role: 'policy', s })), ...reference.slots.map((s) => ({ role: 'reference', s }))].filter((x) => x.s.state !== 'dead');
  const results = await Promise.all(
    slots.map(async ({ role, s }) => {
      const where = `${role} ${s.client.root} (${s.client.model})`;
      const one = async (add: boolean): Promise<Tokenized> => {
        try {
          return await s.client.post('/tokenize', tokenizeBody(s.client.model, text, add), parseTokenize, signal);
        } catch (e) {
          throw new Error(`${where}: /tokenize failed: ${(e as Error).message}`);
        }
      };
      return { where, withSpecial: await one(true), without: await one(false) };
    }),
  );
  const [first, ...rest] = results;
  for (const r of rest) {
    for (const k of ['withSpecial', 'without'] as const) {
      const diff = tokenizationDifference(first[k], r[k]);
      if (diff) {
        throw new Error(
          `the ${first.where} and the ${r.where} tokenize differently (${diff}${k === 'withSpecial' ? ', with special tokens' : ''}); ` +
            'per-token rewards across different tokenizers mean nothing, so nothing was scored',
        );
      }
    }
  }
  const ids = first.withSpecial.ids;
  const lens = results.map((r) => r.withSpecial.maxModelLen).filter((n): n is number => n !== null);
  return {
    probeSha256: createHash('sha256').update(JSON.stringify([ids, first.without.ids, first.withSpecial.strs])).digest('hex'),
    probeTokens: ids.length,
    maxModelLen: lens.length > 0 ? Math.min(...lens) : null,
  };
}

interface PreparedPair {
  rendered: Rendered;
  /** The prompt's ids, tokenized once for both sides. */
  promptIds?: Promise<Attempted<Tokenized>>;
  pending: number;
}

type PairRow = { id: number; pre: string; suf: string; chosen: string; rejected: string; chosen_loss_spans: string; rejected_loss_spans: string; question: string };

/** Scores the selected pairs (a new run, or the newest one with the same options; see
 * ScoreOptions.reuse). Throws for a bad spec or selection, no usable endpoint, or models whose
 * tokenizers differ; endpoint trouble during the run ends up in the summary's status and message. */
export async function scorePairs(p: Project, selection: ScoreSelection, spec: ScoreSpec, opts: ScoreOptions = {}): Promise<ScoreSummary> {
  const t0 = performance.now();
  const log = opts.log ?? (() => undefined);
  const c = checkScoreSpec(spec);
  if (Array.isArray(selection) && (selection.length === 0 || !selection.every((x) => Number.isInteger(x)))) throw new Error('pairs: a non-empty list of pair ids expected');
  const pairIds = selectPairIds(p, selection);
  if (pairIds.length === 0) {
    const total = p.db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM pairs').get()!.n;
    throw new Error(`no ${String(selection)} pairs to score (the project has ${total} pairs${total === 0 ? ': run pairforge pairs first' : ''})`);
  }
  const key = scoreSpecKey(spec, c, selection);
  if (spec.policy[0].model === spec.reference[0].model && storedEndpoints(spec.policy)[0].url === storedEndpoints(spec.reference)[0].url) {
    log(`the policy and the reference are the same model (${spec.policy[0].model}): every reward will be 0`);
  }

  // 1. The endpoints: healthy, serving the models, one tokenizer.
  const poolOpts = {
    concurrency: c.concurrency,
    timeoutMs: spec.timeoutMs ?? SAMPLING_DEFAULTS.timeoutMs,
    downWaitMs: spec.downWaitMs ?? SAMPLING_DEFAULTS.downWaitMs,
    probeMs: spec.probeMs ?? SAMPLING_DEFAULTS.probeMs,
    downAfter: spec.downAfter ?? SAMPLING_DEFAULTS.downAfter,
  };
  const policy = new EndpointPool(spec.policy, poolOpts);
  const reference = new EndpointPool(spec.reference, poolOpts);
  const closePools = () => {
    policy.close();
    reference.close();
  };
  let policyHealth: Health[] = [];
  let referenceHealth: Health[] = [];
  let tokenizer: Awaited<ReturnType<typeof checkTokenizers>>;
  try {
    if (!opts.skipHealthCheck) {
      [policyHealth, referenceHealth] = await Promise.all([policy.health(opts.signal), reference.health(opts.signal)]);
      for (const [role, pool, health] of [
        ['policy', policy, policyHealth],
        ['reference', reference, referenceHealth],
      ] as const) {
        health.forEach((h, i) => {
          if (!h.ok) {
            pool.slots[i].state = 'dead';
            log(`${role} ${h.url} (${h.model}): ${h.error ?? 'unhealthy'}`);
          } else log(`${role} ${h.url}: serves '${h.model}'${h.maxModelLen ? ` (context ${h.maxModelLen} tokens)` : ''}`);
        });
        if (!pool.alive) throw new Error(`no usable ${role} endpoint: ${health.map((h) => `${h.url} (${h.model}): ${h.error ?? 'unhealthy'}`).join('; ')}`);
      }
    }
    tokenizer = await checkTokenizers(policy, reference, c, opts.signal);
  } catch (e) {
    closePools();
    throw e;
  }

  // 2. The run: an existing one with the same options, or a new one.
  const reuse = opts.reuse ?? 'unfinished';
  let run = reuse === 'none' ? undefined : findRun(p, key, reuse);
  if (run) {
    const before = run.tokenizer as { probeSha256?: string } | null;
    if (before?.probeSha256 && before.probeSha256 !== tokenizer.probeSha256) {
      closePools();
      throw new Error(`scoring run ${run.id} was scored with another tokenizer (its probe text tokenized differently); start a new run instead of continuing it`);
    }
  }
  const resumed = run !== undefined;
  const runId = p.db.transaction((): number => {
    let id: number;
    if (run) {
      id = run.id;
      reopenRun(p, id, storedEndpoints(spec.policy), storedEndpoints(spec.reference), tokenizer);
      log(`continuing scoring run ${id} (same models, beta, rendering and pairs; it was ${run.status})`);
    } else {
      id = createRun(
        p,
        {
          specKey: key,
          policy: storedEndpoints(spec.policy),
          reference: storedEndpoints(spec.reference),
          beta: c.beta,
          topK: c.topK,
          format: c.format,
          family: c.family,
          trainingSentence: c.trainingSentence,
          addSpecialTokens: c.addSpecialTokens,
          selection,
          tokenizer,
        },
        now(),
      );
    }
    return id;
  }).immediate();
  // A new run takes the selection; a continued open-ended one also the pairs made since.
  if (!run || !Array.isArray(selection)) addRunPairs(p, runId, pairIds);
  run = getRun(p, runId)!;
  const work = missingSides(p, runId);
  const counts0 = runCounts(p, runId);
  const total = counts0.pairs * 2;
  const alreadyDone = counts0.sides + counts0.skippedSides;

  // 3. Score.
  const stop = new AbortController();
  setMaxListeners(0, stop.signal);
  const aborts = new RequestAborts(stop.signal);
  const onAbort = () => stop.abort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  if (opts.signal?.aborted) stop.abort();
  const counters: RequestCounters = { requests: 0, retries: 0, inFlight: 0 };
  const retry: RetryPolicy = {
    maxRetries: spec.maxRetries ?? SAMPLING_DEFAULTS.maxRetries,
    retryBaseMs: spec.retryBaseMs ?? SAMPLING_DEFAULTS.retryBaseMs,
    retryCapMs: spec.retryCapMs ?? SAMPLING_DEFAULTS.retryCapMs,
  };
  const attempt = { ...retry, signal: stop.signal, aborts, counters, log };

  const writer = sideWriter(p, runId, c.beta, c.topK);
  let buffer: SideRow[] = [];
  let tokenTexts = new Map<number, string>();
  let produced = 0;
  let skippedNow = 0;
  let failed = 0;
  let fatal: SamplingError | undefined;
  let crash: unknown;
  const flush = () => {
    if (buffer.length === 0 && tokenTexts.size === 0) return;
    const rows = buffer;
    const texts = tokenTexts;
    buffer = [];
    tokenTexts = new Map();
    produced += writer.write(rows, texts); // counted once committed
  };
  const flushTimer = setInterval(() => {
    try {
      flush();
    } catch (e) {
      // e.g. the disk is full: stop rather than keep scoring what cannot be stored
      crash ??= e;
      stop.abort();
    }
  }, 100);
  const progress = () =>
    opts.onProgress?.({
      runId,
      total,
      done: alreadyDone + produced + buffer.length + skippedNow,
      skipped: counts0.skippedSides + skippedNow,
      failed,
      inFlight: counters.inFlight,
      elapsedMs: performance.now() - t0,
    });
  const skip = (pairId: number, side: Side, reason: string) => {
    writer.skip(pairId, side, reason, now());
    skippedNow++;
    log(`pair ${pairId} ${side}: skipped: ${reason}`);
    progress();
  };

  const pairStmt = p.db.prepare<[number], PairRow>(
    'SELECT pa.id, pa.pre, pa.suf, pa.chosen, pa.rejected, pa.chosen_loss_spans, pa.rejected_loss_spans, pr.question FROM pairs pa JOIN problems pr ON pr.id = pa.problem_id WHERE pa.id = ?',
  );
  const sidesLeft = new Map<number, number>();
  for (const w of work) sidesLeft.set(w.pairId, (sidesLeft.get(w.pairId) ?? 0) + 1);
  const prepared = new Map<number, PreparedPair>();
  const prepare = (pairId: number): PreparedPair => {
    let pp = prepared.get(pairId);
    if (pp) return pp;
    const r = pairStmt.get(pairId);
    if (!r) throw new Error(`pair ${pairId} vanished from the store during the run`);
    const rendered = renderForTraining(
      { question: r.question, pre: r.pre, suf: r.suf, chosen: r.chosen, rejected: r.rejected, chosenSpans: JSON.parse(r.chosen_loss_spans), rejectedSpans: JSON.parse(r.rejected_loss_spans) },
      c.format,
      { family: c.family, trainingSentence: c.trainingSentence },
    );
    pp = { rendered, pending: sidesLeft.get(pairId) ?? 2 };
    prepared.set(pairId, pp);
    return pp;
  };
  const finishSide = (pairId: number) => {
    const pp = prepared.get(pairId);
    if (pp && --pp.pending <= 0) prepared.delete(pairId);
  };
  const tokenize = (text: string, add: boolean): Promise<Attempted<Tokenized>> =>
    requestWithRetries(policy, (client, signal) => client.post('/tokenize', tokenizeBody(client.model, text, add), parseTokenize, signal), attempt);
  const logprobs = (pool: EndpointPool, ids: number[], from: number): Promise<Attempted<PositionLogprob[]>> =>
    requestWithRetries(
      pool,
      (client, signal) => client.post('/v1/completions', promptLogprobsBody(client.model, ids, c.topK), (a) => parsePromptLogprobs(a, ids, from, c.topK, `${client.root} (${client.model})`), signal),
      attempt,
    );

  /** Deals with an attempt that did not answer; false when the side is done with (skipped, failed,
   * or the run stops). */
  const settle = <T>(got: Attempted<T>, pairId: number, side: Side, what: string): got is Extract<Attempted<T>, { kind: 'ok' }> => {
    switch (got.kind) {
      case 'ok':
        return true;
      case 'context':
        skip(pairId, side, `the prompt and response do not fit the model's context (maximum context length is ${got.error.maxLen}): ${got.error.message}`);
        return false;
      case 'fatal':
        fatal ??= got.error;
        stop.abort();
        return false;
      case 'gave-up':
        failed++;
        log(`pair ${pairId} ${side}: ${what} given up after ${got.attempts} attempts: ${got.error.message}`);
        progress();
        return false;
      case 'stopped':
        return false;
    }
  };

  const scoreSide = async (pairId: number, side: Side): Promise<void> => {
    const pp = prepare(pairId);
    const r = pp.rendered;
    const response = side === 'chosen' ? r.chosen : r.rejected;
    const spans = side === 'chosen' ? r.chosenSpans : r.rejectedSpans;
    pp.promptIds ??= tokenize(r.prompt, c.addSpecialTokens);
    const [promptTok, responseTok] = await Promise.all([pp.promptIds, tokenize(response, false)]);
    if (!settle(promptTok, pairId, side, 'tokenizing the prompt') || !settle(responseTok, pairId, side, 'tokenizing the response')) return;
    const promptIds = promptTok.value.ids;
    const resp = responseTok.value;
    if (promptIds.length === 0) {
      skip(pairId, side, 'the prompt has no tokens, so the first response token has no log-probability');
      return;
    }
    const mapped = tokenRanges(response, resp.strs);
    if (!mapped) {
      skip(pairId, side, "the tokenizer's token strings do not spell the response (neither byte-level, SentencePiece nor plain), so tokens cannot be placed in the text");
      return;
    }
    const ids = [...promptIds, ...resp.ids];
    let attempts = 1;
    let pol: PositionLogprob[] = [];
    let ref: PositionLogprob[] = [];
    if (resp.ids.length > 0) {
      const [a, b] = await Promise.all([logprobs(policy, ids, promptIds.length), logprobs(reference, ids, promptIds.length)]);
      if (!settle(a, pairId, side, 'policy log-probabilities') || !settle(b, pairId, side, 'reference log-probabilities')) return;
      pol = a.value;
      ref = b.value;
      attempts = Math.max(a.attempts, b.attempts);
    }
    const lpPolicy = Float32Array.from(pol, (x) => x.logprob);
    const lpRef = Float32Array.from(ref, (x) => x.logprob);
    const mask = lossMask(mapped.ranges, spans);
    const sums = sideSums(lpPolicy, lpRef, mask, c.beta);
    const top = (pos: PositionLogprob[]) => {
      if (c.topK === 0) return null;
      const out = { ids: new Int32Array(pos.length * c.topK).fill(-1), logprobs: new Float32Array(pos.length * c.topK).fill(Number.NaN) };
      pos.forEach((x, t) =>
        x.top.forEach((e, j) => {
          out.ids[t * c.topK + j] = e.id;
          out.logprobs[t * c.topK + j] = e.logprob;
          if (e.decoded !== null) tokenTexts.set(e.id, e.decoded);
        }),
      );
      return out;
    };
    buffer.push({
      pairId,
      side,
      format: r.format,
      textSha256: textSha(r.prompt, response),
      promptTokens: promptIds.length,
      spelling: mapped.spelling,
      tokenIds: resp.ids,
      charRanges: mapped.ranges,
      lossMask: mask,
      logpPolicy: lpPolicy,
      logpRef: lpRef,
      topPolicy: top(pol),
      topRef: top(ref),
      maskedTokens: sums.maskedTokens,
      maskedLogpPolicy: sums.maskedLogpPolicy,
      maskedLogpRef: sums.maskedLogpRef,
      rewardSum: sums.rewardSum,
      maskedRewardSum: sums.maskedRewardSum,
      attempts,
      createdAt: now(),
    });
    if (buffer.length >= 256) flush();
    progress();
  };

  let cursor = 0;
  const capacity = (pool: EndpointPool) => pool.slots.reduce((a, s) => a + (s.state === 'dead' ? 0 : s.limit), 0);
  const runners = Math.max(1, capacity(policy), capacity(reference));
  const runner = async () => {
    for (;;) {
      if (stop.signal.aborted || !policy.alive || !reference.alive) return;
      const item = work[cursor++];
      if (!item) return;
      try {
        await scoreSide(item.pairId, item.side);
      } finally {
        finishSide(item.pairId);
      }
    }
  };
  progress();
  try {
    await Promise.all(
      Array.from({ length: runners }, () =>
        runner().catch((e: unknown) => {
          crash ??= e;
          stop.abort();
        }),
      ),
    );
  } finally {
    clearInterval(flushTimer);
    closePools();
    opts.signal?.removeEventListener('abort', onAbort);
    try {
      flush();
    } catch (e) {
      crash ??= e;
    }
  }

  // 4. The outcome.
  const counts = runCounts(p, runId);
  let status: RunStatus;
  let message: string | undefined;
  if (crash) {
    status = 'failed';
    message = `internal error: ${(crash as Error)?.message ?? String(crash)}`;
  } else if (fatal) {
    status = 'failed';
    message = fatal.message;
  } else if (counts.sides + counts.skippedSides >= counts.pairs * 2) {
    status = 'done';
  } else {
    status = 'stopped';
    const resume = `run the same pairforge score command again to continue run ${runId}`;
    const dead = [...policy.slots.map((s) => ['policy', s] as const), ...reference.slots.map((s) => ['reference', s] as const)].filter(([, s]) => s.state === 'dead');
    if (opts.signal?.aborted) message = `interrupted; ${resume}`;
    else if (!policy.alive || !reference.alive) message = `${dead.map(([role, s]) => `${role} ${s.client.root}: ${s.lastError || 'unavailable'}`).join('; ')}; ${resume}`;
    else message = `${failed} sides failed after retries; ${resume}`;
  }
  finishRun(p, runId, status, message ?? null, now());
  if (crash) throw crash instanceof Error ? crash : new Error(String(crash));
  progress();
  return {
    runId,
    status,
    resumed,
    beta: c.beta,
    format: c.format,
    family: c.family,
    pairs: counts.pairs,
    ...runMargins(p, runId),
    sides: counts.sides,
    produced,
    skippedSides: counts.skippedSides,
    failed,
    requests: counters.requests,
    retries: counters.retries,
    elapsedMs: Math.round(performance.now() - t0),
    policy: policyHealth,
    reference: referenceHealth,
    ...(message ? { message } : {}),
  };
}
