// The demo's loopback "GPU host" (docs/training.md "The demo, as a new user would do it"): `npm
// start` runs an OpenSSH server of its own on 127.0.0.1, as the user running npm start and logging
// that same user in (root or not; no account is made), so Send to Training on the demo workspace
// goes over real ssh and rsync to this machine and trains there with the trainer's venv. Its files,
// all in one folder (.cache/demo-gpu/, mode 0700):
//
//   host_ed25519[.pub]     the server's host key          made once, kept
//   client_ed25519[.pub]   the client's key pair          made once, kept
//   authorized_keys        the client's public key (the only key that logs in)
//   sshd_config sshd.pid sshd.log                         the server (config rewritten each start)
//   ssh_config known_hosts                                the client: ssh -F ssh_config demo-gpu
//   runs/                  the run folders (pairforge.training.remoteDir)
//
// The server runs in the foreground of its own process group (sshd -D), so a Ctrl-C on the
// terminal reaches npm start, which stops in order: the training runs still going on the host
// (SIGTERM to their wrappers: the trainer stops at a step boundary and says so), the connections,
// then the server. A start first stops the server a previous start left running (npm start killed
// with SIGKILL): only the process the pid file names whose command line names this sshd_config.
//
//   node scripts/demo-gpu.mjs [--dir DIR] [--port N]   runs it alone until Ctrl-C
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setInterval } from 'node:timers';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ensurePackages } from './apt-lock.mjs';
import { knownHostsLine, makeKeyPair, publicKey, SSHD, sshdConfigText, sshHostBlock } from './loopback-sshd.mjs';
import { freePort } from './vscode/launch.mjs';

