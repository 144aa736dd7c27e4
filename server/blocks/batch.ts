// Batch block extraction with worker threads (dist/blocks-worker.js): files on disk (`pairforge
// blocks`) or sources in memory (`pairforge targets`, from the store). Results are delivered in
// input order. Without a built worker (TS sources under vitest, before `npm run build`) or with
// `threads: 0`, the work runs on the calling thread instead.
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { cutSpans, findTargetSpans } from './cut';
import { loadPython } from './parser';
import type { PresetOptions, Target } from './types';
import type { BatchInput, WorkerReply, WorkerRequest } from './workerProtocol';
import { readInput, unpackSpans } from './workerProtocol';

/** One input cut under a preset: `cutTargets`' result. */
export interface CutOutcome {
  targets: Target[];
  error?: string;
  /** The error is that the file could not be read (not that it does not parse). */
  unreadable?: true;
  /** The prepared code the targets were cut from. */
  code: string;
}

export interface FileResult extends CutOutcome {
  file: string;
}


export type ExtractOptions = PresetOptions & {
  /** Worker threads; default: available cores, at most 4. 0 = on the calling thread. */
  threads?: number;
  /** The worker script; default: blocks-worker.js beside this bundle, else dist/blocks-worker.js. */
  workerScript?: string;
  /** Keep the (warm) workers for later calls; default true. false: fresh workers, terminated after. */
  reuseWorkers?: boolean;
};

/** The built worker: beside the running bundle (dist/), or dist/ of the checkout when running from
 * the TS sources (server/blocks/). */
