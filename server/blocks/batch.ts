// Batch block extraction over many files with worker threads (dist/blocks-worker.js). Results are
// delivered in the order of `files`. Without a built worker (TS sources under vitest, before
// `npm run build`) or with `threads: 0`, the work runs on the calling thread instead.
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { cutSpans, findTargetSpans } from './cut';
import { loadPython } from './parser';
import type { PresetOptions, Target } from './types';
import type { WorkerReply, WorkerRequest } from './workerProtocol';
import { unpackSpans } from './workerProtocol';

export interface FileResult {
  file: string;
  targets: Target[];
  error?: string;
  /** The prepared code the targets were cut from. */
  code: string;
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

async function extractInThread(files: readonly string[], opts: PresetOptions, onResult: (r: FileResult) => void): Promise<void> {
  const grammar = await loadPython();
  for (const file of files) {
    let source: string;
    try {
      source = readFileSync(file, 'utf8');
    } catch (e) {
      onResult({ file, targets: [], code: '', error: `cannot read ${file}: ${(e as Error).message}` });
      continue;
    }
    const r = findTargetSpans(grammar, source, opts);
    onResult({ file, code: r.code, targets: cutSpans(r.code, r.spans, opts.preset), ...(r.error !== undefined ? { error: r.error } : {}) });
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
export function extractFiles(files: string[], opts: ExtractOptions, onResult: (r: FileResult) => void): Promise<void> {
  const run = queue.then(() => extractFilesNow(files, opts, onResult));
  queue = run.catch(() => undefined);
  return run;
}

async function extractFilesNow(files: string[], opts: ExtractOptions, onResult: (r: FileResult) => void): Promise<void> {
  const preset: PresetOptions = opts.extraKinds ? { preset: opts.preset, extraKinds: [...opts.extraKinds] } : { preset: opts.preset };
  const wanted = opts.threads ?? Math.min(4, Math.max(1, os.availableParallelism?.() ?? os.cpus().length));
  if (opts.workerScript && !existsSync(opts.workerScript)) throw new Error(`blocks worker script not found: ${opts.workerScript}`);
  const script = opts.workerScript ?? findWorkerScript();
  if (wanted <= 0 || !script || files.length === 0) return extractInThread(files, preset, onResult);

  const reuse = opts.reuseWorkers ?? true;
  const workers = workersFor(script, Math.min(wanted, files.length), reuse);
  const perWorkerInFlight = 2;
  const pending = new Map<number, FileResult>();
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
    const send = (w: Worker): void => {
      if (nextToSend >= files.length) return;
      const seq = nextToSend++;
      inFlight.get(w)!.add(seq);
      w.postMessage({ seq, file: files[seq], opts: preset } satisfies WorkerRequest);
    };
    const deliver = (): void => {
      while (pending.has(nextToDeliver)) {
        const r = pending.get(nextToDeliver)!;
        pending.delete(nextToDeliver);
        nextToDeliver++;
        onResult(r);
      }
      if (nextToDeliver === files.length) finish();
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
          pending.set(m.seq, { file: files[m.seq], code: m.code, targets, ...(m.error !== undefined ? { error: m.error } : {}) });
          send(w);
          deliver();
        } catch (e) {
          finish(e as Error);
        }
      };
      const onError = (e: Error): void => {
        const names = [...inFlight.get(w)!].map((s) => files[s]).join(', ');
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
