// Pure helpers for the settings only the extension reads: the project path and the endpoint list.
// (Defaults and bounds of the settings the engine shares are in server/protocol/settings.ts.) No
// `vscode` import, so unit tests can run them.
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_PROJECT_PATH } from '../server/protocol';

/** The project file as an absolute path: `~` expands to the home folder, a relative path is taken
 * from the first workspace folder; undefined when relative and no folder is open. */
export function resolveProjectPath(setting: string | undefined, workspaceFolder: string | undefined, home = os.homedir()): string | undefined {
  const p = (setting ?? '').trim() || DEFAULT_PROJECT_PATH;
  if (p === '~' || p.startsWith('~/')) return path.join(home, p.slice(1));
  if (path.isAbsolute(p)) return path.normalize(p);
  return workspaceFolder ? path.join(workspaceFolder, p) : undefined;
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
