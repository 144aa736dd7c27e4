// `npm start`: from a fresh clone to PairForge running in a real VS Code (code-server) on the demo
// workspace. Installs what is missing (node_modules, code-server), packages the extension, refreshes
// .cache/demo-workspace/ from media/demo/ with the demo datasets imported into its project, then
// serves on 127.0.0.1:$PAIRFORGE_PORT (default 8080) until Ctrl-C.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setInterval } from 'node:timers';
import { ensureCodeServer, repoRoot } from './vscode/install-code-server.mjs';
import { launchCodeServer } from './vscode/launch.mjs';

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const cache = path.join(repoRoot, '.cache');
const demoSource = path.join(repoRoot, 'media', 'demo');
const workspace = path.join(cache, 'demo-workspace');
const projectRel = '.pairforge/project.sqlite';

function step(msg) {
  console.log(`\n== ${msg}`);
}

function run(cmd, args, what) {
  const r = spawnSync(cmd, args, { cwd: repoRoot, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`${what} failed (${cmd} ${args.join(' ')} exited with ${r.status ?? r.signal})`);
}

/** Copies media/demo/ into the demo workspace (overwriting the demo files, keeping user files). */
function refreshDemoWorkspace() {
  mkdirSync(workspace, { recursive: true });
  cpSync(demoSource, workspace, { recursive: true, force: true });
  mkdirSync(path.join(workspace, '.vscode'), { recursive: true });
  writeFileSync(
    path.join(workspace, '.vscode', 'settings.json'),
    JSON.stringify({ 'pairforge.project.path': projectRel, 'pairforge.blocks.highlight': true }, null, 2) + '\n',
  );
}

/** Imports the demo datasets into the workspace's project with the CLI (re-import is a no-op). */
function importDemoDatasets() {
  const cli = path.join(repoRoot, 'dist', 'cli.js');
  if (!existsSync(cli)) {
    console.warn(`warning: ${cli} is missing; the Datasets view will be empty`);
    return;
  }
  const db = path.join(workspace, projectRel);
  const datasets = readdirSync(path.join(workspace, 'datasets'))
    .filter((f) => f.endsWith('.jsonl'))
    .map((f) => path.join(workspace, 'datasets', f));
  const steps = [
    ['import', ...datasets, '--db', db],
    ['targets', '--db', db, '--preset', 'structurecoder'],
  ];
  for (const args of steps) {
    const r = spawnSync(process.execPath, [cli, ...args], { stdio: 'inherit' });
    if (r.status !== 0) console.warn(`warning: pairforge ${args[0]} exited with ${r.status ?? r.signal}; continuing`);
  }
}

async function main() {
  const started = Date.now();
  if (!existsSync(path.join(repoRoot, 'node_modules'))) {
    step('npm ci (first run; builds better-sqlite3, about 2 minutes)');
    run(npm, ['ci'], 'npm ci');
  }
  step('npm run package');
  run(npm, ['run', 'package'], 'npm run package');
  step('code-server');
  ensureCodeServer();
  step(`demo workspace ${path.relative(repoRoot, workspace)}`);
  refreshDemoWorkspace();
  importDemoDatasets();

  const port = Number(process.env.PAIRFORGE_PORT ?? 8080);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`PAIRFORGE_PORT must be a port number (got '${process.env.PAIRFORGE_PORT}')`);
  step(`starting code-server on 127.0.0.1:${port}`);
  const vscodeDir = path.join(cache, 'vscode');
  const server = await launchCodeServer({
    port,
    userDataDir: path.join(vscodeDir, 'user-data'),
    extensionsDir: path.join(vscodeDir, 'extensions'),
    workspace,
    vsix: path.join(repoRoot, 'dist', 'pairforge.vsix'),
    logFile: path.join(vscodeDir, 'code-server.log'),
  });
  const bar = '='.repeat(72);
  console.log(`\n${bar}\nPairForge is running in VS Code (code-server), ready in ${((Date.now() - started) / 1000).toFixed(0)} s:\n\n  ${server.folderUrl}\n`);
  console.log(`Open a Python file (word_stats.py) to see its blocks; the PairForge view lists the demo datasets.`);
  console.log(`Log: ${path.relative(repoRoot, server.logFile)}. Press Ctrl-C to stop.\n${bar}`);

  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    console.log('\nstopping code-server...');
    await server.stop();
    process.exit(0);
  };
  void server.exited.then((how) => {
    if (stopping) return;
    console.error(`code-server exited unexpectedly (${how}); see ${server.logFile}`);
    process.exit(1);
  });
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  // Keep running until a signal arrives.
  setInterval(() => {}, 1 << 30);
}

main().catch((err) => {
  console.error(`\nnpm start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
