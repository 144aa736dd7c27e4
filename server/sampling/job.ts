// A sampling job: a fixed set of targets, a prompt family, sampling values and endpoints, run
// until every (target, sample index) is stored once, a target is skipped (its prompt does not fit
// the model), or the job stops (Ctrl-C, 401/404, every server gone for too long). It can always be
// resumed: the missing (target, index) pairs are worked out from the store.
//
// How n maps to requests: one request per (target, index), each with n = 1 and its own seed
// (seedFor: a hash of the job's base seed, the target id and the index). A sample is then the
// same text however the job was interrupted and resumed, and a resumed job asks only for the
// indices that are missing, never a whole target again. (vLLM's prefix cache serves the shared
// prompt of a target's n requests.) samples has UNIQUE (job, target, index) and rows are inserted
// with ON CONFLICT DO NOTHING, so even two processes on the same job cannot duplicate a sample.
//
// Rows are written in small transactions (every 100 ms or 256 rows); `kill -9` loses at most the
// unwritten ones, which the next run asks for again.
import { createHash } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { Project } from '../store/db';
import { RequestAborts, requestWithRetries, type RequestCounters, type RetryPolicy } from './attempts';
import type { SamplingError } from './client';
import { completionBody, rootUrl } from './client';
import { EndpointPool, type PoolEndpoint } from './endpoints';
import { postProcess } from './postprocess';
import { promptForTarget } from './prompts';
import { datasetIdOf, problemLookup } from '../import/queries';
import { presetCounts, presetsOf, presetTargetIds, targetLookup, targetsByIds } from '../targets/queries';
import { checkSamplingValues, checkSetting, SAMPLING_DEFAULTS, SAMPLING_FAMILIES, type CustomTokens, type EndpointHealth, type SamplingFamily, type SamplingValues } from '../protocol';
import { describeGoldenBroken, goldenBroken, samplingPreset } from './golden';

/** The job's defaults: the sampling values and concurrency are the settings' (one place:
 * server/protocol/settings.ts); the rest are the job's own knobs. */
export const DEFAULTS = {
  ...SAMPLING_DEFAULTS,
  timeoutMs: 600_000,
  maxRetries: 5,
  retryBaseMs: 500,
  retryCapMs: 30_000,
  downWaitMs: 120_000,
  probeMs: 1_000,
  downAfter: 3,
} as const;

/** Which targets a job samples. */
export interface Selection {
  /** Preset key of the targets (`targets.preset`, e.g. 'structurecoder'); default structurecoder. */
  preset?: string;
  /** Only targets of this dataset (by name). */
  dataset?: string;
  /** The first N targets (by id) of the selection. */
  limit?: number;
  /** Exactly these targets (the editor's blocks); preset/dataset/limit then do not apply. */
  targetIds?: number[];
}

export interface SampleSpec {
  family: SamplingFamily;
  custom?: CustomTokens;
  n?: number;
  temperature?: number;
  topP?: number;
  maxTokens?: number;
  /** Base of the per-sample seeds; default the job id (so a new job draws new samples). */
  seed?: number;
  endpoints: PoolEndpoint[];
  /** Requests in flight per endpoint (an endpoint's own `concurrency` wins). */
  concurrency?: number;
  selection: Selection;
  timeoutMs?: number;
  maxRetries?: number;
  retryBaseMs?: number;
  retryCapMs?: number;
  downWaitMs?: number;
  probeMs?: number;
  downAfter?: number;
}

export interface Progress {
  jobId: number;
  /** (target, index) pairs the job has in all. */
  total: number;
  /** Stored (before this run and by it). */
  done: number;
  skippedTargets: number;
  failed: number;
  inFlight: number;
  elapsedMs: number;
}

export interface JobOptions {
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
  /** Messages for the user (endpoint down/back, retries given up); stderr in the CLI. */
  log?: (m: string) => void;
  /** Continue this job (its selection, family and values; `spec.endpoints` may differ). */
  resume?: number;
  /** Without `resume`: continue the newest job with the same spec instead of creating one —
   * 'unfinished' (the CLI: run the same command again after a crash), 'any' (the pipeline:
   * nothing is sampled twice), 'none' (the editor: every click draws new samples). */
  reuse?: 'none' | 'unfinished' | 'any';
  /** Skip the /health + /v1/models check (tests of the fault handling). */
  skipHealthCheck?: boolean;
}

