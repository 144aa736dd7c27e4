// Bundles the execution engine (server/exec) with esbuild into node_modules/.cache/pairforge-exec/
// with its Python harness beside it (as scripts/build.mjs lays out dist/), and loads it. Shared by
// the exec-* bench scripts, so they measure the code the extension and CLI ship.
import * as esbuild from 'esbuild';
import { createRequire } from 'node:module';
import path from 'node:path';
import { copyRuntimeAssets, nodeBundle, root } from '../bundle.mjs';

export { root };

export async function loadExecApi() {
  const out = path.join(root, 'node_modules', '.cache', 'pairforge-exec');
  copyRuntimeAssets(out);
  await esbuild.build({ ...nodeBundle, entryPoints: [path.join(root, 'server', 'exec', 'engine.ts')], outfile: path.join(out, 'exec.cjs') });
  return createRequire(import.meta.url)(path.join(out, 'exec.cjs'));
}
