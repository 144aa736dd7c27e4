// Bundles the blocks API (server/blocks) with esbuild into node_modules/.cache/pairforge-blocks/
// with the tree-sitter .wasm files beside it, and loads it. Shared by the parity and bench scripts,
// so they run the same code the extension ships without depending on what the CLI exports.
import * as esbuild from 'esbuild';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export async function loadBlocksApi() {
  const out = path.join(root, 'node_modules', '.cache', 'pairforge-blocks');
  mkdirSync(out, { recursive: true });
  const require = createRequire(import.meta.url);
  copyFileSync(require.resolve('web-tree-sitter/tree-sitter.wasm'), path.join(out, 'tree-sitter.wasm'));
  copyFileSync(require.resolve('tree-sitter-python/tree-sitter-python.wasm'), path.join(out, 'tree-sitter-python.wasm'));
  await esbuild.build({
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
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile: path.join(out, 'blocks.cjs'),
    logLevel: 'warning',
    // web-tree-sitter's ESM build reads import.meta.url, which a cjs bundle lacks.
    define: { 'import.meta.url': '__pairforgeImportMetaUrl' },
    banner: { js: "const __pairforgeImportMetaUrl = require('url').pathToFileURL(__filename).href;" },
  });
  return createRequire(import.meta.url)(path.join(out, 'blocks.cjs'));
}
