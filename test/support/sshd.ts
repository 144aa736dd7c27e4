// A real OpenSSH server on loopback for the hand-off's tests (docs/training.md "Tests"): its own
// config, port, host key, pid file and log, key login only (UsePAM no) for one account, a key pair
// and an ssh config file with Host aliases for the client (passed with `ssh -F`, so nothing touches
// ~/.ssh). It runs as root and logs the account `pairforge-ssh` in (.ci/run creates it, with a
// home, and unlocks it for key login: usermod -p '*'). The files' text is scripts/loopback-sshd.mjs's,
// which the demo's loopback GPU host (`npm start`) writes too.
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { knownHostsLine, makeKeyPair, publicKey, sshdConfigText, sshHostBlock, SSHD } from '../../scripts/loopback-sshd.mjs';

export const SSH_USER = 'pairforge-ssh';

export interface Account {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

export function lookupAccount(name: string): Account | undefined {
  for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const f = line.split(':');
    if (f[0] === name && f.length >= 6) return { name, uid: Number(f[2]), gid: Number(f[3]), home: f[5] };
  }
  return undefined;
}

/** Why the sshd tests cannot run here, or undefined. */
export function sshdMissing(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root (the test sshd logs another account in)';
  for (const [file, pkg] of [[SSHD, 'openssh-server'], ['/usr/bin/ssh', 'openssh-client'], ['/usr/bin/rsync', 'rsync'], ['/usr/bin/ssh-keygen', 'openssh-client']]) {
    if (!existsSync(file)) return `${file} is missing (apt-get install -y ${pkg})`;
  }
  if (!lookupAccount(SSH_USER)) return `no account '${SSH_USER}' (useradd --create-home --shell /bin/sh ${SSH_USER} && usermod -p '*' ${SSH_USER}, as .ci/run does)`;
  return undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export interface TestSshd {
  dir: string;
  port: number;
  account: Account;
  /** The client's ssh config file (ssh -F). */
  config: string;
  /** A Host alias that logs in with the trusted host key. */
  alias: string;
  /** known_hosts holding the server's key; and one that is empty. */
  knownHosts: string;
  emptyKnownHosts: string;
  /** The server's pid (the listener). */
  pid(): number;
  /** Ends every connection (the listener's children), as a dropped network would. */
  dropConnections(): number;
  /** Kills the run wrappers' process groups under `base` (their pid files), the connections and the server. */
  stop(base?: string): Promise<void>;
}

/** Starts sshd on a free loopback port; `aliases` are extra Host names for the same server. */
export async function startSshd(aliases: readonly string[] = []): Promise<TestSshd> {
  const account = lookupAccount(SSH_USER);
  if (!account) throw new Error(sshdMissing());
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pairforge-sshd-'));
  chmodSync(dir, 0o755);
  const port = await freePort();
  const hostKey = path.join(dir, 'host_ed25519');
  const userKey = path.join(dir, 'user_ed25519');
  makeKeyPair(hostKey, 'pairforge test host');
  makeKeyPair(userKey, 'pairforge test user');
  const authorized = path.join(dir, 'authorized_keys');
  writeFileSync(authorized, readFileSync(`${userKey}.pub`));
  chmodSync(authorized, 0o644);
  const sshdConfig = path.join(dir, 'sshd_config');
  const pidFile = path.join(dir, 'sshd.pid');
  writeFileSync(sshdConfig, sshdConfigText({ port, hostKey, pidFile, authorizedKeys: authorized, user: SSH_USER }));
  const knownHosts = path.join(dir, 'known_hosts');
  writeFileSync(knownHosts, knownHostsLine(port, publicKey(hostKey)));
  const emptyKnownHosts = path.join(dir, 'known_hosts.empty');
  writeFileSync(emptyKnownHosts, '');
  const alias = 'pf-gpu';
  const hostBlock = (name: string, known: string) => sshHostBlock({ alias: name, port, user: SSH_USER, identityFile: userKey, knownHosts: known });
  const config = path.join(dir, 'ssh_config');
  writeFileSync(config, [hostBlock(alias, knownHosts), ...aliases.map((a) => hostBlock(a, knownHosts)), hostBlock('pf-unknown', emptyKnownHosts)].join('\n'));
  mkdirSync('/run/sshd', { recursive: true });
  const log = path.join(dir, 'sshd.log');
  // sshd forks into the background once it listens (no -D): its pid is in the pid file.
  const r = spawnSync(SSHD, ['-f', sshdConfig, '-E', log], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`sshd did not start (exit ${r.status}): ${r.stderr}${existsSync(log) ? readFileSync(log, 'utf8') : ''}`);
  for (let i = 0; i < 50 && !existsSync(pidFile); i++) await new Promise((res) => setTimeout(res, 100));
  const pid = () => Number(readFileSync(pidFile, 'utf8').trim());
  const children = (parent: number): number[] => {
    const out: number[] = [];
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      try {
        const ppid = Number(/^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${name}/status`, 'utf8'))?.[1]);
        if (ppid === parent) out.push(Number(name));
      } catch {
        // gone meanwhile
      }
    }
    return out;
  };
  /** A process's children, their children, ... */
  const descendants = (parent: number): number[] => children(parent).flatMap((c) => [c, ...descendants(c)]);
  const dropConnections = () => {
    // Each connection is a process of the listener with its own children (the session); all go.
    const sessions = children(pid());
    for (const c of sessions.flatMap((s) => [...descendants(s).reverse(), s])) {
      try {
        process.kill(c, 'SIGKILL');
      } catch {
        // ended meanwhile
      }
    }
    return sessions.length;
  };
  return {
    dir,
    port,
    account,
    config,
    alias,
    knownHosts,
    emptyKnownHosts,
    pid,
    dropConnections,
    async stop(base?: string) {
      // The runs' wrappers lead their own sessions (setsid): their group is their pid.
      if (base && existsSync(base)) {
        for (const f of findFiles(base, 'pid')) {
          const wrapper = Number(readFileSync(f, 'utf8').trim());
          if (!Number.isInteger(wrapper) || wrapper <= 1) continue;
          try {
            process.kill(-wrapper, 'SIGKILL');
          } catch {
            // ended
          }
        }
      }
      dropConnections();
      try {
        process.kill(pid(), 'SIGTERM');
      } catch {
        // ended
      }
      for (let i = 0; i < 50; i++) {
        try {
          process.kill(pid(), 0);
        } catch {
          break;
        }
        await new Promise((res) => setTimeout(res, 100));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Every file named `name` under `dir`. */
function findFiles(dir: string, name: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) if (e.isFile() && e.name === name) out.push(path.join(e.parentPath, e.name));
  return out;
}

/** A folder `account` owns (the remote side's base), in a world-traversable temporary folder. */
export function remoteBase(account: Account): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pairforge-remote-'));
  chmodSync(dir, 0o755);
  chownSync(dir, account.uid, account.gid);
  return dir;
}

/** The processes `account` runs now (pid and command line). */
export function processesOf(account: Account): { pid: number; cmdline: string }[] {
  const out: { pid: number; cmdline: string }[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const status = readFileSync(`/proc/${name}/status`, 'utf8');
      if (Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]) !== account.uid) continue;
      // An ended process not reaped yet runs nothing.
      if (/^State:\s+Z/m.test(status)) continue;
      out.push({ pid: Number(name), cmdline: readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0/g, ' ').trim() });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Runs `argv` as `account` (runuser), for checks of what the remote side can reach. */
export function runAs(account: Account, argv: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('runuser', ['-u', account.name, '--', ...argv], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}


