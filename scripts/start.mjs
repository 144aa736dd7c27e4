// `npm start`: from a fresh clone to PairForge running in a real VS Code (code-server) on the demo
// workspace. Installs what is missing (node_modules, code-server), packages the extension, refreshes
// .cache/demo-workspace/ from media/demo/ with the demo datasets imported into its project, starts
// the project's vLLM-compatible local server (`pairforge serve-local`, a stand-in for a GPU vLLM
// server, so "Sample x5" works offline) on 127.0.0.1:$PAIRFORGE_VLLM_PORT (default 8000), samples,
// runs and pairs the demo targets against it and scores the pairs with its policy and reference
// models (so the review room has rewards at once), gives the demo a loopback "GPU host" for Send to
// Training (scripts/demo-gpu.mjs: an sshd of its own on 127.0.0.1:$PAIRFORGE_SSH_PORT, a free port by
// default, logging the same user in, and the trainer's venv from scripts/trainer-venv.sh; skipped,
// saying why, where it cannot run, or with PAIRFORGE_DEMO_GPU=0), then serves VS Code on
// 127.0.0.1:$PAIRFORGE_PORT (default 8080) until Ctrl-C. Every step resumes: a second `npm start`
// redoes nothing (it keeps the venv and the host's keys, and restarts its sshd).
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setInterval } from 'node:timers';
import { ensurePackages } from './apt-lock.mjs';
import { DEMO_GPU_ALIAS, demoTrainingSettings, ensureDemoGpuPackages, startDemoGpu } from './demo-gpu.mjs';
import { ensureCodeServer, repoRoot } from './vscode/install-code-server.mjs';
import { launchCodeServer } from './vscode/launch.mjs';

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const cache = path.join(repoRoot, '.cache');
const demoSource = path.join(repoRoot, 'media', 'demo');
const workspace = path.join(cache, 'demo-workspace');
const projectRel = '.pairforge/project.sqlite';
const trainerVenv = path.join(cache, 'trainer-venv');

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
}

/** The demo workspace's settings: its project, and the local server as its only endpoint (this is
 * the one place a local server is configured as an endpoint; the extension has none by default);
 * with the demo's GPU host, everything Send to Training would otherwise ask for. */
function writeDemoSettings(endpoint, gpu) {
  mkdirSync(path.join(workspace, '.vscode'), { recursive: true });
  const settings = { 'pairforge.project.path': projectRel, 'pairforge.blocks.highlight': true };
  if (endpoint) {
    settings['pairforge.sampling.endpoints'] = [{ url: endpoint.url, model: endpoint.model }];
    // The stand-in's two scoring models, so "Score Pairs" and the review room's heatmaps work offline.
    settings['pairforge.scoring.policy'] = { url: endpoint.url, model: 'pairforge-local-policy' };
    settings['pairforge.scoring.reference'] = { url: endpoint.url, model: 'pairforge-local-reference' };
  }
  if (gpu) Object.assign(settings, demoTrainingSettings(gpu, path.join(trainerVenv, 'bin', 'python')));
  writeFileSync(path.join(workspace, '.vscode', 'settings.json'), JSON.stringify(settings, null, 2) + '\n');
}

/**
 * Send to Training on the demo: the system packages, the trainer's venv (made once), then the
 * loopback GPU host. Resolves to the running host, or to why there is none (the rest of the demo
 * starts either way).
 * @returns {Promise<{ gpu: Awaited<ReturnType<typeof startDemoGpu>> } | { unavailable: string }>}
 */
