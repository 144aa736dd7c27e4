// `pairforge import`: dataset files into a project.
import path from 'node:path';
import { EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_OK, PROGRESS_FLAGS, QUIET_HELP, UsageError, dbOf, formatCounts, interruptSignal, out, parseArgs, progressOf, requireFiles, showHelp, type Command } from '../cli/kit';
import { DATASET_FORMATS, type DatasetFormat } from '../protocol';
import { importCounts } from './browse';
import { openProject } from '../store/db';
import { importFiles } from './importer';

const HELP = `usage: pairforge import FILE... --db PROJECT.sqlite [--format F] [--dataset NAME] [--json]

Imports JSONL dataset files (gzip-compressed too) into the project, creating it if needed.
Each file becomes a dataset named after the file (train.jsonl.gz -> train) unless --dataset is given.
Re-importing a file changes nothing; an interrupted import can be re-run to finish it.

  --db PROJECT.sqlite   project file (created if missing)
  --format F            apps | humaneval | mbpp | history (default: detected from the fields)
  --dataset NAME        store every file's records in this dataset
  --json                print the summary as JSON
${QUIET_HELP}

Bad lines are reported on stderr as FILE:LINE: reason and skipped; the good lines are imported.
Exit status: 0 ok, 1 if any line was bad, 2 usage or fatal error, 130 interrupted.`;

/** Bytes as MB with one decimal (the unit the import's progress counts in). */
const megabytes = (n: number) => (n / 1e6).toFixed(1);

async function run(argv: string[]): Promise<number> {
  const a = parseArgs('import', argv, { values: ['db', 'format', 'dataset'], flags: ['json', ...PROGRESS_FLAGS] });
  if (a.flags.has('help')) return showHelp(HELP);
  const db = dbOf('import', a, false);
  const format = a.values.get('format');
  if (format !== undefined && !(DATASET_FORMATS as readonly string[]).includes(format)) {
    throw new UsageError(`import: --format must be one of ${DATASET_FORMATS.join(', ')} (got '${format}')`);
  }
  requireFiles('import', a.positionals, 'dataset files');
  const signal = interruptSignal();
  const progress = progressOf(a);
  let badSoFar = 0;
  const p = openProject(db);
  try {
    const summary = await importFiles(p, a.positionals, {
      ...(format ? { format: format as DatasetFormat } : {}),
      ...(a.values.has('dataset') ? { dataset: a.values.get('dataset')! } : {}),
      signal,
      onProgress: (e) => {
        progress.stage(`import ${path.basename(e.file)}`, 'MB', megabytes);
        progress.update({ done: e.bytes, total: e.totalBytes, errors: badSoFar, note: `line ${e.line.toLocaleString('en-US')}` });
      },
      onBadLine: (b) => {
        badSoFar++;
        progress.log(`${b.file}:${b.line}: ${b.reason}`);
      },
    });
    progress.end();
    const bad = summary.files.reduce((n, f) => n + f.bad.length, 0);
    if (a.flags.has('json')) out(JSON.stringify(summary));
    else {
      for (const f of summary.files) {
        out(`${f.file}: ${f.format}, ${f.records} records: ${f.imported} imported, ${f.unchanged} unchanged, ${f.bad.length} bad`);
      }
      if (summary.cancelled) out('interrupted: batches already written are kept; run the same command again to finish');
      out(`project ${p.file}: ${formatCounts(importCounts(p))}`);
    }
    if (summary.cancelled) return EXIT_INTERRUPTED;
    return bad > 0 ? EXIT_BAD_INPUT : EXIT_OK;
  } finally {
    p.close();
  }
}

export const importCommand: Command = {
  name: 'import',
  summary: 'import FILE... --db PROJECT.sqlite    import APPS / HumanEval / MBPP / history JSONL (.gz too)',
  help: HELP,
  run,
};
