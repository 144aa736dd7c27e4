// A local stand-in for a vLLM OpenAI-compatible server, for tests, benchmarks and the offline
// demo. It is never a default endpoint of the real pipeline: a client reaches it only when it is
// given its URL. Routes, bodies and status codes follow vLLM (docs/published.md "vLLM's OpenAI-compatible server"):
//   GET  /health            200 with an empty body (503 when told to be unhealthy)
//   GET  /v1/models         the served models (the default one, then the two scoring models), with max_model_len
//   POST /v1/completions    see completions.ts
//   POST /tokenize, POST /detokenize   (no /v1 prefix, as in vLLM)
//   GET  /version
// With an API key, paths under /v1 need `Authorization: Bearer KEY` (401 otherwise); the others
// stay open, as in vLLM. Faults (latency, 500s, resets, malformed JSON, restarts) come from faults.ts.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseCompletionRequest, randomId, responseJson, runCompletion, type CompletionRequest, type ServedModel } from './completions';
import { UNAUTHORIZED_BODY, VllmError, badRequest, internalError, invalidRequest, methodNotAllowed, modelNotFound, routeNotFound } from './errors';
import { FaultInjector, type FaultKind, type FaultPlan } from './faults';
import { toJson } from './json';
import { LocalModel, type Mix } from './model';
import type { NgramOptions } from './ngram';
import type { TokenizerKind } from './tokenizer';
import { hash32 } from './rng';

export const DEFAULT_MODEL_NAME = 'pairforge-local-vllm';
export const DEFAULT_MAX_MODEL_LEN = 32768;

/** Two more models every stand-in serves, for scoring (docs/scoring.md): n-gram models that differ
 * from each other, so per-token rewards `beta * (logp_policy - logp_ref)` are real, varying
 * numbers. Both learn every solution of the project; the "policy" conditions on three tokens (it
 * has all but memorised the reference code, as a policy trained on it would), the "reference" on
 * one (a smoother base model). Same tokenizer as the default model; each is built on the first
 * request that names it, so a server that only samples never pays for them. */
export const POLICY_MODEL_NAME = 'pairforge-local-policy';
export const REFERENCE_MODEL_NAME = 'pairforge-local-reference';
export const SCORING_MODELS: Readonly<Record<string, { ngram: Partial<NgramOptions>; ngramFraction: number }>> = {
  [POLICY_MODEL_NAME]: { ngram: { order: 4, smoothing: 'witten-bell' }, ngramFraction: 1 },
  [REFERENCE_MODEL_NAME]: { ngram: { order: 2, smoothing: 'witten-bell' }, ngramFraction: 1 },
};
const MAX_BODY_BYTES = 64 * 1024 * 1024;

export interface LocalVllmOptions {
  /** 0 (default) = any free port. */
  port?: number;
  host?: string;
  /** Project to learn from (opened read-only). */
  db?: string;
  /** Served model name (`model` in requests and /v1/models). */
  model?: string;
  /** Shorthand for faults.latencyMs. */
  latencyMs?: number;
  faults?: FaultPlan;
  /** Seed for requests that send none (without it those are random, as in vLLM). */
  seed?: number;
  /** Require `Authorization: Bearer KEY` on /v1 paths. */
  apiKey?: string;
  maxModelLen?: number;
  ngram?: Partial<NgramOptions>;
  ngramFraction?: number;
  maxTrainTokens?: number;
  mix?: Partial<Mix>;
  /** Every served model's tokenizer (default 'pieces'; 'chars' is a different one, for tests). */
  tokenizer?: TokenizerKind;
  /** Called with one line per request (for `serve-local --log-requests`). */
  log?: (line: string) => void;
}

export interface LocalVllmStats {
  requests: number;
  completions: number;
  faults: Record<FaultKind, number>;
  restarts: number;
  inFlight: number;
}

export interface LocalVllm {
  /** Server root, e.g. http://127.0.0.1:41234 (vLLM's routes hang off it). */
  url: string;
  /** url + '/v1': the base URL the `openai` client takes. */
  baseURL: string;
  model: string;
  /** Every served model name: the default one first, then the scoring models. */
  models: string[];
  port: number;
  maxModelLen: number;
  /** Targets known from the project (0 without --db). */
  targets: number;
  stats(): LocalVllmStats;
  setFaults(plan: FaultPlan): void;
  /** Closes the listener (dropping open connections) and reopens it on the same port after `downMs`. */
  restart(downMs?: number): Promise<void>;
  close(): Promise<void>;
}

