// Bundles the four entry points with esbuild and copies the runtime assets beside them:
// the tree-sitter runtime and Python grammar (.wasm) and better-sqlite3's native addon,
// which the engine loads from its own folder (see server/store/db.ts).
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const require = createRequire(import.meta.url);
const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

mkdirSync(dist, { recursive: true });

const common = {
  bundle: true,
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
  absWorkingDir: root,
  // web-tree-sitter's ESM build (picked for `import`) reads import.meta.url, empty in a cjs bundle.
  define: { 'import.meta.url': '__pairforgeImportMetaUrl' },
  banner: { js: "const __pairforgeImportMetaUrl = require('url').pathToFileURL(__filename).href;" },
};

const builds = [
  { ...common, entryPoints: ['extension/extension.ts'], outfile: 'dist/extension.js', platform: 'node', format: 'cjs', target: 'node20', external: ['vscode'] },
  { ...common, entryPoints: ['server/main.ts'], outfile: 'dist/server.js', platform: 'node', format: 'cjs', target: 'node20' },
  { ...common, entryPoints: ['server/cli.ts'], outfile: 'dist/cli.js', platform: 'node', format: 'cjs', target: 'node20' },
  { ...common, entryPoints: ['server/blocks/worker.ts'], outfile: 'dist/blocks-worker.js', platform: 'node', format: 'cjs', target: 'node20' },
].filter((b) => existsSync(path.join(root, b.entryPoints[0])));

const assets = [
  [require.resolve('web-tree-sitter/tree-sitter.wasm'), 'tree-sitter.wasm'],
  [require.resolve('tree-sitter-python/tree-sitter-python.wasm'), 'tree-sitter-python.wasm'],
  [path.join(path.dirname(require.resolve('better-sqlite3/package.json')), 'build', 'Release', 'better_sqlite3.node'), 'better_sqlite3.node'],
];
for (const [from, name] of assets) copyFileSync(from, path.join(dist, name));
// The execution engine's Python harness runs inside the sandbox from dist/exec-python (server/exec/sandbox.ts).
mkdirSync(path.join(dist, 'exec-python'), { recursive: true });
for (const name of ['worker.py', 'child.py']) copyFileSync(path.join(root, 'server', 'exec', 'python', name), path.join(dist, 'exec-python', name));

if (watch) {
  const contexts = await Promise.all(builds.map((b) => esbuild.context(b)));
  await Promise.all(contexts.map((c) => c.watch()));
  console.log('esbuild: watching');
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
  console.log(`esbuild: built ${builds.map((b) => b.outfile).join(', ')}`);
}
