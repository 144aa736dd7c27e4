// Builds server/cli.ts into a private temporary folder (scripts/bundle.mjs: the esbuild settings and
// runtime files of scripts/build.mjs) so CLI tests always run
// the current sources as a real bundled process, without racing other builds of dist/.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as esbuild from 'esbuild';
import { copyRuntimeAssets, nodeBundle, root } from '../../scripts/bundle.mjs';

export async function buildCli(): Promise<string> {
  const dir = mkdtempSync(path.join(tmpdir(), 'pairforge-cli-'));
  const outfile = path.join(dir, 'cli.js');
  await esbuild.build({ ...nodeBundle, entryPoints: ['server/cli.ts'], outfile });
  copyRuntimeAssets(dir);
  return outfile;
}

export function runCli(cli: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd: opts.cwd ?? root, timeout: opts.timeoutMs ?? 120_000, env: { ...process.env, ...opts.env } });
}
