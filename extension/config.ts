// Typed getters for every `pairforge.*` setting (the schema is in package.json `contributes`).
import * as vscode from 'vscode';
import type { BlockKind, EngineSettings, ExecSettings, Preset, SamplingParams } from '../server/protocol';
import {
  asEndpoints,
  asExecSettings,
  asExtraKinds,
  asPreset,
  asSamplingParams,
  DEFAULT_RUNTIME,
  resolveProjectPath,
  type EndpointSetting,
} from './settingsValues';

export const SECTION = 'pairforge';

function section(): vscode.WorkspaceConfiguration {
  return vscode.workspace.getConfiguration(SECTION);
}

function firstFolder(): string | undefined {
  const f = vscode.workspace.workspaceFolders?.[0];
  return f && f.uri.scheme === 'file' ? f.uri.fsPath : undefined;
}

export const config = {
  /** `pairforge.server.runtime`: the Node executable that runs the engine server. */
  runtime(): string {
    return section().get<string>('server.runtime', DEFAULT_RUNTIME).trim() || DEFAULT_RUNTIME;
  },
  /** `pairforge.project.path` as written. */
  projectPathSetting(): string {
    return section().get<string>('project.path', '');
  },
  /** `pairforge.project.path` resolved to an absolute path (undefined: relative, no folder open). */
  projectPath(): string | undefined {
    return resolveProjectPath(this.projectPathSetting(), firstFolder());
  },
  preset(): Preset {
    return asPreset(section().get('blocks.preset'));
  },
  extraKinds(): BlockKind[] {
    return asExtraKinds(section().get('blocks.extraKinds'));
  },
  highlight(): boolean {
    return section().get<boolean>('blocks.highlight', true) !== false;
  },
  traceServer(): 'off' | 'messages' | 'verbose' {
    const v = section().get<string>('trace.server', 'off');
    return v === 'messages' || v === 'verbose' ? v : 'off';
  },
  /** `pairforge.exec.*`: sandbox limits and the comparator for Run Tests and sampled candidates. */
  exec(): ExecSettings {
    const s = vscode.workspace.getConfiguration(`${SECTION}.exec`);
    return asExecSettings((k) => s.get(k));
  },
  /** `pairforge.sampling.*` except the endpoints. */
  sampling(): SamplingParams {
    const s = vscode.workspace.getConfiguration(`${SECTION}.sampling`);
    return asSamplingParams((k) => s.get(k));
  },
  /** `pairforge.sampling.endpoints`, validated; `problems` lists the entries that were dropped. */
  endpoints(): { endpoints: EndpointSetting[]; problems: string[] } {
    return asEndpoints(section().get('sampling.endpoints'));
  },
  /** `pairforge.sampling.healthIntervalSeconds`: how often the status bar re-checks (0 = only on demand). */
  healthIntervalSeconds(): number {
    const v = section().get<number>('sampling.healthIntervalSeconds', 60);
    return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 60;
  },
  /** What the engine server needs to know (pushed with ConfigureNotification). */
  engine(): EngineSettings {
    return {
      dbPath: this.projectPath() ?? '',
      preset: this.preset(),
      extraKinds: this.extraKinds(),
      trusted: vscode.workspace.isTrusted,
      exec: this.exec(),
      sampleN: this.sampling().n,
    };
  },
  /** Sets `pairforge.blocks.highlight` where it is defined most specifically (so it takes effect). */
  async setHighlight(on: boolean): Promise<void> {
    const i = section().inspect<boolean>('blocks.highlight');
    const target =
      i?.workspaceFolderValue !== undefined
        ? vscode.ConfigurationTarget.WorkspaceFolder
        : i?.workspaceValue !== undefined
          ? vscode.ConfigurationTarget.Workspace
          : vscode.ConfigurationTarget.Global;
    await section().update('blocks.highlight', on, target);
  },
};

export function affectsEngine(e: vscode.ConfigurationChangeEvent): boolean {
  return ['project.path', 'blocks.preset', 'blocks.extraKinds', 'exec', 'sampling.n'].some((k) => e.affectsConfiguration(`${SECTION}.${k}`));
}
