// One vLLM-compatible endpoint, spoken to through the `openai` package (docs/published.md "vLLM's OpenAI-compatible server"):
// raw prompts to /v1/completions (never `suffix`, which vLLM rejects), every sampling value sent
// explicitly (vLLM fills omitted ones from the model's generation_config, e.g. Qwen's
// repetition_penalty 1.1 and top_k 20, which the published offline sampling did not use), and the
// errors sorted into what the job does about them. The SDK's own retries are off: the job retries.
import OpenAI from 'openai';
import type { EndpointConfig, EndpointHealth, SamplingValues } from '../protocol';
import { nodeFetch } from './http';

export interface CompletionRequest extends SamplingValues {
  prompt: string;
  seed: number;
  stop: string[];
  stopTokenIds: number[];
}

export interface Completion {
  text: string;
  finishReason: string | null;
  /** The stop string or token id that ended the text (vLLM's stop_reason). */
  stopReason: string | null;
}

export interface CompletionResult {
  choices: Completion[];
  promptTokens: number | null;
  completionTokens: number | null;
  /** The model the server says answered. */
  model: string;
  latencyMs: number;
}

/** What a failed request means for the job. */
export type FaultKind =
  | 'retry' // connection error, timeout, 5xx, malformed body: try again (bounded, with backoff)
  | 'context' // the prompt does not fit the model: skip the target
  | 'fatal' // 401, 404, another 400: nothing will work, stop the job
  | 'aborted'; // we cancelled it

export class SamplingError extends Error {
  constructor(
    readonly kind: FaultKind,
    message: string,
    readonly status?: number,
    /** context: the model's maximum context length. */
    readonly maxLen?: number,
    /** retry: the connection failed (as opposed to the server answering 5xx / garbage). */
    readonly connection = false,
  ) {
    super(message);
  }
}

/** "http://h:8000", "http://h:8000/", "http://h:8000/v1" -> "http://h:8000". */
export function rootUrl(url: string): string {
  let u = url.trim().replace(/\/+$/, '');
  if (u.endsWith('/v1')) u = u.slice(0, -3);
  if (!/^https?:\/\/[^/]/i.test(u)) throw new Error(`endpoint '${url}': not an http(s) URL`);
  return u;
}

/** The request body exactly as sent (minus the prompt, for storing with each sample). */
export function completionBody(model: string, r: CompletionRequest): Record<string, unknown> {
  return {
    model,
    prompt: r.prompt,
    n: r.n,
    temperature: r.temperature,
    top_p: r.topP,
    top_k: -1,
    min_p: 0,
    max_tokens: r.maxTokens,
    seed: r.seed,
    stop: r.stop,
    stop_token_ids: r.stopTokenIds,
    presence_penalty: 0,
    frequency_penalty: 0,
    repetition_penalty: 1,
    skip_special_tokens: false,
    spaces_between_special_tokens: false,
    include_stop_str_in_output: false,
    echo: false,
    stream: false,
  };
}

const CONTEXT_RE = /maximum context length is (\d+)/;

/** vLLM's error message from either body shape ({"error": {...}} or the old flat one). */
function messageOf(e: InstanceType<typeof OpenAI.APIError>): string {
  const body = e.error as unknown;
  if (body && typeof body === 'object') {
    const o = body as Record<string, unknown>;
    if (typeof o.message === 'string') return o.message;
    if (o.error && typeof o.error === 'object' && typeof (o.error as Record<string, unknown>).message === 'string') return (o.error as Record<string, string>).message;
    if (typeof o.error === 'string') return o.error;
  }
  if (typeof body === 'string' && body) return body;
  // The old flat body ({"object": "error", "message": ...}) has no `error` field: the SDK puts the
  // raw text after the status in the message.
  const raw = e.message.replace(/^\d{3} /, '');
  try {
    const o = JSON.parse(raw) as Record<string, unknown>;
    if (typeof o.message === 'string') return o.message;
  } catch {
    // not JSON: the text itself
  }
  return raw;
}

