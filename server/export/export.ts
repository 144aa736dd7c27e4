// `pairforge export`: the selected pairs, in curriculum order, written in one training format,
// with a manifest beside them from which the same export can be made again (`--from-manifest`).
//
// Selection: accepted pairs; with includePending also the pending ones that carry no filter flag.
// A re-export from a manifest takes exactly the pair keys the manifest lists (whatever their
// status is now) with the same options, and says whether the files came out byte-identical.

import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmdirSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { VERSION } from '../version';
import { datasetSource, problemHashes, problemLookup } from '../import/queries';
import { pairLookup, pairOutlinesByKey, reviewedPairOutlines, unacceptedPairs, type PairOutline } from '../pairs/store';
import { sampleJob } from '../sampling/queries';
import { SCHEMA_VERSION, type Project } from '../store/db';
import { CURRICULUM_ORDERS, curriculum, drawFormats, type CurriculumOrder } from './curriculum';
import { recordExport } from './store';
import {
  EXPORT_FORMATS,
  llamaFactoryDatasetInfo,
  llamaFactoryRecord,
  structureCoderRecord,
  trlRecord,
  type ExportFormat,
  type ExportPair,
  type RenderOptions,
} from './records';
import { FIM_FAMILIES, type FimFamily, PAIR_MODES, type PairMode } from '../protocol';

export interface ExportOptions {
  format: ExportFormat;
  includePending: boolean;
  /** Only pairs of this mode (default both). */
  mode?: PairMode;
  order: CurriculumOrder;
  epochs: number;
  /** Curriculum shuffle seed (published: 42). */
  seed: number;
  /** Probability of FIM format per record (trl, llamafactory; published: 0.5). */
  fimRate: number;
  /** Seed of the FIM/chat draws (published: 3407). */
  fimSeed: number;
  family: FimFamily;
  trainingSentence: boolean;
}

export const DEFAULT_EXPORT: Omit<ExportOptions, 'format'> = {
  includePending: false,
  order: 'lines',
  epochs: 1,
  seed: 42,
  fimRate: 0.5,
  fimSeed: 3407,
  family: 'qwen2.5-coder',
  trainingSentence: false,
};

export const MANIFEST_FILE = 'manifest.json';
export const LLAMAFACTORY_NAME = 'pairforge_dpo';

export function dataFileOf(format: ExportFormat): string {
  return format === 'trl' ? 'pairs.trl.jsonl' : format === 'structurecoder' ? 'pairs.structurecoder.jsonl' : `${LLAMAFACTORY_NAME}.json`;
}

export interface ManifestFile {
  name: string;
  records: number;
  bytes: number;
  sha256: string;
}

export interface Manifest {
  pairforge: { version: string; schema: number };
  createdAt: string;
  project: string;
  options: ExportOptions;
  datasets: { name: string; format: string; sourceFile: string; problems: number; sha256: string }[];
  sampling: { jobs: { id: number; preset: string; family: string; params: unknown; endpoints: unknown }[] };
  endpoints: string[];
  models: string[];
  pairing: unknown[];
  filters: { limits: unknown[]; tokenCounting: string[]; flagsInExport: Record<string, number> };
  counts: {
    pairs: number;
    records: number;
    byKind: Record<string, number>;
    byFormat: Record<string, number>;
    byBlockKind: Record<string, number>;
    byDepth: Record<string, number>;
    byStatus: Record<string, number>;
    byMode: Record<string, number>;
  };
  /** The exported pairs by pair_key, in id order (before the curriculum). */
  pairKeys: string[];
  files: ManifestFile[];
}

/** What a caller follows while an export runs: pairs read for the manifest, then records written;
 * and the signal that stops it. */
export interface ExportHooks {
  onProgress?: (phase: 'reading' | 'writing', done: number, total: number) => void;
  /** Aborted: the export stops at its next checkpoint, removes what it wrote and records nothing. */
  signal?: AbortSignal;
  /** false: the project keeps no record of this export (`pairforge train --dry-run` writes one to
   * show it, into a folder that does not last). Default true. */
  record?: boolean;
}

/** A stopped export: nothing of it was kept. */
export class ExportCancelled extends Error {
  constructor(dir: string) {
    super(`export cancelled: nothing was written to ${dir}`);
  }
}

/** Progress is reported every this many items (and at the end of each phase). */
const PROGRESS_EVERY = 256;

/** Every PROGRESS_EVERY items: the progress, then a turn of the event loop, so the engine server
 * answers the editor's other requests during a long export and sees a cancel; then the cancel. */
