// Imports dataset files into a project (docs/datasets.md "Dataset formats").
//
// Idempotent and resumable: records are written in transactions of BATCH_SIZE, problems are keyed
// by (dataset, external id) with INSERT ... ON CONFLICT DO NOTHING, and a stored problem is never
// overwritten. So re-importing a file changes nothing, and after a kill mid-import a re-run keeps
// every committed batch and stores the rest without duplicates.
import { statSync } from 'node:fs';
import path from 'node:path';
import type { BadLine, DatasetFormat, FileImportSummary, ImportSummary } from '../protocol';
import type { Project } from '../store/db';
import { detectFormat, FORMAT_FIELDS, parseLine, SETUP_AS_BEFORE, validateRecord, type NormalisedProblem } from './formats';
import { fileOfField, folderLayout, isProblemFolder, readProblemFolder } from './appsFolder';
import { ArraySplitter } from './jsonScan';
import { fileSize, readChunks, readLines, ReadBrokenError } from './lines';

export const BATCH_SIZE = 500;

export interface ImportProgress {
  file: string;
  line: number;
  bytes: number;
  totalBytes: number;
}

export interface ImportOptions {
  format?: DatasetFormat;
  /** Dataset name for every file (default: each file's base name without .jsonl / .json / .gz). */
  dataset?: string;
  signal?: AbortSignal;
  onProgress?: (e: ImportProgress) => void;
  onBadLine?: (b: BadLine) => void;
}

/** A problem with the whole import (not one line): unreadable file, dataset of another format. */
export class ImportError extends Error {}

/** `train.jsonl.gz` -> `train`. */
export function datasetNameOf(file: string): string {
  let base = path.basename(file);
  for (const ext of ['.gz', '.jsonl', '.json']) if (base.toLowerCase().endsWith(ext)) base = base.slice(0, -ext.length);
  return base || path.basename(file);
}

/** A record ready to store, or what is wrong with it; `file` is what a message names (the file,
 * or for a folder of problems the problem's folder or file). */
type Pending = { file: string; line: number; problem: NormalisedProblem } | { file: string; line: number; reason: string };

function statements(p: Project) {
  const { db } = p;
  return {
    insertDataset: db.prepare(
      `INSERT INTO datasets (name, source_file, format, imported_at) VALUES (?, ?, ?, ?) ON CONFLICT (name) DO NOTHING`,
    ),
    getDataset: db.prepare<[string], { id: number; format: DatasetFormat }>(`SELECT id, format FROM datasets WHERE name = ?`),
    insertProblem: db.prepare<unknown[], { id: number }>(
      `INSERT INTO problems (dataset_id, external_id, question, starter_code, difficulty, url, entry_point, content_hash, raw)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dataset_id, external_id) DO NOTHING RETURNING id`,
    ),
    getProblem: db.prepare<[number, string], { id: number; content_hash: string }>(
      `SELECT id, content_hash FROM problems WHERE dataset_id = ? AND external_id = ?`,
    ),
    insertTest: db.prepare(
      `INSERT INTO tests (problem_id, ordinal, kind, input, expected, fn_name, code, setup) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT DO NOTHING`,
    ),
    insertSolution: db.prepare(`INSERT INTO solutions (problem_id, ordinal, code) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`),
    insertHistory: db.prepare<[number, number, string, string], { id: number }>(
      `INSERT INTO histories (problem_id, ordinal, content_hash, raw)
       VALUES (?, (SELECT COALESCE(MAX(ordinal) + 1, 0) FROM histories WHERE problem_id = ?), ?, ?)
       ON CONFLICT DO NOTHING RETURNING id`,
    ),
    insertVersion: db.prepare(`INSERT INTO history_versions (history_id, ordinal, code) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`),
  };
}

