// One place for each setting's default and bounds. The extension reads its settings through these
// (extension/config.ts), the engine checks the values a request carries with them, the jobs and the
// CLI options take their defaults and limits from them, and a test compares package.json's
// `contributes.configuration` with SETTINGS, so the four can no longer disagree.
//
// Two ways to take a value, on purpose:
// - `read*` (settings a person typed): a bad value falls back to the default or is clamped into
//   range, since VS Code already validated the type against the schema and a stale value must not
//   stop the editor;
// - `check*` (values a request or a job receives): a bad value is refused with a message naming the
//   field, since a program sent it and should be told.
import {
  COMPARATORS,
  EXTRA_KINDS,
  FIM_FAMILIES,
  PRESETS,
  SAMPLING_FAMILIES,
  TRAINING_LAUNCHERS,
  type BlockKind,
  type Comparator,
  type FimFamily,
  type Preset,
  type SamplingFamily,
  type TrainingLauncher,
} from './vocabulary';

/** A numeric setting: its default and its closed range. `integer` settings hold whole numbers. */
export interface NumberBounds {
  readonly type: 'integer' | 'number';
  readonly default: number;
  readonly minimum: number;
  readonly maximum: number;
}

const integer = (dflt: number, minimum: number, maximum: number): NumberBounds => ({ type: 'integer', default: dflt, minimum, maximum });
const number = (dflt: number, minimum: number, maximum: number): NumberBounds => ({ type: 'number', default: dflt, minimum, maximum });

/** Every numeric `pairforge.*` setting, keyed by its name without the `pairforge.` prefix. */
export const SETTINGS = {
  'exec.testTimeoutMs': integer(5000, 100, 600_000),
  'exec.memoryMB': integer(2048, 64, 1_048_576),
  'exec.outputKB': integer(1024, 1, 1_048_576),
  'exec.workers': integer(0, 0, 256),
  'sampling.n': integer(5, 1, 1024),
  'sampling.temperature': number(0.7, 0, 2),
  // vLLM requires 0 < top_p <= 1; 0.01 is the smallest value a person would mean.
  'sampling.topP': number(0.95, 0.01, 1),
  'sampling.maxTokens': integer(512, 1, 131_072),
  'sampling.concurrency': integer(64, 1, 4096),
  'sampling.healthIntervalSeconds': integer(60, 0, 86_400),
  // DPO's beta: the published recipes use 0.5 (StructureCoder) and 0.1 (IterPref).
  'scoring.beta': number(0.1, 0.0001, 100),
  // vLLM refuses more prompt log-probabilities than its --max-logprobs (default 20).
  'scoring.topK': integer(0, 0, 20),
  'scoring.concurrency': integer(64, 1, 4096),
  // GPUs per node a launcher starts processes for; 0: every GPU the host has (nvidia-smi -L).
  'training.gpus': integer(0, 0, 1024),
  // ssh's ConnectTimeout for the hand-off's connections.
  'training.connectTimeoutSeconds': integer(15, 1, 600),
} as const satisfies Record<string, NumberBounds>;

export type NumberSetting = keyof typeof SETTINGS;

/** Defaults of the settings that are not numbers. */
export const DEFAULT_RUNTIME = 'node';
export const DEFAULT_PROJECT_PATH = '.pairforge/project.sqlite';
export const DEFAULT_PRESET: Preset = 'structurecoder';
export const DEFAULT_COMPARATOR: Comparator = 'strict';
export const DEFAULT_FAMILY: SamplingFamily = 'qwen2.5-coder';

/** `value` when it is a number in range (whole for integer settings), else undefined. */
export function inRange(name: NumberSetting, value: unknown): number | undefined {
  const b: NumberBounds = SETTINGS[name];
  if (typeof value !== 'number' || !Number.isFinite(value) || value < b.minimum || value > b.maximum) return undefined;
  if (b.type === 'integer' && !Number.isInteger(value)) return undefined;
  return value;
}

/** A typed value brought into range (rounded for integer settings); the default when not a number. */
export function clampSetting(name: NumberSetting, value: unknown): number {
  const b: NumberBounds = SETTINGS[name];
  if (typeof value !== 'number' || !Number.isFinite(value)) return b.default;
  const v = b.type === 'integer' ? Math.round(value) : value;
  return Math.min(b.maximum, Math.max(b.minimum, v));
}

