// Pure helpers for the extension's settings: validation and path resolution. No `vscode` import,
// so unit tests can run them.
import os from 'node:os';
import path from 'node:path';
import { EXTRA_KINDS, PRESETS, type BlockKind, type Preset } from '../server/blocks/types';

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
