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

// ---- progress -----------------------------------------------------------------------------

/** Every long command takes --quiet (no progress lines; errors and the summary still print). */
export const PROGRESS_FLAGS = ['quiet'] as const;
export const QUIET_HELP = '  --quiet               no progress lines on stderr (errors and the summary still print)';

/** Where a stage stands. */
export interface ProgressUpdate {
  done: number;
  /** Unknown totals show no percentage and no ETA. */
  total?: number;
  /** Items that failed so far (shown when > 0). */
  errors?: number;
  /** A few words more (the file being read, requests in flight). */
  note?: string;
}

export interface ProgressLineInput extends ProgressUpdate {
  stage: string;
  unit: string;
  /** Since `startDone` was reported. */
  elapsedMs: number;
  /** `done` at the stage's first report: work a resumed run had already stored does not count in the rate. */
  startDone: number;
  /** How a count is written (bytes as MB, ...); default thousands separators. */
  format?: (n: number) => string;
}

/** 45s, 3m12s, 1h04m. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

const count = (n: number) => n.toLocaleString('en-US');

/** Items per second made by this run, and the time the rest would take at that rate. */
export function rateAndEta(p: Pick<ProgressLineInput, 'done' | 'total' | 'elapsedMs' | 'startDone'>): { rate: number; etaMs: number | undefined } {
  const made = p.done - p.startDone;
  const rate = p.elapsedMs > 0 ? (made * 1000) / p.elapsedMs : 0;
  const left = p.total !== undefined ? Math.max(0, p.total - p.done) : undefined;
  const etaMs = left === undefined ? undefined : left === 0 ? 0 : rate > 0 ? (left / rate) * 1000 : undefined;
  return { rate, etaMs };
}

const ANSI = { bold: '\x1b[1m', dim: '\x1b[2m', red: '\x1b[31m', cyan: '\x1b[36m', reset: '\x1b[0m' };

/** One progress line: `stage [#####.....] 1,234/5,000 units 24% · 310/s · ETA 12s · 2 errors · note`.
 * `bar`: draw the bar (a terminal); `color`: ANSI colours (a terminal without NO_COLOR). Pure. */
export function formatProgressLine(p: ProgressLineInput, o: { bar: boolean; color: boolean; width?: number }): string {
  const fmt = p.format ?? count;
  const paint = (code: string, t: string) => (o.color ? `${code}${t}${ANSI.reset}` : t);
  const parts: string[] = [];
  const pct = p.total !== undefined && p.total > 0 ? Math.min(100, Math.floor((100 * p.done) / p.total)) : p.total === 0 ? 100 : undefined;
  let head = paint(ANSI.bold + ANSI.cyan, p.stage);
  if (o.bar && pct !== undefined) {
    const w = 20;
    const fill = Math.round((w * pct) / 100);
    head += ` [${'#'.repeat(fill)}${'.'.repeat(w - fill)}]`;
  }
  parts.push(`${head} ${fmt(p.done)}${p.total !== undefined ? `/${fmt(p.total)}` : ''} ${p.unit}${pct !== undefined ? ` ${pct}%` : ''}`);
  const { rate, etaMs } = rateAndEta(p);
  const rateText = p.format ? p.format(rate) : rate >= 100 ? Math.round(rate).toLocaleString('en-US') : rate.toFixed(1);
  if (p.elapsedMs >= 1000 || p.done > p.startDone) parts.push(`${rateText} ${p.unit}/s`);
  if (etaMs !== undefined && p.done < (p.total ?? 0)) parts.push(`ETA ${formatDuration(etaMs)}`);
  else if (p.total !== undefined && p.done < p.total && p.elapsedMs >= 1000) parts.push('ETA ?');
  if (p.errors) parts.push(paint(ANSI.red, `${count(p.errors)} error${p.errors === 1 ? '' : 's'}`));
  if (p.note) parts.push(paint(ANSI.dim, p.note));
  const line = parts.join(' · ');
  // A terminal line longer than the screen would wrap and could not be redrawn in place.
  if (o.width !== undefined && o.width > 10 && visibleLength(line) > o.width - 1) return truncateVisible(line, o.width - 1, o.color);
  return line;
}

/** An ANSI colour sequence (ESC [ ... m), which takes no room on the screen. */
// eslint-disable-next-line no-control-regex -- the escape character is what is matched
const ANSI_SEQUENCE = /^\x1b\[[0-9;]*m/;

function visibleLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; ) {
    const m = ANSI_SEQUENCE.exec(s.slice(i));
    if (m) i += m[0].length;
    else {
      i++;
      n++;
    }
  }
  return n;
}

function truncateVisible(s: string, max: number, color: boolean): string {
  let out = '';
  let n = 0;
  for (let i = 0; i < s.length && n < max - 1; ) {
    const m = ANSI_SEQUENCE.exec(s.slice(i));
    if (m) {
      out += m[0];
      i += m[0].length;
      continue;
    }
    out += s[i++];
    n++;
  }
  return `${out}…${color ? ANSI.reset : ''}`;
}

