// The two vLLM requests scoring makes, as bodies and parsed answers (docs/scoring.md, "What is
// sent"). Pure: no I/O; a malformed answer throws TypeError (the job retries it), an answer that
// shows the server did not take the ids as sent throws a fatal SamplingError (nothing scored that
// way would mean anything).
//
//   POST /tokenize {model, prompt, add_special_tokens, return_token_strs: true}
//     -> {count, max_model_len, tokens, token_strs}
//   POST /v1/completions {model, prompt: [ids], max_tokens: 1, prompt_logprobs: k, ...every
//     sampling value explicit, return_token_ids: true}
//     -> choices[0].prompt_logprobs = [null, {"<id>": {logprob, rank, decoded_token}}, ...]
//        (one entry per prompt position, the given token's entry always present, plus the top k),
//        choices[0].prompt_token_ids = the ids as the server took them (newer servers)

import { SamplingError } from '../sampling/client';

export interface Tokenized {
  ids: number[];
  strs: string[];
  maxModelLen: number | null;
}

export function tokenizeBody(model: string, text: string, addSpecialTokens: boolean): Record<string, unknown> {
  return { model, prompt: text, add_special_tokens: addSpecialTokens, return_token_strs: true };
}

const isIdList = (v: unknown): v is number[] => Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isInteger(x) && x >= 0);

export function parseTokenize(answer: unknown): Tokenized {
  const a = answer as { tokens?: unknown; token_strs?: unknown; max_model_len?: unknown } | null;
  if (!a || typeof a !== 'object' || !isIdList(a.tokens)) throw new TypeError("/tokenize: the answer has no 'tokens' list of token ids");
  if (!Array.isArray(a.token_strs) || !a.token_strs.every((s) => typeof s === 'string') || a.token_strs.length !== a.tokens.length) {
    throw new TypeError("/tokenize: the answer has no 'token_strs' (one string per token); the server must support return_token_strs");
  }
  return { ids: a.tokens, strs: a.token_strs as string[], maxModelLen: typeof a.max_model_len === 'number' ? a.max_model_len : null };
}

/** The completion request that returns the log-probability of every given token: one token is
 * generated greedily and thrown away; every sampling value is sent (vLLM fills omitted ones from the
 * model's generation_config). */
export function promptLogprobsBody(model: string, ids: readonly number[], topK: number): Record<string, unknown> {
  return {
    model,
    prompt: ids,
    n: 1,
    max_tokens: 1,
    temperature: 0,
    top_p: 1,
    top_k: -1,
    min_p: 0,
    seed: 0,
    presence_penalty: 0,
    frequency_penalty: 0,
    repetition_penalty: 1,
    stop: [],
    stop_token_ids: [],
    logprobs: null,
    prompt_logprobs: topK,
    echo: false,
    skip_special_tokens: false,
    spaces_between_special_tokens: false,
    include_stop_str_in_output: false,
    return_token_ids: true,
    stream: false,
  };
}

export interface PositionLogprob {
  /** Natural-log probability of the given token (vLLM clamps at -9999). */
  logprob: number;
  /** Its 1-based rank, when the server says. */
  rank: number | null;
  /** The k likeliest tokens, likeliest first (k = the request's prompt_logprobs). */
  top: { id: number; logprob: number; decoded: string | null }[];
}

/** The log-probabilities of positions `from`..end of the `sent` ids. Checks the boundary: the
 * echoed ids (when the server returns them) equal the sent ones, there is one entry per position,
 * and each position's entry holds the sent token. */
