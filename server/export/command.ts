// `pairforge export`: reviewed pairs -> a training file in curriculum order, plus its manifest.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { EXIT_BAD_INPUT, EXIT_OK, PROGRESS_FLAGS, QUIET_HELP, UsageError, choiceOption, dbOf, numberOption, out, parseArgs, progressOf, showHelp, type Args, type Command } from '../cli/kit';
import { openProject } from '../store/db';
import { CURRICULUM_ORDERS, type CurriculumOrder } from './curriculum';
import { DEFAULT_EXPORT, MANIFEST_FILE, exportPairs, reExport, type ExportHooks, type ExportOptions, type ExportSummary } from './export';
import { EXPORT_FORMATS, type ExportFormat } from './records';
import { PAIR_MODES, type PairMode, FIM_FAMILIES, type FimFamily } from '../protocol';

const HELP = `usage: pairforge export --db PROJECT.sqlite --format trl|structurecoder|llamafactory --out DIR [options] [--json]
       pairforge export --db PROJECT.sqlite --from-manifest DIR/${MANIFEST_FILE} --out DIR2 [--json]

Writes the accepted pairs (with --include-pending also the pending ones without filter flags) in
curriculum order, and ${MANIFEST_FILE} beside them: engine version, dataset hashes, endpoints and
models, sampling parameters, seeds, filters, counts and options, and the exported pair keys.
--from-manifest makes the same export again and says whether the files are byte-identical
(exit 1 when they are not, e.g. because a pair was edited since).

  --format F             trl (JSONL: prompt, chosen, rejected, loss spans, metadata)
                         structurecoder (the published training layout)
                         llamafactory (JSON + dataset_info.json; train with template 'empty')
  --include-pending      also export pending pairs that carry no filter flag
  --mode M               only structurecoder or iterpref pairs
  --order O              lines (default: golden middle line count, the published curriculum) |
                         depth | random | none
  --epochs N             each bucket shuffled and repeated N times in a row (default 1;
                         3 with --format structurecoder, as published)
  --seed N               curriculum shuffle seed (default 42)
  --fim-rate R           probability of FIM format per record, trl/llamafactory (default 0.5;
                         whole programs are always chat)
  --fim-seed N           seed of those draws (default 3407)
  --family F             FIM tokens to render with (default qwen2.5-coder)
  --training-sentence    append the published "Read the inputs from stdin..." to each query
  --json                 print the manifest summary as JSON
${QUIET_HELP}`;

export function exportOptionsOf(a: Args): ExportOptions {
  const format = choiceOption<ExportFormat>('export', a, 'format', EXPORT_FORMATS);
  if (!format) throw new UsageError('export: --format trl|structurecoder|llamafactory is required');
  const int = (n: number) => Number.isInteger(n) && n >= 0;
  const epochs = numberOption('export', a, 'epochs', (n) => Number.isInteger(n) && n >= 1, 'a positive integer');
  const mode = choiceOption<PairMode>('export', a, 'mode', PAIR_MODES);
  return {
    ...DEFAULT_EXPORT,
    format,
    includePending: a.flags.has('include-pending'),
    ...(mode ? { mode } : {}),
    order: choiceOption<CurriculumOrder>('export', a, 'order', CURRICULUM_ORDERS) ?? DEFAULT_EXPORT.order,
    epochs: epochs ?? (format === 'structurecoder' ? 3 : DEFAULT_EXPORT.epochs),
    seed: numberOption('export', a, 'seed', int, 'a non-negative integer') ?? DEFAULT_EXPORT.seed,
    fimRate: numberOption('export', a, 'fim-rate', (n) => n >= 0 && n <= 1, 'between 0 and 1') ?? DEFAULT_EXPORT.fimRate,
    fimSeed: numberOption('export', a, 'fim-seed', int, 'a non-negative integer') ?? DEFAULT_EXPORT.fimSeed,
    family: choiceOption<FimFamily>('export', a, 'family', FIM_FAMILIES) ?? DEFAULT_EXPORT.family,
    trainingSentence: a.flags.has('training-sentence'),
  };
}