export interface ProgressSink {
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  /** Default process.stderr. */
  stream?: ProgressSink;
  quiet?: boolean;
  /** Default: the environment's NO_COLOR (https://no-color.org: set and not empty = no colour). */
  noColor?: boolean;
  /** On a terminal the line is redrawn at most this often (ms). */
  redrawMs?: number;
  /** Without a terminal, a plain line at most this often (ms), and one when a stage ends. */
  plainEveryMs?: number;
  now?: () => number;
}

/**
 * The progress of a long command on stderr, one stage at a time: on a terminal one live line
 * redrawn in place (done / total, rate, ETA, errors so far); without one (a log file, CI) a plain
 * line every few seconds and one when a stage ends; nothing with --quiet. Lines the command logs
 * meanwhile go above the live line.
 */
export class ProgressReporter {
  private readonly stream: ProgressSink;
  private readonly tty: boolean;
  private readonly color: boolean;
  private readonly quiet: boolean;
  private readonly redrawMs: number;
  private readonly plainEveryMs: number;
  private readonly now: () => number;
  private current:
    | {
        stage: string;
        unit: string;
        started: number;
        /** The first update: the rate counts from it (what a resumed run had stored is not its work). */
        startDone: number | undefined;
        firstAt: number;
        last: ProgressUpdate;
        format?: (n: number) => string;
        shownAt: number;
        printed: boolean;
      }
    | undefined;
  private shown = false;

  constructor(o: ProgressOptions = {}) {
    this.stream = o.stream ?? process.stderr;
    this.tty = this.stream.isTTY === true;
    const noColor = o.noColor ?? (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '');
    this.color = this.tty && !noColor;
    this.quiet = o.quiet === true;
    this.redrawMs = o.redrawMs ?? 100;
    this.plainEveryMs = o.plainEveryMs ?? 5_000;
    this.now = o.now ?? (() => performance.now());
  }

  /** Starts counting `unit`s of stage `name` (ending the one before). */
  stage(name: string, unit: string, format?: (n: number) => string): void {
    if (this.current?.stage === name && this.current.unit === unit) return;
    this.end();
    const now = this.now();
    // A terminal shows the line at once; a log gets its first line after a while (a stage that
    // ends sooner leaves no line there: the command's summary says what it did).
    this.current = { stage: name, unit, started: now, startDone: undefined, firstAt: now, last: { done: 0 }, ...(format ? { format } : {}), shownAt: this.tty ? -Infinity : now, printed: false };
  }

  update(u: ProgressUpdate): void {
    const c = this.current;
    if (!c) return;
    if (c.startDone === undefined) {
      c.startDone = u.done;
      c.firstAt = this.now();
    }
    c.last = u;
    if (this.quiet) return;
    const t = this.now();
    const finished = u.total !== undefined && u.done >= u.total;
    if (t - c.shownAt < (this.tty ? this.redrawMs : this.plainEveryMs) && !(this.tty && finished)) return;
    c.shownAt = t;
    this.draw();
  }

  /** A line of its own (a warning, an endpoint going down), kept above the live line. */
  log(line: string): void {
    if (this.tty && this.shown) this.stream.write('\r\x1b[2K');
    this.stream.write(line.endsWith('\n') ? line : `${line}\n`);
    if (this.tty && this.shown) this.draw();
  }

  /** Ends the current stage: a terminal's live line goes; without a terminal a last line says
   * where the stage got to. */
  end(): void {
    const c = this.current;
    if (!c) return;
    if (!this.quiet) {
      if (this.tty) {
        if (this.shown) this.stream.write('\r\x1b[2K');
      } else if (c.printed) this.stream.write(`${this.text(false)} · ${formatDuration(this.now() - c.started)}\n`);
    }
    this.shown = false;
    this.current = undefined;
  }

  private text(bar: boolean): string {
    const c = this.current!;
    return formatProgressLine(
      { ...c.last, stage: c.stage, unit: c.unit, elapsedMs: this.now() - c.firstAt, startDone: c.startDone ?? c.last.done, ...(c.format ? { format: c.format } : {}) },
      { bar, color: this.color, ...(this.tty && this.stream.columns ? { width: this.stream.columns } : {}) },
    );
  }

  private draw(): void {
    this.current!.printed = true;
    if (this.tty) {
      this.stream.write(`\r\x1b[2K${this.text(true)}`);
      this.shown = true;
    } else this.stream.write(`${this.text(false)}\n`);
  }
}

/** The progress reporter of a command run with arguments `a` (--quiet). */
export function progressOf(a: Args): ProgressReporter {
  return new ProgressReporter({ quiet: a.flags.has('quiet') });
}