export type JobStatus = 'running' | 'done' | 'stopped' | 'failed';

export interface SampleJobSummary {
  jobId: number;
  status: JobStatus;
  /** True when an existing job was continued. */
  resumed: boolean;
  family: SamplingFamily;
  targets: number;
  n: number;
  /** targets x n, minus the indices of skipped targets. */
  expected: number;
  /** Samples of the job in the store now. */
  samples: number;
  /** Stored by this run. */
  produced: number;
  skippedTargets: number;
  /** Requests given up after retries in this run (not stored; a resume asks again). */
  failed: number;
  /** Block targets prompted by this run whose own golden middle does not survive the preset's start
   * and post-processing (server/sampling/golden.ts; logged as a warning): a sample written like it
   * comes back cut. Targets that cannot be prompted are skipped and counted there instead. */
  goldenBroken: number;
  requests: number;
  retries: number;
  elapsedMs: number;
  endpoints: EndpointHealth[];
  message?: string;
}

// ---- pure helpers -------------------------------------------------------------------------

/** The seed of sample `index` of `targetId` in a job with base seed `base`: 31 bits of
 * sha256("base:target:index"), so it fits every server's integer seed. */
export function seedFor(base: number, targetId: number, index: number): number {
  return createHash('sha256').update(`${base}:${targetId}:${index}`).digest().readUInt32BE(0) & 0x7fffffff;
}

function num(name: string, v: number | undefined, dflt: number, lo: number, hi: number, int: boolean): number {
  const x = v ?? dflt;
  if (typeof x !== 'number' || !Number.isFinite(x) || x < lo || x > hi || (int && !Number.isInteger(x))) {
    throw new Error(`${name}: ${int ? 'an integer' : 'a number'} from ${lo} to ${hi} expected (got ${String(v)})`);
  }
  return x;
}

/** Checks a spec; the message names the field. */
export function checkSpec(spec: SampleSpec): SamplingValues {
  if (!SAMPLING_FAMILIES.includes(spec.family)) throw new Error(`family: one of ${SAMPLING_FAMILIES.join(', ')} expected (got '${String(spec.family)}')`);
  if (spec.family === 'custom' && !spec.custom) throw new Error("family 'custom' needs custom token strings (prefix, suffix, middle, stop)");
  if (!Array.isArray(spec.endpoints) || spec.endpoints.length === 0) throw new Error('endpoints: at least one (url, model) expected');
  spec.endpoints.forEach((e, i) => {
    rootUrl(e.url);
    if (typeof e.model !== 'string' || e.model === '') throw new Error(`endpoints[${i}].model: missing`);
  });
  if (spec.seed !== undefined) num('seed', spec.seed, 0, 0, 2 ** 31 - 1, true);
  const sel = spec.selection;
  if (sel.limit !== undefined) num('limit', sel.limit, 0, 1, Number.MAX_SAFE_INTEGER, true);
  if (sel.targetIds !== undefined && (!Array.isArray(sel.targetIds) || sel.targetIds.length === 0 || !sel.targetIds.every((t) => Number.isInteger(t)))) {
    throw new Error('targetIds: a non-empty list of target ids expected');
  }
  checkSetting('sampling.concurrency', spec.concurrency ?? DEFAULTS.concurrency, 'concurrency');
  return checkSamplingValues(spec);
}

/** What makes two jobs the same command (not URLs, keys or concurrency). */
export function specKey(spec: SampleSpec, v: SamplingValues): string {
  const sel = spec.selection;
  const key = {
    selection: sel.targetIds ? { targetIds: [...sel.targetIds].sort((a, b) => a - b) } : { preset: sel.preset ?? 'structurecoder', dataset: sel.dataset ?? null, limit: sel.limit ?? null },
    family: spec.family,
    custom: spec.family === 'custom' ? spec.custom : null,
    ...v,
    seed: spec.seed ?? null,
    models: spec.endpoints.map((e) => e.model).sort(),
  };
  return createHash('sha256').update(JSON.stringify(key)).digest('hex');
}