/** Sorts any error thrown by a request into a SamplingError. */
export function classify(e: unknown, where: string, signal?: AbortSignal): SamplingError {
  if (e instanceof SamplingError) return e;
  if (e instanceof OpenAI.APIUserAbortError || (signal?.aborted && !(e instanceof OpenAI.APIError && e.status !== undefined))) {
    return new SamplingError('aborted', `${where}: cancelled`);
  }
  if (e instanceof OpenAI.APIConnectionTimeoutError) return new SamplingError('retry', `${where}: request timed out`, undefined, undefined, true);
  if (e instanceof OpenAI.APIConnectionError) {
    const cause = (e as { cause?: { message?: string; code?: string; cause?: { code?: string } } }).cause;
    const why = cause?.cause?.code ?? cause?.code ?? cause?.message ?? e.message;
    return new SamplingError('retry', `${where}: connection failed (${why})`, undefined, undefined, true);
  }
  if (e instanceof OpenAI.APIError && typeof e.status === 'number') {
    const msg = messageOf(e);
    const status = e.status;
    if (status === 400) {
      const m = CONTEXT_RE.exec(msg);
      if (m) return new SamplingError('context', msg, status, Number(m[1]));
      return new SamplingError('fatal', `${where}: the server rejected the request (400): ${msg}`, status);
    }
    if (status === 401 || status === 403) {
      return new SamplingError('fatal', `${where}: ${status} ${msg}: the server needs an API key (set PAIRFORGE_API_KEY, or the endpoint's key in the editor)`, status);
    }
    if (status === 404) return new SamplingError('fatal', `${where}: 404 ${msg} (is the model name right? see /v1/models)`, status);
    if (status >= 500 || status === 408 || status === 429) return new SamplingError('retry', `${where}: ${status} ${msg}`, status);
    return new SamplingError('fatal', `${where}: ${status} ${msg}`, status);
  }
  // A 200 whose body is not JSON (cut off mid-way) or not a completion.
  if (e instanceof SyntaxError || e instanceof TypeError) return new SamplingError('retry', `${where}: malformed response (${e.message})`);
  return new SamplingError('retry', `${where}: ${(e as Error)?.message ?? String(e)}`);
}

/** The SDK reads an error's details from `body.error`; vLLM's older flat body
 * (`{"object": "error", "message", ...}`) has none, and its message would be lost. */
class VllmOpenAI extends OpenAI {
  protected override makeStatusError(status: number, error: object, message: string | undefined, headers: Headers) {
    const flat = error as Record<string, unknown> | null | undefined;
    const body = flat && typeof flat === 'object' && !('error' in flat) && typeof flat.message === 'string' ? { error: flat } : error;
    return super.makeStatusError(status, body, message, headers);
  }
}

export interface ClientOptions {
  /** Per-request timeout, ms. */
  timeoutMs?: number;
  /** Connections kept to the server (the endpoint's concurrency); default 64. */
  maxSockets?: number;
  /** Use Node's built-in fetch instead of the node:http one (see http.ts). */
  builtinFetch?: boolean;
}

export class EndpointClient {
  readonly root: string;
  readonly model: string;
  private readonly api: OpenAI;
  private readonly apiKey: string | undefined;

  constructor(cfg: EndpointConfig, opts: ClientOptions = {}) {
    this.root = rootUrl(cfg.url);
    this.model = cfg.model;
    this.apiKey = cfg.apiKey;
    this.api = new VllmOpenAI({
      baseURL: `${this.root}/v1`,
      // The SDK wants a key; vLLM without --api-key ignores the header.
      apiKey: cfg.apiKey ?? 'EMPTY',
      maxRetries: 0,
      timeout: opts.timeoutMs ?? 600_000,
      ...(opts.builtinFetch ? {} : { fetch: nodeFetch(opts.maxSockets ?? 64) }),
    });
  }

