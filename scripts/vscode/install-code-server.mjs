// Installs a real VS Code (code-server, from the npm registry) into .cache/code-server/.
//
// Route: code-server 4.100.3, the last release whose engines field is Node 20, so it runs on the
// machine's own Node (the same ABI as our better-sqlite3 build). Two obstacles on machines that
// cannot reach GitHub, both handled here:
//  - @vscode/ripgrep's postinstall downloads rg from GitHub unless the asset is already in its
//    download cache `${os.tmpdir()}/vscode-ripgrep-cache-<pkg version>/<asset>`; we point TMPDIR at a
//    private folder and put a tarball there holding Debian's real `rg` (or, without it, an `rg` that
//    fails loudly, so only "search in files" is affected).
//  - kerberos (a native dependency of VS Code's server) builds from source and needs the GSSAPI
//    headers of Debian's libkrb5-dev; installed here when running as root, else the exact command
//    is printed.
// Idempotent: skips when .cache/code-server/install.json names this version and Node major.
//
// Usage: node scripts/vscode/install-code-server.mjs [--force]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, copyFileSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { aptInstall } from '../apt-lock.mjs';

export const CODE_SERVER_VERSION = '4.100.3';
// Pinned by code-server 4.100.3's lib/vscode/npm-shrinkwrap.json (@vscode/ripgrep 1.15.11) and that
// package's lib/postinstall.js (VERSION 'v13.0.0-10', x64 Linux target is musl).
const RIPGREP_PACKAGE_VERSION = '1.15.11';
const RIPGREP_ASSET = 'ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz';
const APT_PACKAGES = ['libkrb5-dev', 'ripgrep'];
const GSSAPI_HEADER = '/usr/include/gssapi/gssapi.h';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const installDir = path.join(repoRoot, '.cache', 'code-server');
const markerFile = path.join(installDir, 'install.json');
const packageDir = path.join(installDir, 'node_modules', 'code-server');

/** The JavaScript entry of the installed code-server (run it with Node 20's `process.execPath`). */
export const codeServerEntry = path.join(packageDir, 'out', 'node', 'entry.js');

const nodeMajor = Number(process.versions.node.split('.')[0]);

/** True when code-server is installed at the pinned version for this Node major. */
export function codeServerInstalled() {
  if (!existsSync(markerFile) || !existsSync(codeServerEntry)) return false;
  try {
    const marker = JSON.parse(readFileSync(markerFile, 'utf8'));
    return marker.version === CODE_SERVER_VERSION && marker.nodeMajor === nodeMajor;
  } catch {
    return false;
  }
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...opts });
  if (r.error) throw new Error(`${cmd} ${args.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status ?? r.signal}`);
}

function which(cmd) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

function ensureSystemPackages(log) {
  const missing = [];
  if (!existsSync(GSSAPI_HEADER)) missing.push('libkrb5-dev');
  if (!which('rg')) missing.push('ripgrep');
  if (missing.length === 0) return;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || !which('apt-get')) {
    if (missing.includes('libkrb5-dev')) {
      throw new Error(
        `code-server's kerberos module needs ${GSSAPI_HEADER} (Debian package libkrb5-dev). Run:\n` +
          `  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${APT_PACKAGES.join(' ')}`,
      );
    }
    log(`note: ripgrep is not installed; VS Code's "search in files" will not work (apt-get install ripgrep)`);
    return;
  }
  log(`installing Debian packages: ${missing.join(' ')}`);
  // Another install holding the apt lock is waited for (and named), not a failure.
  if (!aptInstall(missing, { log })) throw new Error(`apt-get install ${missing.join(' ')} failed`);
}

/** Puts the ripgrep asset into @vscode/ripgrep's download cache under `tmpDir`. */
function seedRipgrepCache(tmpDir, log) {
  const cacheDir = path.join(tmpDir, `vscode-ripgrep-cache-${RIPGREP_PACKAGE_VERSION}`);
  const stage = path.join(tmpDir, 'rg-stage');
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(cacheDir, { recursive: true });
  mkdirSync(stage, { recursive: true });
  const rg = which('rg');
  const staged = path.join(stage, 'rg');
  if (rg) {
    copyFileSync(rg, staged);
    log(`ripgrep: using ${rg}`);
  } else {
    writeFileSync(staged, '#!/bin/sh\necho "ripgrep is not installed (apt-get install ripgrep), then re-run scripts/vscode/install-code-server.mjs --force" >&2\nexit 2\n');
  }
  chmodSync(staged, 0o755);
  run('tar', ['czf', path.join(cacheDir, RIPGREP_ASSET), '-C', stage, 'rg']);
}

/**
 * Installs code-server when missing or at another version; returns the entry script path.
 * @param {{ force?: boolean, log?: (msg: string) => void }} [opts]
 */
export function ensureCodeServer(opts = {}) {
  const log = opts.log ?? ((m) => console.log(`[code-server] ${m}`));
  if (!opts.force && codeServerInstalled()) {
    log(`code-server ${CODE_SERVER_VERSION} already installed in ${path.relative(repoRoot, installDir)}`);
    return codeServerEntry;
  }
  if (nodeMajor !== 20) {
    throw new Error(
      `code-server ${CODE_SERVER_VERSION} needs Node 20 (its postinstall refuses others); this is Node ${process.versions.node}.`,
    );
  }
  const started = Date.now();
  ensureSystemPackages(log);
  rmSync(path.join(installDir, 'node_modules'), { recursive: true, force: true });
  rmSync(markerFile, { force: true });
  const tmpDir = path.join(installDir, 'tmp');
  mkdirSync(tmpDir, { recursive: true });
  seedRipgrepCache(tmpDir, log);
  writeFileSync(
    path.join(installDir, 'package.json'),
    JSON.stringify({ name: 'pairforge-code-server', private: true, description: 'code-server for PairForge e2e and npm start (generated)' }, null, 2) + '\n',
  );
  log(`npm install code-server@${CODE_SERVER_VERSION} (builds native modules; about 1.5 minutes)`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  run(npm, ['install', '--no-audit', '--no-fund', '--save-exact', `code-server@${CODE_SERVER_VERSION}`], {
    cwd: installDir,
    env: {
      ...process.env,
      TMPDIR: tmpDir,
      // code-server's postinstall runs a nested `npm install` that must not stop at a prompt.
      npm_config_yes: 'true',
      // code-server's postinstall refuses to run as root without it.
      npm_config_unsafe_perm: 'true',
      // Its own postinstall runs with the machine's node; keep it first on PATH.
      PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}`,
    },
  });
  const rgBin = path.join(packageDir, 'lib', 'vscode', 'node_modules', '@vscode', 'ripgrep', 'bin', 'rg');
  if (!existsSync(codeServerEntry) || !existsSync(rgBin)) {
    throw new Error(`code-server install incomplete: ${existsSync(codeServerEntry) ? rgBin : codeServerEntry} is missing`);
  }
  writeFileSync(
    markerFile,
    JSON.stringify({ version: CODE_SERVER_VERSION, nodeMajor, node: process.version, installedAt: new Date().toISOString() }, null, 2) + '\n',
  );
  rmSync(tmpDir, { recursive: true, force: true });
  log(`installed code-server ${CODE_SERVER_VERSION} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return codeServerEntry;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  try {
    ensureCodeServer({ force: process.argv.includes('--force') });
  } catch (err) {
    console.error(`install-code-server: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}