// ---- the store ----------------------------------------------------------------------------

interface JobRow {
  id: number;
  preset: string;
  selection: string;
  family: string;
  params: string;
  endpoints: string;
  status: JobStatus;
  seed: number | null;
}

/** What is stored in sample_jobs.params. */
interface StoredParams extends SamplingValues {
  seed: number | null;
  custom?: CustomTokens;
}


/** Target ids of a selection, in id order. */
export function selectTargets(p: Project, sel: Selection): number[] {
  if (sel.targetIds) {
    const ids = [...new Set(sel.targetIds)].sort((a, b) => a - b);
    const found = targetsByIds(p, ids);
    const missing = ids.filter((id) => !found.has(id));
    if (missing.length) throw new Error(`no such target: ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ', ...' : ''}`);
    return ids;
  }
  const preset = sel.preset ?? 'structurecoder';
  const datasetId = sel.dataset === undefined ? undefined : datasetIdOf(p, sel.dataset);
  const ids = presetTargetIds(p, preset, { ...(datasetId !== undefined ? { datasetId } : {}), ...(sel.limit !== undefined ? { limit: sel.limit } : {}) });
  if (ids.length === 0) {
    const presets = presetCounts(p);
    throw new Error(
      `no targets under preset '${preset}'${sel.dataset !== undefined ? ` in dataset '${sel.dataset}'` : ''} ` +
        `(the project has ${presets.map((r) => `${r.n} under '${r.preset}'`).join(', ') || 'none: run pairforge targets first'})`,
    );
  }
  return ids;
}

const now = () => new Date().toISOString();

function parseJson<T>(s: string, what: string): T {
  try {
    return JSON.parse(s) as T;
  } catch {
    throw new Error(`${what}: not JSON in the store`);
  }
}

// ---- running -----------------------------------------------------------------------------

interface Prepared {
  prompt: string;
  start: string;
  stop: string[];
  stopTokenIds: number[];
  kind: string;
  chat: boolean;
  whole: boolean;
  clean: boolean;
  /** Indices of this target not yet finished in this run. */
  pending: number;
  /** The stored request values (see paramsOf). */
  paramsJson?: string;
}

interface PendingRow {
  target: number;
  index: number;
  raw: string;
  middle: string;
  finish: string | null;
  stopReason: string | null;
  endpoint: string;
  model: string;
  seed: number;
  promptTokens: number | null;
  completionTokens: number | null;
  latencyMs: number;
  attempts: number;
  createdAt: string;
}

/** Runs (or resumes) a sampling job to the end; see the top of the file. Throws only for a bad
 * spec or store; endpoint trouble ends up in the summary's status and message. */
