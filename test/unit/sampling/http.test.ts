// The client's transport (server/sampling/http.ts under the openai package) against a small
// misbehaving HTTP server written here: what each failure turns into for the job (timeout and
// reset -> retry as a connection failure, a body cut off mid-way -> retry, abort -> aborted,
// 503 -> retry, flat vLLM error bodies), the exact body sent, the key as a Bearer header, the
// response read whole; and the endpoint pool's health check and least-outstanding balancing.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EndpointClient, SamplingError } from '../../../server/sampling/client';
import { EndpointPool } from '../../../server/sampling/endpoints';

type Handler = (req: http.IncomingMessage, body: string, res: http.ServerResponse) => void;
let handler: Handler;
let server: http.Server;
let url: string;
const seen: { headers: http.IncomingHttpHeaders; body: string; path: string }[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ headers: req.headers, body, path: req.url ?? '' });
      handler(req, body, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const completion = (text: string) =>
  JSON.stringify({ id: 'cmpl-1', object: 'text_completion', created: 1, model: 'm', choices: [{ index: 0, text, finish_reason: 'stop', stop_reason: '<|endoftext|>', logprobs: null }], usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 } });
const json = (res: http.ServerResponse, status: number, body: string) => {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
};
const req = { prompt: 'P\u00e9', seed: 3, stop: ['<|endoftext|>'], stopTokenIds: [151643], n: 1, temperature: 0.7, topP: 0.95, maxTokens: 16 };
const failure = async (p: Promise<unknown>): Promise<SamplingError> => {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(SamplingError);
    return e as SamplingError;
  }
  throw new Error('expected a failure');
};

describe('the sampling client over node:http', () => {
  it('sends the exact body and the key, and reads the completion', async () => {
    handler = (_q, _b, res) => json(res, 200, completion(' x in y:\n    pass'));
    const c = new EndpointClient({ url: `${url}/v1`, model: 'm', apiKey: 'k-1' });
    const r = await c.complete(req);
    expect(r).toMatchObject({ choices: [{ text: ' x in y:\n    pass', finishReason: 'stop', stopReason: '<|endoftext|>' }], promptTokens: 7, completionTokens: 3, model: 'm' });
    const last = seen[seen.length - 1];
    expect(last.path).toBe('/v1/completions');
    expect(last.headers.authorization).toBe('Bearer k-1');
    expect(JSON.parse(last.body)).toMatchObject({ model: 'm', prompt: 'P\u00e9', n: 1, seed: 3, top_p: 0.95, stop_token_ids: [151643], skip_special_tokens: false });
  });

  it('turns a timeout, a reset, a cut-off body, a 503 and an abort into what the job does', async () => {
    const c = new EndpointClient({ url, model: 'm' }, { timeoutMs: 150 });
    handler = () => undefined; // never answers
    const t = await failure(c.complete(req));
    expect([t.kind, t.connection, t.message]).toEqual(['retry', true, `${url} (m): request timed out`]);

    handler = (q) => q.socket.destroy();
    const reset = await failure(c.complete(req));
    expect([reset.kind, reset.connection]).toEqual(['retry', true]);
    expect(reset.message).toMatch(/connection failed/);

    handler = (_q, _b, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': 500 });
      res.write('{"id": "cmpl-1", "choi');
      setTimeout(() => res.socket?.destroy(), 10);
    };
    expect((await failure(c.complete(req))).kind).toBe('retry');

    handler = (_q, _b, res) => json(res, 200, '{"id": "cmpl-1", "choi');
    const malformed = await failure(c.complete(req));
    expect([malformed.kind, malformed.connection]).toEqual(['retry', false]);

    handler = (_q, _b, res) => json(res, 503, JSON.stringify({ object: 'error', message: 'engine dead', type: 'InternalServerError', code: 503 }));
    const e503 = await failure(c.complete(req));
    expect([e503.kind, e503.status, e503.message]).toEqual(['retry', 503, `${url} (m): 503 engine dead`]);

    handler = (_q, _b, res) => json(res, 400, JSON.stringify({ object: 'error', message: "This model's maximum context length is 2048 tokens. However, you requested 3000 tokens", type: 'BadRequestError', code: 400 }));
    const ctx = await failure(c.complete(req));
    expect([ctx.kind, ctx.maxLen]).toEqual(['context', 2048]);

    handler = () => undefined;
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 30);
    const slow = new EndpointClient({ url, model: 'm' }, { timeoutMs: 10_000 });
    expect((await failure(slow.complete(req, ac.signal))).kind).toBe('aborted');

    handler = (_q, _b, res) => json(res, 200, JSON.stringify({ id: 'x', choices: [] }));
    expect((await failure(c.complete({ ...req, n: 1 }))).message).toMatch(/malformed response \(0 choices for n=1\)/);
  });

  it('checks health and the served model; balances by outstanding requests within limits', async () => {
    handler = (q, _b, res) => {
      if (q.url === '/health') return json(res, 200, '');
      if (q.url === '/v1/models') return json(res, 200, JSON.stringify({ object: 'list', data: [{ id: 'm', max_model_len: 4096 }, { id: 'other' }] }));
      json(res, 404, '{}');
    };
    const pool = new EndpointPool(
      [
        { url, model: 'm', concurrency: 1 },
        { url: `${url}/`, model: 'nope', concurrency: 3 },
      ],
      { concurrency: 8, downWaitMs: 1000, probeMs: 50, downAfter: 2 },
    );
    const [ok, bad] = await pool.health();
    expect(ok).toMatchObject({ ok: true, served: ['m', 'other'], maxModelLen: 4096 });
    expect(bad).toMatchObject({ ok: false, error: "the server does not serve 'nope' (it serves: m, other)" });

    // 1 + 3 slots: the first four acquisitions fill both in proportion, the fifth waits for a release
    const got = [await pool.acquire(), await pool.acquire(), await pool.acquire(), await pool.acquire()];
    expect(got.map((s) => pool.slots.indexOf(s!)).sort()).toEqual([0, 1, 1, 1]);
    let fifth: unknown;
    const waiting = pool.acquire().then((s) => (fifth = s));
    await new Promise((r) => setTimeout(r, 20));
    expect(fifth).toBeUndefined();
    pool.release(got[0]!);
    await waiting;
    expect(fifth).toBe(pool.slots[0]);

    // two connection failures in a row: down; /health answers again: up
    const logs: string[] = [];
    pool.connectionFailed(pool.slots[0], 'ECONNREFUSED', (m) => logs.push(m));
    expect(pool.slots[0].state).toBe('up');
    pool.connectionFailed(pool.slots[0], 'ECONNREFUSED', (m) => logs.push(m));
    expect(pool.slots[0].state).toBe('down');
    await new Promise((r) => setTimeout(r, 200));
    expect(pool.slots[0].state).toBe('up');
    expect(logs.join('\n')).toMatch(/ECONNREFUSED; waiting up to 1 s[\s\S]*back after/);
    pool.close();
  });
});