async function checkpoint(hooks: ExportHooks, dir: string, phase: 'reading' | 'writing', done: number, total: number): Promise<void> {
  hooks.onProgress?.(phase, done, total);
  await new Promise<void>((resolve) => setImmediate(resolve));
  if (hooks.signal?.aborted) throw new ExportCancelled(dir);
}

/** Why pairs of the project are not in an export (each pair counted once, under its first
 * reason; `flags` tallies the filter flags of the pending pairs left out, several per pair). */
export interface LeftOut {
  /** Pairs of the exported mode(s) not exported. */
  total: number;
  /** Rejected in review. */
  rejected: number;
  /** Flagged by a reviewer. */
  flaggedInReview: number;
  /** Pending pairs, not reviewed, when only accepted pairs are exported. */
  notReviewed: number;
  /** Pending pairs carrying a filter flag (includePending exports only unflagged ones). */
  filtered: number;
  flags: Record<string, number>;
}

export interface ExportSummary {
  dir: string;
  manifest: Manifest;
  /** The project's record of this export (server/export/store.ts); null when it was not
   * recorded (ExportHooks.record false: a dry run's). */
  exportId: number | null;
  /** What the selection left out (not for a re-export from a manifest, which takes its keys). */
  leftOut?: LeftOut;
  /** Set by a re-export: whether each data file is byte-identical to the manifest's. */
  reproduced?: { identical: boolean; differing: string[] };
}

/** What the selection and the curriculum need of a pair; the texts are read one at a time while
 * writing, so an export of millions of pairs holds only these small rows in memory. */
type Light = PairOutline;

function selectPairs(p: Project, opts: ExportOptions, keys?: readonly string[]): Light[] {
  if (keys) {
    const byKey = pairOutlinesByKey(p, keys);
    const missing: string[] = [];
    const rows: Light[] = [];
    for (const k of keys) {
      const r = byKey.get(k);
      if (r) rows.push(r);
      else missing.push(k);
    }
    if (missing.length > 0) throw new Error(`${p.file}: the manifest lists ${missing.length} pair(s) the project no longer has: ${missing.slice(0, 5).join(', ')}`);
    return rows.sort((a, b) => a.id - b.id);
  }
  return reviewedPairOutlines(p, { includePending: opts.includePending === true, ...(opts.mode ? { mode: opts.mode } : {}) });
}

/** Reads whole pairs by id (with the problem's question and name). */
function pairReader(p: Project): (id: number) => ExportPair {
  const pairOf = pairLookup(p);
  const problemOf = problemLookup(p);
  return (id) => {
    const pair = pairOf(id);
    const problem = pair && problemOf(pair.problemId);
    if (!pair || !problem) throw new Error(`${p.file}: pair ${id} disappeared during the export`);
    return { ...pair, question: problem.question, problem: `${problem.dataset}/${problem.externalId}` };
  };
}

function countInto(out: Record<string, number>, k: string): void {
  out[k] = (out[k] ?? 0) + 1;
}

function sorted(out: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}

/** Everything the manifest says about the exported pairs, in one pass over them. */
async function describePairs(p: Project, dir: string, pairs: readonly Light[], hooks: ExportHooks = {}) {
  const pairOf = pairLookup(p);
  const byKind: Record<string, number> = {};
  const byBlockKind: Record<string, number> = {};
  const byDepth: Record<string, number> = {};
  const byStatus: Record<string, number> = {};
  const byMode: Record<string, number> = {};
  const flags: Record<string, number> = {};
  const endpoints = new Set<string>();
  const models = new Set<string>();
  const jobs = new Set<number>();
  const problems = new Set<number>();
  const pairing = new Map<string, unknown>();
  const limits = new Map<string, unknown>();
  const tokenCounting = new Set<string>();
  for (const [i, x] of pairs.entries()) {
    if (i % PROGRESS_EVERY === 0) await checkpoint(hooks, dir, 'reading', i, pairs.length);
    const r = pairOf(x.id);
    if (!r) throw new Error(`${p.file}: pair ${x.id} disappeared during the export`);
    countInto(byKind, r.kind);
    countInto(byBlockKind, r.blockKind ?? 'program');
    countInto(byDepth, String(r.depth ?? 0));
    countInto(byStatus, r.status);
    countInto(byMode, r.mode);
    for (const f of r.flags) countInto(flags, f);
    problems.add(r.problemId);
    const prov = r.provenance;
    for (const e of Array.isArray(prov.endpoints) ? prov.endpoints : []) endpoints.add(String(e));
    for (const m of Array.isArray(prov.models) ? prov.models : []) models.add(String(m));
    for (const j of Array.isArray(prov.jobs) ? prov.jobs : []) jobs.add(Number(j));
    if (prov.pairing !== undefined) pairing.set(JSON.stringify(prov.pairing), prov.pairing);
    if (prov.limits !== undefined) limits.set(JSON.stringify(prov.limits), prov.limits);
    tokenCounting.add(String((prov.tokens as { method?: string } | undefined)?.method ?? 'none'));
  }
  hooks.onProgress?.('reading', pairs.length, pairs.length);
  const byJson = (m: Map<string, unknown>) => [...m.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, v]) => v);
  return {
    counts: { byKind: sorted(byKind), byBlockKind: sorted(byBlockKind), byDepth: sorted(byDepth), byStatus: sorted(byStatus), byMode: sorted(byMode) },
    flags: sorted(flags),
    endpoints: [...endpoints].sort(),
    models: [...models].sort(),
    jobs: [...jobs].sort((a, b) => a - b),
    problems: [...problems],
    pairing: byJson(pairing),
    limits: byJson(limits),
    tokenCounting: [...tokenCounting].sort(),
  };
}

