// Pure helpers for the extension's settings: validation and path resolution. No `vscode` import,
// so unit tests can run them.
import os from 'node:os';
import path from 'node:path';
import { EXTRA_KINDS, PRESETS, type BlockKind, type Preset } from '../server/blocks/types';
import { SAMPLING_FAMILIES, type ExecSettings, type SamplingFamily, type SamplingParams } from '../server/protocol';

export const DEFAULT_RUNTIME = 'node';
export const DEFAULT_PROJECT_PATH = '.pairforge/project.sqlite';

export function asPreset(v: unknown): Preset {
  return typeof v === 'string' && (PRESETS as readonly string[]).includes(v) ? (v as Preset) : 'structurecoder';
}

/** Known extra kinds only, each once, in the order given. */
export function asExtraKinds(v: unknown): BlockKind[] {
  if (!Array.isArray(v)) return [];
  const out: BlockKind[] = [];
  for (const k of v) if ((EXTRA_KINDS as readonly unknown[]).includes(k) && !out.includes(k as BlockKind)) out.push(k as BlockKind);
  return out;
}

/** The project file as an absolute path: `~` expands to the home folder, a relative path is taken
 * from the first workspace folder; undefined when relative and no folder is open. */
export function resolveProjectPath(setting: string | undefined, workspaceFolder: string | undefined, home = os.homedir()): string | undefined {
  const p = (setting ?? '').trim() || DEFAULT_PROJECT_PATH;
  if (p === '~' || p.startsWith('~/')) return path.join(home, p.slice(1));
  if (path.isAbsolute(p)) return path.normalize(p);
  return workspaceFolder ? path.join(workspaceFolder, p) : undefined;
}

// ---- execution and sampling settings (pure validation; schema in package.json) ---------------

/** Engine defaults (server/exec/types.ts DEFAULT_LIMITS), as the settings express them. */
export const EXEC_DEFAULTS: ExecSettings = {
  testTimeoutMs: 5000,
  memoryMB: 2048,
  outputKB: 1024,
  comparator: 'strict',
  workers: 0,
  allowUnsandboxed: false,
};

function intIn(v: unknown, min: number, max: number, fallback: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? Math.min(max, Math.max(min, Math.round(v))) : fallback;
}

function numIn(v: unknown, min: number, max: number, fallback: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? Math.min(max, Math.max(min, v)) : fallback;
}

/** `pairforge.exec.*` read through `get(key)`; bad values fall back to the defaults. */
export function asExecSettings(get: (key: string) => unknown): ExecSettings {
  return {
    testTimeoutMs: intIn(get('testTimeoutMs'), 100, 600_000, EXEC_DEFAULTS.testTimeoutMs),
    memoryMB: intIn(get('memoryMB'), 64, 1_048_576, EXEC_DEFAULTS.memoryMB),
    outputKB: intIn(get('outputKB'), 1, 1_048_576, EXEC_DEFAULTS.outputKB),
    comparator: get('comparator') === 'apps' ? 'apps' : 'strict',
    workers: intIn(get('workers'), 0, 256, EXEC_DEFAULTS.workers),
    allowUnsandboxed: get('allowUnsandboxed') === true,
  };
}

export const SAMPLING_DEFAULTS: Omit<SamplingParams, 'customTokens'> = {
  family: 'qwen2.5-coder',
  n: 5,
  temperature: 0.7,
  topP: 0.95,
  maxTokens: 512,
  concurrency: 64,
};

/** `pairforge.sampling.*` (without endpoints) read through `get(key)`. */
export function asSamplingParams(get: (key: string) => unknown): SamplingParams {
  const family = get('family');
  const out: SamplingParams = {
    family: (SAMPLING_FAMILIES as readonly unknown[]).includes(family) ? (family as SamplingFamily) : SAMPLING_DEFAULTS.family,
    n: intIn(get('n'), 1, 1024, SAMPLING_DEFAULTS.n),
    temperature: numIn(get('temperature'), 0, 2, SAMPLING_DEFAULTS.temperature),
    topP: numIn(get('topP'), 0.01, 1, SAMPLING_DEFAULTS.topP),
    maxTokens: intIn(get('maxTokens'), 1, 131_072, SAMPLING_DEFAULTS.maxTokens),
    concurrency: intIn(get('concurrency'), 1, 4096, SAMPLING_DEFAULTS.concurrency),
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

export interface EndpointSetting {
  url: string;
  model: string;
}

/** `pairforge.sampling.endpoints`: entries with an http(s) URL and a model name, trailing `/`
 * and a trailing `/v1` dropped (the client adds the API paths), duplicates removed. Entries that
 * cannot be used are returned in `problems` with the reason, so the user is told, not ignored. */
export function asEndpoints(v: unknown): { endpoints: EndpointSetting[]; problems: string[] } {
  const endpoints: EndpointSetting[] = [];
  const problems: string[] = [];
  if (v === undefined || v === null) return { endpoints, problems };
  if (!Array.isArray(v)) return { endpoints, problems: ['pairforge.sampling.endpoints must be a list of {"url", "model"}'] };
  v.forEach((e, i) => {
    const where = `pairforge.sampling.endpoints[${i}]`;
    if (!e || typeof e !== 'object') return problems.push(`${where}: not an object {"url", "model"}`);
    const { url, model } = e as Record<string, unknown>;
    if (typeof url !== 'string' || !/^https?:\/\/[^/\s]+/i.test(url.trim())) return problems.push(`${where}.url: not an http(s) URL (${JSON.stringify(url)})`);
    if (typeof model !== 'string' || model.trim() === '') return problems.push(`${where}.model: missing (the model name the server serves)`);
    const clean = url.trim().replace(/\/+$/, '').replace(/\/v1$/, '');
    if (endpoints.some((x) => x.url === clean && x.model === model.trim())) return problems.push(`${where}: duplicate of an earlier entry`);
    endpoints.push({ url: clean, model: model.trim() });
    return undefined;
  });
  return { endpoints, problems };
}

/** SecretStorage key of an endpoint's API key (one key per URL, shared by its models). */
export function apiKeySecretName(url: string): string {
  return `pairforge.apiKey:${url}`;
}
