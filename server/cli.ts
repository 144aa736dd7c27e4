// The headless CLI over the engine: `pairforge import | blocks | targets | stats` (README "CLI").
//
// Exit status: 0 ok, 1 some input was bad (bad dataset lines, Python files that do not parse),
// 2 usage or fatal error (unknown option, missing file, unreadable project), 130 interrupted.
// Machine output goes to stdout; progress, bad lines and errors to stderr.
import { existsSync, readFileSync } from 'node:fs';
import { cutTargets } from './blocks/cut';
import { loadPython } from './blocks/parser';
import { EXTRA_KINDS, PRESETS, type BlockKind, type Preset } from './blocks/types';
import { importFiles, ImportError } from './import/importer';
import { DATASET_FORMATS, type DatasetFormat } from './protocol';
import { cutStats, projectStats } from './store/browse';
import { openProject } from './store/db';
import { cutAllTargets } from './targets/cutAll';

const EXIT_OK = 0;
const EXIT_BAD_INPUT = 1;
const EXIT_USAGE = 2;
const EXIT_INTERRUPTED = 130;

class UsageError extends Error {}

// ---- arguments ----------------------------------------------------------------------------

interface Spec {
  /** Options that take a value. */
  values: readonly string[];
  /** Boolean flags. */
  flags: readonly string[];
}
interface Args {
  positionals: string[];
  values: Map<string, string>;
  flags: Set<string>;
}

function parseArgs(command: string, argv: string[], spec: Spec): Args {
  const out: Args = { positionals: [], values: new Map(), flags: new Set() };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      out.positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('--') || a === '-') {
      if (a.startsWith('-') && a !== '-' && a !== '-h') throw new UsageError(`${command}: unknown option ${a}`);
      if (a === '-h') out.flags.add('help');
      else out.positionals.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq < 0 ? undefined : eq);
    if (name === 'help') {
      out.flags.add('help');
    } else if (spec.flags.includes(name)) {
      if (eq >= 0) throw new UsageError(`${command}: --${name} takes no value`);
      out.flags.add(name);
    } else if (spec.values.includes(name)) {
      const v = eq >= 0 ? a.slice(eq + 1) : argv[++i];
      if (v === undefined || v === '') throw new UsageError(`${command}: --${name} needs a value`);
      out.values.set(name, v);
    } else {
      throw new UsageError(`${command}: unknown option --${name} (see pairforge ${command} --help)`);
    }
  }
  return out;
}

function presetOf(command: string, a: Args): Preset {
  const v = a.values.get('preset') ?? 'structurecoder';
  if (!(PRESETS as readonly string[]).includes(v)) throw new UsageError(`${command}: --preset must be one of ${PRESETS.join(', ')} (got '${v}')`);
  return v as Preset;
}

function extraKindsOf(command: string, a: Args, preset: Preset): BlockKind[] | undefined {
  const v = a.values.get('extra-kinds');
  if (v === undefined) return undefined;
  if (preset !== 'clean') throw new UsageError(`${command}: --extra-kinds needs --preset clean (structurecoder targets only if/for/while/def)`);
  const kinds = v.split(',').map((s) => s.trim()).filter(Boolean);
  for (const k of kinds) {
    if (!(EXTRA_KINDS as readonly string[]).includes(k)) throw new UsageError(`${command}: unknown kind '${k}' in --extra-kinds (one of ${EXTRA_KINDS.join(', ')})`);
  }
  return kinds as BlockKind[];
}

function dbOf(command: string, a: Args, mustExist: boolean): string {
  const db = a.values.get('db');
  if (!db) throw new UsageError(`${command}: --db PROJECT.sqlite is required`);
  if (mustExist && !existsSync(db)) throw new UsageError(`${command}: ${db}: no such project file (create it with pairforge import)`);
  return db;
}

function requireFiles(command: string, files: string[], what: string): void {
  if (files.length === 0) throw new UsageError(`${command}: no ${what} given (see pairforge ${command} --help)`);
  const missing = files.filter((f) => !existsSync(f));
  if (missing.length > 0) throw new UsageError(`${command}: no such file: ${missing.join(', ')}`);
}