export function formatExportSummary(s: ExportSummary): string {
  const m = s.manifest;
  const kinds = Object.entries(m.counts.byKind).map(([k, v]) => `${v} ${k}`).join(', ') || 'none';
  const formats = Object.entries(m.counts.byFormat).map(([k, v]) => `${v} ${k}`).join(', ') || 'none';
  const lines = [
    `${m.options.format}: ${m.counts.pairs} pairs (${kinds}) -> ${m.counts.records} records (${formats}) in ${s.dir}`,
    ...m.files.map((f) => `  ${f.name}  ${f.records} records, ${f.bytes} bytes, sha256 ${f.sha256.slice(0, 16)}…`),
    `  ${MANIFEST_FILE}`,
  ];
  const lo = s.leftOut;
  if (lo && lo.total > 0) {
    const why = [
      lo.filtered ? `${lo.filtered} pending pairs carry a filter flag (${Object.entries(lo.flags).map(([f, n]) => `${n} ${f}`).join(', ')})` : '',
      lo.rejected ? `${lo.rejected} rejected in review` : '',
      lo.flaggedInReview ? `${lo.flaggedInReview} flagged in review` : '',
      lo.notReviewed ? `${lo.notReviewed} not reviewed (pass --include-pending for the unflagged ones)` : '',
    ].filter(Boolean);
    lines.push(`  left out: ${lo.total} pairs: ${why.join('; ')}`);
  }
  if (s.reproduced) lines.push(s.reproduced.identical ? 'reproduced: the files are byte-identical to the manifest' : `NOT reproduced: ${s.reproduced.differing.join(', ')} differ from the manifest`);
  return lines.join('\n');
}

async function run(argv: string[]): Promise<number> {
  const a = parseArgs('export', argv, {
    values: ['db', 'format', 'out', 'mode', 'order', 'epochs', 'seed', 'fim-rate', 'fim-seed', 'family', 'from-manifest'],
    flags: ['json', 'include-pending', 'training-sentence', ...PROGRESS_FLAGS],
  });
  if (a.flags.has('help')) return showHelp(HELP);
  const db = dbOf('export', a, true);
  if (a.positionals.length > 0) throw new UsageError(`export: unexpected argument ${a.positionals[0]}`);
  const outDir = a.values.get('out');
  if (!outDir) throw new UsageError('export: --out DIR is required');
  const manifest = a.values.get('from-manifest');
  let opts: ExportOptions | undefined;
  if (manifest) {
    const others = [...a.values.keys()].filter((k) => !['db', 'out', 'from-manifest'].includes(k));
    if (others.length || a.flags.has('include-pending') || a.flags.has('training-sentence')) {
      throw new UsageError(`export: --from-manifest takes every option from the manifest (drop --${others[0] ?? 'include-pending/--training-sentence'})`);
    }
    if (!existsSync(manifest)) throw new UsageError(`export: ${manifest}: no such file`);
    if (path.resolve(path.dirname(manifest)) === path.resolve(outDir)) throw new UsageError('export: --out must differ from the manifest\'s folder (the new files would overwrite the ones compared with)');
  } else {
    opts = exportOptionsOf(a);
    if (opts.format === 'structurecoder' && opts.trainingSentence) {
      throw new UsageError('export: --training-sentence does not apply to --format structurecoder (the published trainer appends it itself)');
    }
  }
  const progress = progressOf(a);
  const hooks: ExportHooks = {
    onProgress: (phase, done, total) => {
      progress.stage(`export (${phase})`, phase === 'reading' ? 'pairs' : 'records');
      progress.update({ done, total });
    },
  };
  const p = openProject(db);
  try {
    const s = manifest ? await reExport(p, manifest, outDir, hooks) : await exportPairs(p, outDir, opts!, undefined, hooks);
    progress.end();
    if (a.flags.has('json')) {
      out(JSON.stringify({ dir: s.dir, counts: s.manifest.counts, files: s.manifest.files, options: s.manifest.options, ...(s.leftOut ? { leftOut: s.leftOut } : {}), ...(s.reproduced ? { reproduced: s.reproduced } : {}) }));
    } else out(formatExportSummary(s));
    return s.reproduced && !s.reproduced.identical ? EXIT_BAD_INPUT : EXIT_OK;
  } finally {
    p.close();
  }
}

export const exportCommand: Command = {
  name: 'export',
  summary: 'export --db P --format F --out DIR    write reviewed pairs for training, with a manifest',
  help: HELP,
  run,
};
