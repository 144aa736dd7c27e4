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
// The work is a pipeline, so that C requests stay in flight at each model's endpoints however
// slow the other model or /tokenize is: tokenizer workers prepare sides a bounded distance ahead;
// each model's workers take them from their own queue.
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
import { problemLookup } from '../import/queries';
import { renderForTraining, type Rendered, type TrainFormat } from '../pairs/render';
import { getPair, pairCount } from '../pairs/store';
import { RequestAborts, requestWithRetries, type Attempted, type RequestCounters, type RetryPolicy } from '../sampling/attempts';
import { rootUrl, type SamplingError } from '../sampling/client';
import { EndpointPool, backoffMs, sleep, type PoolEndpoint } from '../sampling/endpoints';
import { DEFAULTS as SAMPLING_DEFAULTS } from '../sampling/job';
import type { Project } from '../store/db';
import { tokenRanges } from './offsets';
import { Channel, Gate } from './queue';
import { lossMask, sideSums } from './rewards';
import {
  addRunPairs,
  createRun,
  findRun,
  finishRun,
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
import { checkSetting, FIM_FAMILIES, SETTINGS, type EndpointHealth, type FimFamily } from '../protocol';

/** The job's defaults: beta, top-k and concurrency are the settings' (server/protocol/settings.ts). */
export const SCORE_DEFAULTS = {
  beta: SETTINGS['scoring.beta'].default,
  topK: SETTINGS['scoring.topK'].default,
  format: 'fim' as TrainFormat,
  family: 'qwen2.5-coder' as FimFamily,
  addSpecialTokens: true,
  concurrency: SETTINGS['scoring.concurrency'].default,
} as const;

/** vLLM refuses more prompt log-probabilities than its --max-logprobs (default 20). */
export const MAX_TOP_K = SETTINGS['scoring.topK'].maximum;

/** /tokenize requests in flight per policy endpoint (they are cheap; they run ahead of the
 * log-probability requests so that those never wait for them). */
const TOKENIZE_CONCURRENCY = 8;

/** Requests an endpoint pool takes at once (its endpoints that are not given up). */
const capacity = (pool: EndpointPool) => pool.slots.reduce((a, s) => a + (s.state === 'dead' ? 0 : s.limit), 0);

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
  family?: FimFamily;
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
  family: FimFamily;
  /** Pairs of the run (every selection it was given). */
  pairs: number;
  /** Pairs of this call's selection. */
  selected: number;
  /** Pairs of the run with both sides scored (and so a margin). */
  scoredPairs: number;
  /** Of those, how many the policy already prefers on the chosen side (margin > 0). */
  prefersChosen: number;
  meanMargin: number | null;
  /** Sides stored in the run now, and by this call. `status` is this call's: done when every
   * side of its selection is stored or skipped. */
  sides: number;
  produced: number;
  skippedSides: number;
  /** Sides given up after retries in this call (not stored; a resume scores them). */
  failed: number;
  requests: number;
  retries: number;
  elapsedMs: number;
  policy: EndpointHealth[];
  reference: EndpointHealth[];
  message?: string;
}

interface Checked {
  beta: number;
  topK: number;
  format: TrainFormat;
  family: FimFamily;
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
  const beta = checkSetting('scoring.beta', spec.beta ?? SCORE_DEFAULTS.beta, 'beta');
  const format = spec.format ?? SCORE_DEFAULTS.format;
  if (format !== 'fim' && format !== 'chat') throw new Error(`format: fim or chat expected (got '${String(format)}')`);
  const family = spec.family ?? SCORE_DEFAULTS.family;
  if (!(FIM_FAMILIES as readonly string[]).includes(family)) throw new Error(`family: one of ${FIM_FAMILIES.join(', ')} expected (got '${String(family)}')`);
  return {
    beta,
    topK: checkSetting('scoring.topK', spec.topK ?? SCORE_DEFAULTS.topK, 'topK'),
    format,
    family,
    trainingSentence: spec.trainingSentence === true,
    addSpecialTokens: spec.addSpecialTokens ?? SCORE_DEFAULTS.addSpecialTokens,
    concurrency: checkSetting('scoring.concurrency', spec.concurrency ?? SCORE_DEFAULTS.concurrency, 'concurrency'),
  };
}

/** What makes two runs the same run: models, values and rendering (not the selection, URLs, keys
 * or concurrency). Scoring other pairs with the same models adds them to the run, so one run holds
 * every pair scored under one policy/reference/rendering and the queue sorts them together. */