// ---- helpers ------------------------------------------------------------------------------

const out = (s: string) => process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);
const err = (s: string) => process.stderr.write(s.endsWith('\n') ? s : `${s}\n`);

/** An AbortSignal fired by the first Ctrl-C; a second one quits at once. */
function interruptSignal(): AbortSignal {
  const controller = new AbortController();
  process.on('SIGINT', () => {
    if (controller.signal.aborted) process.exit(EXIT_INTERRUPTED);
    err('\ninterrupted: finishing the current batch (Ctrl-C again to quit now)');
    controller.abort();
  });
  return controller.signal;
}

/** A one-line progress display on a terminal; nothing when stderr is not a TTY. */
function progressLine(): { update(s: string): void; done(): void } {
  if (!process.stderr.isTTY) return { update: () => undefined, done: () => undefined };
  let shown = false;
  return {
    update(s) {
      process.stderr.write(`\r\x1b[2K${s}`);
      shown = true;
    },
    done() {
      if (shown) process.stderr.write('\r\x1b[2K');
      shown = false;
    },
  };
}

// ---- commands -----------------------------------------------------------------------------

const HELP: Record<string, string> = {
  main: `pairforge — build and inspect code preference pairs (StructureCoder, IterPref)

usage: pairforge <command> [options]

commands:
  import FILE... --db PROJECT.sqlite    import APPS / HumanEval / MBPP / history JSONL (.gz too)
  blocks FILE.py... [--preset P]        print the target blocks of Python files
  targets --db PROJECT.sqlite           cut every stored reference solution into FIM targets
  stats --db PROJECT.sqlite             counts of what a project holds

Run 'pairforge <command> --help' for a command's options.
Exit status: 0 ok, 1 some input was bad, 2 usage or fatal error, 130 interrupted.`,
  import: `usage: pairforge import FILE... --db PROJECT.sqlite [--format F] [--dataset NAME] [--json]

Imports JSONL dataset files (gzip-compressed too) into the project, creating it if needed.
Each file becomes a dataset named after the file (train.jsonl.gz -> train) unless --dataset is given.
Re-importing a file changes nothing; an interrupted import can be re-run to finish it.

  --db PROJECT.sqlite   project file (created if missing)
  --format F            apps | humaneval | mbpp | history (default: detected from the fields)
  --dataset NAME        store every file's records in this dataset
  --json                print the summary as JSON

Bad lines are reported on stderr as FILE:LINE: reason and skipped; the good lines are imported.
Exit status: 0 ok, 1 if any line was bad, 2 usage or fatal error, 130 interrupted.`,
  blocks: `usage: pairforge blocks FILE.py... [--preset structurecoder|clean] [--extra-kinds K,...] [--jsonl|--json]

Prints the fill-in-the-middle target blocks of Python files, files in argument order, blocks in
source order. Lines are 1-based and inclusive, in the code that was cut (for structurecoder the
comment-stripped, stripped code, exactly as the published pipeline cuts it).

  --preset P            structurecoder (default) | clean
  --extra-kinds K,...   clean only: also async_def, with, try, class
  --jsonl               one JSON object per block:
                        {"file","type","depth","start_line","end_line","pre","mid","suf"}
  --json                one JSON array of those objects

A file that does not parse is reported on stderr; the others are still processed (exit 1).`,
  targets: `usage: pairforge targets --db PROJECT.sqlite [--preset structurecoder|clean] [--extra-kinds K,...] [--black] [--json]

Cuts every stored reference solution into FIM targets and stores them. Solutions already cut
under the same options are skipped, so an interrupted run can simply be re-run.
Solutions over 2048 whitespace-separated words are skipped; ones that do not parse are recorded.

  --preset P            structurecoder (default) | clean
  --extra-kinds K,...   clean only: also async_def, with, try, class
  --black               format each solution with Black first (needs \`black\` on PATH)
  --json                print the counts as JSON`,
  stats: `usage: pairforge stats --db PROJECT.sqlite [--json]

Prints how many datasets, problems, tests, solutions, histories, versions and targets the project
holds, and per preset how the cut solutions fared.`,
};

