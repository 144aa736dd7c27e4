// A `fetch` for the openai package over node:http(s) with a keep-alive agent. Node 20's built-in
// fetch (undici) costs about as much CPU per request as everything else in a sampling job together
// (web streams for every body, header lists, an AbortSignal per request); at hundreds of
// requests a second that CPU is what limits throughput. This covers what the SDK uses: method,
// headers, a string body, an AbortSignal; the answer is read whole into a standard Response.
// Errors keep fetch's meaning for the SDK: an abort rejects with an AbortError (-> the SDK's
// user-abort / timeout errors), anything else with the socket error (-> APIConnectionError).
import http from 'node:http';
import https from 'node:https';

export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

const NO_BODY = new Set([101, 204, 205, 304]);

function headersOf(h: RequestInit['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  if (!h) return out;
  new Headers(h).forEach((v, k) => {
    out[k] = v;
  });
  return out;
}

function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error && reason.name === 'AbortError') return reason;
  const e = new Error('This operation was aborted');
  e.name = 'AbortError';
  return e;
}

/** A fetch over keep-alive agents (at most `maxSockets` connections per host). */
export function nodeFetch(maxSockets: number): FetchLike {
  const agents = {
    'http:': new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets }),
    'https:': new https.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets }),
  };
  return (input, init = {}) =>
    new Promise<Response>((resolve, reject) => {
      const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
      const agent = agents[url.protocol as 'http:' | 'https:'];
      if (!agent) return reject(new TypeError(`unsupported protocol ${url.protocol}`));
      const signal = init.signal ?? undefined;
      if (signal?.aborted) return reject(abortError(signal));
      const body = init.body;
      if (body !== undefined && body !== null && typeof body !== 'string') return reject(new TypeError('only string request bodies are supported'));
      const headers = headersOf(init.headers);
      if (typeof body === 'string') headers['content-length'] = String(Buffer.byteLength(body));
      const lib = url.protocol === 'https:' ? https : http;
      let settled = false;
      const fail = (e: Error) => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        reject(e);
      };
      const req = lib.request(url, { method: init.method ?? 'GET', headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', fail);
        res.on('aborted', () => fail(new Error('the connection closed before the response was complete')));
        res.on('end', () => {
          if (settled) return;
          if (!res.complete) return fail(new Error('the connection closed before the response was complete'));
          settled = true;
          signal?.removeEventListener('abort', onAbort);
          const h = new Headers();
          for (const [k, v] of Object.entries(res.headers)) {
            if (Array.isArray(v)) for (const x of v) h.append(k, x);
            else if (v !== undefined) h.set(k, v);
          }
          const status = res.statusCode ?? 0;
          resolve(new Response(NO_BODY.has(status) ? null : Buffer.concat(chunks), { status, statusText: res.statusMessage ?? '', headers: h }));
        });
      });
      const onAbort = () => {
        fail(abortError(signal!));
        req.destroy();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      req.on('error', fail);
      req.end(body ?? undefined);
    });
}