export function scoreSpecKey(spec: ScoreSpec, c: Checked): string {
  const key = {
    policy: spec.policy[0].model,
    reference: spec.reference[0].model,
    beta: c.beta,
    topK: c.topK,
    format: c.format,
    family: c.family,
    trainingSentence: c.trainingSentence,
    addSpecialTokens: c.addSpecialTokens,
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
 * disagree. Returns what the run records about the tokenizer. A failing /tokenize is retried
 * (with backoff) as often as any request. */
async function checkTokenizers(
  policy: EndpointPool,
  reference: EndpointPool,
  c: Checked,
  retry: RetryPolicy,
  signal: AbortSignal | undefined,
): Promise<{ probeSha256: string; probeTokens: number; maxModelLen: number | null }> {
  const text = probeText(c);
  const slots = [...policy.slots.map((s) => ({ role: 'policy', s })), ...reference.slots.map((s) => ({ role: 'reference', s }))].filter((x) => x.s.state !== 'dead');
  const results = await Promise.all(
    slots.map(async ({ role, s }) => {
      const where = `${role} ${s.client.root} (${s.client.model})`;
      const one = async (add: boolean): Promise<Tokenized> => {
        for (let attempt = 1; ; attempt++) {
          try {
            return await s.client.post('/tokenize', tokenizeBody(s.client.model, text, add), parseTokenize, signal);
          } catch (e) {
            const err = e as SamplingError;
            if (err.kind !== 'retry' || attempt > retry.maxRetries || signal?.aborted) throw new Error(`${where}: /tokenize failed: ${err.message}`);
            await sleep(backoffMs(attempt, retry.retryBaseMs, retry.retryCapMs), signal);
          }
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
    const total = pairCount(p);
    throw new Error(`no ${selection === 'all' ? '' : `${String(selection)} `}pairs to score (the project has ${total} pairs${total === 0 ? ': run pairforge pairs first' : ''})`);
  }
  const key = scoreSpecKey(spec, c);
  if (spec.policy[0].model === spec.reference[0].model && storedEndpoints(spec.policy)[0].url === storedEndpoints(spec.reference)[0].url) {
    log(`the policy and the reference are the same model (${spec.policy[0].model}): every reward will be 0`);
  }

  const retry: RetryPolicy = {
    maxRetries: spec.maxRetries ?? SAMPLING_DEFAULTS.maxRetries,
    retryBaseMs: spec.retryBaseMs ?? SAMPLING_DEFAULTS.retryBaseMs,
    retryCapMs: spec.retryCapMs ?? SAMPLING_DEFAULTS.retryCapMs,
  };

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
  // /tokenize goes to the policy's endpoints through a pool of its own, so it never waits behind
  // the (slow) log-probability requests for a slot.
  const tokenizer = new EndpointPool(spec.policy, { ...poolOpts, concurrency: TOKENIZE_CONCURRENCY });
  const closePools = () => {
    policy.close();
    reference.close();
    tokenizer.close();
  };
  let policyHealth: EndpointHealth[] = [];
  let referenceHealth: EndpointHealth[] = [];
  let probe: Awaited<ReturnType<typeof checkTokenizers>>;
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
    probe = await checkTokenizers(policy, reference, c, retry, opts.signal);
    // /tokenize goes to the policy's endpoints that are up.
    policy.slots.forEach((sl, i) => {
      if (sl.state === 'dead') tokenizer.slots[i].state = 'dead';
    });
  } catch (e) {
    closePools();
    throw e;
  }

  // 2. The run: an existing one with the same options, or a new one.
  const reuse = opts.reuse ?? 'unfinished';
  const run = reuse === 'none' ? undefined : findRun(p, key, reuse);
  if (run) {
    const before = run.tokenizer as { probeSha256?: string } | null;
    if (before?.probeSha256 && before.probeSha256 !== probe.probeSha256) {
      closePools();
      throw new Error(`scoring run ${run.id} was scored with another tokenizer (its probe text tokenized differently); start a new run instead of continuing it`);
    }
  }
  const resumed = run !== undefined;
  const runId = p.db.transaction((): number => {
    let id: number;
    if (run) {
      id = run.id;
      reopenRun(p, id, storedEndpoints(spec.policy), storedEndpoints(spec.reference), probe);
      log(`continuing scoring run ${id} (same models, beta and rendering; it was ${run.status})`);
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
          tokenizer: probe,
        },
        now(),
      );
    }
    return id;
  }).immediate();
  // The selected pairs join the run; this call scores their missing sides (a continued run's
  // other pairs, selected by an earlier command, are left to a command that selects them).
  addRunPairs(p, runId, pairIds);
  const selected = new Set(pairIds);
  const missingOf = () => missingSides(p, runId).filter((w) => selected.has(w.pairId));
  const work = missingOf();
  const total = pairIds.length * 2;
  const alreadyDone = total - work.length;
  const skippedBefore = p.db.prepare<[number], { pair_id: number }>('SELECT pair_id FROM score_skips WHERE run_id = ?').all(runId).filter((r) => selected.has(r.pair_id)).length;

  // 3. Score.
  const stop = new AbortController();
  setMaxListeners(0, stop.signal);
  const aborts = new RequestAborts(stop.signal);
  const onAbort = () => stop.abort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  if (opts.signal?.aborted) stop.abort();
  const counters: RequestCounters = { requests: 0, retries: 0, inFlight: 0 };
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
      skipped: skippedBefore + skippedNow,
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

  const problemText = problemLookup(p);
  const sidesLeft = new Map<number, number>();
  for (const w of work) sidesLeft.set(w.pairId, (sidesLeft.get(w.pairId) ?? 0) + 1);
  const prepared = new Map<number, PreparedPair>();
  const preparePair = (pairId: number): PreparedPair => {
    let pp = prepared.get(pairId);
    if (pp) return pp;
    const r = getPair(p, pairId);
    const problem = r && problemText(r.problemId);
    if (!r || !problem) throw new Error(`pair ${pairId} vanished from the store during the run`);
    const rendered = renderForTraining(
      { question: problem.question, pre: r.pre, suf: r.suf, chosen: r.chosen, rejected: r.rejected, chosenSpans: r.chosenSpans, rejectedSpans: r.rejectedSpans },
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
    requestWithRetries(tokenizer, (client, signal) => client.post('/tokenize', tokenizeBody(client.model, text, add), parseTokenize, signal), attempt);
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

  // The pipeline: tokenizer workers prepare sides ahead (rendered, tokenized, placed in the text)
  // and hand each to the policy's and the reference's queue; each model's workers (as many as its
  // endpoints take) ask for the log-probabilities independently, so neither pool waits for the
  // other or for /tokenize; a side is stored when both answers are in. At most `ahead` sides are
  // prepared and not yet finished, so memory stays flat however many pairs a run has.
  interface Ready {
    pairId: number;
    side: Side;
    rendered: Rendered;
    promptLen: number;
    ids: number[];
    respIds: number[];
    spelling: string;
    ranges: Int32Array;
    results: { policy?: Extract<Attempted<PositionLogprob[]>, { kind: 'ok' }>; reference?: Extract<Attempted<PositionLogprob[]>, { kind: 'ok' }> };
    over: boolean;
  }
  const runners = { policy: capacity(policy), reference: capacity(reference) };
  const ahead = 2 * Math.max(runners.policy, runners.reference) + TOKENIZE_CONCURRENCY;
  const room = new Gate(ahead);
  const queues = { policy: new Channel<Ready>(), reference: new Channel<Ready>() };
  const closeQueues = () => {
    queues.policy.close();
    queues.reference.close();
  };
  stop.signal.addEventListener('abort', () => {
    closeQueues();
    room.open();
  });

  /** The side is done with (stored, skipped or failed): its place ahead is free again. */
  const over = (r: Pick<Ready, 'pairId' | 'over'>) => {
    if (r.over) return;
    r.over = true;
    room.release();
    finishSide(r.pairId);
  };

  const store = (r: Ready) => {
    const pol = r.results.policy!.value;
    const ref = r.results.reference!.value;
    const response = r.side === 'chosen' ? r.rendered.chosen : r.rendered.rejected;
    const spans = r.side === 'chosen' ? r.rendered.chosenSpans : r.rendered.rejectedSpans;
    const lpPolicy = Float32Array.from(pol, (x) => x.logprob);
    const lpRef = Float32Array.from(ref, (x) => x.logprob);
    const mask = lossMask(r.ranges, spans);
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
      pairId: r.pairId,
      side: r.side,
      format: r.rendered.format,
      textSha256: textSha(r.rendered.prompt, response),
      promptTokens: r.promptLen,
      spelling: r.spelling,
      tokenIds: r.respIds,
      charRanges: r.ranges,
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
      attempts: Math.max(r.results.policy!.attempts, r.results.reference!.attempts),
      createdAt: now(),
    });
    over(r);
    if (buffer.length >= 256) flush();
    progress();
  };

  /** Renders and tokenizes one side; hands it to both models' queues (or stores an empty
   * response at once, or skips the side). */
  const prepareSide = async (pairId: number, side: Side): Promise<void> => {
    const slot = { pairId, over: false };
    const pp = preparePair(pairId);
    const r = pp.rendered;
    const response = side === 'chosen' ? r.chosen : r.rejected;
    pp.promptIds ??= tokenize(r.prompt, c.addSpecialTokens);
    const [promptTok, responseTok] = await Promise.all([pp.promptIds, tokenize(response, false)]);
    if (!settle(promptTok, pairId, side, 'tokenizing the prompt') || !settle(responseTok, pairId, side, 'tokenizing the response')) return over(slot);
    const promptIds = promptTok.value.ids;
    const resp = responseTok.value;
    if (promptIds.length === 0) {
      skip(pairId, side, 'the prompt has no tokens, so the first response token has no log-probability');
      return over(slot);
    }
    const mapped = tokenRanges(response, resp.strs);
    if (!mapped) {
      skip(pairId, side, "the tokenizer's token strings do not spell the response (neither byte-level, plain nor SentencePiece), so tokens cannot be placed in the text");
      return over(slot);
    }
    const ready: Ready = { pairId, side, rendered: r, promptLen: promptIds.length, ids: [...promptIds, ...resp.ids], respIds: resp.ids, spelling: mapped.spelling, ranges: mapped.ranges, results: {}, over: false };
    if (resp.ids.length === 0) {
      // Nothing to ask: an empty response has no tokens and sums to 0.
      ready.results = { policy: { kind: 'ok', value: [], slot: policy.slots[0], attempts: 0 }, reference: { kind: 'ok', value: [], slot: reference.slots[0], attempts: 0 } };
      return store(ready);
    }
    queues.policy.push(ready);
    queues.reference.push(ready);
  };

  /** Every endpoint of a model given up: nothing more can be scored. */
  const gone = () => !policy.alive || !reference.alive || !tokenizer.alive;
  const model = (role: 'policy' | 'reference', pool: EndpointPool) => async () => {
    for (;;) {
      const r = await queues[role].pop();
      if (!r) return;
      if (gone()) stop.abort();
      if (r.over) continue;
      const got = await logprobs(pool, r.ids, r.promptLen);
      if (r.over) continue; // the other model skipped or failed it meanwhile
      if (!settle(got, r.pairId, r.side, `${role} log-probabilities`)) {
        over(r);
        continue;
      }
      r.results[role] = got;
      if (r.results.policy && r.results.reference) store(r);
    }
  };

  let cursor = 0;
  const producer = async () => {
    for (;;) {
      if (gone()) stop.abort();
      if (stop.signal.aborted) return;
      await room.acquire();
      if (stop.signal.aborted) return;
      const item = work[cursor++];
      if (!item) {
        room.release();
        return;
      }
      await prepareSide(item.pairId, item.side);
    }
  };
  const guard = (f: () => Promise<void>) =>
    f().catch((e: unknown) => {
      crash ??= e;
      stop.abort();
    });
  progress();
  try {
    const models = [
      ...Array.from({ length: Math.max(1, runners.policy) }, () => guard(model('policy', policy))),
      ...Array.from({ length: Math.max(1, runners.reference) }, () => guard(model('reference', reference))),
    ];
    await Promise.all(Array.from({ length: TOKENIZE_CONCURRENCY }, () => guard(producer)));
    // Every side is prepared: the queues end once the models have taken what is in them.
    closeQueues();
    await Promise.all(models);
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

  // 4. The outcome: of this call (its selection), and of the run (all of its pairs).
  const counts = runCounts(p, runId);
  const left = missingOf().length;
  let status: RunStatus;
  let message: string | undefined;
  if (crash) {
    status = 'failed';
    message = `internal error: ${(crash as Error)?.message ?? String(crash)}`;
  } else if (fatal) {
    status = 'failed';
    message = fatal.message;
  } else if (left === 0) {
    status = 'done';
  } else {
    status = 'stopped';
    const resume = `run the same pairforge score command again to continue run ${runId}`;
    const dead = [
      ...policy.slots.map((s) => ['policy', s] as const),
      ...reference.slots.map((s) => ['reference', s] as const),
      ...tokenizer.slots.map((s) => ['policy /tokenize', s] as const),
    ].filter(([, s]) => s.state === 'dead');
    if (opts.signal?.aborted) message = `interrupted; ${resume}`;
    else if (gone()) message = `${dead.map(([role, s]) => `${role} ${s.client.root}: ${s.lastError || 'unavailable'}`).join('; ')}; ${resume}`;
    else message = `${failed} sides failed after retries; ${resume}`;
  }
  const unscoredInRun = counts.pairs * 2 - counts.sides - counts.skippedSides;
  const runStatus: RunStatus = status === 'done' && unscoredInRun > 0 ? 'stopped' : status;
  const runMessage =
    status === 'done' && unscoredInRun > 0
      ? `${unscoredInRun} sides of pairs an earlier command added to run ${runId} are not scored yet; a command with the same options that selects them scores them`
      : (message ?? null);
  finishRun(p, runId, runStatus, runMessage, now());
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
    selected: pairIds.length,
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
