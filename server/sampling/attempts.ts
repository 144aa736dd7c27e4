// One request to an endpoint pool, tried until it gets an answer or a reason to stop: the retry
// rules every job that talks to vLLM endpoints shares (sampling, scoring; docs/sampling.md "Jobs,
// resume, faults"). Connection errors, timeouts, 5xx and unparseable 200s are retried with
// exponential backoff and jitter; connection failures also mark the endpoint down (the pool probes
// it), so they are bounded by the pool's down/dead handling rather than by the retry count. A
// context-length 400, a fatal error (401/403/404, another 400) or the job stopping ends the
// request at once and the caller decides what it means.
import { SamplingError } from './client';
import type { EndpointClient } from './client';
import { backoffMs, sleep, type EndpointPool, type Slot } from './endpoints';

/** Aborts every request in flight when the job stops. Each request gets its own controller: an
 * EventTarget checks every listener on add, so hundreds of requests listening to one signal cost
 * O(in flight) each. */
export class RequestAborts {
  private readonly live = new Set<AbortController>();
  constructor(signal: AbortSignal) {
    signal.addEventListener('abort', () => {
      for (const c of this.live) c.abort();
    });
  }
  open(): AbortController {
    const c = new AbortController();
    this.live.add(c);
    return c;
  }
  close(c: AbortController): void {
    this.live.delete(c);
  }
}

/** Counters a job reports; updated as requests start, end and are retried. */
export interface RequestCounters {
  requests: number;
  retries: number;
  inFlight: number;
}

export interface RetryPolicy {
  maxRetries: number;
  retryBaseMs: number;
  retryCapMs: number;
}

export type Attempted<T> =
  | { kind: 'ok'; value: T; slot: Slot; attempts: number }
  /** context: the prompt does not fit; fatal: nothing will work; gave-up: still failing after the retries. */
  | { kind: 'context' | 'fatal' | 'gave-up'; error: SamplingError; attempts: number }
  /** The job stopped, the caller cancelled, or no endpoint is left. */
  | { kind: 'stopped' };

export interface AttemptOptions extends RetryPolicy {
  /** The job's stop signal. */
  signal: AbortSignal;
  aborts: RequestAborts;
  counters: RequestCounters;
  /** Checked before each attempt: true gives up quietly (e.g. the item was skipped meanwhile). */
  cancelled?: () => boolean;
  log: (m: string) => void;
}

/** Sends `call` to a free endpoint of `pool` until it answers or a reason to stop arrives. */
export async function requestWithRetries<T>(pool: EndpointPool, call: (client: EndpointClient, signal: AbortSignal) => Promise<T>, o: AttemptOptions): Promise<Attempted<T>> {
  let connectionFailures = 0;
  for (let attempt = 1; ; attempt++) {
    if (o.signal.aborted || o.cancelled?.()) return { kind: 'stopped' };
    const slot = await pool.acquire(o.signal);
    if (!slot) return { kind: 'stopped' };
    o.counters.inFlight++;
    o.counters.requests++;
    let value: T | undefined;
    let ok = false;
    let err: SamplingError | undefined;
    const ac = o.aborts.open();
    try {
      value = await call(slot.client, ac.signal);
      ok = true;
      pool.succeeded(slot);
    } catch (e) {
      err = e instanceof SamplingError ? e : new SamplingError('retry', String(e));
      if (err.connection) pool.connectionFailed(slot, err.message, o.log);
      else if (err.kind !== 'aborted') pool.succeeded(slot);
    } finally {
      o.aborts.close(ac);
      o.counters.inFlight--;
      pool.release(slot);
    }
    if (ok) return { kind: 'ok', value: value as T, slot, attempts: attempt };
    const e = err!;
    switch (e.kind) {
      case 'aborted':
        return { kind: 'stopped' };
      case 'context':
      case 'fatal':
        return { kind: e.kind, error: e, attempts: attempt };
      case 'retry': {
        o.counters.retries++;
        if (e.connection) connectionFailures++;
        // Connection failures are bounded by the endpoint's down/dead handling; answers that
        // keep failing (5xx, garbage) by maxRetries.
        const given = e.connection ? connectionFailures > o.maxRetries * 4 : attempt - connectionFailures > o.maxRetries;
        if (given) return { kind: 'gave-up', error: e, attempts: attempt };
        await sleep(backoffMs(attempt, o.retryBaseMs, o.retryCapMs), o.signal);
      }
    }
  }
}
