// POST /v1/completions: vLLM's request fields, validation, stopping rules and response shape,
// over the local model. Stopping follows vLLM: an EOS token ends with stop_reason null, a token of
// `stop_token_ids` with stop_reason = that id (neither appears in the text), a `stop` string
// truncates the text before it with stop_reason = that string; `max_tokens` ends with "length".
// `echo` with `max_tokens: 0` returns the prompt (with its log-probabilities) and generates one
// token internally, as vLLM does.
import { randomUUID } from 'node:crypto';
import { badRequest, contextLengthError, invalidRequest, modelNotFound } from './errors';
import { Ordered, toJson } from './json';
import type { LocalModel, Plan } from './model';
import { rngFrom, sampleRng, hash32, type Rng } from './rng';
import { EOS_IDS } from './tokenizer';

export const MAX_LOGPROBS = 20;

export interface CompletionRequest {
  model: string | null;
  prompts: { text: string; ids: number[] }[];
  echo: boolean;
  logprobs: number | null;
  maxTokens: number;
  n: number;
  seed: number | string | null;
  stop: string[];
  stopTokenIds: number[];
  temperature: number;
  topP: number;
  promptLogprobs: number | null;
  skipSpecialTokens: boolean;
  includeStopStr: boolean;
  ignoreEos: boolean;
  returnTokensAsTokenIds: boolean;
  returnTokenIds: boolean;
  stream: boolean;
}

export interface ServedModel {
  name: string;
  maxModelLen: number;
  model: LocalModel;
}

// ---- validation --------------------------------------------------------------------------

type Json = Record<string, unknown>;

const typeError = (field: string, what: string, got: unknown) =>
  invalidRequest(`body.${field}: Input should be ${what} (got ${JSON.stringify(got) ?? String(got)})`, field);

function optInt(b: Json, field: string): number | null {
  const v = b[field];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw typeError(field, 'a valid integer', v);
  return v;
}

function optNum(b: Json, field: string): number | null {
  const v = b[field];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw typeError(field, 'a valid number', v);
  return v;
}

function optBool(b: Json, field: string): boolean | null {
  const v = b[field];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'boolean') throw typeError(field, 'a valid boolean', v);
  return v;
}

const isTokenList = (v: unknown): v is number[] => Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isInteger(x) && x >= 0);

/** The request's prompts as (text, token ids); token-id prompts are checked against the vocabulary. */
function prompts(b: Json, m: LocalModel): { text: string; ids: number[] }[] {
  const p = b.prompt;
  const empty = () => invalidRequest('Either prompt or prompt_embeds must be provided and non-empty.', 'prompt');
  // Cached: benchmarks and resumed jobs resend prompts; the ids are never mutated.
  const fromText = (s: string) => ({ text: s, ids: m.encodeCached(s) as number[] });
  const fromIds = (ids: number[]) => {
    for (const id of ids) if (!m.tok.has(id)) throw badRequest(`Token id ${id} is out of vocabulary`, 'prompt');
    return { text: m.tok.decode(ids), ids };
  };
  if (p === undefined || p === null || p === '') throw empty();
  if (typeof p === 'string') return [fromText(p)];
  if (!Array.isArray(p) || p.length === 0) {
    if (Array.isArray(p)) throw empty();
    throw typeError('prompt', 'a string, a list of strings, a list of token ids or a list of token-id lists', p);
  }
  if (isTokenList(p)) return [fromIds(p)];
  if (p.every((x) => typeof x === 'string')) return (p as string[]).map(fromText);
  if (p.every((x) => isTokenList(x) && x.length > 0)) return (p as number[][]).map(fromIds);
  throw typeError('prompt', 'a string, a list of strings, a list of token ids or a list of token-id lists', p);
}