export function findWorkerScript(): string | undefined {
  for (const candidate of [path.join(__dirname, 'blocks-worker.js'), path.resolve(__dirname, '..', '..', 'dist', 'blocks-worker.js')]) {
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** Called once per input, in input order; a returned promise holds back the next delivery (and,
 * beyond a few results cut ahead, the cutting), so a slow consumer (a pipe) bounds the memory. */
export type OnResult<R> = (r: R, index: number) => unknown;

async function cutInThread(inputs: readonly BatchInput[], opts: PresetOptions, onResult: OnResult<CutOutcome>): Promise<void> {
  const grammar = await loadPython();
  for (let i = 0; i < inputs.length; i++) {
    const read = readInput(inputs[i]);
    if ('error' in read) {
      await onResult({ targets: [], code: '', error: read.error, unreadable: true }, i);
      continue;
    }
    const r = findTargetSpans(grammar, read.source, opts);
    await onResult({ code: r.code, targets: cutSpans(r.code, r.spans, opts.preset), ...(r.error !== undefined ? { error: r.error } : {}) }, i);
  }
}

interface Pool {
  script: string;
  workers: Worker[];
}

/** Warm workers kept between calls (the wasm runtime tiers up over the first megabytes parsed, so
 * a reused worker is markedly faster than a fresh one). Unref'd while idle: they never keep the
 * process alive. */
let pool: Pool | undefined;
/** Calls share the pool one at a time. */
let queue: Promise<unknown> = Promise.resolve();

function workersFor(script: string, count: number, reuse: boolean): Worker[] {
  if (!reuse) return Array.from({ length: count }, () => new Worker(script));
  if (pool && pool.script !== script) void closeBlockWorkers();
  pool ??= { script, workers: [] };
  while (pool.workers.length < count) pool.workers.push(new Worker(script));
  return pool.workers.slice(0, count);
}

/** Terminates the pooled workers (an idle pool does not keep the process alive anyway). */
export async function closeBlockWorkers(): Promise<void> {
  const p = pool;
  pool = undefined;
  if (p) await Promise.all(p.workers.map((w) => w.terminate()));
}

/** Finds and cuts the targets of every file under a preset. `onResult` is called once per file,
 * in the order of `files`; an unreadable or unparsable file gives a result with `error`. Rejects
 * only when a worker cannot start or dies, or `onResult` throws (then the pool is discarded). */
export function extractFiles(files: string[], opts: ExtractOptions, onResult: (r: FileResult) => unknown): Promise<void> {
  return cutBatch(
    files.map((file) => ({ file })),
    opts,
    (r, i) => onResult({ file: files[i], ...r }),
  );
}

/** `extractFiles` for texts in memory: `onResult(result, index)` in the order of `sources`. */
export function cutSources(sources: readonly string[], opts: ExtractOptions, onResult: OnResult<CutOutcome>): Promise<void> {
  return cutBatch(
    sources.map((source) => ({ source })),
    opts,
    onResult,
  );
}

function cutBatch(inputs: BatchInput[], opts: ExtractOptions, onResult: OnResult<CutOutcome>): Promise<void> {
  const run = queue.then(() => cutBatchNow(inputs, opts, onResult));
  queue = run.catch(() => undefined);
  return run;
}

/** What an input is called in an error message. */
const nameOf = (input: BatchInput, index: number): string => ('file' in input ? input.file : `input ${index + 1}`);

async function cutBatchNow(inputs: BatchInput[], opts: ExtractOptions, onResult: OnResult<CutOutcome>): Promise<void> {
  const preset: PresetOptions = opts.extraKinds ? { preset: opts.preset, extraKinds: [...opts.extraKinds] } : { preset: opts.preset };
  const wanted = opts.threads ?? Math.min(4, Math.max(1, os.availableParallelism?.() ?? os.cpus().length));
  if (opts.workerScript && !existsSync(opts.workerScript)) throw new Error(`blocks worker script not found: ${opts.workerScript}`);
  const script = opts.workerScript ?? findWorkerScript();
  if (wanted <= 0 || !script || inputs.length === 0) return cutInThread(inputs, preset, onResult);

  const reuse = opts.reuseWorkers ?? true;
  const workers = workersFor(script, Math.min(wanted, inputs.length), reuse);
  const perWorkerInFlight = 2;
  const pending = new Map<number, CutOutcome>();
  let nextToSend = 0;
  let nextToDeliver = 0;
  const inFlight = new Map<Worker, Set<number>>();
  const cleanups: (() => void)[] = [];

  await new Promise<void>((resolve, reject) => {
    let done = false;
    const finish = (err?: Error): void => {
      if (done) return;
      done = true;
      for (const cleanup of cleanups) cleanup();
      if (err || !reuse) {
        // A failed pool is discarded; a one-off set is always terminated.
        if (reuse && pool) void closeBlockWorkers();
        void Promise.all(workers.map((w) => w.terminate())).then(() => (err ? reject(err) : resolve()));
        return;
      }
      for (const w of workers) w.unref();
      resolve();
    };
    // Results cut but not yet delivered are bounded: no more is sent while this many wait.
    const window = workers.length * perWorkerInFlight * 2;
    const send = (w: Worker): void => {
      if (nextToSend >= inputs.length || nextToSend - nextToDeliver >= window) return;
      const seq = nextToSend++;
      inFlight.get(w)!.add(seq);
      w.postMessage({ seq, input: inputs[seq], opts: preset } satisfies WorkerRequest);
    };
    /** Workers with room get more work (after a delivery made room in the window). */
    const refill = (): void => {
      for (const w of workers) while (!done && inFlight.get(w)!.size < perWorkerInFlight && nextToSend < inputs.length && nextToSend - nextToDeliver < window) send(w);
    };
    let delivering = false;
    const deliver = (): void => {
      if (delivering) return;
      while (pending.has(nextToDeliver)) {
        const r = pending.get(nextToDeliver)!;
        pending.delete(nextToDeliver);
        nextToDeliver++;
        let waited: unknown;
        try {
          waited = onResult(r, nextToDeliver - 1);
        } catch (e) {
          finish(e as Error);
          return;
        }
        if (waited instanceof Promise) {
          // The consumer is busy (e.g. its output has no room): go on once it is done.
          delivering = true;
          waited.then(
            () => {
              delivering = false;
              if (done) return;
              refill();
              deliver();
            },
            (e: unknown) => finish(e instanceof Error ? e : new Error(String(e))),
          );
          return;
        }
      }
      refill();
      if (nextToDeliver === inputs.length) finish();
    };
    for (const w of workers) {
      w.ref();
      inFlight.set(w, new Set());
      const onMessage = (m: WorkerReply): void => {
        if (done) return;
        inFlight.get(w)!.delete(m.seq);
        if (m.fatal !== undefined) return finish(new Error(`blocks worker (${script}): ${m.fatal}`));
        try {
          const targets = cutSpans(m.code, unpackSpans(m.spans), preset.preset);
          pending.set(m.seq, { code: m.code, targets, ...(m.error !== undefined ? { error: m.error } : {}), ...(m.unreadable ? { unreadable: true } : {}) });
          send(w);
          deliver();
        } catch (e) {
          finish(e as Error);
        }
      };
      const onError = (e: Error): void => {
        const names = [...inFlight.get(w)!].map((s) => nameOf(inputs[s], s)).join(', ');
        finish(new Error(`blocks worker (${script}) failed${names ? ` on ${names}` : ''}: ${e.message}`));
      };
      const onExit = (code: number): void => {
        finish(new Error(`blocks worker (${script}) exited with code ${code} before finishing`));
      };
      w.on('message', onMessage);
      w.on('error', onError);
      w.on('exit', onExit);
      cleanups.push(() => {
        w.off('message', onMessage);
        w.off('error', onError);
        w.off('exit', onExit);
      });
      for (let k = 0; k < perWorkerInFlight; k++) send(w);
    }
  });
}
