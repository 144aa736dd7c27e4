// The import rules between the sides and stages of the code, as data and one pure check, so the
// boundary test can run it on the repository and on made-up violations alike.
//
// - the contracts (server/protocol/, the webviews' contracts: webview/contract.ts for the review
//   room, webview/dashboard/contract.ts for the dashboard) import nothing else of ours;
// - extension/ imports `vscode`, Node, packages and the protocol, never other server code;
// - webview/ imports its contract and packages only: no `vscode`, no `node:*`, no server/;
// - server/ never imports `vscode`, extension/ or webview/;
// - a stage imports the shared base (protocol, store, the CLI and LSP kits) and earlier stages only
//   (import -> blocks -> targets -> exec -> sampling -> localvllm -> pairs -> scoring -> export ->
//   training); server.ts, main.ts, cli.ts, cli/commands.ts, pipeline/ (the one-command run),
//   review/ (the review room, which spans pairs, exec, sampling, scoring and export) and dashboard/
//   (the dashboard and `pairforge report`, which put every stage's figures together) sit on top.
import { builtinModules } from 'node:module';
import path from 'node:path';

/** The stages in pipeline order; a stage may import the ones before it. */
export const STAGES = ['import', 'blocks', 'targets', 'exec', 'sampling', 'localvllm', 'pairs', 'scoring', 'export', 'training'] as const;

/** What every stage may import besides earlier stages. */
const BASE = ['server/protocol', 'server/version.ts', 'server/store', 'server/cli/kit.ts', 'server/lsp'];
/** The base modules' own allowances: each may import the ones listed. */
const BASE_ALLOWED: Record<string, readonly string[]> = {
  'server/protocol': [],
  'server/version.ts': [],
  'server/store': ['server/protocol', 'server/version.ts'],
  'server/cli/kit.ts': ['server/protocol'],
  'server/lsp': ['server/protocol', 'server/store'],
};
/** The webviews' message contracts: the only webview files the extension may import. */
const WEBVIEW_CONTRACTS = ['webview/contract.ts', 'webview/dashboard/contract.ts'];
/** Files and folders allowed to import every stage. */
const TOP = ['server/server.ts', 'server/main.ts', 'server/cli.ts', 'server/cli/commands.ts', 'server/pipeline', 'server/review', 'server/dashboard'];

export interface SourceImports {
  /** Repository-relative path, `/` separated. */
  file: string;
  /** Import specifiers as written. */
  imports: string[];
}

const NODE_BUILTINS = new Set(builtinModules);

function isNode(spec: string): boolean {
  return spec.startsWith('node:') || NODE_BUILTINS.has(spec.split('/')[0]);
}

function under(file: string, prefix: string): boolean {
  return file === prefix || file.startsWith(prefix.endsWith('.ts') ? prefix : `${prefix}/`);
}

function stageOf(file: string): number {
  const m = /^server\/([^/]+)\//.exec(file);
  return m ? (STAGES as readonly string[]).indexOf(m[1]) : -1;
}

/** The repository-relative target of a relative import, without extension ('' for packages). */
export function resolveImport(file: string, spec: string): string {
  if (!spec.startsWith('.')) return '';
  return path.posix.normalize(path.posix.join(path.posix.dirname(file), spec));
}

/** Whether `target` (a resolved import, no extension) is inside `prefix` (a folder or a .ts file). */
function targetUnder(target: string, prefix: string): boolean {
  if (prefix.endsWith('.ts')) return `${target}.ts` === prefix || target === prefix.slice(0, -3);
  return target === prefix || target.startsWith(`${prefix}/`);
}

/** Every broken rule, as "file: imports 'spec' (why)". */
export function boundaryViolations(sources: readonly SourceImports[]): string[] {
  const out: string[] = [];
  for (const { file, imports } of sources) {
    for (const spec of imports) {
      const target = resolveImport(file, spec);
      const bad = (why: string) => out.push(`${file}: imports '${spec}' (${why})`);
      const ours = target !== '';
      if (file.startsWith('webview/')) {
        if (spec === 'vscode' || isNode(spec)) bad('webview/ runs in a browser: no vscode, no Node');
        else if (ours && !targetUnder(target, 'webview')) bad('webview/ imports its own contract and files only');
        else if (WEBVIEW_CONTRACTS.includes(file) && ours) bad('a contract imports nothing else of ours');
        continue;
      }
      if (file.startsWith('extension/')) {
        if (ours && !targetUnder(target, 'extension') && !targetUnder(target, 'server/protocol') && !WEBVIEW_CONTRACTS.some((c) => targetUnder(target, c))) {
          bad('extension/ reaches the engine only through server/protocol');
        }
        continue;
      }
      if (!file.startsWith('server/')) continue;
      if (spec === 'vscode') {
        bad('only extension/ may import vscode');
        continue;
      }
      if (!ours) continue;
      if (!target.startsWith('server/')) {
        bad('server/ imports nothing from extension/, webview/ or elsewhere in the repository');
        continue;
      }
      if (under(file, 'server/protocol')) {
        if (!targetUnder(target, 'server/protocol')) bad('a contract imports nothing else of ours');
        continue;
      }
      if (TOP.some((t) => under(file, t))) continue;
      const base = Object.keys(BASE_ALLOWED).find((b) => under(file, b));
      if (base) {
        if (!targetUnder(target, base) && !BASE_ALLOWED[base].some((b) => targetUnder(target, b))) bad(`${base} is shared by every stage and imports only ${BASE_ALLOWED[base].join(', ') || 'itself'}`);
        continue;
      }
      const stage = stageOf(file);
      if (stage < 0) {
        bad('not a known place in server/: add it to test/support/boundaries.ts');
        continue;
      }
      if (BASE.some((b) => targetUnder(target, b))) continue;
      const other = stageOf(`${target}/`);
      if (other < 0 && TOP.some((t) => targetUnder(target, t))) bad('a stage never imports the layer on top of the stages');
      else if (other > stage) bad(`stage ${STAGES[stage]} imports the later stage ${STAGES[other]}`);
      else if (other < 0) bad('not a stage, nor the shared base');
    }
  }
  return out;
}