export function parsePromptLogprobs(answer: unknown, sent: readonly number[], from: number, topK: number, where: string): PositionLogprob[] {
  const a = answer as { choices?: unknown } | null;
  if (!a || typeof a !== 'object' || !Array.isArray(a.choices) || a.choices.length === 0) throw new TypeError('/v1/completions: the answer has no choices');
  const c = a.choices[0] as { prompt_logprobs?: unknown; prompt_token_ids?: unknown };
  if (!Array.isArray(c.prompt_logprobs)) throw new TypeError('/v1/completions: the answer has no prompt_logprobs (the server must support prompt_logprobs)');
  const boundary = (why: string) =>
    new SamplingError('fatal', `${where}: the server did not take the token ids as sent (${why}); per-token rewards would be misaligned, so scoring stops`);
  if (c.prompt_token_ids !== undefined && c.prompt_token_ids !== null) {
    if (!isIdList(c.prompt_token_ids)) throw new TypeError('/v1/completions: prompt_token_ids is not a list of token ids');
    const echoed = c.prompt_token_ids;
    if (echoed.length !== sent.length) throw boundary(`${sent.length} ids sent, ${echoed.length} echoed back`);
    const i = echoed.findIndex((id, j) => id !== sent[j]);
    if (i >= 0) throw boundary(`position ${i}: id ${sent[i]} sent, ${echoed[i]} echoed back`);
  }
  const pl = c.prompt_logprobs;
  if (pl.length !== sent.length) throw boundary(`${sent.length} ids sent, log-probabilities for ${pl.length} positions returned`);
  const out: PositionLogprob[] = [];
  for (let j = from; j < sent.length; j++) {
    const d = pl[j] as Record<string, { logprob?: unknown; rank?: unknown; decoded_token?: unknown }> | null;
    if (j === 0 || d === null) {
      // The first position has no log-probability; a response always follows a non-empty prompt.
      throw boundary(`position ${j} has no log-probability`);
    }
    if (typeof d !== 'object') throw new TypeError(`/v1/completions: prompt_logprobs[${j}] is not an object`);
    const own = d[String(sent[j])];
    if (!own) throw boundary(`position ${j}: no entry for the sent token ${sent[j]} (entries: ${Object.keys(d).slice(0, 5).join(', ')})`);
    if (typeof own.logprob !== 'number' || !Number.isFinite(own.logprob)) throw new TypeError(`/v1/completions: prompt_logprobs[${j}] has no numeric logprob`);
    const top: PositionLogprob['top'] = [];
    if (topK > 0) {
      const ranked = Object.entries(d)
        .map(([k, v]) => ({ id: Number(k), logprob: Number(v.logprob), rank: typeof v.rank === 'number' ? v.rank : Infinity, decoded: typeof v.decoded_token === 'string' ? v.decoded_token : null }))
        .filter((e) => Number.isInteger(e.id) && Number.isFinite(e.logprob));
      ranked.sort((x, y) => x.rank - y.rank || y.logprob - x.logprob || x.id - y.id);
      // The given token is listed even when it is not among the top k (then its rank says so; a
      // server that gives no ranks lists it last, as the least likely of k + 1).
      for (const e of ranked) if (top.length < topK && !(Number.isFinite(e.rank) && e.rank > topK)) top.push({ id: e.id, logprob: e.logprob, decoded: e.decoded });
    }
    out.push({ logprob: own.logprob, rank: typeof own.rank === 'number' ? own.rank : null, top });
  }
  return out;
}

/** A text that exercises a tokenizer: code, indentation, CRLF, tabs, non-ASCII and astral
 * characters, and the control tokens of the format being scored. Two models that tokenize it
 * alike (ids and strings) are taken to share a tokenizer. */
export function tokenizerProbe(controlTokens: readonly string[]): string {
  return (
    'def f(xs: list[int]) -> int:\n\tfor i, x in enumerate(xs):  # señal, 中文, 😀\r\n' +
    '        if x != i ** 2 and x >= -1.5e3:\n            return x // 2\n    print("done", end="")\n' +
    controlTokens.join('\n')
  );
}

/** Where two tokenizations of the probe differ (null when they agree). */
export function tokenizationDifference(a: Tokenized, b: Tokenized): string | null {
  const n = Math.max(a.ids.length, b.ids.length);
  for (let i = 0; i < n; i++) {
    if (a.ids[i] !== b.ids[i] || a.strs[i] !== b.strs[i]) {
      const show = (t: Tokenized) => (i < t.ids.length ? `${t.ids[i]} ${JSON.stringify(t.strs[i])}` : 'nothing');
      return `token ${i}: ${show(a)} vs ${show(b)} (${a.ids.length} vs ${b.ids.length} tokens)`;
    }
  }
  return null;
}