/** The range of a setting in words, for messages: "an integer from 1 to 1024". */
export function rangeText(name: NumberSetting): string {
  const b: NumberBounds = SETTINGS[name];
  return `${b.type === 'integer' ? 'an integer' : 'a number'} from ${b.minimum} to ${b.maximum}`;
}

/** Refuses a value out of range; `field` is how the caller names it (`params.topP`, `--top-p`). */
export function checkSetting(name: NumberSetting, value: unknown, field: string): number {
  const v = inRange(name, value);
  if (v === undefined) throw new Error(`${field}: ${rangeText(name)} expected (got ${JSON.stringify(value) ?? String(value)})`);
  return v;
}

// ---- execution ----------------------------------------------------------------------------------

/** Sandbox limits and choices for running tests (settings `pairforge.exec.*`). */
export interface ExecSettings {
  /** Wall clock per test. */
  testTimeoutMs: number;
  /** Address-space limit of a test process, MiB. */
  memoryMB: number;
  /** stdout / stderr kept per test, KiB; more is `output_limit`. */
  outputKB: number;
  comparator: Comparator;
  /** Warm sandbox workers; 0 = one per core. */
  workers: number;
  /** Run without bubblewrap when it is unavailable (no isolation at all; logged loudly). */
  allowUnsandboxed: boolean;
}

export const EXEC_DEFAULTS: Readonly<ExecSettings> = Object.freeze({
  testTimeoutMs: SETTINGS['exec.testTimeoutMs'].default,
  memoryMB: SETTINGS['exec.memoryMB'].default,
  outputKB: SETTINGS['exec.outputKB'].default,
  comparator: DEFAULT_COMPARATOR,
  workers: SETTINGS['exec.workers'].default,
  allowUnsandboxed: false,
});

export function asComparator(v: unknown): Comparator {
  return (COMPARATORS as readonly unknown[]).includes(v) ? (v as Comparator) : DEFAULT_COMPARATOR;
}

/** `pairforge.exec.*` read through `get(key)` (keys without the `exec.` prefix). */
export function readExecSettings(get: (key: string) => unknown): ExecSettings {
  return {
    testTimeoutMs: clampSetting('exec.testTimeoutMs', get('testTimeoutMs')),
    memoryMB: clampSetting('exec.memoryMB', get('memoryMB')),
    outputKB: clampSetting('exec.outputKB', get('outputKB')),
    comparator: asComparator(get('comparator')),
    workers: clampSetting('exec.workers', get('workers')),
    allowUnsandboxed: get('allowUnsandboxed') === true,
  };
}

// ---- blocks -------------------------------------------------------------------------------------

export function asPreset(v: unknown): Preset {
  return typeof v === 'string' && (PRESETS as readonly string[]).includes(v) ? (v as Preset) : DEFAULT_PRESET;
}

/** Known extra kinds only, each once, in the order given. */
export function asExtraKinds(v: unknown): BlockKind[] {
  if (!Array.isArray(v)) return [];
  const out: BlockKind[] = [];
  for (const k of v) if ((EXTRA_KINDS as readonly unknown[]).includes(k) && !out.includes(k as BlockKind)) out.push(k as BlockKind);
  return out;
}

// ---- sampling -----------------------------------------------------------------------------------

/** Token strings of the `custom` prompt family. */
export interface CustomTokens {
  prefix: string;
  suffix: string;
  middle: string;
  /** Stop strings (at least the model's end-of-text token). */
  stop: string[];
  stopTokenIds?: number[];
}

/** The sampling values a job sends with every request (all explicit: a server fills omitted ones
 * from its own generation config). */
export interface SamplingValues {
  n: number;
  temperature: number;
  topP: number;
  maxTokens: number;
}

/** Sampling settings (`pairforge.sampling.*` without the endpoints). */
export interface SamplingParams extends SamplingValues {
  family: SamplingFamily;
  /** Requests in flight per endpoint. */
  concurrency: number;
  /** `custom` family: FIM token strings. */
  customTokens?: CustomTokens;
}