export function parseCompletionRequest(body: unknown, served: ServedModel): CompletionRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalidRequest('body: Input should be a valid dictionary or object', 'body');
  const b = body as Json;
  const model = b.model === undefined || b.model === null ? null : b.model;
  if (model !== null && typeof model !== 'string') throw typeError('model', 'a valid string', model);
  // Field validation first (vLLM's pydantic model), then the served model, then serving checks.
  const echo = optBool(b, 'echo') ?? false;
  const logprobs = optInt(b, 'logprobs');
  if (logprobs !== null && logprobs < 0 && logprobs !== -1) throw invalidRequest('`logprobs` must be a positive value or -1.', 'logprobs');
  const promptLogprobs = optInt(b, 'prompt_logprobs');
  if (promptLogprobs !== null && promptLogprobs < 0 && promptLogprobs !== -1) throw invalidRequest('`prompt_logprobs` must be a positive value or -1.', 'prompt_logprobs');
  const maxTokens = optInt(b, 'max_tokens') ?? 16;
  const n = optInt(b, 'n') ?? 1;
  let seed: number | string | null = null;
  if (b.seed !== undefined && b.seed !== null) {
    if (typeof b.seed !== 'number' || !Number.isInteger(b.seed)) throw typeError('seed', 'a valid integer', b.seed);
    seed = b.seed;
  }
  let stop: string[] = [];
  if (typeof b.stop === 'string') stop = [b.stop];
  else if (Array.isArray(b.stop) && b.stop.every((s) => typeof s === 'string')) stop = b.stop as string[];
  else if (b.stop !== undefined && b.stop !== null) throw typeError('stop', 'a string or a list of strings', b.stop);
  let stopTokenIds: number[] = [];
  if (b.stop_token_ids !== undefined && b.stop_token_ids !== null) {
    if (!isTokenList(b.stop_token_ids)) throw typeError('stop_token_ids', 'a list of token ids', b.stop_token_ids);
    stopTokenIds = b.stop_token_ids;
  }
  const temperature = optNum(b, 'temperature') ?? 1.0;
  const topP = optNum(b, 'top_p') ?? 1.0;
  const skipSpecialTokens = optBool(b, 'skip_special_tokens') ?? true;
  const includeStopStr = optBool(b, 'include_stop_str_in_output') ?? false;
  const ignoreEos = optBool(b, 'ignore_eos') ?? false;
  const returnTokensAsTokenIds = optBool(b, 'return_tokens_as_token_ids') ?? false;
  const returnTokenIds = optBool(b, 'return_token_ids') ?? false;
  const stream = optBool(b, 'stream') ?? false;
  if (b.suffix !== undefined && b.suffix !== null && typeof b.suffix !== 'string') throw typeError('suffix', 'a valid string', b.suffix);
  if (b.stream_options !== undefined && b.stream_options !== null && !stream) throw invalidRequest('Stream options can only be defined when `stream=True`.', 'stream_options');
  if (stream && promptLogprobs !== null && promptLogprobs !== 0) throw invalidRequest('`prompt_logprobs` are not available when `stream=True`.', 'prompt_logprobs');

  if (model !== null && model !== served.name) throw modelNotFound(model);
  if (b.suffix !== undefined && b.suffix !== null) throw badRequest('suffix is not currently supported');
  const ps = prompts(b, served.model);

  // SamplingParams checks (vLLM raises them as 400 BadRequestError).
  if (n < 1) throw badRequest(`n must be at least 1, got ${n}.`, 'n');
  if (n > 256) throw badRequest(`n must be at most 256 on this local server, got ${n}.`, 'n');
  if (temperature < 0) throw badRequest(`temperature must be non-negative, got ${temperature}.`, 'temperature');
  if (!(topP > 0 && topP <= 1)) throw badRequest(`top_p must be in (0, 1], got ${topP}.`, 'top_p');
  if (maxTokens < 0 || (maxTokens === 0 && !echo)) throw badRequest(`max_tokens must be at least 1, got ${maxTokens}.`, 'max_tokens');
  if (logprobs !== null && logprobs > MAX_LOGPROBS) throw badRequest(`Requested sample logprobs of ${logprobs}, which is greater than max allowed: ${MAX_LOGPROBS}`, 'logprobs');
  if (promptLogprobs !== null && promptLogprobs > MAX_LOGPROBS) {
    throw badRequest(`Requested prompt logprobs of ${promptLogprobs}, which is greater than max allowed: ${MAX_LOGPROBS}`, 'prompt_logprobs');
  }
  for (const p of ps) {
    if (p.ids.length + maxTokens > served.maxModelLen) throw contextLengthError(served.maxModelLen, p.ids.length, maxTokens);
  }
  return {
    model,
    prompts: ps,
    echo,
    logprobs,
    maxTokens,
    n,
    seed,
    stop,
    stopTokenIds,
    temperature,
    topP,
    promptLogprobs,
    skipSpecialTokens,
    includeStopStr,
    ignoreEos,
    returnTokensAsTokenIds,
    returnTokenIds,
    stream,
  };
}

