// Debian's package manager allows one apt/dpkg at a time: a second `apt-get install` while another
// runs (unattended upgrades, another user's install, a CI step) fails at once with "Could not get
// lock /var/lib/dpkg/lock-frontend". `npm start` and .ci/run wait for it instead, and say so: the
// holders are found in /proc/locks (the kernel's table of file locks: apt and dpkg take fcntl locks
// on these files), and `apt-get` runs with DPkg::Lock::Timeout for the moment between the check and
// its own lock; an `apt-get` that still fails on a lock is retried after waiting again.
//
//   node scripts/apt-lock.mjs [--timeout SECONDS]     waits until no apt/dpkg lock is held
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

export const APT_LOCKS = ['/var/lib/dpkg/lock-frontend', '/var/lib/dpkg/lock', '/var/lib/apt/lists/lock', '/var/cache/apt/archives/lock'];

/** The locks of /proc/locks: pid (-1 for open-file-description locks) and the locked file's
 * device (major:minor, hex) and inode. Lines of waiters (`->`) are left out. */
export function parseProcLocks(text) {
  const out = [];
  for (const line of text.split('\n')) {
    const m = /^\d+:\s+(\S+)\s+\S+\s+\S+\s+(-?\d+)\s+([0-9a-f]+):([0-9a-f]+):(\d+)\s/.exec(line);
    if (m) out.push({ type: m[1], pid: Number(m[2]), major: parseInt(m[3], 16), minor: parseInt(m[4], 16), inode: Number(m[5]) });
  }
  return out;
}

/** Which of `files` (with their device and inode) a lock of `locks` holds, and by which process. */
export function heldBy(files, locks) {
  const held = [];
  for (const f of files) {
    const l = locks.find((x) => x.inode === f.inode && x.major === f.major && x.minor === f.minor);
    if (l) held.push({ file: f.file, pid: l.pid });
  }
  return held;
}

function commandOf(pid) {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** The apt/dpkg locks held right now (none where /proc/locks cannot be read). */
export function heldAptLocks() {
  let text;
  try {
    text = readFileSync('/proc/locks', 'utf8');
  } catch {
    return [];
  }
  const files = [];
  for (const file of APT_LOCKS) {
    try {
      const st = statSync(file);
      // st.dev packs major and minor the way glibc does (major in bits 8-19, minor in 0-7 and 20-31).
      const dev = Number(st.dev);
      files.push({ file, inode: Number(st.ino), major: (dev >> 8) & 0xfff, minor: (dev & 0xff) | ((dev >> 12) & 0xfff00) });
    } catch {
      // no such lock file: nothing holds it
    }
  }
  return heldBy(files, parseProcLocks(text)).map((h) => ({ ...h, command: h.pid > 0 ? commandOf(h.pid) : undefined }));
}

const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** Waits (synchronously) while an apt/dpkg lock is held, saying who holds it now and then. */
export function waitForAptLocks({ log = (m) => console.log(m), timeoutMs = 600_000, pollMs = 2_000 } = {}) {
  const started = Date.now();
  let told = 0;
  for (;;) {
    const held = heldAptLocks();
    if (held.length === 0) {
      if (told) log(`apt: the lock is free after ${Math.round((Date.now() - started) / 1000)} s`);
      return;
    }
    const who = held.map((h) => `${h.file} (process ${h.pid}${h.command ? ` ${h.command}` : ''})`).join(', ');
    if (Date.now() - started > timeoutMs) throw new Error(`apt: still locked after ${Math.round(timeoutMs / 1000)} s: ${who}; try again when it has finished`);
    if (Date.now() - told >= 30_000) {
      log(`apt: another package install holds ${who}; waiting for it to finish...`);
      told = Date.now();
    }
    sleep(pollMs);
  }
}

/** `apt-get ARGS` once no lock is held, waiting for the lock (up to 10 minutes) instead of failing
 * on it; its output goes to the terminal. Returns apt-get's exit status. */
export function aptGet(args, { log = (m) => console.log(m), env = process.env, attempts = 5 } = {}) {
  for (let i = 1; ; i++) {
    waitForAptLocks({ log });
    const r = spawnSync('apt-get', ['-o', 'DPkg::Lock::Timeout=600', ...args], { stdio: ['inherit', 'inherit', 'pipe'], env, encoding: 'utf8' });
    if (r.stderr) process.stderr.write(r.stderr);
    if (r.status === 0 || i >= attempts || !/Could not get lock|Unable to (acquire|lock)/.test(r.stderr ?? '')) return r.status ?? 1;
    log(`apt: apt-get ${args[0]} found the lock taken; waiting and trying again (${i}/${attempts})`);
  }
}

/** Debian's hook that invoke-rc.d asks before starting a service; exit 101 means "not now". */
const POLICY_RC_D = '/usr/sbin/policy-rc.d';

/** `apt-get install PACKAGES` (as root), waiting for a held lock; when it fails, `apt-get update`
 * once (stale lists) and again. With `noServices` the packages' installation starts no service
 * (openssh-server would start the system's sshd on port 22): a policy-rc.d that denies it, only
 * while installing and only where none exists. Returns whether the install succeeded. */
export function aptInstall(packages, { log = (m) => console.log(m), noServices = false } = {}) {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const madePolicy = noServices && !existsSync(POLICY_RC_D);
  if (madePolicy) writeFileSync(POLICY_RC_D, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  try {
    const install = () => aptGet(['install', '-y', '--no-install-recommends', ...packages], { log, env }) === 0;
    if (install()) return true;
    return aptGet(['update'], { log, env }) === 0 && install();
  } finally {
    if (madePolicy) rmSync(POLICY_RC_D, { force: true });
  }
}

/**
 * Installs the Debian packages of `needs` that are not there (each `{ pkg, present() }`), as root
 * with aptInstall; returns why they cannot be had (not root, or apt failed), or undefined when all
 * are present. `purpose` names what needs them, in that message.
 * @param {{ pkg: string, present: () => boolean }[]} needs
 * @param {{ purpose: string, log?: (m: string) => void, noServices?: boolean }} o
 */
export function ensurePackages(needs, { purpose, log = (m) => console.log(m), noServices = false }) {
  const missing = () => needs.filter((n) => !n.present()).map((n) => n.pkg);
  let absent = missing();
  if (absent.length === 0) return undefined;
  const canInstall = process.getuid?.() === 0 && spawnSync('sh', ['-c', 'command -v apt-get']).status === 0;
  if (!canInstall) {
    return `${absent.join(', ')} ${absent.length > 1 ? 'are' : 'is'} not installed (${purpose} needs ${absent.length > 1 ? 'them' : 'it'}: sudo apt-get install -y --no-install-recommends ${absent.join(' ')}; run as root, npm start installs them itself)`;
  }
  log(`installing Debian packages for ${purpose}: ${absent.join(' ')}${noServices ? ' (no service is started)' : ''}`);
  aptInstall(absent, { log, noServices });
  absent = missing();
  return absent.length ? `apt-get install ${absent.join(' ')} failed (see apt's messages above)` : undefined;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const i = process.argv.indexOf('--timeout');
  waitForAptLocks({ ...(i > 0 ? { timeoutMs: Number(process.argv[i + 1]) * 1000 } : {}) });
}
