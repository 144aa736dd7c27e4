// `pairforge run`: import -> check-refs -> targets -> sample -> exec -> pairs -> export in one
// command, resumable at every stage (run it again after a kill or Ctrl-C).
import path from 'node:path';
import { EXIT_INTERRUPTED, EXIT_OK, PROGRESS_FLAGS, QUIET_HELP, UsageError, choiceOption, intOption, interruptSignal, out, parseArgs, presetOf, progressOf, requireFiles, settingOption, showHelp, type Command } from '../cli/kit';
import { EXPORT_FORMATS, type ExportFormat } from '../export/records';
import { describeTokens } from '../pairs/command';
import { describeFlags, describeNoPair } from '../pairs/explain';
import { DEFAULT_FILTER_LIMITS } from '../pairs/filters';
import { EndpointRequiredError, runPipeline, STAGES, type PipelineSummary, type StageName } from './run';
import { realStages } from './stages';
import { COMPARATORS, FIM_FAMILIES, SAMPLING_DEFAULTS, type Comparator, type FimFamily } from '../protocol';

const HELP = `usage: pairforge run --db PROJECT.sqlite [--dataset FILE[,FILE...]] [FILE...] [--endpoint URL|local] [options] [--json]

Runs the whole pipeline: import -> check-refs -> targets -> sample -> exec -> pairs -> export.
Every stage skips what the project already holds, so the same command resumes after a kill or
Ctrl-C and a finished run re-run changes nothing. Progress goes to stderr, a summary to stdout.

  --dataset FILE,...     dataset files to import first (also as positional arguments); without
                         any, the project's stored problems are used
  --endpoint URL|local   a vLLM-compatible server (root or /v1 URL); required when the project
                         holds reference solutions to sample (not for iteration histories only,
                         nor with --skip sample). 'local': start the built-in local stand-in
                         server (not a model: for demos and tests) on a free port
  --model NAME           model to sample (default: the server's first)
  --family F             prompt family (default qwen2.5-coder): ${FIM_FAMILIES.join(', ')}
  --n N                  samples per target (default 5)
  --seed N               sampling seed and IterPref pick seed
  --preset P             structurecoder (default) | clean
  --whole-programs       also cut one whole-program target per reference solution (sampled with
                         the chat prompt, paired as kind 'full'); see \`pairforge targets --help\`
  --comparator C         strict (default) | apps
  --workers N            sandbox workers (default one per core)
  --allow-unsandboxed    where bubblewrap cannot be used, run candidates without isolation
                         instead of refusing (logged loudly)
  --format F             export format: trl (default) | structurecoder | llamafactory
  --out DIR              export folder (default: <project>-export-<format> beside the project)
  --accepted-only        export only accepted pairs (default here: also unflagged pending ones,
                         since a fresh run has reviewed nothing)
  --skip S,...           leave stages out: ${STAGES.join(', ')}
  --json                 print the summary as JSON
${QUIET_HELP}`;

/** `<project name>-export-<format>/` beside the project, so two projects in one folder do not
 * write over each other's export. */
export function defaultOut(db: string, format: ExportFormat): string {
  const abs = path.resolve(db);
  return path.join(path.dirname(abs), `${path.basename(abs).replace(/\.(sqlite3?|db)$/i, '')}-export-${format}`);
}

/** "114 chat format, 123 FIM format" from the export's per-format counts. */
function formatsInWords(byFormat: Record<string, number>): string {
  const name = (f: string) => (f === 'fim' ? 'FIM format' : f === 'chat' ? 'chat format' : f === 'trainer' ? 'published trainer format' : `${f} format`);
  return Object.entries(byFormat).map(([f, n]) => `${n} ${name(f)}`).join(', ') || 'none';
}