/** One item of a dataset source, in order. */
type SourceItem =
  /** A record's JSON text: a line (JSON Lines) or an element (JSON array). */
  | { kind: 'text'; line: number; text: string; bytes: number }
  /** A record already read (an APPS problem folder): `dir` names it in messages. */
  | { kind: 'record'; line: number; record: Record<string, string | number>; dir: string; bytes: number }
  /** Something wrong that is not a record (the file, the array), or a folder problem unreadable. */
  | { kind: 'bad'; file: string; line: number; reason: string; bytes: number }
  | { kind: 'blank'; line: number; bytes: number };

interface Source {
  /** A record is a "line" in messages of JSON Lines, a "record" in those of a JSON array. */
  shape: 'lines' | 'array' | 'folder';
  totalBytes: number;
  items: AsyncGenerator<SourceItem>;
}

/** The first non-blank character of the (decompressed) text, or '' (an empty or unreadable file). */
async function firstChar(file: string): Promise<string> {
  try {
    for await (const c of readChunks(file)) {
      const m = /\S/.exec(c.text);
      if (m) return c.text[m.index];
    }
  } catch {
    // an unreadable start shows up again when the file is read for real
  }
  return '';
}

/** How a read error ends a source: one bad item saying where the file broke. */
function brokenItem(e: ReadBrokenError, complete: number, bytes: number): SourceItem {
  const what = e.gzip ? `the compressed file is cut short or damaged (${e.reason})` : `the file cannot be read any further (${e.reason})`;
  return { kind: 'bad', file: e.file, line: e.line, reason: `${what}: the ${complete} complete records before this point were read, nothing after it`, bytes };
}

async function* lineItems(file: string): AsyncGenerator<SourceItem> {
  let complete = 0;
  let bytes = 0;
  try {
    for await (const l of readLines(file)) {
      bytes = l.bytes;
      if (l.text.trim() === '') {
        yield { kind: 'blank', line: l.line, bytes: l.bytes };
        continue;
      }
      complete++;
      yield { kind: 'text', line: l.line, text: l.text, bytes: l.bytes };
    }
  } catch (e) {
    if (!(e instanceof ReadBrokenError)) throw e;
    yield brokenItem(e, complete, bytes);
  }
}

async function* arrayItems(file: string): AsyncGenerator<SourceItem> {
  const splitter = new ArraySplitter();
  let reported = 0;
  let bytes = 0;
  const problems = function* (): Generator<SourceItem> {
    for (; reported < splitter.problems.length; reported++) {
      const pr = splitter.problems[reported];
      yield { kind: 'bad', file, line: pr.line, reason: pr.reason, bytes };
    }
  };
  try {
    for await (const c of readChunks(file)) {
      bytes = c.bytes;
      for (const r of splitter.push(c.text)) yield { kind: 'text', line: r.line, text: r.text, bytes };
      yield* problems();
    }
  } catch (e) {
    if (!(e instanceof ReadBrokenError)) throw e;
    yield brokenItem(e, splitter.records, bytes);
    return;
  }
  splitter.end();
  yield* problems();
}

async function* folderItems(dirs: string[]): AsyncGenerator<SourceItem> {
  for (let i = 0; i < dirs.length; i++) {
    const r = readProblemFolder(dirs[i]);
    yield r.ok ? { kind: 'record', line: i + 1, record: r.record, dir: dirs[i], bytes: i + 1 } : { kind: 'bad', file: r.file, line: r.line, reason: r.reason, bytes: i + 1 };
  }
}

/** The records of a dataset file or folder: JSON Lines, one JSON array (both gzip-compressed or
 * not, recognised by content), or a folder of APPS problem folders. */
async function openSource(file: string): Promise<Source> {
  if (statSync(file).isDirectory()) {
    const layout = folderLayout(file);
    if (layout.kind === 'none') {
      const subs = layout.subfolders;
      throw new ImportError(
        `${file}: a folder, but no APPS problem folder (one holding question.txt, solutions.json or input_output.json)` +
          (subs.length > 0 ? `; it holds ${subs.slice(0, 5).join(', ')}${subs.length > 5 ? ', ...' : ''}: import the folders of problems themselves (e.g. ${path.join(file, subs[0])})` : ''),
      );
    }
    const dirs = layout.kind === 'problem' ? [layout.dir] : layout.dirs;
    return { shape: 'folder', totalBytes: dirs.length, items: folderItems(dirs) };
  }
  const totalBytes = fileSize(file);
  if ((await firstChar(file)) === '[') return { shape: 'array', totalBytes, items: arrayItems(file) };
  return { shape: 'lines', totalBytes, items: lineItems(file) };
}

