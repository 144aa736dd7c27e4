// How every Node bundle of the engine is made and laid out, shared by scripts/build.mjs (dist/),
// the CLI tests (test/support/cliHarness.ts) and the bench scripts: esbuild settings, and the runtime
// files the engine loads from beside its bundle.
import { copyFileSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(root, 'package.json'));

/** The version the bundles report (server/version.ts), read here so no bundle carries package.json. */
export const version = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).version;

/** esbuild options for a cjs bundle on Node 20 (add entryPoints/stdin and outfile). */
export const nodeBundle = {
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  logLevel: 'warning',
  // web-tree-sitter's ESM build (picked for `import`) reads import.meta.url, empty in a cjs bundle.
  define: { 'import.meta.url': '__pairforgeImportMetaUrl', PAIRFORGE_VERSION: JSON.stringify(version) },
  banner: { js: "const __pairforgeImportMetaUrl = require('url').pathToFileURL(__filename).href;" },
};

/** esbuild options for a browser bundle (the webviews and the report's page; add entryPoints and
 * outfile): no Node, one IIFE, minified, CSS and fonts beside it. */
export const browserBundle = {
  absWorkingDir: root,
  bundle: true,
  platform: 'browser',
  format: 'iife',
  target: 'es2022',
  logLevel: 'warning',
  minify: true,
  loader: { '.ttf': 'file' },
  assetNames: '[name]',
  define: { 'process.env.NODE_ENV': '"production"' },
};

/** Copies the trainer (server/training/python: the script, its package and its pinned
 * requirements) into `dir`/trainer, which the SSH hand-off uploads to a GPU host
 * (docs/training.md). */
export function copyTrainer(dir) {
  const from = path.join(root, 'server', 'training', 'python');
  const to = path.join(dir, 'trainer');
  mkdirSync(path.join(to, 'pairforge_trainer'), { recursive: true });
  for (const name of ['train.py', 'requirements.txt']) copyFileSync(path.join(from, name), path.join(to, name));
  for (const name of readdirSync(path.join(from, 'pairforge_trainer')).filter((n) => n.endsWith('.py'))) {
    copyFileSync(path.join(from, 'pairforge_trainer', name), path.join(to, 'pairforge_trainer', name));
  }
}

/** Copies what the engine loads from its bundle's folder into `dir`: the tree-sitter runtime and
 * Python grammar (.wasm), better-sqlite3's native addon (server/store/db.ts), the execution
 * engine's Python harness (exec-python/, server/exec/sandbox.ts) and the trainer (trainer/). */
export function copyRuntimeAssets(dir) {
  mkdirSync(path.join(dir, 'exec-python'), { recursive: true });
  copyFileSync(require.resolve('web-tree-sitter/tree-sitter.wasm'), path.join(dir, 'tree-sitter.wasm'));
  copyFileSync(require.resolve('tree-sitter-python/tree-sitter-python.wasm'), path.join(dir, 'tree-sitter-python.wasm'));
  copyFileSync(path.join(path.dirname(require.resolve('better-sqlite3/package.json')), 'build', 'Release', 'better_sqlite3.node'), path.join(dir, 'better_sqlite3.node'));
  for (const name of ['worker.py', 'child.py']) copyFileSync(path.join(root, 'server', 'exec', 'python', name), path.join(dir, 'exec-python', name));
  copyTrainer(dir);
}
