// `pairforge run`: the whole headless pipeline in one process, calling each stage's module:
// import -> check-refs -> targets -> sample -> exec -> pairs -> export.
//
// Resumable at every stage because every stage is: each one skips what the store already holds
// (imported records, cut solutions, stored samples, stored verdicts, pairs by key), so running
// the same command again after a kill or a Ctrl-C picks up where it stopped and duplicates
// nothing. Without --endpoint (or with `--endpoint local`) a local vLLM-compatible server
// (server/localvllm) is started in-process on a free port once the targets exist, learning from
// the project, and closed at the end.

import path from 'node:path';
import { loadPython, type PythonGrammar } from '../blocks/parser';
import { DEFAULT_EXPORT, exportPairs, type ExportSummary } from '../export/export';
import type { ExportFormat } from '../export/records';
import { importFiles } from '../import/importer';
import { startLocalVllm, type LocalVllm } from '../localvllm/server';
import { buildPairs, type BuildSummary } from '../pairs/build';
import { firstModel } from '../pairs/command';
import { endpointCounter, estimatingCounter } from '../pairs/tokens';
import { openProject, type Project } from '../store/db';
import { cutAllTargets, presetKey } from '../targets/cutAll';
import type { Preset, Comparator, FimFamily } from '../protocol';

export const STAGES = ['import', 'check-refs', 'targets', 'sample', 'exec', 'pairs', 'export'] as const;
export type StageName = (typeof STAGES)[number];

export interface PipelineOptions {
  db: string;
  /** Dataset files to import first (none: use what the project holds). */
  datasets: string[];
  /** A vLLM server (root or /v1 URL); undefined or 'local': start the local server. */
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
}

export interface PipelineSummary {
  db: string;
  endpoint: string | null;
  model: string | null;
  stages: StageReport[];
  pairs: { structurecoder?: BuildSummary; iterpref?: BuildSummary };
  export?: { dir: string; files: ExportSummary['manifest']['files']; counts: ExportSummary['manifest']['counts'] };
  cancelled: boolean;
}

export async function runPipeline(opts: PipelineOptions, external: ExternalStages): Promise<PipelineSummary> {
  const grammar = await loadPython();
  const p = openProject(opts.db);
  const ctx: StageContext = { p, grammar, opts };
  const summary: PipelineSummary = { db: p.file, endpoint: null, model: null, stages: [], pairs: {}, cancelled: false };
  let local: LocalVllm | undefined;
  const stage = async (name: StageName, body: () => Promise<Record<string, unknown> & { cancelled?: boolean }>): Promise<boolean> => {
    if (opts.skip.has(name)) {
      summary.stages.push({ stage: name, status: 'skipped', seconds: 0, summary: {} });
      return true;
    }
    if (opts.signal?.aborted) {
      summary.cancelled = true;
      return false;
    }
    opts.log(`${name}: starting`);
    const t0 = performance.now();
    const s = await body();
    const seconds = Math.round((performance.now() - t0) / 10) / 100;
    const interrupted = s.cancelled === true || opts.signal?.aborted === true;
    summary.stages.push({ stage: name, status: interrupted ? 'interrupted' : 'done', seconds, summary: s });
    opts.progress(null);
    opts.log(`${name}: ${interrupted ? 'interrupted' : 'done'} in ${seconds} s`);
    if (interrupted) summary.cancelled = true;
    return !interrupted;
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
      (await stage('check-refs', () => external.checkRefs(ctx))) &&
      (await stage('targets', async () => {
        const s = await cutAllTargets(p, {
          preset: opts.preset,
          wholePrograms: opts.wholePrograms === true,
          ...(opts.signal ? { signal: opts.signal } : {}),
          onProgress: (done, total) => opts.progress({ stage: 'targets', unit: 'solutions', done, total }),
        });
        return { ...s };
      })) &&
      (await stage('sample', async () => {
        let endpoint = opts.endpoint;
        let model = opts.model;
        if (endpoint === undefined || endpoint === 'local') {
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
        return external.sample({ ...ctx, endpoint, model });
      })) &&
      (await stage('exec', () => external.exec(ctx))) &&
      (await stage('pairs', async () => {
        const tokens = summary.endpoint && summary.model ? endpointCounter(summary.endpoint, summary.model) : estimatingCounter();
        const common = { comparator: opts.comparator, family: opts.family, tokens, ...(opts.signal ? { signal: opts.signal } : {}) };
        summary.pairs.structurecoder = await buildPairs(p, grammar, {
          ...common,
          mode: 'structurecoder',
          preset: presetKey({ preset: opts.preset }),
          onProgress: (done, total) => opts.progress({ stage: 'pairs (structurecoder)', unit: 'targets', done, total }),
        });
        const histories = p.db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM histories').get()!.n;
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
        const s = exportPairs(
          p,
          opts.out,
          {
            ...DEFAULT_EXPORT,
            format: opts.format,
            includePending: opts.includePending,
            family: opts.family,
            epochs: opts.format === 'structurecoder' ? 3 : DEFAULT_EXPORT.epochs,
          },
          undefined,
          { onProgress: (phase, done, total) => opts.progress({ stage: `export (${phase})`, unit: phase === 'reading' ? 'pairs' : 'records', done, total }) },
        );
        summary.export = { dir: s.dir, files: s.manifest.files, counts: s.manifest.counts };
        return { dir: s.dir, records: s.manifest.counts.records, pairs: s.manifest.counts.pairs };
      }));
    if (!ok) summary.cancelled = true;
    return summary;
  } finally {
    if (local) await local.close();
    p.close();
  }
}
