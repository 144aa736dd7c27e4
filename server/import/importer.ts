// Imports dataset files into a project (docs/datasets.md "Dataset formats").
//
// Idempotent and resumable: records are written in transactions of BATCH_SIZE, problems are keyed
// by (dataset, external id) with INSERT ... ON CONFLICT DO NOTHING, and a stored problem is never
// overwritten. So re-importing a file changes nothing, and after a kill mid-import a re-run keeps
// every committed batch and stores the rest without duplicates.
import path from 'node:path';
import type { BadLine, DatasetFormat, FileImportSummary, ImportSummary } from '../protocol';
import type { Project } from '../store/db';
import { detectFormat, FORMAT_FIELDS, parseLine, validateRecord, type NormalisedProblem } from './formats';
import { fileSize, readLines } from './lines';

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

type Pending = { line: number; problem: NormalisedProblem } | { line: number; reason: string };

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

async function importFile(
  p: Project,
  file: string,
  opts: ImportOptions,
  st: ReturnType<typeof statements>,
): Promise<{ summary: FileImportSummary; cancelled: boolean }> {
  const name = opts.dataset ?? datasetNameOf(file);
  const totalBytes = fileSize(file);
  let format = opts.format;
  let datasetId: number | undefined;
  const summary = { file, records: 0, imported: 0, unchanged: 0, bad: [] as BadLine[] };

  const ensureDataset = (f: DatasetFormat): number => {
    st.insertDataset.run(name, path.resolve(file), f, new Date().toISOString());
    const d = st.getDataset.get(name)!;
    if (d.format !== f) {
      throw new ImportError(
        `${file}: dataset '${name}' already holds ${d.format} records and this file is ${f}; import it under another name (--dataset NAME)`,
      );
    }
    return d.id;
  };
  if (format) datasetId = ensureDataset(format);

  const report = (line: number, reason: string) => {
    const b: BadLine = { file, line, reason };
    summary.bad.push(b);
    opts.onBadLine?.(b);
  };

  let pending: Pending[] = [];
  const store = p.db.transaction((batch: Pending[], dsId: number) => {
    for (const item of batch) {
      if ('reason' in item) {
        report(item.line, item.reason);
        continue;
      }
      const pr = item.problem;
      const inserted = st.insertProblem.get(dsId, pr.externalId, pr.question, pr.starterCode, pr.difficulty, pr.url, pr.entryPoint, pr.contentHash, pr.raw);
      let problemId: number;
      let isNew = false;
      if (inserted) {
        problemId = inserted.id;
        isNew = true;
        pr.tests.forEach((t, i) =>
          st.insertTest.run(problemId, i, t.kind, t.input ?? null, t.expected ?? null, t.fnName ?? null, t.code ?? null, t.setup ?? null),
        );
        pr.solutions.forEach((code, i) => st.insertSolution.run(problemId, i, code));
      } else {
        const existing = st.getProblem.get(dsId, pr.externalId)!;
        if (existing.content_hash !== pr.contentHash) {
          report(item.line, `problem ${pr.externalId} already stored with different content; not overwritten`);
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
    if (datasetId === undefined) {
      // Only bad lines so far (no format known yet): nothing to write.
      for (const item of batch) if ('reason' in item) report(item.line, item.reason);
      return;
    }
    store.immediate(batch, datasetId);
  };

  let cancelled = false;
  let lastProgress = 0;
  let lastLine = 0;
  let lastBytes = 0;
  for await (const { line, text, bytes } of readLines(file)) {
    lastLine = line;
    lastBytes = bytes;
    if (opts.signal?.aborted) {
      cancelled = true;
      break;
    }
    if (text.trim() === '') continue;
    summary.records++;
    const parsed = parseLine(text);
    if (!parsed.ok) {
      pending.push({ line, reason: parsed.reason });
    } else {
      if (!format) {
        const detected = detectFormat(parsed.record);
        if (!detected) {
          const keys = Object.keys(parsed.record).slice(0, 12).join(', ') || 'none';
          pending.push({
            line,
            reason: `cannot tell the dataset format from the fields (${keys}); expected ${Object.entries(FORMAT_FIELDS)
              .map(([f, fields]) => `${f}: ${fields}`)
              .join('; ')}; or pass --format`,
          });
          continue;
        }
        format = detected;
        datasetId = ensureDataset(format);
      }
      const v = validateRecord(parsed.record, format);
      pending.push(v.ok ? { line, problem: v.problem } : { line, reason: v.reason });
    }
    const now = Date.now();
    if (pending.length >= BATCH_SIZE) {
      flush();
      // After every committed batch (so a listener sees each commit), else at most every 100 ms.
      lastProgress = now;
      opts.onProgress?.({ file, line, bytes, totalBytes });
      // Lines of a read chunk are consumed through microtasks only; yield a macrotask per batch so
      // the engine server can process a cancel (and hovers) in the middle of a large chunk. (EDITOR)
      await new Promise<void>((resolve) => setImmediate(resolve));
    } else if (opts.onProgress && now - lastProgress >= 100) {
      lastProgress = now;
      opts.onProgress({ file, line, bytes, totalBytes });
    }
  }
  flush();
  opts.onProgress?.({ file, line: lastLine, bytes: cancelled ? lastBytes : totalBytes, totalBytes });
  if (!format || datasetId === undefined) {
    if (summary.records === 0 && !cancelled) throw new ImportError(`${file}: no records (empty file); nothing to import`);
    if (!cancelled) throw new ImportError(`${file}: no line has the fields of a known format; pass --format apps|humaneval|mbpp|history`);
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
