// What every CLI command shares: argument parsing, exit codes, stdout/stderr helpers, Ctrl-C and
// a progress line. A command is a `Command` in its stage folder, listed in server/cli/commands.ts.
import { existsSync } from 'node:fs';
import { EXTRA_KINDS, inRange, PRESETS, rangeText, type BlockKind, type NumberSetting, type Preset } from '../protocol';

export const EXIT_OK = 0;
export const EXIT_BAD_INPUT = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERRUPTED = 130;

/** One `pairforge <name>` command. */
export interface Command {
  name: string;
  /** Its line in `pairforge --help`: usage, then a short description after two or more spaces. */
  summary: string;
  /** The full text of `pairforge <name> --help`. */
  help: string;
  /** Runs with the arguments after the command name; resolves to the exit status. */
  run(argv: string[]): Promise<number>;
}

/** Prints a command's help and returns EXIT_OK (for `if (a.flags.has('help')) return showHelp(cmd)`). */
export function showHelp(help: string): number {
  out(help);
  return EXIT_OK;
}

export class UsageError extends Error {}

// ---- arguments ----------------------------------------------------------------------------

export interface Spec {
  /** Options that take a value. */
  values: readonly string[];
  /** Boolean flags. */
  flags: readonly string[];
}
export interface Args {
  positionals: string[];
  values: Map<string, string>;
  flags: Set<string>;
}

export function parseArgs(command: string, argv: string[], spec: Spec): Args {
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

/** `--name` as a number that passes `check` (described by `what`), or undefined when absent. */
export function numberOption(command: string, a: Args, name: string, check: (n: number) => boolean, what: string): number | undefined {
  const v = a.values.get(name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || !check(n)) throw new UsageError(`${command}: --${name} must be ${what} (got '${v}')`);
  return n;
}

/** `--name` as an integer >= min, or undefined when absent. */
export function intOption(command: string, a: Args, name: string, min: number): number | undefined {
  return numberOption(command, a, name, (n) => Number.isInteger(n) && n >= min, `an integer >= ${min}`);
}

/** `--name` as a value of the setting `setting`, within its bounds (server/protocol/settings.ts),
 * or undefined when absent: the CLI and the editor accept the same values. */
export function settingOption(command: string, a: Args, name: string, setting: NumberSetting): number | undefined {
  const v = a.values.get(name);
  if (v === undefined) return undefined;
  const n = v.trim() === '' ? Number.NaN : Number(v);
  if (inRange(setting, n) === undefined) throw new UsageError(`${command}: --${name} must be ${rangeText(setting)} (got '${v}')`);
  return n;
}

/** `--name` as one of `allowed`, or undefined when absent. */
export function choiceOption<T extends string>(command: string, a: Args, name: string, allowed: readonly T[]): T | undefined {
  const v = a.values.get(name);
  if (v === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(v)) throw new UsageError(`${command}: --${name} must be one of ${allowed.join(', ')} (got '${v}')`);
  return v as T;
}

export function presetOf(command: string, a: Args): Preset {
  const v = a.values.get('preset') ?? 'structurecoder';
  if (!(PRESETS as readonly string[]).includes(v)) throw new UsageError(`${command}: --preset must be one of ${PRESETS.join(', ')} (got '${v}')`);
  return v as Preset;
}

export function extraKindsOf(command: string, a: Args, preset: Preset): BlockKind[] | undefined {
  const v = a.values.get('extra-kinds');
  if (v === undefined) return undefined;
  if (preset !== 'clean') throw new UsageError(`${command}: --extra-kinds needs --preset clean (structurecoder targets only if/for/while/def)`);
  const kinds = v.split(',').map((s) => s.trim()).filter(Boolean);
  for (const k of kinds) {
    if (!(EXTRA_KINDS as readonly string[]).includes(k)) throw new UsageError(`${command}: unknown kind '${k}' in --extra-kinds (one of ${EXTRA_KINDS.join(', ')})`);
  }
  return kinds as BlockKind[];
}

export function dbOf(command: string, a: Args, mustExist: boolean): string {
  const db = a.values.get('db');
  if (!db) throw new UsageError(`${command}: --db PROJECT.sqlite is required`);
  if (mustExist && !existsSync(db)) throw new UsageError(`${command}: ${db}: no such project file (create it with pairforge import)`);
  return db;
}

export function requireFiles(command: string, files: string[], what: string): void {
  if (files.length === 0) throw new UsageError(`${command}: no ${what} given (see pairforge ${command} --help)`);
  const missing = files.filter((f) => !existsSync(f));
  if (missing.length > 0) throw new UsageError(`${command}: no such file: ${missing.join(', ')}`);
}

// ---- helpers ------------------------------------------------------------------------------

/** "2 datasets, 40 problems, ...": counts in one line for people. */
export function formatCounts(counts: object): string {
  return Object.entries(counts)
    .map(([k, v]) => `${String(v)} ${k}`)
    .join(', ');
}

/** Set once stdout's reader has gone away (EPIPE: `pairforge stats | head`): output is dropped
 * from then on and the command finishes its work, which a closed pipe is no reason to abandon. */
let stdoutGone = false;
export const stdoutClosed = (): boolean => stdoutGone;

/** Called once by the CLI entry (server/cli.ts). */
export function watchStdout(): void {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    stdoutGone = true;
  });
}

export const out = (s: string): void => {
  if (!stdoutGone) process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);
};
export const err = (s: string) => process.stderr.write(s.endsWith('\n') ? s : `${s}\n`);

/** An AbortSignal fired by the first Ctrl-C; a second one quits at once. */
export function interruptSignal(): AbortSignal {
  const controller = new AbortController();
  process.on('SIGINT', () => {
    if (controller.signal.aborted) process.exit(EXIT_INTERRUPTED);
    err('\ninterrupted: finishing the current batch (Ctrl-C again to quit now)');
    controller.abort();
  });
  return controller.signal;
}

/** A one-line progress display on a terminal; nothing when stderr is not a TTY. */
export function progressLine(): { update(s: string): void; done(): void } {
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
