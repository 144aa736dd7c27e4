// Bundles the execution engine (server/exec) with esbuild into node_modules/.cache/pairforge-exec/
// with its Python harness beside it (as scripts/build.mjs lays out dist/), and loads it. Shared by
// the exec-* bench scripts, so they measure the code the extension and CLI ship.
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export async function loadExecApi() {
  const out = path.join(root, 'node_modules', '.cache', 'pairforge-exec');
  mkdirSync(path.join(out, 'exec-python'), { recursive: true });
  for (const name of ['worker.py', 'child.py']) copyFileSync(path.join(root, 'server', 'exec', 'python', name), path.join(out, 'exec-python', name));
  await esbuild.build({
    entryPoints: [path.join(root, 'server', 'exec', 'engine.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile: path.join(out, 'exec.cjs'),
    logLevel: 'warning',
  });
  return createRequire(import.meta.url)(path.join(out, 'exec.cjs'));
}
