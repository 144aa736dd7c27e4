// Starts code-server (installed by install-code-server.mjs) with the packaged extension, for
// `npm start` and the end-to-end test. code-server runs on this Node (20), and its PATH starts with
// this Node's folder, so the extension host and the engine server it spawns (`node` on PATH) use the
// Node whose ABI matches our better-sqlite3 build.
/* global fetch, AbortSignal -- Node 20 globals */
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { codeServerEntry, codeServerInstalled } from './install-code-server.mjs';

/** Settings that keep a fresh profile quiet and offline; the caller's settings win. */
export const baseUserSettings = {
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'extensions.ignoreRecommendations': true,
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'security.workspace.trust.enabled': false,
  'chat.disableAIFeatures': true,
  'editor.minimap.enabled': false,
  // The demo workspace sits inside this repository's clone: don't offer to open that repository.
  'git.openRepositoryInParentFolders': 'never',
};

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function codeServerEnv() {
  const nodeDir = path.dirname(process.execPath);
  return { ...process.env, PATH: `${nodeDir}${path.delimiter}${process.env.PATH ?? ''}` };
}

function requireCodeServer() {
  if (!codeServerInstalled()) {
    throw new Error(
      `code-server is not installed in .cache/code-server: run \`node scripts/vscode/install-code-server.mjs\` (or .ci/run)`,
    );
  }
}

/**
 * `code-server --install-extension <vsix>` into the given extensions dir.
 * @param {{ vsix: string, userDataDir: string, extensionsDir: string }} o
 */
export function installExtension(o) {
  requireCodeServer();
  if (!existsSync(o.vsix)) throw new Error(`${o.vsix} is missing: run \`npm run package\``);
  const r = spawnSync(
    process.execPath,
    [codeServerEntry, '--user-data-dir', o.userDataDir, '--extensions-dir', o.extensionsDir, '--install-extension', o.vsix, '--force'],
    { encoding: 'utf8', env: codeServerEnv(), timeout: 120_000 },
  );
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.status !== 0 || !/successfully installed/i.test(out)) {
    throw new Error(`code-server --install-extension ${o.vsix} failed (exit ${r.status ?? r.signal}):\n${out}`);
  }
  return out.trim();
}

/** Writes User/settings.json in the user-data-dir (base settings + the caller's). */
export function writeUserSettings(userDataDir, settings = {}) {
  const dir = path.join(userDataDir, 'User');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'settings.json'), JSON.stringify({ ...baseUserSettings, ...settings }, null, 2) + '\n');
}

async function waitForHttp(url, child, logFile, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`code-server exited (${child.exitCode ?? child.signalCode}) before answering; log ${logFile}:\n${tail(logFile)}`);
    }
    try {
      const res = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(2000) });
      if (res.status < 500) return;
      lastError = `HTTP ${res.status}`;
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`code-server did not answer ${url} within ${timeoutMs} ms (${lastError}); log ${logFile}:\n${tail(logFile)}`);
}

function tail(file, lines = 30) {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * Installs the .vsix (when given) and starts code-server on 127.0.0.1:port.
 * @param {{ port?: number, userDataDir: string, extensionsDir: string, workspace: string,
 *   settings?: Record<string, unknown>, vsix?: string, logFile?: string, timeoutMs?: number }} o
 * @returns {Promise<{ url: string, folderUrl: string, port: number, pid: number, logFile: string,
 *   exited: Promise<number | string | null>, stop: () => Promise<void> }>}
 */
export async function launchCodeServer(o) {
  requireCodeServer();
  const port = o.port ?? (await freePort());
  mkdirSync(o.userDataDir, { recursive: true });
  mkdirSync(o.extensionsDir, { recursive: true });
  writeUserSettings(o.userDataDir, o.settings);
  if (o.vsix) installExtension({ vsix: o.vsix, userDataDir: o.userDataDir, extensionsDir: o.extensionsDir });
  const logFile = o.logFile ?? path.join(o.userDataDir, 'code-server.log');
  const log = createWriteStream(logFile, { flags: 'a' });
  await new Promise((r) => log.once('open', r));
  const args = [
    codeServerEntry,
    '--auth', 'none',
    '--bind-addr', `127.0.0.1:${port}`,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    // Keep code-server from writing ~/.config/code-server/config.yaml.
    '--config', path.join(o.userDataDir, 'code-server-config.yaml'),
    '--user-data-dir', o.userDataDir,
    '--extensions-dir', o.extensionsDir,
    o.workspace,
  ];
  // detached: its own process group, so stop() ends the extension host and engine server too.
  const child = spawn(process.execPath, args, { env: codeServerEnv(), detached: true, stdio: ['ignore', log, log] });
  const url = `http://127.0.0.1:${port}/`;
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  let stopped;
  const stop = () => {
    stopped ??= new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const kill = (sig) => {
        try {
          process.kill(-child.pid, sig);
        } catch {
          /* already gone */
        }
      };
      const force = setTimeout(() => kill('SIGKILL'), 5000);
      child.once('exit', () => {
        clearTimeout(force);
        // Stragglers of the group (an extension host or engine server that ignored SIGTERM).
        kill('SIGKILL');
        resolve();
      });
      kill('SIGTERM');
    }).finally(() => log.end());
    return stopped;
  };
  try {
    await waitForHttp(`${url}healthz`, child, logFile, o.timeoutMs ?? 60_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, folderUrl: `${url}?folder=${encodeURIComponent(o.workspace).replace(/%2F/g, '/')}`, port, pid: child.pid ?? -1, logFile, exited, stop };
}
