// `pairforge run`: the whole headless pipeline in one process, calling each stage's module:
// import -> check-refs -> targets -> sample -> exec -> pairs -> export.
//
// Resumable at every stage because every stage is: each one skips what the store already holds
// (imported records, cut solutions, stored samples, stored verdicts, pairs by key), so running
// the same command again after a kill or a Ctrl-C picks up where it stopped and duplicates
// nothing. With `--endpoint local` a local vLLM-compatible server (server/localvllm) is started
// in-process on a free port once the targets exist, learning from the project, and closed at the
// end. A project without reference solutions (iteration histories only) has nothing to sample:
// the sample and exec stages are skipped, no endpoint is needed, and IterPref pairs are built
// from the check-refs verdicts of the history versions.

import path from 'node:path';
import { loadPython, type PythonGrammar } from '../blocks/parser';
import { DEFAULT_EXPORT, ExportCancelled, exportPairs, type ExportSummary, type LeftOut } from '../export/export';
import type { ExportFormat } from '../export/records';
import { importCounts } from '../import/browse';
import { importFiles } from '../import/importer';
import { countReferences } from '../import/queries';
import { startLocalVllm, type LocalVllm } from '../localvllm/server';
import { describeGoldenBroken, GOLDEN_BROKEN_MARK, goldenBroken, samplingPreset } from '../sampling/golden';
import { buildPairs, type BuildSummary } from '../pairs/build';
import { firstModel } from '../pairs/command';
import { endpointCounter, estimatingCounter } from '../pairs/tokens';
import { openProject, type Project } from '../store/db';
import { cutAllTargets, presetKey, type CutAllSummary } from '../targets/cutAll';
import { targetCount } from '../targets/queries';
import type { Preset, Comparator, FimFamily } from '../protocol';

/** The warning for the golden-broken targets a cut counted (CutAllSummary.goldenBroken). */
export function goldenBrokenWarning(s: Pick<CutAllSummary, 'preset' | 'goldenBroken' | 'targets'>): string | undefined {
  return s.goldenBroken === 0 ? undefined : describeGoldenBroken(`${s.goldenBroken} of the ${s.targets} targets cut now`, samplingPreset(s.preset));
}

export const STAGES = ['import', 'check-refs', 'targets', 'sample', 'exec', 'pairs', 'export'] as const;
export type StageName = (typeof STAGES)[number];

export interface PipelineOptions {
  db: string;
  /** Dataset files to import first (none: use what the project holds). */
  datasets: string[];
  /** A vLLM server (root or /v1 URL); 'local': start the local server. Undefined: the run needs
   * none unless the project holds reference solutions (then EndpointRequiredError after import). */
  endpoint?: string;
  model?: string;
  family: FimFamily;
  n: number;
  seed?: number;
  preset: Preset;
  /** Also cut one whole-program target per reference solution (kind 'program' -> 'full' pairs). */
  wholePrograms?: boolean;
  comparator: Comparator;
  workers?: number;
  allowUnsandboxed: boolean;
  format: ExportFormat;
  out: string;
  /** Export pending pairs without flags too (default in `run`: nothing is reviewed yet). */
  includePending: boolean;
  /** Stages to leave out (e.g. 'check-refs' when references are known to pass). */
  skip: ReadonlySet<StageName>;
  signal?: AbortSignal;
  /** One line per event, for stderr. */
  log: (line: string) => void;
  /** Where the running stage stands (the command's progress reporter); null when it ended. */
  progress: (p: StageProgress | null) => void;
}

/** A stage's progress: `done` of `total` `unit`s. */
export interface StageProgress {
  stage: string;
  unit: string;
  done: number;
  total?: number;
  errors?: number;
  note?: string;
}

/** What the sandbox and sampling stages need; the command wires the exec and sampling stages'
 * modules in (server/pipeline/stages.ts). */
export interface ExternalStages {
  checkRefs(ctx: StageContext): Promise<Record<string, unknown>>;
  sample(ctx: StageContext & { endpoint: string; model: string }): Promise<Record<string, unknown>>;
  exec(ctx: StageContext): Promise<Record<string, unknown>>;
}

export interface StageContext {
  p: Project;
  grammar: PythonGrammar;
  opts: PipelineOptions;
}

export interface StageReport {
  stage: StageName;
  status: 'done' | 'skipped' | 'interrupted';
  seconds: number;
  summary: Record<string, unknown>;
  /** Why a stage was skipped when it was not asked to be (e.g. nothing to sample). */
  note?: string;
}

