// Token counts for the too_long filter against a real vLLM-compatible HTTP server (the local one):
// /tokenize when it answers, estimates marked as such when it does not.
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalVllm, type LocalVllm } from '../../../server/localvllm/server';
import { endpointCounter, estimateTokens, serverRoot } from '../../../server/pairs/tokens';

let server: LocalVllm;
beforeAll(async () => {
  server = await startLocalVllm({ port: 0 });
});
afterAll(async () => {
  await server.close();
});

/** A port nothing listens on. */
async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe('endpointCounter', () => {
  it('serverRoot accepts the root and the /v1 URL', () => {
    expect(serverRoot('http://h:8000/v1/')).toBe('http://h:8000');
    expect(serverRoot('http://h:8000')).toBe('http://h:8000');
  });

  it('counts with /tokenize (the same count the server reports), from either URL form', async () => {
    const text = 'for i in range(n):\n    s += i\n';
    const res = await fetch(`${server.url}/tokenize`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: server.model, prompt: text, add_special_tokens: false }) });
    const expected = ((await res.json()) as { count: number }).count;
    const a = endpointCounter(server.baseURL, server.model);
    expect(await a.count(text)).toBe(expected);
    expect(a.method).toBe('tokenize');
    const b = endpointCounter(server.url, server.model);
    expect(await b.count(text)).toBe(expected);
  });

  it('falls back to estimates, and says why, when the server does not answer', async () => {
    const c = endpointCounter(`http://127.0.0.1:${await deadPort()}/v1`, 'm', { timeoutMs: 2000 });
    expect(await c.count('abcdef')).toBe(estimateTokens('abcdef'));
    expect(c.method).toBe('estimate');
    expect(c.fallbackReason).toBeTruthy();
  });

  it('falls back on an HTTP error (unknown model)', async () => {
    const c = endpointCounter(server.baseURL, 'no-such-model');
    await c.count('x = 1');
    expect(c.method).toBe('estimate');
    expect(c.fallbackReason).toMatch(/HTTP 4\d\d/);
  });
});