async function cmdImport(argv: string[]): Promise<number> {
  const a = parseArgs('import', argv, { values: ['db', 'format', 'dataset'], flags: ['json'] });
  if (a.flags.has('help')) return help('import');
  const db = dbOf('import', a, false);
  const format = a.values.get('format');
  if (format !== undefined && !(DATASET_FORMATS as readonly string[]).includes(format)) {
    throw new UsageError(`import: --format must be one of ${DATASET_FORMATS.join(', ')} (got '${format}')`);
  }
  requireFiles('import', a.positionals, 'dataset files');
  const signal = interruptSignal();
  const progress = progressLine();
  const p = openProject(db);
  try {
    const summary = await importFiles(p, a.positionals, {
      ...(format ? { format: format as DatasetFormat } : {}),
      ...(a.values.has('dataset') ? { dataset: a.values.get('dataset')! } : {}),
      signal,
      onProgress: (e) => {
        const pct = e.totalBytes > 0 ? Math.floor((100 * e.bytes) / e.totalBytes) : 100;
        progress.update(`importing ${e.file}: line ${e.line} (${pct}%)`);
      },
      onBadLine: (b) => {
        progress.done();
        err(`${b.file}:${b.line}: ${b.reason}`);
      },
    });
    progress.done();
    const bad = summary.files.reduce((n, f) => n + f.bad.length, 0);
    if (a.flags.has('json')) out(JSON.stringify(summary));
    else {
      for (const f of summary.files) {
        out(`${f.file}: ${f.format}, ${f.records} records: ${f.imported} imported, ${f.unchanged} unchanged, ${f.bad.length} bad`);
      }
      if (summary.cancelled) out('interrupted: batches already written are kept; run the same command again to finish');
      out(`project ${p.file}: ${formatStats(projectStats(p))}`);
    }
    if (summary.cancelled) return EXIT_INTERRUPTED;
    return bad > 0 ? EXIT_BAD_INPUT : EXIT_OK;
  } finally {
    p.close();
  }
}

interface BlockLine {
  file: string;
  type: string;
  depth: number;
  start_line: number;
  end_line: number;
  pre: string;
  mid: string;
  suf: string;
}

async function cmdBlocks(argv: string[]): Promise<number> {
  const a = parseArgs('blocks', argv, { values: ['preset', 'extra-kinds'], flags: ['jsonl', 'json'] });
  if (a.flags.has('help')) return help('blocks');
  const preset = presetOf('blocks', a);
  const extraKinds = extraKindsOf('blocks', a, preset);
  if (a.flags.has('json') && a.flags.has('jsonl')) throw new UsageError('blocks: give --jsonl or --json, not both');
  requireFiles('blocks', a.positionals, 'Python files');
  const grammar = await loadPython();
  let status = EXIT_OK;
  const all: BlockLine[] = [];
  for (const file of a.positionals) {
    let source: string;
    try {
      source = readFileSync(file, 'utf8');
    } catch (e) {
      err(`${file}: cannot read: ${(e as Error).message}`);
      status = EXIT_BAD_INPUT;
      continue;
    }
    const r = cutTargets(grammar, source, { preset, ...(extraKinds ? { extraKinds } : {}) });
    if (r.error !== undefined) {
      err(`${file}: does not parse: ${r.error}`);
      status = EXIT_BAD_INPUT;
      continue;
    }
    // structurecoder emits post-order (inner blocks first); print in source order, outer first.
    const targets = [...r.targets].sort((x, y) => x.startLine - y.startLine || y.endLine - x.endLine);
    for (const t of targets) {
      const line: BlockLine = { file, type: t.kind, depth: t.depth, start_line: t.startLine + 1, end_line: t.endLine + 1, pre: t.pre, mid: t.mid, suf: t.suf };
      if (a.flags.has('jsonl')) out(JSON.stringify(line));
      else if (a.flags.has('json')) all.push(line);
      else out(`${file}:${line.start_line}-${line.end_line}: ${t.kind} depth ${t.depth}`);
    }
  }
  if (a.flags.has('json')) out(JSON.stringify(all));
  return status;
}

