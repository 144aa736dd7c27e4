// The endpoints a job samples from: least-outstanding-requests balancing with a concurrency limit
// per endpoint, and what happens when one goes away (it is marked down, probed on /health until it
// answers again or the wait runs out, then it is given up for this run).
import { EndpointClient, type ClientOptions } from './client';
import type { EndpointConfig, EndpointHealth } from '../protocol';

export const API_KEY_ENV = 'PAIRFORGE_API_KEY';

export interface PoolEndpoint extends EndpointConfig {
  /** Requests in flight at most (default: the pool's). */
  concurrency?: number;
}

export type EndpointState = 'up' | 'down' | 'dead';

export class Slot {
  outstanding = 0;
  state: EndpointState = 'up';
  /** Consecutive requests that failed to connect. */
  failures = 0;
  downSince = 0;
  lastError = '';
  requests = 0;
  constructor(
    readonly client: EndpointClient,
    readonly limit: number,
  ) {}
}

export interface PoolOptions extends ClientOptions {
  concurrency: number;
  /** How long a server that went away is waited for before it is given up (ms). */
  downWaitMs: number;
  /** /health probe interval while down (ms). */
  probeMs: number;
  /** Consecutive connection failures that mark an endpoint down. */
  downAfter: number;
}

/** The key of an endpoint: its own, else the environment's. Never logged. */
export function apiKeyFor(e: { apiKey?: string }, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return e.apiKey ?? (env[API_KEY_ENV] || undefined);
}

export class EndpointPool {
  readonly slots: Slot[];
  private waiters: (() => void)[] = [];
  private closed = false;
  private readonly stopProbes = new AbortController();

  constructor(
    endpoints: readonly PoolEndpoint[],
    private readonly opts: PoolOptions,
  ) {
    if (endpoints.length === 0) throw new Error('no endpoints');
    this.slots = endpoints.map((e) => {
      const limit = e.concurrency ?? opts.concurrency;
      if (!Number.isInteger(limit) || limit < 1) throw new Error(`endpoint ${e.url}: concurrency must be a positive integer (got ${limit})`);
      return new Slot(new EndpointClient({ url: e.url, model: e.model, ...(apiKeyFor(e) ? { apiKey: apiKeyFor(e) } : {}) }, { ...opts, maxSockets: limit }), limit);
    });
  }

  /** EndpointHealth of every endpoint (in parallel). */
  health(signal?: AbortSignal): Promise<EndpointHealth[]> {
    return Promise.all(this.slots.map((s) => s.client.health(signal)));
  }

  /** True while at least one endpoint may still take requests. */
  get alive(): boolean {
    return this.slots.some((s) => s.state !== 'dead');
  }

  /** The up endpoint with the fewest requests in flight relative to its limit, with a free slot. */
  private pick(): Slot | undefined {
    let best: Slot | undefined;
    for (const s of this.slots) {
      if (s.state !== 'up' || s.outstanding >= s.limit) continue;
      if (!best || s.outstanding / s.limit < best.outstanding / best.limit) best = s;
    }
    return best;
  }

  /** Waits for a free slot on an up endpoint; undefined once every endpoint is dead or on abort. */
  async acquire(signal?: AbortSignal): Promise<Slot | undefined> {
    for (;;) {
      if (signal?.aborted || this.closed || !this.alive) return undefined;
      const s = this.pick();
      if (s) {
        s.outstanding++;
        s.requests++;
        return s;
      }
      await new Promise<void>((resolve) => {
        const wake = () => {
          const i = this.waiters.indexOf(wake);
          if (i >= 0) this.waiters.splice(i, 1);
          signal?.removeEventListener('abort', wake);
          resolve();
        };
        this.waiters.push(wake);
        signal?.addEventListener('abort', wake, { once: true });
      });
    }
  }

  /** Frees `s`'s slot and wakes one waiter (it takes this slot, so waking all would only make
   * the others go back to sleep). */
  release(s: Slot): void {
    s.outstanding--;
    this.waiters.shift()?.();
  }

  private wakeAll(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** A request on `s` connected and got an answer (any status). */
  succeeded(s: Slot): void {
    s.failures = 0;
  }

  /** A request on `s` failed to connect. After `downAfter` in a row the endpoint is down and
   * probed until it answers /health (then up again) or `downWaitMs` passes (then dead). */
  connectionFailed(s: Slot, why: string, log: (m: string) => void): void {
    s.lastError = why;
    if (s.state !== 'up') return;
    if (++s.failures < this.opts.downAfter) return;
    s.state = 'down';
    s.downSince = Date.now();
    log(`${s.client.root}: ${why}; waiting up to ${Math.round(this.opts.downWaitMs / 1000)} s for it to come back`);
    void this.probe(s, log);
  }

  private async probe(s: Slot, log: (m: string) => void): Promise<void> {
    while (!this.closed && s.state === 'down') {
      await sleep(this.opts.probeMs, this.stopProbes.signal);
      if (this.closed) return;
      const h = await s.client.health(this.stopProbes.signal, Math.min(10_000, this.opts.probeMs * 5));
      if (this.closed) return;
      if (h.ok) {
        s.state = 'up';
        s.failures = 0;
        log(`${s.client.root}: back after ${Math.round((Date.now() - s.downSince) / 1000)} s`);
      } else if (Date.now() - s.downSince >= this.opts.downWaitMs) {
        s.state = 'dead';
        s.lastError = `${s.lastError}; still down after ${Math.round(this.opts.downWaitMs / 1000)} s (${h.error ?? 'unhealthy'})`;
        log(`${s.client.root}: given up: ${s.lastError}`);
      }
      this.wakeAll();
    }
  }

  close(): void {
    this.closed = true;
    this.stopProbes.abort();
    this.wakeAll();
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Exponential backoff with jitter: attempt 1 waits ~base, each next one twice as long (capped);
 * the wait is drawn from [d/2, d) so that many failed requests do not come back together. */
export function backoffMs(attempt: number, baseMs: number, capMs: number, random: () => number = Math.random): number {
  const d = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return d / 2 + random() * (d / 2);
}