function describeSources(p: Project, problemIds: readonly number[], jobIds: readonly number[]): Pick<Manifest, 'datasets' | 'sampling'> {
  const datasetIds = new Set<number>();
  const problemOf = problemLookup(p);
  for (const id of problemIds) datasetIds.add(problemOf(id)!.datasetId);
  const datasets = [...datasetIds]
    .sort((a, b) => a - b)
    .map((id) => {
      const d = datasetSource(p, id)!;
      const h = createHash('sha256');
      let problems = 0;
      for (const r of problemHashes(p, id)) {
        h.update(`${r.externalId}\t${r.contentHash}\n`);
        problems++;
      }
      return { name: d.name, format: d.format, sourceFile: d.sourceFile, problems, sha256: h.digest('hex') };
    });
  const parse = (s: string): unknown => {
    try {
      return JSON.parse(s);
    } catch {
      return s;
    }
  };
  const jobs = jobIds
    .map((id) => sampleJob(p, id))
    .filter((j): j is NonNullable<typeof j> => j !== undefined)
    .map((j) => ({ id: j.id, preset: j.preset, family: j.family, params: parse(j.params), endpoints: parse(j.endpoints) }));
  return { datasets, sampling: { jobs } };
}

/** A file written through a temporary name and renamed when complete (a kill never leaves half
 * a file under the real name), hashed as it is written. */
class FileSink {
  private readonly tmp: string;
  private readonly fd: number;
  private readonly hash = createHash('sha256');
  private buffered: string[] = [];
  private bufferedChars = 0;
  private closed = false;
  bytes = 0;
  records = 0;

  constructor(readonly file: string) {
    this.tmp = `${file}.tmp-${process.pid}`;
    this.fd = openSync(this.tmp, 'w');
  }

  write(s: string): void {
    this.buffered.push(s);
    this.bufferedChars += s.length;
    if (this.bufferedChars > 1 << 20) this.flush();
  }

  private flush(): void {
    if (this.buffered.length === 0) return;
    const buf = Buffer.from(this.buffered.join(''));
    this.buffered = [];
    this.bufferedChars = 0;
    this.hash.update(buf);
    this.bytes += buf.length;
    writeSync(this.fd, buf);
  }

  close(): ManifestFile {
    this.flush();
    closeSync(this.fd);
    this.closed = true;
    renameSync(this.tmp, this.file);
    return { name: path.basename(this.file), records: this.records, bytes: this.bytes, sha256: this.hash.digest('hex') };
  }

  /** After a failure: closes the descriptor and removes the temporary file (nothing is left). */
  abort(): void {
    if (!this.closed) {
      this.closed = true;
      try {
        closeSync(this.fd);
      } catch {
        // already closed by a failed close(): only the file is left to remove
      }
    }
    rmSync(this.tmp, { force: true });
  }
}

/** Every file an export opens, so a failure anywhere removes all their temporary files. */
class Sinks {
  private readonly open: FileSink[] = [];
  sink(file: string): FileSink {
    const s = new FileSink(file);
    this.open.push(s);
    return s;
  }
  abortAll(): void {
    for (const s of this.open) s.abort();
  }
}