export function formatPipelineSummary(s: PipelineSummary): string {
  const lines = [`${s.db}${s.endpoint ? ` · ${s.endpoint} · ${s.model}` : ''}`];
  for (const st of s.stages) {
    const brief =
      st.note ??
      Object.entries(st.summary)
        .filter(([, v]) => typeof v === 'number' || typeof v === 'string')
        .slice(0, 8)
        .map(([k, v]) => `${k} ${String(v)}`)
        .join(', ');
    lines.push(`  ${st.stage.padEnd(10)} ${st.status.padEnd(11)} ${String(st.seconds).padStart(7)} s  ${brief}`);
  }
  for (const [mode, b] of Object.entries(s.pairs)) {
    // (structurecoder pairing of a project with nothing sampled says nothing)
    if (!b || (b.sources === 0 && b.pairs === 0)) continue;
    const what = mode === 'iterpref' ? 'histories' : 'sampled targets';
    lines.push(`  pairs (${mode}): ${b.pairs} pairs from ${b.paired} of ${b.sources} ${what}`);
    if (b.sources > b.paired) lines.push(`    no pair from ${b.sources - b.paired}: ${describeNoPair(b.skipped)}`);
    if (b.unexecuted || b.flaky) lines.push(`    left out of pairing: ${b.unexecuted} candidates without a verdict, ${b.flaky} flaky`);
    const flags = describeFlags({ ...b.flags }, b.limits.maxTokens);
    if (flags) lines.push(`    flags: ${flags}`);
    lines.push(`    tokens: ${describeTokens(b)}`);
  }
  // (each pairing mode recounts duplicates over the whole project: the last count is current)
  const builds = Object.values(s.pairs).filter((b): b is NonNullable<typeof b> => b !== undefined);
  const dups = builds.at(-1)?.duplicates ?? 0;
  if (dups > 0) lines.push(`  duplicates: ${dups} pairs are the same as an older pair (flag duplicate; over the whole project)`);
  if (s.export) {
    const c = s.export.counts;
    const kinds = Object.entries(c.byKind).map(([k, v]) => `${v} ${k}`).join(', ') || 'no pairs';
    const epochs = c.pairs > 0 && c.records !== c.pairs ? ` (${c.pairs} pairs x ${c.records / c.pairs} epochs)` : '';
    lines.push(`  export: ${c.records} records${epochs}: ${formatsInWords(c.byFormat)}; pairs by kind: ${kinds} -> ${s.export.dir}`);
    const lo = s.export.leftOut;
    if (lo && lo.total > 0) {
      const why = [
        lo.filtered ? `${lo.filtered} carry a filter flag (${describeFlags(lo.flags, builds[0]?.limits.maxTokens ?? DEFAULT_FILTER_LIMITS.maxTokens)})` : '',
        lo.rejected ? `${lo.rejected} rejected in review` : '',
        lo.flaggedInReview ? `${lo.flaggedInReview} flagged in review` : '',
        lo.notReviewed ? `${lo.notReviewed} not reviewed (only accepted pairs exported)` : '',
      ].filter(Boolean);
      lines.push(`    left out: ${lo.total} of the project's pairs: ${why.join('; ')}`);
    }
  }
  for (const w of s.warnings) lines.push(`  warning: ${w}`);
  if (s.cancelled) lines.push('interrupted: run the same command again to continue');
  return lines.join('\n');
}

/** Bytes as MB with one decimal (the import stage counts bytes read). */
const megabytes = (n: number) => (n / 1e6).toFixed(1);

async function run(argv: string[]): Promise<number> {
  const a = parseArgs('run', argv, {
    values: ['db', 'dataset', 'endpoint', 'model', 'family', 'n', 'seed', 'preset', 'comparator', 'workers', 'format', 'out', 'skip'],
    flags: ['json', 'allow-unsandboxed', 'accepted-only', 'whole-programs', ...PROGRESS_FLAGS],
  });
  if (a.flags.has('help')) return showHelp(HELP);
  const db = a.values.get('db');
  if (!db) throw new UsageError('run: --db PROJECT.sqlite is required');
  const datasets = [...(a.values.get('dataset')?.split(',').filter(Boolean) ?? []), ...a.positionals];
  if (datasets.length > 0) requireFiles('run', datasets, 'dataset files');
  const skip = new Set<StageName>();
  for (const s of a.values.get('skip')?.split(',').map((x) => x.trim()).filter(Boolean) ?? []) {
    if (!(STAGES as readonly string[]).includes(s)) throw new UsageError(`run: --skip: unknown stage '${s}' (one of ${STAGES.join(', ')})`);
    skip.add(s as StageName);
  }
  const format = choiceOption<ExportFormat>('run', a, 'format', EXPORT_FORMATS) ?? 'trl';
  const seed = intOption('run', a, 'seed', 0);
  const workers = intOption('run', a, 'workers', 1);
  // Never sample from the stand-in by default: a run without an endpoint that has targets to
  // sample stops with a usage error after the import (runPipeline); one over iteration histories
  // only needs none.
  const endpoint = a.values.get('endpoint');
  const model = a.values.get('model');
  const signal = interruptSignal();
  const progress = progressOf(a);
  const stages = realStages();
  try {
    const s = await runPipeline(
      {
        db,
        datasets,
        ...(endpoint ? { endpoint } : {}),
        ...(model ? { model } : {}),
        family: choiceOption<FimFamily>('run', a, 'family', FIM_FAMILIES) ?? 'qwen2.5-coder',
        n: settingOption('run', a, 'n', 'sampling.n') ?? SAMPLING_DEFAULTS.n,
        ...(seed !== undefined ? { seed } : {}),
        preset: presetOf('run', a),
        wholePrograms: a.flags.has('whole-programs'),
        comparator: choiceOption<Comparator>('run', a, 'comparator', COMPARATORS) ?? 'strict',
        ...(workers !== undefined ? { workers } : {}),
        allowUnsandboxed: a.flags.has('allow-unsandboxed'),
        format,
        out: a.values.get('out') ?? defaultOut(db, format),
        includePending: !a.flags.has('accepted-only'),
        skip,
        signal,
        log: (line) => progress.log(line),
        progress: (u) => {
          if (!u) return progress.end();
          progress.stage(u.stage, u.unit, u.unit === 'MB' ? megabytes : undefined);
          progress.update(u);
        },
      },
      stages,
    );
    progress.end();
    out(a.flags.has('json') ? JSON.stringify(s) : formatPipelineSummary(s));
    return s.cancelled ? EXIT_INTERRUPTED : EXIT_OK;
  } catch (e) {
    if (e instanceof EndpointRequiredError) throw new UsageError(`run: ${e.message}`);
    throw e;
  } finally {
    await stages.close();
  }
}

export const runCommand: Command = {
  name: 'run',
  summary: 'run --db P [--dataset F ...]          the whole pipeline, import to export (resumable)',
  help: HELP,
  run,
};