// ---- generation --------------------------------------------------------------------------

export interface Output {
  tokenIds: number[];
  text: string;
  finishReason: 'stop' | 'length';
  stopReason: number | string | null;
  plan: Plan;
}

/** Text of generated tokens as vLLM's detokenizer shows it (special tokens skipped on request). */
class TextBuilder {
  text = '';
  private pending: number[] = [];
  constructor(
    private readonly m: LocalModel,
    private readonly skip: boolean,
  ) {}
  push(id: number): void {
    if (id >= 3 && id < 259) {
      this.pending.push(id);
      return;
    }
    this.flush();
    if (!(this.skip && this.m.tok.isSpecial(id))) this.text += this.m.tok.tokenString(id);
  }
  flush(): void {
    if (this.pending.length > 0) {
      this.text += this.m.tok.decode(this.pending);
      this.pending = [];
    }
  }
}

/** A scripted sample that no stop string can cut short: the tokens up to the first stopping
 * token (or max_tokens) and their text, without the per-token loop. null when a stop string
 * occurs in the text (the loop then finds where, token by token). */
function runScript(m: LocalModel, req: CompletionRequest, plan: Plan, maxTokens: number): Output | null {
  const script = plan.script as number[];
  let n = Math.min(script.length, maxTokens);
  let finishReason: 'stop' | 'length' = 'length';
  let stopReason: number | string | null = null;
  let textEnd = n;
  for (let i = 0; i < n; i++) {
    const id = script[i];
    if ((EOS_IDS.has(id) && !req.ignoreEos) || req.stopTokenIds.includes(id)) {
      finishReason = 'stop';
      stopReason = EOS_IDS.has(id) && !req.ignoreEos ? null : id;
      n = i + 1;
      textEnd = i;
      break;
    }
  }
  if (finishReason === 'length' && n < maxTokens) return null; // the script ran out: the model goes on sampling
  const tokenIds = script.slice(0, n);
  const text = m.tok.decode(tokenIds.slice(0, textEnd), { skipSpecialTokens: req.skipSpecialTokens });
  for (const s of req.stop) if (s !== '' && text.includes(s)) return null;
  return { tokenIds, text, finishReason, stopReason, plan };
}