/** Writes the data file(s) in curriculum order; returns them and the format drawn per record. */
async function writeFiles(p: Project, dir: string, pairs: readonly Light[], opts: ExportOptions, sinks: Sinks, hooks: ExportHooks): Promise<{ files: ManifestFile[]; byFormat: Record<string, number> }> {
  const ordered = curriculum(pairs, { order: opts.order, epochs: opts.epochs, seed: opts.seed });
  const reader = pairReader(p);
  // Each record read is one written: progress counts them as they go.
  const read = async (i: number) => {
    if (i % PROGRESS_EVERY === 0) await checkpoint(hooks, dir, 'writing', i, ordered.length);
    return reader(ordered[i].id);
  };
  const byFormat: Record<string, number> = {};
  const sink = sinks.sink(path.join(dir, dataFileOf(opts.format)));
  if (opts.format === 'structurecoder') {
    for (let i = 0; i < ordered.length; i++) {
      sink.write(`${JSON.stringify(structureCoderRecord(await read(i)))}\n`);
      sink.records++;
      countInto(byFormat, 'trainer');
    }
    return { files: [sink.close()], byFormat };
  }
  const formats = drawFormats(
    ordered.map((x) => x.whole),
    { fimRate: opts.fimRate, seed: opts.fimSeed },
  );
  const ro: RenderOptions = { family: opts.family, trainingSentence: opts.trainingSentence };
  if (opts.format === 'trl') {
    for (let i = 0; i < ordered.length; i++) {
      const rec = trlRecord(await read(i), formats[i], ro);
      sink.write(`${JSON.stringify(rec)}\n`);
      sink.records++;
      countInto(byFormat, String(rec.metadata.format));
    }
    return { files: [sink.close()], byFormat };
  }
  // LLaMA-Factory reads one JSON array: one record per line inside it.
  sink.write('[');
  for (let i = 0; i < ordered.length; i++) {
    const rec = llamaFactoryRecord(await read(i), formats[i], ro);
    sink.write(`${i === 0 ? '' : ','}\n  ${JSON.stringify(rec)}`);
    sink.records++;
    countInto(byFormat, formats[i]);
  }
  sink.write('\n]\n');
  const data = sink.close();
  const info = sinks.sink(path.join(dir, 'dataset_info.json'));
  info.write(`${JSON.stringify(llamaFactoryDatasetInfo(LLAMAFACTORY_NAME, dataFileOf('llamafactory')), null, 2)}\n`);
  info.records = 1;
  return { files: [data, info.close()], byFormat };
}

/** Counts the pairs the selection leaves out, by reason (see LeftOut). */
export function leftOutOf(p: Project, opts: Pick<ExportOptions, 'includePending' | 'mode'>): LeftOut {
  const out: LeftOut = { total: 0, rejected: 0, flaggedInReview: 0, notReviewed: 0, filtered: 0, flags: {} };
  for (const r of unacceptedPairs(p, opts.mode)) {
    if (r.status === 'rejected') out.rejected++;
    else if (r.status === 'flagged') out.flaggedInReview++;
    else if (!opts.includePending) out.notReviewed++;
    else if (r.flags.length > 0) {
      out.filtered++;
      for (const f of r.flags) countInto(out.flags, f);
    } else continue;
    out.total++;
  }
  out.flags = sorted(out.flags);
  return out;
}

/** Writes the export of the selected pairs (or of `keys`, a manifest's pairs) into `outDir`. A
 * failure or a cancel (hooks.signal) removes every file it was writing (the folder too, when it
 * made it and left it empty) and records nothing; files of an earlier export there stay as they were. */
export async function exportPairs(p: Project, outDir: string, opts: ExportOptions, keys?: readonly string[], hooks: ExportHooks = {}): Promise<ExportSummary> {
  if (opts.format === 'structurecoder' && opts.trainingSentence) {
    throw new Error('export: the structurecoder format leaves the training sentence to the published trainer, which appends it itself');
  }
  const dir = path.resolve(outDir);
  const pairs = selectPairs(p, opts, keys);
  const about = await describePairs(p, dir, pairs, hooks);
  const made = mkdirSync(dir, { recursive: true }) !== undefined;
  const sinks = new Sinks();
  try {
    const summary = await writeExport(p, dir, pairs, about, opts, sinks, hooks);
    return keys ? summary : { ...summary, leftOut: leftOutOf(p, opts) };
  } catch (e) {
    sinks.abortAll();
    if (made) rmEmptyDir(dir);
    throw e;
  }
}

