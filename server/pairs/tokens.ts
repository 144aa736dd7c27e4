// Token counts for the too_long filter: the endpoint's vLLM `/tokenize` when one is given and
// answers, otherwise an estimate (code points / 3, rounded up: code runs about 3 characters a
// token with the coder tokenizers) that is marked as such on the pair.

import { codePointLength } from './codepoints';

export interface TokenCounter {
  /** 'tokenize' while the endpoint answers; 'estimate' when there is none or it stopped answering. */
  readonly method: 'tokenize' | 'estimate';
  /** Why counting fell back to estimates, if it did. */
  readonly fallbackReason?: string;
  count(text: string): Promise<number>;
}

export function estimateTokens(text: string): number {
  return Math.ceil(codePointLength(text) / 3);
}

export function estimatingCounter(): TokenCounter {
  return { method: 'estimate', count: async (t) => estimateTokens(t) };
}

/** `http://h:8000/v1` and `http://h:8000` both name the server whose root has /tokenize. */
export function serverRoot(endpoint: string): string {
  return endpoint.replace(/\/+$/, '').replace(/\/v1$/, '');
}

/** Counts with POST {root}/tokenize {model, prompt, add_special_tokens: false} -> {count}. The
 * first failure switches the counter to estimates for the rest of the run (mixing the two in one
 * run would make the flag mean different things on different pairs); `method` then says so. */
export function endpointCounter(endpoint: string, model: string, opts: { timeoutMs?: number } = {}): TokenCounter {
  const url = `${serverRoot(endpoint)}/tokenize`;
  const cache = new Map<string, number>();
  const state: { method: 'tokenize' | 'estimate'; fallbackReason?: string } = { method: 'tokenize' };
  const counter: TokenCounter = {
    get method() {
      return state.method;
    },
    get fallbackReason() {
      return state.fallbackReason;
    },
    async count(text: string): Promise<number> {
      if (state.method === 'estimate') return estimateTokens(text);
      const hit = cache.get(text);
      if (hit !== undefined) return hit;
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model, prompt: text, add_special_tokens: false }),
          signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000),
        });
        if (!res.ok) throw new Error(`${url}: HTTP ${res.status} ${(await res.text()).slice(0, 200)}`);
        const body = (await res.json()) as { count?: unknown; tokens?: unknown };
        const n = typeof body.count === 'number' ? body.count : Array.isArray(body.tokens) ? body.tokens.length : undefined;
        if (n === undefined) throw new Error(`${url}: the answer has neither 'count' nor 'tokens'`);
        cache.set(text, n);
        return n;
      } catch (e) {
        if (state.method === 'tokenize') {
          state.method = 'estimate';
          state.fallbackReason = (e as Error).message;
        }
        return estimateTokens(text);
      }
    },
  };
  return counter;
}

/** The same counter with at most `n` counts in flight (HTTP requests to the endpoint). */
export function limitConcurrency(counter: TokenCounter, n: number): TokenCounter {
  let active = 0;
  const waiting: (() => void)[] = [];
  return {
    get method() {
      return counter.method;
    },
    get fallbackReason() {
      return counter.fallbackReason;
    },
    async count(text: string): Promise<number> {
      if (active >= n) await new Promise<void>((resolve) => waiting.push(resolve));
      active++;
      try {
        return await counter.count(text);
      } finally {
        active--;
        waiting.shift()?.();
      }
    },
  };
}