export async function runSampleJob(p: Project, spec: SampleSpec, opts: JobOptions = {}): Promise<SampleJobSummary> {
  const t0 = performance.now();
  const log = opts.log ?? (() => undefined);

  // 1. Which job: an existing one (resume / same spec) or a new one (created after the check).
  let job: JobRow | undefined;
  let family = spec.family;
  let custom = spec.custom;
  let values: SamplingValues;
  let selection = spec.selection;
  let givenSeed = spec.seed;
  if (opts.resume !== undefined) {
    job = p.db.prepare<[number], JobRow>('SELECT id, preset, selection, family, params, endpoints, status, seed FROM sample_jobs WHERE id = ?').get(opts.resume);
    if (!job) throw new Error(`sample job ${opts.resume}: no such job in ${p.file}`);
    const sp = parseJson<StoredParams>(job.params, `sample job ${job.id} params`);
    family = job.family as SamplingFamily;
    custom = sp.custom;
    values = { n: sp.n, temperature: sp.temperature, topP: sp.topP, maxTokens: sp.maxTokens };
    selection = parseJson<Selection>(job.selection, `sample job ${job.id} selection`);
    givenSeed = sp.seed ?? undefined;
    if (spec.endpoints.length === 0) spec = { ...spec, endpoints: parseJson<PoolEndpoint[]>(job.endpoints, `sample job ${job.id} endpoints`) };
    spec = { ...spec, family, ...(custom ? { custom } : {}), ...values, selection, ...(givenSeed !== undefined ? { seed: givenSeed } : {}) };
    checkSpec(spec);
  } else {
    values = checkSpec(spec);
  }
  const key = specKey(spec, values);
  if (!job && (opts.reuse ?? 'none') !== 'none') {
    const cond = opts.reuse === 'unfinished' ? "AND status <> 'done'" : '';
    job = p.db
      .prepare<[string], JobRow>(`SELECT id, preset, selection, family, params, endpoints, status, seed FROM sample_jobs WHERE spec_key = ? ${cond} ORDER BY id DESC LIMIT 1`)
      .get(key);
    if (job) log(`continuing sample job ${job.id} (same targets, family and values; ${job.status})`);
  }
  // A new job, or a resumed open-ended selection (which also takes targets cut since), selects
  // targets now; a resumed limited or explicit selection keeps the set it was created with.
  const reselect = !job || (selection.limit === undefined && selection.targetIds === undefined);
  const targetIds = reselect ? selectTargets(p, selection) : [];

  // 2. The endpoints: healthy, serving the model?
  const pool = new EndpointPool(spec.endpoints, {
    concurrency: spec.concurrency ?? DEFAULTS.concurrency,
    timeoutMs: spec.timeoutMs ?? DEFAULTS.timeoutMs,
    downWaitMs: spec.downWaitMs ?? DEFAULTS.downWaitMs,
    probeMs: spec.probeMs ?? DEFAULTS.probeMs,
    downAfter: spec.downAfter ?? DEFAULTS.downAfter,
  });
  const storedEndpoints = JSON.stringify(spec.endpoints.map((e) => ({ url: rootUrl(e.url), model: e.model, ...(e.concurrency ? { concurrency: e.concurrency } : {}) })));
  let health: EndpointHealth[] = [];
  if (!opts.skipHealthCheck) {
    health = await pool.health(opts.signal);
    health.forEach((h, i) => {
      if (!h.ok) {
        pool.slots[i].state = 'dead';
        log(`${h.url} (${h.model}): ${h.error ?? 'unhealthy'}`);
      } else {
        log(`${h.url}: serves '${h.model}'${h.maxModelLen ? ` (context ${h.maxModelLen} tokens)` : ''}`);
      }
    });
    if (!pool.alive) {
      pool.close();
      throw new Error(`no usable endpoint: ${health.map((h) => `${h.url} (${h.model}): ${h.error ?? 'unhealthy'}`).join('; ')}`);
    }
  }

  // 3. The job row and its targets.
  const resumed = job !== undefined;
  const jobId = p.db.transaction((): number => {
    let id: number;
    if (job) {
      id = job.id;
      p.db.prepare("UPDATE sample_jobs SET status = 'running', message = NULL, finished_at = NULL, endpoints = ? WHERE id = ?").run(storedEndpoints, id);
    } else {
      const presets = selection.targetIds ? presetsOf(p, targetIds).join(',') : (selection.preset ?? 'structurecoder');
      const params: StoredParams = { ...values, seed: givenSeed ?? null, ...(family === 'custom' && custom ? { custom } : {}) };
      id = Number(
        p.db
          .prepare(
            `INSERT INTO sample_jobs (preset, selection, family, params, endpoints, status, created_at, spec_key)
             VALUES (?, ?, ?, ?, ?, 'running', ?, ?)`,
          )
          .run(presets, JSON.stringify(selection), family, JSON.stringify(params), storedEndpoints, now(), key).lastInsertRowid,
      );
      p.db.prepare('UPDATE sample_jobs SET seed = ? WHERE id = ?').run(givenSeed ?? id, id);
    }
    if (reselect) {
      const ins = p.db.prepare('INSERT OR IGNORE INTO sample_job_targets (job_id, target_id) VALUES (?, ?)');
      for (const t of targetIds) ins.run(id, t);
    }
    return id;
  }).immediate();
  const baseSeed = p.db.prepare<[number], { seed: number | null }>('SELECT seed FROM sample_jobs WHERE id = ?').get(jobId)!.seed ?? givenSeed ?? jobId;

  // 4. What is missing.
  const n = values.n;
  const jobTargets = p.db.prepare<[number], { target_id: number }>('SELECT target_id FROM sample_job_targets WHERE job_id = ? ORDER BY target_id').all(jobId).map((r) => r.target_id);
  const skipped = new Set(p.db.prepare<[number], { target_id: number }>('SELECT target_id FROM sample_skips WHERE job_id = ?').all(jobId).map((r) => r.target_id));
  const have = new Map<number, Set<number>>();
  for (const r of p.db.prepare<[number], { target_id: number; idx: string }>('SELECT target_id, group_concat(sample_index) AS idx FROM samples WHERE job_id = ? GROUP BY target_id').iterate(jobId)) {
    have.set(r.target_id, new Set(r.idx.split(',').map(Number)));
  }
  const work: { target: number; indices: number[] }[] = [];
  let alreadyDone = 0;
  for (const t of jobTargets) {
    if (skipped.has(t)) continue;
    const h = have.get(t);
    const missing: number[] = [];
    for (let i = 0; i < n; i++) {
      if (h?.has(i)) alreadyDone++;
      else missing.push(i);
    }
    if (missing.length) work.push({ target: t, indices: missing });
  }
  have.clear();
  const total = (jobTargets.length - skipped.size) * n;

  // 5. Run.
  const stop = new AbortController();
  setMaxListeners(0, stop.signal);
  const aborts = new RequestAborts(stop.signal);
  const onAbort = () => stop.abort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  if (opts.signal?.aborted) stop.abort();

  const targetOf = targetLookup(p);
  const problemOf = problemLookup(p);
  const prepared = new Map<number, Prepared>();
  let promptedTargets = 0;
  let goldenBrokenTargets = 0;
  const goldenBrokenPresets = new Set<'structurecoder' | 'clean'>();
  const prepare = (targetId: number, count: number): Prepared => {
    let pr = prepared.get(targetId);
    if (pr) return pr;
    const t = targetOf(targetId);
    const problem = t && problemOf(t.problem_id);
    if (!t || !problem) throw new Error(`target ${targetId} vanished from the store during the job`);
    // A whole-program target is always prompted as chat, whatever the family (promptForTarget).
    const preset = samplingPreset(t.preset);
    const clean = preset === 'clean';
    const built = promptForTarget(family, { kind: t.kind, pre: t.pre, mid: t.mid, suf: t.suf, question: problem.question, starterCode: problem.starterCode }, custom, preset);
    promptedTargets++;
    if (goldenBroken(t, preset)) {
      goldenBrokenTargets++;
      goldenBrokenPresets.add(preset);
    }
    pr = { ...built, kind: t.kind, clean, pending: count };
    prepared.set(targetId, pr);
    return pr;
  };
  const paramsJson = new Map<string, string>();
  const paramsOf = (pr: Prepared): string => {
    if (pr.paramsJson) return pr.paramsJson;
    // A whole-program target of a FIM-family job is prompted as chat: the params say so.
    const chatInFim = pr.chat && family !== 'chat';
    const k = `${pr.stop.join('\u0000')}|${pr.stopTokenIds.join(',')}|${chatInFim}`;
    let s = paramsJson.get(k);
    if (!s) {
      const body = completionBody('', { prompt: '', seed: 0, stop: pr.stop, stopTokenIds: pr.stopTokenIds, ...values, n: 1 });
      delete body.prompt;
      delete body.model;
      delete body.seed;
      s = JSON.stringify({ family, ...(chatInFim ? { prompt: 'chat' } : {}), ...body });
      paramsJson.set(k, s);
    }
    pr.paramsJson = s;
    return s;
  };

  // Writer: small transactions, ON CONFLICT DO NOTHING (see the top of the file).
  const insert = p.db.prepare(
    `INSERT INTO samples (job_id, target_id, sample_index, raw, middle, finish_reason, endpoint, model, params, seed,
       prompt_tokens, completion_tokens, latency_ms, created_at, stop_reason, attempts)
     VALUES (@job, @target, @index, @raw, @middle, @finish, @endpoint, @model, @params, @seed,
       @promptTokens, @completionTokens, @latencyMs, @createdAt, @stopReason, @attempts)
     ON CONFLICT (job_id, target_id, sample_index) DO NOTHING`,
  );
  const insertSkip = p.db.prepare('INSERT OR IGNORE INTO sample_skips (job_id, target_id, reason, created_at) VALUES (?, ?, ?, ?)');
  let buffer: (PendingRow & { params: string })[] = [];
  let produced = 0;
  const writeRows = p.db.transaction((rows: (PendingRow & { params: string })[]): number => {
    let stored = 0;
    for (const r of rows) stored += insert.run({ job: jobId, ...r }).changes;
    return stored;
  });
  const flush = () => {
    if (buffer.length === 0) return;
    const rows = buffer;
    buffer = [];
    produced += writeRows(rows); // counted once committed
  };
  let crash: unknown;
  const flushTimer = setInterval(() => {
    try {
      flush();
    } catch (e) {
      // e.g. the disk is full: stop rather than keep drawing samples that cannot be stored
      crash ??= e;
      stop.abort();
    }
  }, 100);

  let failed = 0;
  const counters: RequestCounters = { requests: 0, retries: 0, inFlight: 0 };
  let fatal: SamplingError | undefined;
  const skippedNow = new Set<number>();
  const progress = () =>
    opts.onProgress?.({
      jobId,
      total: total - skippedNow.size * n,
      done: alreadyDone + produced + buffer.length,
      skippedTargets: skipped.size + skippedNow.size,
      failed,
      inFlight: counters.inFlight,
      elapsedMs: performance.now() - t0,
    });

  let cursor = 0;
  let sub = 0;
  const next = (): { target: number; index: number; count: number } | undefined => {
    while (cursor < work.length) {
      const w = work[cursor];
      if (sub < w.indices.length && !skippedNow.has(w.target)) return { target: w.target, index: w.indices[sub++], count: w.indices.length };
      cursor++;
      sub = 0;
    }
    return undefined;
  };
  const retry: RetryPolicy = {
    maxRetries: spec.maxRetries ?? DEFAULTS.maxRetries,
    retryBaseMs: spec.retryBaseMs ?? DEFAULTS.retryBaseMs,
    retryCapMs: spec.retryCapMs ?? DEFAULTS.retryCapMs,
  };
  const finishTarget = (target: number) => {
    const pr = prepared.get(target);
    if (pr && --pr.pending <= 0) prepared.delete(target);
  };

  const skip = (target: number, reason: string) => {
    if (skippedNow.has(target)) return;
    skippedNow.add(target);
    prepared.delete(target);
    insertSkip.run(jobId, target, reason, now());
    log(`target ${target}: skipped: ${reason}`);
    progress();
  };

  const sampleOne = async (target: number, index: number, count: number): Promise<void> => {
    let pr: Prepared;
    try {
      pr = prepare(target, count);
    } catch (e) {
      skip(target, `cannot build the prompt: ${(e as Error).message}`);
      return;
    }
    const seed = seedFor(baseSeed, target, index);
    const got = await requestWithRetries(pool, (client, signal) => client.complete({ prompt: pr.prompt, stop: pr.stop, stopTokenIds: pr.stopTokenIds, seed, ...values, n: 1 }, signal), {
      ...retry,
      signal: stop.signal,
      aborts,
      counters,
      cancelled: () => skippedNow.has(target),
      log,
    });
    switch (got.kind) {
      case 'ok': {
        const res = got.value;
        const c = res.choices[0];
        buffer.push({
          target,
          index,
          raw: c.text,
          middle: postProcess(pr.kind, pr.start, c.text, { preset: pr.clean ? 'clean' : 'structurecoder', chat: pr.chat, wholeProgram: pr.whole }),
          finish: c.finishReason,
          stopReason: c.stopReason,
          endpoint: got.slot.client.root,
          model: res.model,
          params: paramsOf(pr),
          seed,
          promptTokens: res.promptTokens,
          completionTokens: res.completionTokens,
          latencyMs: res.latencyMs,
          attempts: got.attempts,
          createdAt: now(),
        });
        if (buffer.length >= 256) flush();
        progress();
        return;
      }
      case 'context':
        skip(target, `the prompt does not fit the model's context (maximum context length is ${got.error.maxLen}): ${got.error.message}`);
        return;
      case 'fatal':
        fatal ??= got.error;
        stop.abort();
        return;
      case 'gave-up':
        failed++;
        log(`target ${target} sample ${index}: given up after ${got.attempts} attempts: ${got.error.message}`);
        progress();
        return;
      case 'stopped':
        return;
    }
  };

  const runners = pool.slots.reduce((a, s) => a + (s.state === 'dead' ? 0 : s.limit), 0);
  const runner = async () => {
    for (;;) {
      if (stop.signal.aborted || !pool.alive) return;
      const item = next();
      if (!item) return;
      try {
        await sampleOne(item.target, item.index, item.count);
      } finally {
        finishTarget(item.target);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, runners) }, () => runner().catch((e: unknown) => {
      crash ??= e;
      stop.abort();
    })));
  } finally {
    clearInterval(flushTimer);
    pool.close();
    opts.signal?.removeEventListener('abort', onAbort);
    try {
      flush();
    } catch (e) {
      crash ??= e;
    }
  }

  // 6. The outcome.
  const samples = p.db.prepare<[number], { n: number }>('SELECT COUNT(*) AS n FROM samples WHERE job_id = ?').get(jobId)!.n;
  const skippedTargets = p.db.prepare<[number], { n: number }>('SELECT COUNT(*) AS n FROM sample_skips WHERE job_id = ?').get(jobId)!.n;
  const expected = (jobTargets.length - skippedTargets) * n;
  let status: JobStatus;
  let message: string | undefined;
  if (crash) {
    status = 'failed';
    message = `internal error: ${(crash as Error)?.message ?? String(crash)}`;
  } else if (fatal) {
    status = 'failed';
    message = fatal.message;
  } else if (samples >= expected) {
    status = 'done';
  } else {
    status = 'stopped';
    const resume = `resume with: pairforge sample --db ${p.file} --resume ${jobId}`;
    if (opts.signal?.aborted) message = `interrupted; ${resume}`;
    else if (!pool.alive) message = `${pool.slots.map((s) => `${s.client.root}: ${s.lastError || 'unavailable'}`).join('; ')}; ${resume}`;
    else message = `${failed} requests failed after retries; ${resume}`;
  }
  p.db.prepare('UPDATE sample_jobs SET status = ?, message = ?, finished_at = ? WHERE id = ?').run(status, message ?? null, now(), jobId);
  if (goldenBrokenTargets > 0) {
    // (a job's targets share one preset key unless it was given target ids)
    const preset = goldenBrokenPresets.has('structurecoder') ? 'structurecoder' : 'clean';
    log(`warning: ${describeGoldenBroken(`${goldenBrokenTargets} of the ${promptedTargets} targets prompted now`, preset)}`);
  }
  if (crash) throw crash instanceof Error ? crash : new Error(String(crash));
  progress();
  return {
    jobId,
    status,
    resumed,
    family,
    targets: jobTargets.length,
    n,
    expected,
    samples,
    produced,
    skippedTargets,
    failed,
    goldenBroken: goldenBrokenTargets,
    requests: counters.requests,
    retries: counters.retries,
    elapsedMs: Math.round(performance.now() - t0),
    endpoints: health,
    ...(message ? { message } : {}),
  };
}

/** The editor's entry point: sample these targets (one block, or all blocks of a solution) as a
 * new job; every call draws new samples. */
export function sampleTargets(
  p: Project,
  targetIds: number[],
  spec: Omit<SampleSpec, 'selection'>,
  opts: Omit<JobOptions, 'resume' | 'reuse'> = {},
): Promise<SampleJobSummary> {
  return runSampleJob(p, { ...spec, selection: { targetIds } }, { ...opts, reuse: 'none' });
}

/** EndpointHealth of endpoints (the editor's status bar, `pairforge sample` before a job). */
export async function checkEndpoints(endpoints: PoolEndpoint[], signal?: AbortSignal): Promise<EndpointHealth[]> {
  const pool = new EndpointPool(endpoints, { concurrency: 1, downWaitMs: 0, probeMs: 1000, downAfter: 1 });
  try {
    return await pool.health(signal);
  } finally {
    pool.close();
  }
}