function generate(m: LocalModel, req: CompletionRequest, promptText: string, promptIds: number[], rng: Rng, maxTokens: number): Output {
  const plan = m.plan(promptText, rng, req.temperature);
  if (plan.mode === 'known' && plan.script) {
    const fast = runScript(m, req, plan, maxTokens);
    if (fast) return fast;
  }
  const history = promptIds.slice();
  const out: number[] = [];
  const tb = new TextBuilder(m, req.skipSpecialTokens);
  const maxStop = req.stop.reduce((a, s) => Math.max(a, s.length), 0);
  let finishReason: 'stop' | 'length' = 'length';
  let stopReason: number | string | null = null;
  let scripted = 0;
  let endAfterThis = false;
  while (out.length < maxTokens) {
    let id: number;
    if (plan.mode === 'known' && plan.script && scripted < plan.script.length) id = plan.script[scripted++];
    else if (endAfterThis) id = m.tok.special('<|endoftext|>') as number;
    else id = m.ngram.sample(history, rng, req.temperature, req.topP);
    out.push(id);
    history.push(id);
    if (EOS_IDS.has(id) && !req.ignoreEos) {
      finishReason = 'stop';
      break;
    }
    if (req.stopTokenIds.includes(id)) {
      finishReason = 'stop';
      stopReason = id;
      break;
    }
    const before = tb.text.length;
    tb.push(id);
    if (maxStop > 0) {
      tb.flush();
      const from = Math.max(0, before - maxStop + 1);
      let hit = -1;
      let which = '';
      for (const s of req.stop) {
        if (s === '') continue;
        const at = tb.text.indexOf(s, from);
        if (at >= 0 && (hit < 0 || at < hit)) {
          hit = at;
          which = s;
        }
      }
      if (hit >= 0) {
        tb.text = tb.text.slice(0, req.includeStopStr ? hit + which.length : hit);
        finishReason = 'stop';
        stopReason = which;
        break;
      }
    }
    // A model sampling a block freely ends it when a line returns to the block's indentation.
    if (plan.mode === 'ngram' && plan.blockIndent !== undefined && !endAfterThis) {
      const lines = tb.text.split('\n');
      if (lines.slice(1, -1).some((l) => l.trim() !== '' && l.length - l.trimStart().length <= (plan.blockIndent as number))) endAfterThis = true;
    }
  }
  tb.flush();
  return { tokenIds: out, text: tb.text, finishReason, stopReason, plan };
}

// ---- response ----------------------------------------------------------------------------

function tokenLabel(m: LocalModel, id: number, asIds: boolean): string {
  return asIds ? `token_id:${id}` : m.tok.decode([id]);
}

const clampLp = (x: number) => Math.max(x, -9999.0);

interface Position {
  id: number;
  /** null for the first prompt token (nothing conditions it). */
  logprob: number | null;
  /** history end index for the n-gram model */
  end: number;
}

function completionLogprobs(m: LocalModel, history: number[], positions: Position[], k: number, asIds: boolean) {
  const tokens: string[] = [];
  const tokenLogprobs: (number | null)[] = [];
  const top: (Ordered | null)[] = [];
  const textOffset: number[] = [];
  let offset = 0;
  const topN = k === -1 ? m.tok.size : k;
  for (const p of positions) {
    const label = tokenLabel(m, p.id, asIds);
    tokens.push(label);
    textOffset.push(offset);
    offset += label.length;
    if (p.logprob === null) {
      tokenLogprobs.push(null);
      top.push(null);
      continue;
    }
    tokenLogprobs.push(clampLp(p.logprob));
    // The sampled token first, then the top-k (vLLM: entries 0..k of the step's dictionary).
    const entries: [string, unknown][] = [[label, clampLp(p.logprob)]];
    const seen = new Set([label]);
    for (const t of m.ngram.top(history, topN, p.end)) {
      if (entries.length > topN) break;
      const l = tokenLabel(m, t.id, asIds);
      if (seen.has(l)) continue;
      seen.add(l);
      entries.push([l, clampLp(t.logprob)]);
    }
    top.push(new Ordered(entries));
  }
  return { text_offset: textOffset, token_logprobs: tokenLogprobs, tokens, top_logprobs: top };
}

