// `pairforge run`: import -> check-refs -> targets -> sample -> exec -> pairs -> export in one
// command, resumable at every stage (run it again after a kill or Ctrl-C).
import path from 'node:path';
import { EXIT_INTERRUPTED, EXIT_OK, PROGRESS_FLAGS, QUIET_HELP, UsageError, choiceOption, intOption, interruptSignal, out, parseArgs, presetOf, progressOf, requireFiles, settingOption, showHelp, type Command } from '../cli/kit';
import { EXPORT_FORMATS, type ExportFormat } from '../export/records';
import { runPipeline, STAGES, type PipelineSummary, type StageName } from './run';
import { realStages } from './stages';
import { COMPARATORS, FIM_FAMILIES, SAMPLING_DEFAULTS, type Comparator, type FimFamily } from '../protocol';

const HELP = `usage: pairforge run --db PROJECT.sqlite [--dataset FILE[,FILE...]] [FILE...] [--endpoint URL|local] [options] [--json]

Runs the whole pipeline: import -> check-refs -> targets -> sample -> exec -> pairs -> export.
Every stage skips what the project already holds, so the same command resumes after a kill or
Ctrl-C and a finished run re-run changes nothing. Progress goes to stderr, a summary to stdout.

  --dataset FILE,...     dataset files to import first (also as positional arguments); without
                         any, the project's stored problems are used
  --endpoint URL|local   a vLLM-compatible server (root or /v1 URL); required unless the sample
                         stage is skipped. 'local': start the built-in local stand-in server (not
                         a model: for demos and tests) on a free port, learning from the project
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

export function formatPipelineSummary(s: PipelineSummary): string {
  const lines = [`${s.db}${s.endpoint ? ` · ${s.endpoint} · ${s.model}` : ''}`];
  for (const st of s.stages) {
    const brief = Object.entries(st.summary)
      .filter(([, v]) => typeof v === 'number' || typeof v === 'string')
      .slice(0, 8)
      .map(([k, v]) => `${k} ${String(v)}`)
      .join(', ');
    lines.push(`  ${st.stage.padEnd(10)} ${st.status.padEnd(11)} ${String(st.seconds).padStart(7)} s  ${brief}`);
  }
  for (const [mode, b] of Object.entries(s.pairs)) {
    if (!b) continue;
    const flags = Object.entries(b.flags).map(([k, v]) => `${v} ${k}`);
    lines.push(`  pairs (${mode}): ${b.pairs} from ${b.paired}/${b.sources} ${mode === 'iterpref' ? 'histories' : 'targets'}${flags.length ? `; flags: ${flags.join(', ')}` : ''}; tokens ${b.tokens.method}`);
  }
  if (s.export) {
    const kinds = Object.entries(s.export.counts.byKind).map(([k, v]) => `${v} ${k}`).join(', ') || 'no pairs';
    lines.push(`  export: ${s.export.counts.records} records (${kinds}) -> ${s.export.dir}`);
  }
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
  const endpoint = a.values.get('endpoint');
  // Never sample from the stand-in by default: a real run without an endpoint must not quietly
  // get its samples from a model that is not one.
  if (endpoint === undefined && !skip.has('sample')) {
    throw new UsageError("run: --endpoint URL is required for the sample stage (or --endpoint local for the built-in local stand-in server, which is not a model: for demos and tests; or --skip sample)");
  }
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
