// What every editor feature gets from the server (server/server.ts builds it): the connection, the
// open documents, the project host, the current settings and their changes, and a way to ask the
// client to refresh its code lenses. A feature is a function of this context that registers its
// handlers (server/<stage>/feature.ts), called once by server.ts.
import path from 'node:path';
import type { Connection, InitializeParams, ServerCapabilities } from 'vscode-languageserver/node';
import {
  asExtraKinds,
  asPreset,
  clampSetting,
  inRange,
  SETTINGS,
  type EngineSettings,
  type ExecSettings,
} from '../protocol';
import type { ProjectHost } from '../store/host';
import type { Documents } from './documents';

/** The settings every feature reads, validated (server/protocol/settings.ts). */
export interface Settings {
  dbPath: string;
  preset: EngineSettings['preset'];
  extraKinds: EngineSettings['extraKinds'];
  trusted: boolean;
  exec: Partial<ExecSettings>;
  sampleN: number;
}

export interface Logger {
  info(line: string): void;
  warn(line: string): void;
  error(line: string): void;
}

export interface EngineContext {
  readonly connection: Connection;
  readonly documents: Documents;
  readonly projects: ProjectHost;
  readonly log: Logger;
  /** The settings the client sent last (defaults before the first). */
  settings(): Settings;
  /** Called after every settings change with the settings before it (undefined the first time). */
  onDidChangeSettings(listener: (now: Settings, before: Settings | undefined) => void): void;
  /** Asks the client to re-request code lenses (when it supports workspace/codeLens/refresh). */
  refreshLenses(): void;
  /** Runs during `initialize` (awaited); what it returns is merged into the server's capabilities. */
  onInitialize(listener: (params: InitializeParams) => Promise<ServerCapabilities | void> | ServerCapabilities | void): void;
  /** Runs during `shutdown` (awaited). */
  onShutdown(listener: () => Promise<void> | void): void;
}

/** The settings a ConfigureNotification carries, checked: unknown presets and kinds dropped, a
 * relative project path resolved, numbers brought into their bounds. `warn` names what was
 * replaced. */
export function normalizeSettings(s: Partial<EngineSettings> | undefined, warn: (line: string) => void): Settings {
  const preset = asPreset(s?.preset);
  if (s?.preset !== undefined && preset !== s.preset) warn(`configure: unknown preset ${JSON.stringify(s.preset)}, using ${preset}`);
  const exec: Partial<ExecSettings> = {};
  const e = s?.exec ?? {};
  for (const [key, name] of [
    ['testTimeoutMs', 'exec.testTimeoutMs'],
    ['memoryMB', 'exec.memoryMB'],
    ['outputKB', 'exec.outputKB'],
    ['workers', 'exec.workers'],
  ] as const) {
    if (e[key] !== undefined) exec[key] = clampSetting(name, e[key]);
  }
  if (e.comparator === 'apps' || e.comparator === 'strict') exec.comparator = e.comparator;
  if (e.allowUnsandboxed === true) exec.allowUnsandboxed = true;
  return {
    dbPath: typeof s?.dbPath === 'string' && s.dbPath !== '' ? path.resolve(s.dbPath) : '',
    preset,
    extraKinds: asExtraKinds(s?.extraKinds),
    trusted: s?.trusted === true,
    exec,
    sampleN: inRange('sampling.n', s?.sampleN) ?? SETTINGS['sampling.n'].default,
  };
}
