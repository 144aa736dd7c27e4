// Typed getters for every `pairforge.*` setting. The schema is in package.json `contributes`; the
// defaults and bounds are server/protocol/settings.ts (a test keeps the two equal).
import * as vscode from 'vscode';
import {
  asExtraKinds,
  asPreset,
  DEFAULT_RUNTIME,
  readExecSettings,
  readHealthInterval,
  readSamplingParams,
  readScoringParams,
  readTrainingSettings,
  type BlockKind,
  type EngineSettings,
  type ExecSettings,
  type Preset,
  type SamplingParams,
  type ScoringParams,
  type TrainingSettings,
} from '../server/protocol';
import { asEndpoints, resolveProjectPath, type EndpointSetting } from './settingsValues';

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
    return readExecSettings((k) => s.get(k));
  },
  /** `pairforge.sampling.*` except the endpoints. */
  sampling(): SamplingParams {
    const s = vscode.workspace.getConfiguration(`${SECTION}.sampling`);
    return readSamplingParams((k) => s.get(k));
  },
  /** `pairforge.sampling.endpoints`, validated; `problems` lists the entries that were dropped. */
  endpoints(): { endpoints: EndpointSetting[]; problems: string[] } {
    return asEndpoints(section().get('sampling.endpoints'));
  },
  /** `pairforge.scoring.*`: the policy and reference endpoints (checked like the sampling ones)
   * and the values of a scoring run. */
  scoring(): { policy?: EndpointSetting; reference?: EndpointSetting; params: ScoringParams; problems: string[] } {
    const s = vscode.workspace.getConfiguration(`${SECTION}.scoring`);
    const problems: string[] = [];
    const one = (key: 'policy' | 'reference'): EndpointSetting | undefined => {
      const v = s.get(key);
      if (v === undefined || v === null || (typeof v === 'object' && Object.keys(v as object).length === 0)) return undefined;
      const r = asEndpoints([v]);
      problems.push(...r.problems.map((p) => p.replace('pairforge.sampling.endpoints[0]', `pairforge.scoring.${key}`)));
      return r.endpoints[0];
    };
    return { policy: one('policy'), reference: one('reference'), params: readScoringParams((k) => s.get(k)), problems };
  },
  /** `pairforge.training.*`: where and how Send to Training sends (the host may be '': ask). */
  training(): TrainingSettings {
    const s = vscode.workspace.getConfiguration(`${SECTION}.training`);
    return readTrainingSettings((k) => s.get(k));
  },
  /** Sets a `pairforge.training.*` setting in the user's settings. */
  async setTraining(key: keyof TrainingSettings, value: unknown): Promise<void> {
    await vscode.workspace.getConfiguration(`${SECTION}.training`).update(key, value, vscode.ConfigurationTarget.Global);
  },
  /** `pairforge.sampling.healthIntervalSeconds`: how often the status bar re-checks (0 = only on demand). */
  healthIntervalSeconds(): number {
    return readHealthInterval(section().get('sampling.healthIntervalSeconds'));
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

/**
 * What a change of each setting takes, in one place:
 * - restart: the engine server must be restarted (the user is asked);
 * - engine: pushed to the running engine server (ConfigureNotification);
 * - client: read by the extension when it next needs it (or by the view that watches it).
 * Keys are setting names without `pairforge.`; a section (`exec`) covers its settings.
 */
export const SETTING_EFFECTS: Readonly<Record<string, 'restart' | 'engine' | 'client'>> = {
  'server.runtime': 'restart',
  'project.path': 'engine',
  'blocks.preset': 'engine',
  'blocks.extraKinds': 'engine',
  exec: 'engine',
  'sampling.n': 'engine',
  'blocks.highlight': 'client',
  'trace.server': 'client',
  sampling: 'client',
  scoring: 'client',
  training: 'client',
};

/** The effects a configuration change has (a setting listed under its own name and its section
 * counts once, with its most specific entry). */
export function effectsOf(e: vscode.ConfigurationChangeEvent): Set<'restart' | 'engine' | 'client'> {
  const out = new Set<'restart' | 'engine' | 'client'>();
  for (const [key, effect] of Object.entries(SETTING_EFFECTS)) {
    if (!e.affectsConfiguration(`${SECTION}.${key}`)) continue;
    const specific = Object.keys(SETTING_EFFECTS).some((k) => k !== key && k.startsWith(`${key}.`) && e.affectsConfiguration(`${SECTION}.${k}`));
    if (!specific) out.add(effect);
  }
  return out;
}