export const DEMO_GPU_ALIAS = 'demo-gpu';
export const demoGpuDir = path.join(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..'), '.cache', 'demo-gpu');
/** The run folder's wrapper (server/training/scripts.ts RUN_FILES.wrapper and .pid). */
const WRAPPER = 'pairforge-run.sh';
const WRAPPER_PID = 'pid';

/** A file each Debian package the demo host needs installs. python3-venv: the trainer's venv
 * (scripts/trainer-venv.sh) is made with `python3 -m venv`, which needs Debian's ensurepip. */
const NEEDS = [
  { pkg: 'openssh-server', present: () => existsSync(SSHD) },
  { pkg: 'openssh-client', present: () => existsSync('/usr/bin/ssh') && existsSync('/usr/bin/ssh-keygen') },
  { pkg: 'rsync', present: () => existsSync('/usr/bin/rsync') },
  { pkg: 'python3-venv', present: () => spawnSync('/usr/bin/python3', ['-c', 'import ensurepip, venv']).status === 0 },
];

/** Installs what the demo host needs (as root, with apt, starting no service: the system's sshd
 * stays off); returns why it cannot run, or undefined. */
export function ensureDemoGpuPackages({ log = (m) => console.log(m) } = {}) {
  return ensurePackages(NEEDS, { purpose: "the demo's GPU host", log, noServices: true });
}

/**
 * The demo workspace's `pairforge.training.*` settings for the running host `gpu` (what
 * startDemoGpu returns) and the trainer venv's `python`: everything Send to Training would
 * otherwise ask for. npm start writes them; the demo host's test sends with exactly these.
 * @param {{ alias: string, sshConfig: string, runs: string }} gpu
 * @param {string} python
 */
export function demoTrainingSettings(gpu, python) {
  return {
    'pairforge.training.host': gpu.alias,
    'pairforge.training.sshConfig': gpu.sshConfig,
    'pairforge.training.remoteDir': gpu.runs,
    'pairforge.training.python': python,
    // No GPU and no model download: the trainer's tiny random model (docs/training.md "--tiny"),
    // on one thread (a model that small gains nothing from more), with the Hugging Face hub off.
    'pairforge.training.tiny': true,
    'pairforge.training.setup': 'export OMP_NUM_THREADS=1 HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1',
    // The demo's pairs are unreviewed after npm start: a send takes the accepted ones and the
    // pending ones no filter flagged (never a rejected or flagged one), as `pairforge train
    // --include-pending` does, so it trains after one review or none.
    'pairforge.training.includePending': true,
  };
}

/** The folder's files. */
function files(dir) {
  return {
    dir,
    hostKey: path.join(dir, 'host_ed25519'),
    clientKey: path.join(dir, 'client_ed25519'),
    authorizedKeys: path.join(dir, 'authorized_keys'),
    sshdConfig: path.join(dir, 'sshd_config'),
    pidFile: path.join(dir, 'sshd.pid'),
    log: path.join(dir, 'sshd.log'),
    sshConfig: path.join(dir, 'ssh_config'),
    knownHosts: path.join(dir, 'known_hosts'),
    runs: path.join(dir, 'runs'),
  };
}

const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** Whether `pid` runs: a zombie (ended, not yet reaped by a parent that is busy or gone, as
 * here where pid 1 may reap nothing) counts as ended. */
export function alive(pid) {
  try {
    return !/^\d+ \(.*\) Z/s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

function readPid(file) {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 1 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** A process's command line as one string (sshd rewrites its own into a title). */
function cmdline(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

/** A process's children, their children, ... (from /proc: PPid). */
function descendants(parent) {
  const byParent = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const ppid = Number(/^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${name}/status`, 'utf8'))?.[1]);
      byParent.set(ppid, [...(byParent.get(ppid) ?? []), Number(name)]);
    } catch {
      // ended meanwhile
    }
  }
  const out = [];
  const walk = (p) => {
    for (const c of byParent.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(parent);
  return out;
}

function signal(pid, sig) {
  try {
    process.kill(pid, sig);
  } catch {
    // ended meanwhile
  }
}

/** Ends the server `pid` and its connections (each a child of the listener, with the session's
 * processes below it), and waits (3 s at most) for the listener to go. */
function stopServer(pid) {
  for (const p of descendants(pid).reverse()) signal(p, 'SIGKILL');
  signal(pid, 'SIGTERM');
  for (let i = 0; i < 30 && alive(pid); i++) sleep(100);
  if (alive(pid)) signal(pid, 'SIGKILL');
}

/** The training runs still going in `runs` (their wrappers: the pid file's process, running the
 * wrapper in that run folder), as [pid, run folder]. */
export function runningRuns(runs) {
  const out = [];
  if (!existsSync(runs)) return out;
  for (const e of readdirSync(runs, { withFileTypes: true })) {
    if (!e.isDirectory()) continue;
    const run = path.join(runs, e.name);
    const pid = readPid(path.join(run, WRAPPER_PID));
    if (!pid || !alive(pid) || !cmdline(pid).includes(WRAPPER)) continue;
    try {
      if (readlinkSync(`/proc/${pid}/cwd`) !== run) continue;
    } catch {
      continue;
    }
    out.push([pid, run]);
  }
  return out;
}

/** The server a previous start left running (npm start killed with SIGKILL), if any. */
function staleServer(f) {
  const pid = readPid(f.pidFile);
  return pid && alive(pid) && cmdline(pid).includes(f.sshdConfig) ? pid : undefined;
}

/** Makes a key pair unless a whole one is there; its private half stays 0600 (ssh and sshd
 * refuse one that others can read). */
function keyPair(file, comment) {
  if (!existsSync(file) || !existsSync(`${file}.pub`)) {
    rmSync(file, { force: true });
    rmSync(`${file}.pub`, { force: true });
    makeKeyPair(file, comment);
  }
  chmodSync(file, 0o600);
}

function tail(file, lines = 15) {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * Starts the demo's GPU host: sshd on 127.0.0.1:port (a free one unless given) logging the current
 * user in with the folder's client key, and checks a login through the Host alias.
 * @param {{ dir?: string, port?: number, log?: (m: string) => void }} [o]
 */
export async function startDemoGpu(o = {}) {
  const log = o.log ?? ((m) => console.log(m));
  const f = files(o.dir ?? demoGpuDir);
  const user = os.userInfo();
  mkdirSync(f.dir, { recursive: true });
  chmodSync(f.dir, 0o700);
  mkdirSync(f.runs, { recursive: true });
  const stale = staleServer(f);
  if (stale) {
    log(`stopping the demo host's sshd a previous npm start left running (pid ${stale})`);
    stopServer(stale);
  }
  keyPair(f.hostKey, `pairforge ${DEMO_GPU_ALIAS} host`);
  keyPair(f.clientKey, `pairforge ${DEMO_GPU_ALIAS} client`);
  writeFileSync(f.authorizedKeys, `${publicKey(f.clientKey)} pairforge ${DEMO_GPU_ALIAS} client\n`);
  const port = o.port ?? (await freePort());
  writeFileSync(f.sshdConfig, sshdConfigText({ port, hostKey: f.hostKey, pidFile: f.pidFile, authorizedKeys: f.authorizedKeys, user: user.username }));
  writeFileSync(f.knownHosts, knownHostsLine(port, publicKey(f.hostKey)));
  writeFileSync(
    f.sshConfig,
    `# The demo's loopback GPU host that npm start runs (docs/training.md): ssh -F ${f.sshConfig} ${DEMO_GPU_ALIAS}\n` +
      sshHostBlock({ alias: DEMO_GPU_ALIAS, port, user: user.username, identityFile: f.clientKey, knownHosts: f.knownHosts }),
  );
  // sshd running as root needs its privilege separation folder (the system's sshd makes it when it starts).
  if (user.uid === 0) mkdirSync('/run/sshd', { recursive: true });
  rmSync(f.pidFile, { force: true });
  const child = spawn(SSHD, ['-D', '-f', f.sshdConfig, '-E', f.log], { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => (stderr += d));
  let exited;
  child.on('exit', (code, sig) => (exited = code ?? sig));
  child.on('error', (err) => (exited = err.message));
  // sshd writes its pid file once it listens.
  for (let i = 0; i < 100 && exited === undefined && !existsSync(f.pidFile); i++) await new Promise((r) => setTimeout(r, 100));
  if (exited !== undefined || !existsSync(f.pidFile)) {
    if (exited === undefined) stopServer(child.pid);
    throw new Error(`sshd did not start (${exited === undefined ? 'no pid file after 10 s' : `exit ${exited}`}; is port ${port} free? set PAIRFORGE_SSH_PORT): ${stderr.trim()}\n${tail(f.log)}`);
  }
  const pid = child.pid;
  let stopped = false;
  const stop = () => {
    if (stopped) return [];
    stopped = true;
    const runs = runningRuns(f.runs);
    for (const [wrapper] of runs) signal(wrapper, 'SIGTERM');
    stopServer(pid);
    return runs.map(([, run]) => path.basename(run));
  };
  const probe = spawnSync('ssh', ['-F', f.sshConfig, '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=10', DEMO_GPU_ALIAS, 'true'], { encoding: 'utf8', timeout: 30_000 });
  if (probe.status !== 0) {
    stop();
    throw new Error(`ssh -F ${f.sshConfig} ${DEMO_GPU_ALIAS} true failed (exit ${probe.status ?? probe.signal}): ${probe.stderr.trim()}\nsshd's log (${f.log}):\n${tail(f.log)}`);
  }
  return { alias: DEMO_GPU_ALIAS, ...f, port, user: user.username, pid, stop };
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const arg = (name) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  try {
    const host = await startDemoGpu({ dir: arg('--dir') ? path.resolve(arg('--dir')) : undefined, port: arg('--port') ? Number(arg('--port')) : undefined });
    console.log(`${host.alias}: sshd on 127.0.0.1:${host.port} as ${host.user} (pid ${host.pid}); ssh -F ${host.sshConfig} ${host.alias}; Ctrl-C stops it`);
    const end = () => {
      const runs = host.stop();
      if (runs.length) console.log(`stopped the training runs still going: ${runs.join(', ')}`);
      process.exit(0);
    };
    process.on('SIGINT', end);
    process.on('SIGTERM', end);
    setInterval(() => {}, 1 << 30);
  } catch (err) {
    console.error(`demo-gpu: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}