async function startDemoTraining(sshPort) {
  if (process.env.PAIRFORGE_DEMO_GPU === '0') return { unavailable: 'PAIRFORGE_DEMO_GPU=0: no demo host; Send to Training asks for your host the first time' };
  step(`Send to Training on the demo: a loopback GPU host (${path.relative(repoRoot, path.join(cache, 'demo-gpu'))}) and the trainer's venv (${path.relative(repoRoot, trainerVenv)})`);
  const missing = ensureDemoGpuPackages();
  if (missing) return { unavailable: missing };
  const venv = spawnSync('bash', [path.join(repoRoot, 'scripts', 'trainer-venv.sh'), trainerVenv], { stdio: 'inherit' });
  if (venv.status !== 0) return { unavailable: `the trainer's venv ${path.relative(repoRoot, trainerVenv)} could not be made (scripts/trainer-venv.sh exited with ${venv.status ?? venv.signal}; its reason is above)` };
  try {
    const gpu = await startDemoGpu({ port: sshPort });
    console.log(`${gpu.alias}: sshd on 127.0.0.1:${gpu.port} as ${gpu.user}, key login only (pid ${gpu.pid}); log in yourself: ssh -F ${path.relative(process.cwd(), gpu.sshConfig)} ${gpu.alias}`);
    return { gpu };
  } catch (err) {
    return { unavailable: `the demo host did not start: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/** Starts `pairforge serve-local` on the demo project; resolves to {url, model, child} once it listens. */
function startLocalServer(port) {
  const cli = path.join(repoRoot, 'dist', 'cli.js');
  const db = path.join(workspace, projectRel);
  const child = spawn(process.execPath, [cli, 'serve-local', '--db', db, '--port', String(port), '--json'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      try {
        const info = JSON.parse(out.slice(0, nl));
        resolve({ url: info.url, model: info.model, child });
      } catch {
        reject(new Error(`serve-local printed something unexpected: ${out.slice(0, 200)}`));
      }
    });
    child.on('exit', (code, signal) => reject(new Error(`serve-local exited with ${code ?? signal} before listening (is port ${port} free? set PAIRFORGE_VLLM_PORT)`)));
  });
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
    // the reference solutions against their tests, in the sandbox (verdicts shown in the editor)
    ['check-refs', '--db', db],
  ];
  for (const args of steps) {
    const r = spawnSync(process.execPath, [cli, ...args], { stdio: 'inherit' });
    if (r.status !== 0) console.warn(`warning: pairforge ${args[0]} exited with ${r.status ?? r.signal}; continuing`);
  }
}

/** Samples, executes and pairs the demo targets against the local server (pairforge run without
 * import, check-refs, targets and export), then scores the pairs with its scoring models
 * (`--resume`: a second start scores only pairs made since). */
function pairAndScoreDemo(local) {
  const cli = path.join(repoRoot, 'dist', 'cli.js');
  const db = path.join(workspace, projectRel);
  const steps = [
    ['run', '--db', db, '--endpoint', local.url, '--model', local.model, '--skip', 'import,check-refs,targets,export'],
    ['score', '--db', db, '--policy', local.url, '--policy-model', 'pairforge-local-policy', '--reference', local.url, '--reference-model', 'pairforge-local-reference', '--resume'],
  ];
  for (const args of steps) {
    const r = spawnSync(process.execPath, [cli, ...args], { stdio: 'inherit' });
    if (r.status !== 0) console.warn(`warning: pairforge ${args[0]} exited with ${r.status ?? r.signal}; continuing`);
  }
}

function portFrom(name, fallback) {
  const port = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`${name} must be a port number (got '${process.env[name]}')`);
  return port;
}

/** What the demo cannot start without, from Debian: bubblewrap (every program runs in its sandbox)
 * and python3 (the programs and the test harness); make and g++ when npm ci has to run (it builds
 * better-sqlite3 from source: no prebuilt binary is downloaded). Installed as root; otherwise the
 * exact command, and npm start stops. */
function ensureBasePackages(withBuildTools) {
  const has = (file) => () => existsSync(file);
  const needs = [
    { pkg: 'bubblewrap', present: has('/usr/bin/bwrap') },
    { pkg: 'python3', present: has('/usr/bin/python3') },
    ...(withBuildTools ? [{ pkg: 'make', present: has('/usr/bin/make') }, { pkg: 'g++', present: has('/usr/bin/g++') }] : []),
  ];
  const why = ensurePackages(needs, { purpose: 'the demo' });
  if (why) {
    console.error(`npm start: ${why}`);
    process.exit(1);
  }
}

async function main() {
  const started = Date.now();
  const needsInstall = !existsSync(path.join(repoRoot, 'node_modules'));
  ensureBasePackages(needsInstall);
  if (needsInstall) {
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

  const port = portFrom('PAIRFORGE_PORT', 8080);
  const vllmPort = portFrom('PAIRFORGE_VLLM_PORT', 8000);
  const sshPort = process.env.PAIRFORGE_SSH_PORT ? portFrom('PAIRFORGE_SSH_PORT') : undefined;
  step(`local vLLM-compatible server on 127.0.0.1:${vllmPort} (pairforge serve-local: a stand-in for a GPU server)`);
  const local = await startLocalServer(vllmPort);
  process.on('exit', () => local.child.kill('SIGTERM'));
  step('demo pairs: sample, run in the sandbox, pair, score (policy and reference models of the local server)');
  pairAndScoreDemo(local);
  const training = await startDemoTraining(sshPort);
  const gpu = 'gpu' in training ? training.gpu : undefined;
  if (gpu) process.on('exit', () => gpu.stop());
  else console.warn(`\nnote: Send to Training on the demo is unavailable: ${training.unavailable}`);
  // Until the shutdown below takes over: a Ctrl-C still stops the demo host (its sshd runs in a
  // process group of its own, which the terminal's signal does not reach).
  const early = () => process.exit(130);
  process.on('SIGINT', early);
  process.on('SIGTERM', early);
  writeDemoSettings(local, gpu);
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
  console.log(`Open a Python file (word_stats.py) to see its blocks; the PairForge view lists the demo datasets;`);
  console.log(`open a solution there and use "Sample x5" (served by ${local.url}, model ${local.model}) or "Run Tests".`);
  if (gpu) console.log(`Send to Training trains the tiny model on the loopback GPU host '${DEMO_GPU_ALIAS}' (127.0.0.1:${gpu.port}, run folders in ${path.relative(repoRoot, gpu.runs)}).`);
  else console.log(`Send to Training on the demo is unavailable: ${training.unavailable}`);
  console.log(`Help > Welcome > "Get started with PairForge" walks through every step.`);
  console.log(`Log: ${path.relative(repoRoot, server.logFile)}. Press Ctrl-C to stop.\n${bar}`);

  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    console.log(`\nstopping code-server, ${gpu ? 'the demo host, ' : ''}and the local server...`);
    await server.stop();
    const runs = gpu?.stop() ?? [];
    if (runs.length) console.log(`stopped the training runs still going on the demo host: ${runs.join(', ')}`);
    local.child.kill('SIGTERM');
    process.exit(0);
  };
  void server.exited.then((how) => {
    if (stopping) return;
    console.error(`code-server exited unexpectedly (${how}); see ${server.logFile}`);
    process.exit(1);
  });
  process.off('SIGINT', early);
  process.off('SIGTERM', early);
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  // Keep running until a signal arrives.
  setInterval(() => {}, 1 << 30);
}

main().catch((err) => {
  console.error(`\nnpm start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