async function importFile(
  p: Project,
  file: string,
  opts: ImportOptions,
  st: ReturnType<typeof statements>,
): Promise<{ summary: FileImportSummary; cancelled: boolean }> {
  const source = await openSource(file);
  const folder = source.shape === 'folder';
  // A single problem folder (APPS/train/0042) belongs to its split's dataset.
  const name = opts.dataset ?? (folder && isProblemFolder(file) ? datasetNameOf(path.dirname(path.resolve(file))) : datasetNameOf(file));
  const { totalBytes } = source;
  let format = opts.format;
  if (folder && format !== undefined && format !== 'apps') throw new ImportError(`${file}: a folder of APPS problems is read as apps, not ${format}`);
  if (folder) format = 'apps';
  let datasetId: number | undefined;
  const summary = { file, records: 0, imported: 0, unchanged: 0, bad: [] as BadLine[] };

  /** The stored dataset of this name, if any; it must hold this format. Nothing is created here:
   * the dataset row is written with the first problem stored (so a failed import leaves none). */
  const checkDataset = (f: DatasetFormat): void => {
    const d = st.getDataset.get(name);
    if (d && d.format !== f) {
      throw new ImportError(
        `${file}: dataset '${name}' already holds ${d.format} records and this file is ${f}; import it under another name (--dataset NAME)`,
      );
    }
    datasetId = d?.id;
  };
  if (format) checkDataset(format);

  const report = (where: string, line: number, reason: string) => {
    const b: BadLine = { file: where, line, reason };
    summary.bad.push(b);
    opts.onBadLine?.(b);
  };

  let pending: Pending[] = [];
  const store = p.db.transaction((batch: Pending[]) => {
    for (const item of batch) {
      if ('reason' in item) {
        report(item.file, item.line, item.reason);
        continue;
      }
      if (datasetId === undefined) {
        st.insertDataset.run(name, path.resolve(file), format, new Date().toISOString());
        datasetId = st.getDataset.get(name)!.id;
      }
      const dsId = datasetId;
      const pr = item.problem;
      const inserted = st.insertProblem.get(dsId, pr.externalId, pr.question, pr.starterCode, pr.difficulty, pr.url, pr.entryPoint, pr.contentHash, pr.raw);
      let problemId: number;
      let isNew = false;
      if (inserted) {
        problemId = inserted.id;
        isNew = true;
        pr.tests.forEach((t, i) => {
          const setup = t.setup !== undefined && i > 0 && pr.tests[i - 1].setup === t.setup ? SETUP_AS_BEFORE : (t.setup ?? null);
          st.insertTest.run(problemId, i, t.kind, t.input ?? null, t.expected ?? null, t.fnName ?? null, t.code ?? null, setup);
        });
        pr.solutions.forEach((code, i) => st.insertSolution.run(problemId, i, code));
      } else {
        const existing = st.getProblem.get(dsId, pr.externalId)!;
        if (existing.content_hash !== pr.contentHash) {
          report(item.file, item.line, `problem ${pr.externalId} already stored with different content; not overwritten`);
          continue;
        }
        problemId = existing.id;
      }
      if (pr.history) {
        const h = st.insertHistory.get(problemId, problemId, pr.history.contentHash, pr.history.raw);
        if (h) {
          isNew = true;
          pr.history.versions.forEach((code, i) => st.insertVersion.run(h.id, i, code));
        }
      }
      if (isNew) summary.imported++;
      else summary.unchanged++;
    }
  });
  const flush = () => {
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    // Only bad records: nothing to write.
    if (batch.every((item) => 'reason' in item)) for (const item of batch) report(item.file, item.line, (item as { reason: string }).reason);
    else store.immediate(batch);
  };

  const what = source.shape === 'array' ? 'record' : 'line';
  let cancelled = false;
  let lastProgress = 0;
  let lastLine = 0;
  let lastBytes = 0;
  for await (const item of source.items) {
    lastLine = item.line;
    lastBytes = item.bytes;
    if (opts.signal?.aborted) {
      cancelled = true;
      break;
    }
    if (item.kind === 'blank') continue;
    if (item.kind === 'bad') {
      pending.push({ file: item.file, line: item.line, reason: item.reason });
    } else {
      summary.records++;
      const where = item.kind === 'record' ? item.dir : file;
      const parsed = item.kind === 'record' ? { ok: true as const, record: item.record as Parameters<typeof detectFormat>[0] } : parseLine(item.text, what);
      if (!parsed.ok) {
        pending.push({ file: where, line: item.line, reason: parsed.reason });
      } else {
        if (!format) {
          const detected = detectFormat(parsed.record);
          if (!detected) {
            const keys = Object.keys(parsed.record).slice(0, 12).join(', ') || 'none';
            pending.push({
              file: where,
              line: item.line,
              reason: `cannot tell the dataset format from the fields (${keys}); expected ${Object.entries(FORMAT_FIELDS)
                .map(([f, fields]) => `${f}: ${fields}`)
                .join('; ')}; or pass --format`,
            });
            continue;
          }
          format = detected;
          checkDataset(format);
        }
        const v = validateRecord(parsed.record, format, item.kind === 'text' ? item.text : undefined);
        if (v.ok) pending.push({ file: where, line: item.line, problem: v.problem });
        else if (item.kind === 'record') pending.push({ file: fileOfField(item.dir, v.reason), line: 1, reason: v.reason });
        else pending.push({ file: where, line: item.line, reason: v.reason });
      }
    }
    const now = Date.now();
    if (pending.length >= BATCH_SIZE) {
      flush();
      // After every committed batch (so a listener sees each commit), else at most every 100 ms.
      lastProgress = now;
      opts.onProgress?.({ file, line: item.line, bytes: item.bytes, totalBytes });
      // Lines of a read chunk are consumed through microtasks only; yield a macrotask per batch so
      // the engine server can process a cancel (and hovers) in the middle of a large chunk. (EDITOR)
      await new Promise<void>((resolve) => setImmediate(resolve));
    } else if (opts.onProgress && now - lastProgress >= 100) {
      lastProgress = now;
      opts.onProgress({ file, line: item.line, bytes: item.bytes, totalBytes });
    }
  }
  flush();
  opts.onProgress?.({ file, line: lastLine, bytes: cancelled ? lastBytes : totalBytes, totalBytes });
  if (!format) {
    if (summary.records === 0 && summary.bad.length === 0 && !cancelled) throw new ImportError(`${file}: no records (empty file); nothing to import`);
    if (summary.records > 0 && !cancelled) throw new ImportError(`${file}: no ${what} has the fields of a known format; pass --format apps|humaneval|mbpp|history`);
  }
  return {
    summary: { ...summary, format: format ?? 'apps', datasetId: datasetId ?? -1 },
    cancelled,
  };
}

/** Imports each file in order; stops between batches when `signal` aborts (what was committed stays). */
export async function importFiles(p: Project, files: string[], opts: ImportOptions = {}): Promise<ImportSummary> {
  const st = statements(p);
  const out: ImportSummary = { files: [], cancelled: false };
  for (const file of files) {
    if (opts.signal?.aborted) {
      out.cancelled = true;
      break;
    }
    try {
      fileSize(file);
    } catch (e) {
      throw new ImportError(`${file}: cannot read: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
    }
    const { summary, cancelled } = await importFile(p, file, opts, st);
    out.files.push(summary);
    if (cancelled) {
      out.cancelled = true;
      break;
    }
  }
  return out;
}