export interface PipelineSummary {
  db: string;
  endpoint: string | null;
  model: string | null;
  stages: StageReport[];
  pairs: { structurecoder?: BuildSummary; iterpref?: BuildSummary };
  export?: { dir: string; files: ExportSummary['manifest']['files']; counts: ExportSummary['manifest']['counts']; leftOut?: LeftOut };
  /** Things the user should know about the run (e.g. golden-broken targets: tab-indented code under structurecoder). */
  warnings: string[];
  cancelled: boolean;
}

/** Thrown when the run needs an endpoint it was not given (the CLI's usage error). */
export class EndpointRequiredError extends Error {}

export async function runPipeline(opts: PipelineOptions, external: ExternalStages): Promise<PipelineSummary> {
  const grammar = await loadPython();
  const p = openProject(opts.db);
  const ctx: StageContext = { p, grammar, opts };
  const summary: PipelineSummary = { db: p.file, endpoint: null, model: null, stages: [], pairs: {}, warnings: [], cancelled: false };
  let local: LocalVllm | undefined;
  const warn = (w: string) => {
    summary.warnings.push(w);
    opts.log(`warning: ${w}`);
  };
  /** A stage body may return `{ skip: why }` when it finds nothing to do that the run can go without. */
  const stage = async (name: StageName, body: () => Promise<Record<string, unknown> & { cancelled?: boolean; skip?: string }>): Promise<boolean> => {
    if (opts.skip.has(name)) {
      summary.stages.push({ stage: name, status: 'skipped', seconds: 0, summary: {}, note: 'asked with --skip' });
      return true;
    }
    if (opts.signal?.aborted) {
      summary.cancelled = true;
      return false;
    }
    opts.log(`${name}: starting`);
    const t0 = performance.now();
    const { skip, ...s } = await body();
    const seconds = Math.round((performance.now() - t0) / 10) / 100;
    if (skip !== undefined) {
      summary.stages.push({ stage: name, status: 'skipped', seconds, summary: s, note: skip });
      opts.log(`${name}: skipped: ${skip}`);
      return true;
    }
    const interrupted = s.cancelled === true || opts.signal?.aborted === true;
    summary.stages.push({ stage: name, status: interrupted ? 'interrupted' : 'done', seconds, summary: s });
    opts.progress(null);
    opts.log(`${name}: ${interrupted ? 'interrupted' : 'done'} in ${seconds} s`);
    if (interrupted) summary.cancelled = true;
    return !interrupted;
  };
  const key = presetKey({ preset: opts.preset });
  const requireEndpoint = (): boolean => {
    if (opts.endpoint !== undefined || opts.skip.has('sample')) return true;
    const solutions = countReferences(p, 'solution');
    if (solutions === 0) return true;
    throw new EndpointRequiredError(
      `--endpoint URL is required: the project holds ${solutions} reference solutions whose targets the sample stage samples ` +
        '(or --endpoint local for the built-in local stand-in server, which is not a model: for demos and tests; or --skip sample). ' +
        'What was imported is kept: run the same command again with --endpoint',
    );
  };
  try {
    const ok =
      (await stage('import', async () => {
        if (opts.datasets.length === 0) return { files: [], note: 'no --dataset given: using what the project holds' };
        const s = await importFiles(p, opts.datasets, {
          ...(opts.signal ? { signal: opts.signal } : {}),
          onProgress: (e) => opts.progress({ stage: `import ${path.basename(e.file)}`, unit: 'MB', done: e.bytes, total: e.totalBytes, note: `line ${e.line}` }),
        });
        const sum = (k: 'records' | 'imported' | 'unchanged') => s.files.reduce((n, f) => n + f[k], 0);
        const bad = s.files.reduce((n, f) => n + f.bad.length, 0);
        return { files: s.files.length, records: sum('records'), imported: sum('imported'), unchanged: sum('unchanged'), bad_lines: bad, cancelled: s.cancelled, detail: s.files };
      })) &&
      // An endpoint is needed only when there is something to sample: reference solutions to cut
      // into targets. A project of iteration histories only goes without (IterPref needs no samples).
      requireEndpoint() &&
      (await stage('check-refs', () => external.checkRefs(ctx))) &&
      (await stage('targets', async () => {
        const s = await cutAllTargets(p, {
          preset: opts.preset,
          wholePrograms: opts.wholePrograms === true,
          ...(opts.signal ? { signal: opts.signal } : {}),
          onProgress: (done, total) => opts.progress({ stage: 'targets', unit: 'solutions', done, total }),
          goldenCheck: (t) => goldenBroken(t, samplingPreset(key)),
        });
        const broken = goldenBrokenWarning(s);
        if (broken) warn(broken);
        return { ...s };
      })) &&
      (await stage('sample', async () => {
        const targets = targetCount(p, key);
        if (targets === 0) {
          const solutions = countReferences(p, 'solution');
          return {
            targets: 0,
            skip:
              solutions === 0
                ? 'no targets to sample: the project holds no reference solutions to cut (iteration histories only; IterPref pairs need no samples)'
                : `no targets under preset '${key}' (the ${solutions} reference solutions gave none: see the targets stage)`,
          };
        }
        let endpoint = opts.endpoint;
        let model = opts.model;
        if (endpoint === undefined) throw new EndpointRequiredError(`--endpoint URL is required: ${targets} targets under preset '${key}' are to be sampled`);
        if (endpoint === 'local') {
          // Started after the targets exist: the local server learns the project's targets at start.
          local = await startLocalVllm({ db: p.file, ...(model ? { model } : {}), ...(opts.seed !== undefined ? { seed: opts.seed } : {}) });
          endpoint = local.baseURL;
          model = local.model;
          opts.log(`sample: started the local vLLM-compatible server at ${local.url} (model ${model}, ${local.targets} targets known)`);
        }
        model ??= await firstModel(endpoint);
        if (!model) throw new Error(`${endpoint}: /v1/models lists no model; pass --model`);
        summary.endpoint = endpoint;
        summary.model = model;
        const sampled = await external.sample({ ...ctx, endpoint, model });
        const broken = typeof sampled.goldenBroken === 'number' ? sampled.goldenBroken : 0;
        // (the sampling job has logged its own warning; the summary says it once, from the targets
        // stage when it cut them now, else from here: targets cut by an earlier run)
        if (broken > 0 && !summary.warnings.some((w) => w.includes(GOLDEN_BROKEN_MARK))) {
          summary.warnings.push(describeGoldenBroken(`${broken} of the targets prompted now`, samplingPreset(key)));
        }
        return sampled;
      })) &&
      (await stage('exec', () => external.exec(ctx))) &&
      (await stage('pairs', async () => {
        const tokens = summary.endpoint && summary.model ? endpointCounter(summary.endpoint, summary.model) : estimatingCounter();
        const common = { comparator: opts.comparator, family: opts.family, tokens, ...(opts.signal ? { signal: opts.signal } : {}) };
        summary.pairs.structurecoder = await buildPairs(p, grammar, {
          ...common,
          mode: 'structurecoder',
          preset: key,
          onProgress: (done, total) => opts.progress({ stage: 'pairs (structurecoder)', unit: 'targets', done, total }),
        });
        const histories = importCounts(p).histories;
        if (histories > 0 && !summary.pairs.structurecoder.cancelled) {
          summary.pairs.iterpref = await buildPairs(p, grammar, {
            ...common,
            mode: 'iterpref',
            ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
            onProgress: (done, total) => opts.progress({ stage: 'pairs (iterpref)', unit: 'histories', done, total }),
          });
        }
        const cancelled = summary.pairs.structurecoder.cancelled || summary.pairs.iterpref?.cancelled === true;
        return { structurecoder: summary.pairs.structurecoder.pairs, iterpref: summary.pairs.iterpref?.pairs ?? 0, cancelled };
      })) &&
      (await stage('export', async () => {
        const hooks = { onProgress: (phase: 'reading' | 'writing', done: number, total: number) => opts.progress({ stage: `export (${phase})`, unit: phase === 'reading' ? 'pairs' : 'records', done, total }), ...(opts.signal ? { signal: opts.signal } : {}) };
        const options = { ...DEFAULT_EXPORT, format: opts.format, includePending: opts.includePending, family: opts.family, epochs: opts.format === 'structurecoder' ? 3 : DEFAULT_EXPORT.epochs };
        let s: ExportSummary;
        try {
          s = await exportPairs(p, opts.out, options, undefined, hooks);
        } catch (e) {
          // Stopped: nothing of this export was kept; a run again exports from the start.
          if (e instanceof ExportCancelled) return { cancelled: true };
          throw e;
        }
        summary.export = { dir: s.dir, files: s.manifest.files, counts: s.manifest.counts, ...(s.leftOut ? { leftOut: s.leftOut } : {}) };
        return { dir: s.dir, records: s.manifest.counts.records, pairs: s.manifest.counts.pairs, left_out: s.leftOut?.total ?? 0 };
      }));
    if (!ok) summary.cancelled = true;
    return summary;
  } finally {
    if (local) await local.close();
    p.close();
  }
}