function rmEmptyDir(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // not empty (or gone): left as it is
  }
}

async function writeExport(p: Project, dir: string, pairs: readonly Light[], about: Awaited<ReturnType<typeof describePairs>>, opts: ExportOptions, sinks: Sinks, hooks: ExportHooks): Promise<ExportSummary> {
  const { files, byFormat } = await writeFiles(p, dir, pairs, opts, sinks, hooks);
  hooks.onProgress?.('writing', files[0].records, files[0].records);
  const manifest: Manifest = {
    pairforge: { version: VERSION, schema: SCHEMA_VERSION },
    createdAt: new Date().toISOString(),
    project: p.file,
    options: opts,
    ...describeSources(p, about.problems, about.jobs),
    endpoints: about.endpoints,
    models: about.models,
    pairing: about.pairing,
    filters: { limits: about.limits, tokenCounting: about.tokenCounting, flagsInExport: about.flags },
    counts: { pairs: pairs.length, records: files[0].records, ...about.counts, byFormat: sorted(byFormat) },
    pairKeys: pairs.map((x) => x.pairKey),
    files,
  };
  const m = sinks.sink(path.join(dir, MANIFEST_FILE));
  m.write(`${JSON.stringify(manifest, null, 2)}\n`);
  const written = m.close();
  // The project remembers what it exported (the dashboard's funnel, an export's pairs in the room).
  const exportId = hooks.record === false ? null : recordExport(p, { dir, format: opts.format, options: opts, pairIds: pairs.map((x) => x.id), records: manifest.counts.records, manifestSha256: written.sha256, createdAt: manifest.createdAt });
  return { dir, manifest, exportId };
}

/** Reads a manifest written by exportPairs; errors name the file and the field. */
export function readManifest(file: string): Manifest {
  let m: Manifest;
  try {
    m = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
  } catch (e) {
    throw new Error(`${file}: not a readable manifest: ${(e as Error).message}`);
  }
  if (!m || typeof m !== 'object') throw new Error(`${file}: not a manifest object`);
  if (!m.options || typeof m.options !== 'object') throw new Error(`${file}: field 'options' is missing`);
  if (!Array.isArray(m.pairKeys)) throw new Error(`${file}: field 'pairKeys' is missing or not a list`);
  if (!Array.isArray(m.files)) throw new Error(`${file}: field 'files' is missing or not a list`);
  const o = m.options as unknown as Record<string, unknown>;
  const bad = (field: string, what: string) => new Error(`${file}: field 'options.${field}' must be ${what} (got ${JSON.stringify(o[field])})`);
  if (!(EXPORT_FORMATS as readonly unknown[]).includes(o.format)) throw bad('format', EXPORT_FORMATS.join(' | '));
  if (o.order !== undefined && !(CURRICULUM_ORDERS as readonly unknown[]).includes(o.order)) throw bad('order', CURRICULUM_ORDERS.join(' | '));
  if (o.family !== undefined && !(FIM_FAMILIES as readonly unknown[]).includes(o.family)) throw bad('family', FIM_FAMILIES.join(' | '));
  if (o.mode !== undefined && !(PAIR_MODES as readonly unknown[]).includes(o.mode)) throw bad('mode', PAIR_MODES.join(' | '));
  for (const k of ['epochs', 'seed', 'fimSeed'] as const) if (o[k] !== undefined && !(Number.isInteger(o[k]) && (o[k] as number) >= (k === 'epochs' ? 1 : 0))) throw bad(k, 'a non-negative integer');
  if (o.fimRate !== undefined && !(typeof o.fimRate === 'number' && o.fimRate >= 0 && o.fimRate <= 1)) throw bad('fimRate', 'a number between 0 and 1');
  if (m.pairKeys.some((k) => typeof k !== 'string')) throw new Error(`${file}: field 'pairKeys' must hold only strings`);
  return m;
}

/** The same export again, from a manifest: same pairs, same options; compares the files. */
export async function reExport(p: Project, manifestFile: string, outDir: string, hooks: ExportHooks = {}): Promise<ExportSummary> {
  const old = readManifest(manifestFile);
  const summary = await exportPairs(p, outDir, { ...DEFAULT_EXPORT, ...old.options }, old.pairKeys, hooks);
  const differing: string[] = [];
  for (const f of old.files) {
    const now = summary.manifest.files.find((x) => x.name === f.name);
    if (!now || now.sha256 !== f.sha256) differing.push(f.name);
  }
  return { ...summary, reproduced: { identical: differing.length === 0, differing } };
}