async function cmdTargets(argv: string[]): Promise<number> {
  const a = parseArgs('targets', argv, { values: ['db', 'preset', 'extra-kinds'], flags: ['black', 'json'] });
  if (a.flags.has('help')) return help('targets');
  const db = dbOf('targets', a, true);
  const preset = presetOf('targets', a);
  const extraKinds = extraKindsOf('targets', a, preset);
  if (a.positionals.length > 0) throw new UsageError(`targets: unexpected argument ${a.positionals[0]}`);
  const signal = interruptSignal();
  const progress = progressLine();
  const grammar = await loadPython();
  const p = openProject(db);
  try {
    const s = await cutAllTargets(p, grammar, {
      preset,
      ...(extraKinds ? { extraKinds } : {}),
      black: a.flags.has('black'),
      signal,
      onProgress: (done, total) => progress.update(`cutting: ${done}/${total} solutions`),
    });
    progress.done();
    if (a.flags.has('json')) out(JSON.stringify(s));
    else {
      out(
        `${s.preset}: ${s.cut} solutions cut (${s.alreadyCut} already cut before, ${s.solutions} in the project): ` +
          `${s.ok} ok, ${s.unparsed} do not parse, ${s.tooLong} over 2048 words, ${s.formatFailed} Black failed; ${s.targets} targets stored`,
      );
      if (s.cancelled) out('interrupted: solutions already cut are kept; run the same command again to finish');
    }
    return s.cancelled ? EXIT_INTERRUPTED : EXIT_OK;
  } finally {
    p.close();
  }
}

function formatStats(s: ReturnType<typeof projectStats>): string {
  return Object.entries(s)
    .map(([k, v]) => `${v} ${k}`)
    .join(', ');
}

async function cmdStats(argv: string[]): Promise<number> {
  const a = parseArgs('stats', argv, { values: ['db'], flags: ['json'] });
  if (a.flags.has('help')) return help('stats');
  const db = dbOf('stats', a, true);
  if (a.positionals.length > 0) throw new UsageError(`stats: unexpected argument ${a.positionals[0]}`);
  const p = openProject(db);
  try {
    const stats = projectStats(p);
    const cuts = cutStats(p);
    if (a.flags.has('json')) out(JSON.stringify({ ...stats, cuts }));
    else {
      out(`${p.file}`);
      for (const [k, v] of Object.entries(stats)) out(`  ${k.padEnd(10)} ${v}`);
      for (const c of cuts) {
        out(`  targets under ${c.preset}: ${c.targets} from ${c.solutions} solutions (${c.ok} ok, ${c.unparsed} do not parse, ${c.tooLong} too long, ${c.formatFailed} Black failed)`);
      }
    }
    return EXIT_OK;
  } finally {
    p.close();
  }
}

function help(command: string): number {
  out(HELP[command]);
  return EXIT_OK;
}

const COMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  import: cmdImport,
  blocks: cmdBlocks,
  targets: cmdTargets,
  stats: cmdStats,
};

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    if (command === 'help' && rest[0] && HELP[rest[0]]) return help(rest[0]);
    out(HELP.main);
    return command === undefined ? EXIT_USAGE : EXIT_OK;
  }
  const run = COMMANDS[command];
  if (!run) {
    err(`pairforge: unknown command '${command}' (one of ${Object.keys(COMMANDS).join(', ')}; see pairforge --help)`);
    return EXIT_USAGE;
  }
  try {
    return await run(rest);
  } catch (e) {
    if (e instanceof UsageError) err(`pairforge ${e.message}`);
    else if (e instanceof ImportError) err(`pairforge import: ${e.message}`);
    else err(`pairforge ${command}: ${(e as Error).message}`);
    return EXIT_USAGE;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    err(`pairforge: ${(e as Error).stack ?? String(e)}`);
    process.exitCode = EXIT_USAGE;
  },
);