  /** One /v1/completions request. Throws SamplingError. */
  async complete(r: CompletionRequest, signal?: AbortSignal): Promise<CompletionResult> {
    const t0 = performance.now();
    try {
      const body = completionBody(this.model, r) as unknown as OpenAI.CompletionCreateParamsNonStreaming;
      const res = await this.api.completions.create(body, signal ? { signal } : {});
      if (!res || !Array.isArray(res.choices)) throw new TypeError('no choices in the response');
      const choices = [...res.choices]
        .sort((a, b) => a.index - b.index)
        .map((c) => {
          if (typeof c.text !== 'string') throw new TypeError('a choice has no text');
          const stopReason = (c as { stop_reason?: unknown }).stop_reason;
          return { text: c.text, finishReason: c.finish_reason ?? null, stopReason: stopReason === null || stopReason === undefined ? null : String(stopReason) };
        });
      if (choices.length !== r.n) throw new TypeError(`${choices.length} choices for n=${r.n}`);
      return {
        choices,
        promptTokens: res.usage?.prompt_tokens ?? null,
        completionTokens: res.usage?.completion_tokens ?? null,
        model: typeof res.model === 'string' ? res.model : this.model,
        latencyMs: performance.now() - t0,
      };
    } catch (e) {
      throw classify(e, `${this.root} (${this.model})`, signal);
    }
  }

  /** POST a JSON body to one of the server's routes (`/tokenize` at its root, `/v1/completions`)
   * through the same connection pool, key and error sorting as `complete`; the answer goes through
   * `parse`, whose TypeError counts as a malformed answer (retried). Throws SamplingError. */
  async post<T>(route: string, body: Record<string, unknown>, parse: (answer: unknown) => T, signal?: AbortSignal): Promise<T> {
    try {
      const answer = await this.api.post<unknown>(`${this.root}${route}`, { body, ...(signal ? { signal } : {}) });
      return parse(answer);
    } catch (e) {
      throw classify(e, `${this.root} (${this.model})`, signal);
    }
  }

  /** GET /health, then GET /v1/models: is the server up, and does it serve our model? */
  async health(signal?: AbortSignal, timeoutMs = 10_000): Promise<EndpointHealth> {
    const t0 = performance.now();
    const base: EndpointHealth = { url: this.root, model: this.model, ok: false, latencyMs: 0 };
    const timeout = AbortSignal.timeout(timeoutMs);
    const sig = signal ? AbortSignal.any([signal, timeout]) : timeout;
    try {
      const h = await fetch(`${this.root}/health`, { signal: sig });
      await h.arrayBuffer();
      if (!h.ok) return { ...base, error: `/health answered ${h.status}`, latencyMs: performance.now() - t0 };
      const m = await fetch(`${this.root}/v1/models`, { signal: sig, headers: this.apiKey ? { Authorization: `Bearer ${this.apiKey}` } : {} });
      const text = await m.text();
      if (!m.ok) {
        const why = m.status === 401 ? '401 Unauthorized: the server needs an API key (set PAIRFORGE_API_KEY)' : `/v1/models answered ${m.status}: ${text.slice(0, 200)}`;
        return { ...base, error: why, latencyMs: performance.now() - t0 };
      }
      let list: { data?: { id?: unknown; max_model_len?: unknown }[] };
      try {
        list = JSON.parse(text) as typeof list;
      } catch {
        return { ...base, error: '/v1/models: not JSON', latencyMs: performance.now() - t0 };
      }
      const data = Array.isArray(list.data) ? list.data : [];
      const served = data.map((d) => String(d.id));
      const mine = data.find((d) => d.id === this.model);
      const latencyMs = performance.now() - t0;
      if (!mine) return { ...base, served, error: `the server does not serve '${this.model}' (it serves: ${served.join(', ') || 'nothing'})`, latencyMs };
      return { ...base, ok: true, served, ...(typeof mine.max_model_len === 'number' ? { maxModelLen: mine.max_model_len } : {}), latencyMs };
    } catch (e) {
      const c = (e as { cause?: { code?: string } }).cause;
      const why = timeout.aborted ? `no answer within ${timeoutMs} ms` : (c?.code ?? (e as Error).message);
      return { ...base, error: `unreachable (${why})`, latencyMs: performance.now() - t0 };
    }
  }
}