export const SAMPLING_DEFAULTS: Readonly<Omit<SamplingParams, 'customTokens'>> = Object.freeze({
  family: DEFAULT_FAMILY,
  n: SETTINGS['sampling.n'].default,
  temperature: SETTINGS['sampling.temperature'].default,
  topP: SETTINGS['sampling.topP'].default,
  maxTokens: SETTINGS['sampling.maxTokens'].default,
  concurrency: SETTINGS['sampling.concurrency'].default,
});

export function asFamily(v: unknown): SamplingFamily {
  return (SAMPLING_FAMILIES as readonly unknown[]).includes(v) ? (v as SamplingFamily) : DEFAULT_FAMILY;
}

/** `pairforge.sampling.*` (without endpoints) read through `get(key)` (keys without `sampling.`). */
export function readSamplingParams(get: (key: string) => unknown): SamplingParams {
  const out: SamplingParams = {
    family: asFamily(get('family')),
    n: clampSetting('sampling.n', get('n')),
    temperature: clampSetting('sampling.temperature', get('temperature')),
    topP: clampSetting('sampling.topP', get('topP')),
    maxTokens: clampSetting('sampling.maxTokens', get('maxTokens')),
    concurrency: clampSetting('sampling.concurrency', get('concurrency')),
  };
  const t = get('customTokens');
  if (out.family === 'custom' && t && typeof t === 'object') {
    const o = t as Record<string, unknown>;
    const str = (x: unknown) => (typeof x === 'string' ? x : '');
    out.customTokens = {
      prefix: str(o.prefix),
      suffix: str(o.suffix),
      middle: str(o.middle),
      stop: Array.isArray(o.stop) ? o.stop.filter((x): x is string => typeof x === 'string') : [],
    };
  }
  return out;
}

/** Checks sampling values a request or a job received; the message names the field (`prefix` +
 * the value's name). Absent values take the defaults. */
export function checkSamplingValues(v: Partial<SamplingValues>, prefix = ''): SamplingValues {
  return {
    n: checkSetting('sampling.n', v.n ?? SAMPLING_DEFAULTS.n, `${prefix}n`),
    temperature: checkSetting('sampling.temperature', v.temperature ?? SAMPLING_DEFAULTS.temperature, `${prefix}temperature`),
    topP: checkSetting('sampling.topP', v.topP ?? SAMPLING_DEFAULTS.topP, `${prefix}topP`),
    maxTokens: checkSetting('sampling.maxTokens', v.maxTokens ?? SAMPLING_DEFAULTS.maxTokens, `${prefix}maxTokens`),
  };
}

/** `healthIntervalSeconds`: how often the status bar re-checks the endpoints (0 = only on demand). */
export function readHealthInterval(v: unknown): number {
  return inRange('sampling.healthIntervalSeconds', v) ?? SETTINGS['sampling.healthIntervalSeconds'].default;
}

// ---- scoring ------------------------------------------------------------------------------------

/** The scoring settings of the editor (`pairforge.scoring.*` without the endpoints). */
export interface ScoringParams {
  beta: number;
  topK: number;
  concurrency: number;
}

export function readScoringParams(get: (key: string) => unknown): ScoringParams {
  return {
    beta: clampSetting('scoring.beta', get('beta')),
    topK: clampSetting('scoring.topK', get('topK')),
    concurrency: clampSetting('scoring.concurrency', get('concurrency')),
  };
}

// ---- training -----------------------------------------------------------------------------------

export const DEFAULT_TRAINING_REMOTE_DIR = '~/pairforge-runs';
/** The venv `pairforge train --prepare` makes on a host (docs/training.md "Environment"). */
export const DEFAULT_TRAINING_PYTHON = '~/.pairforge/venv/bin/python';
export const DEFAULT_TRAINING_BASE_PYTHON = 'python3';
export const DEFAULT_TRAINING_LAUNCHER: TrainingLauncher = 'python';