interface Ctx {
  /** The default model. */
  served: ServedModel;
  /** The model a request body names: a served one, else the default (whose name check then
   * answers 404 where vLLM would, after the body's fields are validated). */
  servedFor(body: unknown): ServedModel;
  /** Every served model name, the default first. */
  names: string[];
  apiKey?: string;
  faults: FaultInjector;
  defaultSeed?: number;
  stats: LocalVllmStats;
  log?: (line: string) => void;
  afterCompletion: () => void;
}

function send(res: http.ServerResponse, status: number, body: string, contentType = 'application/json'): void {
  if (res.destroyed || res.writableEnded) return;
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function sendError(res: http.ServerResponse, e: unknown): void {
  const err = e instanceof VllmError ? e : internalError((e as Error).message ?? String(e));
  send(res, err.status, toJson(err.body()));
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(invalidRequest(`request body over ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

async function jsonBody(req: http.IncomingMessage): Promise<unknown> {
  const text = await readBody(req);
  try {
    return JSON.parse(text);
  } catch (e) {
    // FastAPI's RequestValidationError for a body that is not JSON.
    throw invalidRequest(`JSON decode error: ${(e as Error).message}`, 'body');
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function modelCard(s: Pick<ServedModel, 'name' | 'maxModelLen'>, created: number) {
  return {
    id: s.name,
    object: 'model',
    created,
    owned_by: 'vllm',
    root: s.name,
    parent: null,
    max_model_len: s.maxModelLen,
    permission: [
      {
        id: randomId('modelperm-'),
        object: 'model_permission',
        created,
        allow_create_engine: false,
        allow_sampling: true,
        allow_logprobs: true,
        allow_search_indices: false,
        allow_view: true,
        allow_fine_tuning: false,
        organization: '*',
        group: null,
        is_blocking: false,
      },
    ],
  };
}

function checkModel(s: ServedModel, b: Record<string, unknown>): void {
  if (b.model !== undefined && b.model !== null && b.model !== s.name) throw modelNotFound(String(b.model));
}

/** ChatML (Qwen's chat template) for /tokenize with `messages`. */
function chatText(messages: unknown, addGenerationPrompt: boolean): string {
  if (!Array.isArray(messages)) throw invalidRequest('body.messages: Input should be a valid list', 'messages');
  let s = '';
  for (const [i, m] of messages.entries()) {
    const msg = m as { role?: unknown; content?: unknown };
    if (typeof msg?.role !== 'string' || typeof msg.content !== 'string') {
      throw invalidRequest(`body.messages.${i}: each message needs a string role and string content`, 'messages');
    }
    s += `<|im_start|>${msg.role}\n${msg.content}<|im_end|>\n`;
  }
  return addGenerationPrompt ? `${s}<|im_start|>assistant\n` : s;
}

async function tokenize(ctx: Ctx, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const b = (await jsonBody(req)) as Record<string, unknown>;
  if (typeof b !== 'object' || b === null || Array.isArray(b)) throw invalidRequest('body: Input should be a valid dictionary or object', 'body');
  const served = ctx.servedFor(b);
  checkModel(served, b);
  let text: string;
  if (b.messages !== undefined) text = chatText(b.messages, b.add_generation_prompt !== false);
  else if (typeof b.prompt === 'string') text = b.prompt;
  else throw invalidRequest(b.prompt === undefined ? 'body.prompt: Field required' : 'body.prompt: Input should be a valid string', 'prompt');
  const tok = served.model.tok;
  const tokens = tok.encode(text);
  const body = {
    count: tokens.length,
    max_model_len: served.maxModelLen,
    tokens,
    token_strs: b.return_token_strs === true ? tokens.map((t) => tok.tokenString(t)) : null,
  };
  send(res, 200, toJson(body));
}

async function detokenize(ctx: Ctx, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const b = (await jsonBody(req)) as Record<string, unknown>;
  if (typeof b !== 'object' || b === null || Array.isArray(b)) throw invalidRequest('body: Input should be a valid dictionary or object', 'body');
  const served = ctx.servedFor(b);
  checkModel(served, b);
  const ids = b.tokens;
  if (!Array.isArray(ids) || !ids.every((x) => typeof x === 'number' && Number.isInteger(x) && x >= 0)) {
    throw invalidRequest(ids === undefined ? 'body.tokens: Field required' : 'body.tokens: Input should be a list of non-negative integers', 'tokens');
  }
  const tok = served.model.tok;
  for (const id of ids as number[]) if (!tok.has(id)) throw badRequest(`Token id ${id} is out of vocabulary`, 'tokens');
  send(res, 200, toJson({ prompt: tok.decode(ids as number[]) }));
}

function streamCompletion(res: http.ServerResponse, response: Record<string, unknown>, includeUsage: boolean): void {
  if (res.destroyed || res.writableEnded) return;
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  const head = { id: response.id, object: 'text_completion', created: response.created, model: response.model };
  for (const c of response.choices as Record<string, unknown>[]) {
    const choice = { index: c.index, text: c.text, logprobs: c.logprobs, finish_reason: c.finish_reason, stop_reason: c.stop_reason };
    res.write(`data: ${toJson({ ...head, choices: [choice] })}\n\n`);
  }
  if (includeUsage) res.write(`data: ${toJson({ ...head, choices: [], usage: response.usage })}\n\n`);
  res.end('data: [DONE]\n\n');
}

async function completions(ctx: Ctx, req: http.IncomingMessage, res: http.ServerResponse, arrived: number): Promise<void> {
  const body = await jsonBody(req);
  let parsed: CompletionRequest;
  let served: ServedModel;
  try {
    served = ctx.servedFor(body);
    parsed = parseCompletionRequest(body, served);
  } catch (e) {
    sendError(res, e);
    return;
  }
  ctx.stats.completions++;
  const fault = ctx.faults.next();
  ctx.stats.faults[fault]++;
  const delay = ctx.faults.delayMs();
  try {
    // The answer is computed on arrival and sent `delay` ms after the request arrived, so the
    // latency is what was asked for and the event loop only writes when the timers fire.
    let answer: () => void;
    switch (fault) {
      case 'reset':
        answer = () => req.socket.destroy();
        break;
      case '500': {
        const err = internalError('Internal server error (injected fault)');
        answer = () => sendError(res, err);
        break;
      }
      case 'malformed': {
        const full = responseJson(runCompletion(served, withSeed(parsed, ctx)), parsed);
        answer = () => send(res, 200, full.slice(0, Math.max(1, Math.floor(full.length / 2))));
        break;
      }
      case 'ok': {
        const result = runCompletion(served, withSeed(parsed, ctx));
        if (parsed.stream) {
          const so = (body as Record<string, unknown>).stream_options as { include_usage?: boolean } | undefined;
          answer = () => streamCompletion(res, result.response, so?.include_usage === true);
        } else {
          const text = responseJson(result, parsed);
          answer = () => send(res, 200, text);
        }
        break;
      }
    }
    const wait = delay - (Date.now() - arrived);
    if (wait > 0) await sleep(wait);
    answer();
  } finally {
    ctx.afterCompletion();
  }
}

/** A server seed makes unseeded requests reproducible too (per prompt and sample index). */
function withSeed(r: CompletionRequest, ctx: Ctx): CompletionRequest {
  if (r.seed !== null || ctx.defaultSeed === undefined) return r;
  return { ...r, seed: hash32(`server-seed:${ctx.defaultSeed}`) };
}

async function handle(ctx: Ctx, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  ctx.stats.requests++;
  ctx.stats.inFlight++;
  const started = Date.now();
  const path = (req.url ?? '/').split('?')[0];
  res.on('close', () => {
    ctx.stats.inFlight--;
    ctx.log?.(`${req.method} ${path} ${res.headersSent ? res.statusCode : 'dropped'} ${Date.now() - started}ms`);
  });
  try {
    if (ctx.apiKey !== undefined && path.startsWith('/v1') && req.method !== 'OPTIONS') {
      const auth = req.headers.authorization ?? '';
      const [scheme, ...rest] = auth.split(' ');
      if (scheme.toLowerCase() !== 'bearer' || rest.join(' ') !== ctx.apiKey) {
        send(res, 401, toJson(UNAUTHORIZED_BODY));
        return;
      }
    }
    const route = `${req.method} ${path}`;
    switch (route) {
      case 'GET /health':
        if (ctx.faults.current.unhealthy) send(res, 503, '', 'text/plain');
        else send(res, 200, '', 'text/plain');
        return;
      case 'GET /v1/models': {
        const created = Math.floor(Date.now() / 1000);
        send(res, 200, toJson({ object: 'list', data: ctx.names.map((name) => modelCard({ name, maxModelLen: ctx.served.maxModelLen }, created)) }));
        return;
      }
      case 'GET /version':
        send(res, 200, toJson({ version: 'pairforge-local-vllm' }));
        return;
      case 'POST /v1/completions':
        await completions(ctx, req, res, started);
        return;
      case 'POST /tokenize':
        await tokenize(ctx, req, res);
        return;
      case 'POST /detokenize':
        await detokenize(ctx, req, res);
        return;
    }
    const known = ['/health', '/v1/models', '/version', '/v1/completions', '/tokenize', '/detokenize'];
    throw known.includes(path) ? methodNotAllowed() : routeNotFound();
  } catch (e) {
    sendError(res, e);
  }
}

/** Starts a local vLLM-compatible server; resolves once it listens. */
export async function startLocalVllm(opts: LocalVllmOptions = {}): Promise<LocalVllm> {
  const host = opts.host ?? '127.0.0.1';
  const plan: FaultPlan = { ...opts.faults };
  if (opts.latencyMs !== undefined) plan.latencyMs = opts.latencyMs;
  const faults = new FaultInjector(plan);
  const maxModelLen = opts.maxModelLen ?? DEFAULT_MAX_MODEL_LEN;
  if (!(Number.isInteger(maxModelLen) && maxModelLen > 0)) throw new Error(`max model length must be a positive integer (got ${maxModelLen})`);
  const common = {
    ...(opts.db !== undefined ? { db: opts.db } : {}),
    ...(opts.maxTrainTokens !== undefined ? { maxTrainTokens: opts.maxTrainTokens } : {}),
    ...(opts.mix ? { mix: opts.mix } : {}),
    ...(opts.tokenizer ? { tokenizer: opts.tokenizer } : {}),
  };
  const model = new LocalModel({
    ...common,
    ...(opts.ngram ? { ngram: opts.ngram } : {}),
    ...(opts.ngramFraction !== undefined ? { ngramFraction: opts.ngramFraction } : {}),
  });
  const served: ServedModel = { name: opts.model ?? DEFAULT_MODEL_NAME, maxModelLen, model };
  const scoring = new Map<string, ServedModel>();
  const servedFor = (body: unknown): ServedModel => {
    const name = body && typeof body === 'object' ? (body as Record<string, unknown>).model : undefined;
    if (typeof name !== 'string' || name === served.name || !(name in SCORING_MODELS)) return served;
    let s = scoring.get(name);
    if (!s) {
      s = { name, maxModelLen, model: new LocalModel({ ...common, ...SCORING_MODELS[name] }) };
      scoring.set(name, s);
    }
    return s;
  };
  const names = [served.name, ...Object.keys(SCORING_MODELS).filter((n) => n !== served.name)];
  const stats: LocalVllmStats = { requests: 0, completions: 0, faults: { ok: 0, '500': 0, reset: 0, malformed: 0 }, restarts: 0, inFlight: 0 };

  const server = http.createServer({ noDelay: true });
  // Clients (the openai package) keep connections alive; never let the server close an idle
  // one under a client that is about to reuse it.
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 125_000;
  server.requestTimeout = 0;

  let restarting: Promise<void> | null = null;
  let closed = false;
  let answered = 0;
  const ctx: Ctx = {
    served,
    servedFor,
    names,
    faults,
    stats,
    ...(opts.apiKey !== undefined ? { apiKey: opts.apiKey } : {}),
    ...(opts.seed !== undefined ? { defaultSeed: opts.seed } : {}),
    ...(opts.log ? { log: opts.log } : {}),
    afterCompletion: () => {
      answered++;
      const every = faults.current.restartEvery;
      if (every !== undefined && answered % every === 0) setImmediate(() => void handleRestart());
    },
  };
  server.on('request', (req, res) => void handle(ctx, req, res));

  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      const onError = (e: Error) => reject(e);
      server.once('error', onError);
      server.listen(port, host, () => {
        server.off('error', onError);
        resolve((server.address() as AddressInfo).port);
      });
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });

  let port: number;
  try {
    port = await listen(opts.port ?? 0);
  } catch (e) {
    model.close();
    throw e;
  }
  const closeModels = () => {
    model.close();
    for (const s of scoring.values()) s.model.close();
  };

  async function handleRestart(downMs?: number): Promise<void> {
    if (closed) return;
    if (restarting) return restarting;
    restarting = (async () => {
      stats.restarts++;
      await stop();
      await sleep(downMs ?? faults.current.restartDownMs ?? 500);
      if (!closed) await listen(port);
    })().finally(() => {
      restarting = null;
    });
    return restarting;
  }

  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return {
    url,
    baseURL: `${url}/v1`,
    model: served.name,
    models: names,
    port,
    maxModelLen,
    targets: model.knowledge.targets,
    stats: () => ({ ...stats, faults: { ...stats.faults } }),
    setFaults: (p) => faults.set(p),
    restart: (downMs) => handleRestart(downMs),
    close: async () => {
      if (closed) return;
      closed = true;
      if (restarting) await restarting.catch(() => undefined);
      if (server.listening) await stop();
      closeModels();
    },
  };
}
