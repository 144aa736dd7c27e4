// Bundles the blocks API (server/blocks) with esbuild into node_modules/.cache/pairforge-blocks/
// with the tree-sitter .wasm files beside it, and loads it. Shared by the parity and bench scripts,
// so they run the same code the extension ships without depending on what the CLI exports.
import * as esbuild from 'esbuild';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { copyRuntimeAssets, nodeBundle, root } from '../bundle.mjs';

export { root };

export async function loadBlocksApi() {
  const out = path.join(root, 'node_modules', '.cache', 'pairforge-blocks');
  copyRuntimeAssets(out);
  await esbuild.build({
    ...nodeBundle,
    stdin: {
      contents: [
        ['parser', 'loadPython'],
        ['cut', 'cutTargets, pyStrip, pyWordCount, stripCommentsStructureCoder'],
        ['extract', 'findBlocks'],
        ['documents', 'DocumentTrees'],
        ['batch', 'extractFiles, closeBlockWorkers'],
      ]
        .filter(([file]) => existsSync(path.join(root, 'server', 'blocks', `${file}.ts`)))
        .map(([file, names]) => `export { ${names} } from './server/blocks/${file}';`)
        .join('\n'),
      resolveDir: root,
      loader: 'ts',
    },
    outfile: path.join(out, 'blocks.cjs'),
  });
  return createRequire(import.meta.url)(path.join(out, 'blocks.cjs'));
}
