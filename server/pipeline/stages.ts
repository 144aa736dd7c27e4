// The pipeline's sandbox and sampling stages, wired to the modules that own them: the exec
// stage's runPending over its ExecEngine (check-refs: reference solutions and history versions;
// exec: samples) and the sampling stage's job runner. One engine serves both execution stages.

import os from 'node:os';
import { ExecEngine } from '../exec/engine';
import { runPending, type RunSummary } from '../exec/runPending';
import { REFERENCE_SOURCES, type CandidateSource } from '../exec/store';
import { SAMPLE_CANDIDATES } from '../sampling/candidates';
import { runSampleJob } from '../sampling/job';
import { presetKey } from '../targets/cutAll';
import type { ExternalStages, StageContext } from './run';

export interface RealStages extends ExternalStages {
  close(): Promise<void>;
}

/** The stages as the CLI runs them; close() shuts the sandbox workers down. */
export function realStages(): RealStages {
  let engine: Promise<ExecEngine> | undefined;
  const engineOf = (ctx: StageContext): Promise<ExecEngine> =>
    (engine ??= ExecEngine.create({
      ...(ctx.opts.workers !== undefined ? { workers: ctx.opts.workers } : {}),
      allowUnsandboxed: ctx.opts.allowUnsandboxed,
      log: ctx.opts.log,
    }));
  const execute = async (ctx: StageContext, sources: readonly CandidateSource[], label: string): Promise<Record<string, unknown>> => {
    const e = await engineOf(ctx);
    const workers = ctx.opts.workers ?? os.cpus().length;
    const s: RunSummary = await runPending(ctx.p, e, {
      selection: { sources },
      comparator: ctx.opts.comparator,
      concurrency: workers * 2,
      ...(ctx.opts.signal ? { signal: ctx.opts.signal } : {}),
      onProgress: (pr) => ctx.opts.progress({ stage: label, unit: `${pr.kind}s`, done: pr.done, total: pr.total, errors: pr.errors, note: `${pr.ran} run now` }),
    });
    // A candidate the engine failed on (not a verdict) stays pending for the next run; say why.
    if (s.errors > 0) ctx.opts.log(`${label}: ${s.errors} candidates could not be run (left pending): ${s.error_messages.slice(0, 3).join('; ')}`);
    return { ...s, cancelled: s.interrupted };
  };
  return {
    checkRefs: (ctx) => execute(ctx, REFERENCE_SOURCES, 'check-refs'),
    exec: (ctx) => execute(ctx, [SAMPLE_CANDIDATES], 'exec'),
    async sample(ctx) {
      const o = ctx.opts;
      const s = await runSampleJob(
        ctx.p,
        {
          family: o.family,
          n: o.n,
          ...(o.seed !== undefined ? { seed: o.seed } : {}),
          endpoints: [{ url: ctx.endpoint, model: ctx.model }],
          selection: { preset: presetKey({ preset: o.preset }) },
        },
        {
          ...(o.signal ? { signal: o.signal } : {}),
          // The pipeline never samples a target twice: the newest job with the same spec is continued.
          reuse: 'any',
          log: (m) => o.log(`sample: ${m}`),
          onProgress: (pr) => o.progress({ stage: `sample job ${pr.jobId}`, unit: 'samples', done: pr.done, total: pr.total, errors: pr.failed, note: `${pr.inFlight} in flight` }),
        },
      );
      if (s.status === 'failed' || (s.status === 'stopped' && !o.signal?.aborted)) throw new Error(`sample: job ${s.jobId} ${s.status}: ${s.message ?? 'no message'} (samples stored so far are kept; run again to continue)`);
      return { ...s, cancelled: s.status === 'stopped' };
    },
    async close() {
      if (engine) await (await engine).close();
    },
  };
}