/** Where and how a run is sent (settings `pairforge.training.*`, `pairforge train` options). */
export interface TrainingSettings {
  /** An ssh destination: a Host alias of the ssh config, or [user@]host. */
  host: string;
  /** The folder on the host that holds the run folders (`~/` is the remote home). */
  remoteDir: string;
  launcher: TrainingLauncher;
  /** `custom`: the command, with {python} {trainer} {run} {run_name} {gpus} {tiny} {accelerate_config}. */
  customLauncher: string;
  /** The Python of the trainer's venv on the host. */
  python: string;
  /** The Python `--prepare` makes that venv with. */
  basePython: string;
  /** An ssh config file (`ssh -F`); '' = the user's own (~/.ssh/config). */
  sshConfig: string;
  /** Extra `ssh -o` options, `Key=Value`. */
  sshOptions: string[];
  /** config.json's `model` (a model id or a folder on the host); '' with `tiny`. */
  model: string;
  /** Train the tiny random model instead (a first try of a host). */
  tiny: boolean;
  /** More config.json keys (docs/training.md "config.json"). */
  config: Record<string, unknown>;
  /** accelerate's config file on the host (`accelerate` launcher; '' = accelerate's default). */
  accelerateConfig: string;
  /** Shell lines run on the host before the launcher (e.g. `module load cuda/12.4`). */
  setup: string;
  gpus: number;
  connectTimeoutSeconds: number;
  /** Also send the pending pairs that carry no filter flag. */
  includePending: boolean;
  /** The trained model's family: the FIM tokens its pairs are rendered with, for training and
   * for the editor's Score Pairs alike (what is scored is what is trained). */
  family: FimFamily;
}

export const TRAINING_DEFAULTS: Readonly<TrainingSettings> = Object.freeze({
  host: '',
  remoteDir: DEFAULT_TRAINING_REMOTE_DIR,
  launcher: DEFAULT_TRAINING_LAUNCHER,
  customLauncher: '',
  python: DEFAULT_TRAINING_PYTHON,
  basePython: DEFAULT_TRAINING_BASE_PYTHON,
  sshConfig: '',
  sshOptions: [],
  model: '',
  tiny: false,
  config: {},
  accelerateConfig: '',
  setup: '',
  gpus: SETTINGS['training.gpus'].default,
  connectTimeoutSeconds: SETTINGS['training.connectTimeoutSeconds'].default,
  includePending: false,
  family: 'qwen2.5-coder',
});

export function asFimFamily(v: unknown): FimFamily {
  return (FIM_FAMILIES as readonly unknown[]).includes(v) ? (v as FimFamily) : TRAINING_DEFAULTS.family;
}

export function asLauncher(v: unknown): TrainingLauncher {
  return (TRAINING_LAUNCHERS as readonly unknown[]).includes(v) ? (v as TrainingLauncher) : DEFAULT_TRAINING_LAUNCHER;
}

/** `pairforge.training.*` read through `get(key)` (keys without the `training.` prefix). */
export function readTrainingSettings(get: (key: string) => unknown): TrainingSettings {
  const str = (key: keyof TrainingSettings, dflt: string) => {
    const v = get(key);
    return typeof v === 'string' && v.trim() !== '' ? v.trim() : dflt;
  };
  const options = get('sshOptions');
  const config = get('config');
  return {
    host: str('host', ''),
    remoteDir: str('remoteDir', DEFAULT_TRAINING_REMOTE_DIR),
    launcher: asLauncher(get('launcher')),
    customLauncher: str('customLauncher', ''),
    python: str('python', DEFAULT_TRAINING_PYTHON),
    basePython: str('basePython', DEFAULT_TRAINING_BASE_PYTHON),
    sshConfig: str('sshConfig', ''),
    sshOptions: Array.isArray(options) ? options.filter((o): o is string => typeof o === 'string' && o.trim() !== '') : [],
    model: str('model', ''),
    tiny: get('tiny') === true,
    config: config && typeof config === 'object' && !Array.isArray(config) ? (config as Record<string, unknown>) : {},
    accelerateConfig: str('accelerateConfig', ''),
    // Shell lines keep their own spacing.
    setup: typeof get('setup') === 'string' ? (get('setup') as string) : '',
    gpus: clampSetting('training.gpus', get('gpus')),
    connectTimeoutSeconds: clampSetting('training.connectTimeoutSeconds', get('connectTimeoutSeconds')),
    includePending: get('includePending') === true,
    family: asFimFamily(get('family')),
  };
}
