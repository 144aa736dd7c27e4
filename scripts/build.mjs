// Bundles the four entry points into dist/ with esbuild and copies the runtime files beside them
// (scripts/bundle.mjs: the .wasm files, better-sqlite3's native addon, the sandbox's Python harness,
// the trainer).
import * as esbuild from 'esbuild';
import { mkdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import { browserBundle, copyRuntimeAssets, nodeBundle, root } from './bundle.mjs';

const dist = path.join(root, 'dist');
const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

mkdirSync(dist, { recursive: true });

const common = { ...nodeBundle, sourcemap: !production, minify: production };

const builds = [
  { ...common, entryPoints: ['extension/extension.ts'], outfile: 'dist/extension.js', external: ['vscode'] },
  { ...common, entryPoints: ['server/main.ts'], outfile: 'dist/server.js' },
  { ...common, entryPoints: ['server/cli.ts'], outfile: 'dist/cli.js' },
  { ...common, entryPoints: ['server/blocks/worker.ts'], outfile: 'dist/blocks-worker.js' },
].filter((b) => existsSync(path.join(root, b.entryPoints[0])));

// The webviews: browser bundles (no Node), their CSS and fonts beside them in dist/webview/.
// Monaco's editor worker is its own bundle, which the room loads through a blob URL; the training
// metrics panel and the dashboard are ECharts.
const browser = { ...browserBundle, sourcemap: !production };
builds.push(
  { ...browser, entryPoints: ['webview/review/main.ts'], outfile: 'dist/webview/review.js' },
  { ...browser, entryPoints: ['webview/metrics/main.ts'], outfile: 'dist/webview/metrics.js' },
  // The dashboard (a webview) and `pairforge report`'s page, which the report inlines whole.
  { ...browser, entryPoints: ['webview/dashboard/main.ts'], outfile: 'dist/webview/dashboard.js' },
  { ...browser, entryPoints: ['webview/dashboard/report.ts'], outfile: 'dist/webview/report.js' },
  { ...browser, entryPoints: ['monaco-editor/editor/editor.worker.js'], outfile: 'dist/webview/editor.worker.js' },
);

copyRuntimeAssets(dist);

if (watch) {
  const contexts = await Promise.all(builds.map((b) => esbuild.context(b)));
  await Promise.all(contexts.map((c) => c.watch()));
  console.log('esbuild: watching');
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
  console.log(`esbuild: built ${builds.map((b) => b.outfile).join(', ')}`);
}