/** vLLM's `prompt_logprobs`: null for the first token, then {token id: {logprob, rank, decoded_token}}. */
function promptLogprobDicts(m: LocalModel, ids: number[], k: number): (Ordered | null)[] {
  const out: (Ordered | null)[] = [null];
  const topN = k === -1 ? m.tok.size : k;
  for (let i = 1; i < ids.length; i++) {
    const entry = (id: number, lp: number) => ({ logprob: clampLp(lp), rank: m.ngram.rank(ids, id, i), decoded_token: m.tok.decode([id]) });
    const own = m.ngram.scored(ids, ids[i], i);
    const entries: [string, unknown][] = [[String(ids[i]), { logprob: clampLp(own.logprob), rank: own.rank, decoded_token: m.tok.decode([ids[i]]) }]];
    if (topN > 0) for (const t of m.ngram.top(ids, topN, i)) if (t.id !== ids[i]) entries.push([String(t.id), entry(t.id, t.logprob)]);
    out.push(new Ordered(entries.slice(0, Math.max(1, topN + 1))));
  }
  return out;
}

/** `cmpl-` + 32 hex digits, as vLLM's ids (randomUUID draws from a cached pool: cheap per request). */
export function randomId(prefix: string): string {
  return `${prefix}${randomUUID().replace(/-/g, '')}`;
}

export interface CompletionResult {
  response: Record<string, unknown>;
  outputs: Output[];
}

/** The response as JSON: JSON.stringify unless it holds logprob dictionaries, whose order only
 * toJson keeps. */
export function responseJson(r: CompletionResult, req: CompletionRequest): string {
  return req.logprobs !== null || req.promptLogprobs !== null ? toJson(r.response) : JSON.stringify(r.response);
}

export function runCompletion(served: ServedModel, req: CompletionRequest): CompletionResult {
  const m = served.model;
  const choices: Record<string, unknown>[] = [];
  const outputs: Output[] = [];
  let promptTokens = 0;
  let completionTokens = 0;
  // vLLM computes prompt log-probabilities whenever prompt_logprobs is set, or echo asks for logprobs.
  const promptK = req.promptLogprobs ?? (req.echo ? req.logprobs : null);
  const baseSeed = req.seed ?? Math.floor(Math.random() * 4294967296);
  for (let pi = 0; pi < req.prompts.length; pi++) {
    const p = req.prompts[pi];
    promptTokens += p.ids.length;
    const promptDicts = promptK === null ? null : promptLogprobDicts(m, p.ids, promptK);
    for (let i = 0; i < req.n; i++) {
      const rng = req.seed === null ? rngFrom(hash32(`${baseSeed}:${pi}:${i}`)) : sampleRng(req.seed, hash32(p.text), i);
      const o = generate(m, req, p.text, p.ids, rng, req.maxTokens === 0 ? 1 : req.maxTokens);
      outputs.push(o);
      completionTokens += o.tokenIds.length;
      const echoOnly = req.echo && req.maxTokens === 0;
      let text = o.text;
      if (req.echo) text = echoOnly ? p.text : p.text + o.text;
      let logprobs: unknown = null;
      if (req.logprobs !== null) {
        const positions: Position[] = [];
        const history = [...p.ids, ...o.tokenIds];
        if (req.echo) p.ids.forEach((id, j) => positions.push({ id, end: j, logprob: j === 0 ? null : m.ngram.logprob(history, id, j) }));
        if (!echoOnly) o.tokenIds.forEach((id, j) => positions.push({ id, end: p.ids.length + j, logprob: m.ngram.logprob(history, id, p.ids.length + j) }));
        logprobs = completionLogprobs(m, history, positions, req.logprobs, req.returnTokensAsTokenIds);
      }
      choices.push({
        index: choices.length,
        text,
        logprobs,
        finish_reason: o.finishReason,
        stop_reason: o.stopReason,
        token_ids: req.returnTokenIds ? o.tokenIds : null,
        prompt_logprobs: promptDicts,
        prompt_token_ids: req.returnTokenIds ? p.ids : null,
      });
    }
  }
  const response = {
    id: randomId('cmpl-'),
    object: 'text_completion',
    created: Math.floor(Date.now() / 1000),
    model: served.name,
    choices,
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens + completionTokens, completion_tokens: completionTokens, prompt_tokens_details: null },
    service_tier: null,
    system_fingerprint: null,
    kv_transfer_params: null,
  };
  return { response, outputs };
}
