// Builds server/cli.ts into a private temporary folder (same esbuild settings as
// scripts/build.mjs, with the .wasm files and the native addon beside it) so CLI tests always run
// the current sources as a real bundled process, without racing other builds of dist/.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as esbuild from 'esbuild';

const root = path.resolve(__dirname, '..', '..');
const req = createRequire(path.join(root, 'package.json'));

export async function buildCli(): Promise<string> {
  const dir = mkdtempSync(path.join(tmpdir(), 'pairforge-cli-'));
  const outfile = path.join(dir, 'cli.js');
  await esbuild.build({
    absWorkingDir: root,
    entryPoints: ['server/cli.ts'],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    logLevel: 'warning',
    define: { 'import.meta.url': '__pairforgeImportMetaUrl' },
    banner: { js: "const __pairforgeImportMetaUrl = require('url').pathToFileURL(__filename).href;" },
  });
  copyFileSync(req.resolve('web-tree-sitter/tree-sitter.wasm'), path.join(dir, 'tree-sitter.wasm'));
  copyFileSync(req.resolve('tree-sitter-python/tree-sitter-python.wasm'), path.join(dir, 'tree-sitter-python.wasm'));
  copyFileSync(
    path.join(path.dirname(req.resolve('better-sqlite3/package.json')), 'build', 'Release', 'better_sqlite3.node'),
    path.join(dir, 'better_sqlite3.node'),
  );
  // The execution engine's Python harness, where server/exec/sandbox.ts looks beside a bundle.
  mkdirSync(path.join(dir, 'exec-python'));
  for (const name of ['worker.py', 'child.py']) copyFileSync(path.join(root, 'server', 'exec', 'python', name), path.join(dir, 'exec-python', name));
  return outfile;
}

export function runCli(cli: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd: opts.cwd ?? root, timeout: 120_000, env: { ...process.env, ...opts.env } });
}
