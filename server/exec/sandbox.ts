// How a warm worker is started: the bubblewrap command line (docs/published.md "Sandboxing facts"; docs/execution.md "Isolation")
// or, with an explicit opt-in, a plain unisolated process.
//
// Inside: a read-only view of /usr (and the /bin, /lib* it implies), fresh /proc and /dev (both
// read-only), the harness folder read-only at /harness, a size-capped private tmpfs at /tmp (the
// only writable place), an empty read-only root, no environment but a few variables, and every
// namespace unshared: network (loopback only), PID, IPC, UTS, cgroup and user (uid/gid 65534,
// nested user namespaces disabled). As root, bwrap itself is started as uid/gid 65534, so the
// sandbox holds no capability in any namespace and RLIMIT_NPROC applies (the kernel exempts
// root's processes from it); where unprivileged user namespaces are off, root runs bwrap with
// --cap-drop ALL instead. --die-with-parent and --new-session tie the sandbox to the engine.
import { existsSync, lstatSync, readlinkSync, realpathSync, mkdtempSync, accessSync, constants, readFileSync, readdirSync, mkdirSync, writeFileSync, chownSync, rmdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { SandboxUnavailableError, type ExecLimits } from './types';

export const SANDBOX_UID = 65534;
export const HARNESS_MOUNT = '/harness';

export type SandboxMode = 'bwrap-nobody' | 'bwrap-root' | 'bwrap-user' | 'none';

export interface LaunchPlan {
  mode: SandboxMode;
  command: string;
  args: string[];
  /** Run the command as this uid/gid (root only). */
  uid?: number;
  gid?: number;
  /** Unisolated only: the private work directory to remove on close. */
  workdir?: string;
  /** Unisolated only: why the sandbox could not be used. */
  fallbackReason?: string;
  /** A memory cgroup (v1) under the engine's own, in which each worker gets a capped child group. */
  cgroup?: { base: string; limitBytes: number };
}

/** The folder holding worker.py/child.py: beside the bundle (dist/exec-python) or the source. */
export function harnessDir(): string {
  const candidates = [
    path.join(__dirname, 'exec-python'),
    path.join(__dirname, 'python'),
    path.resolve(__dirname, '..', 'server', 'exec', 'python'),
    path.resolve(__dirname, '..', '..', 'server', 'exec', 'python'),
  ];
  for (const dir of candidates) if (existsSync(path.join(dir, 'worker.py'))) return dir;
  throw new Error(`the execution harness (worker.py) is not beside the engine; looked in ${candidates.join(', ')}`);
}

/** The interpreter used inside the sandbox: PAIRFORGE_PYTHON, else /usr/bin/python3, else python3 on PATH. */
export function findPython(explicit?: string): string {
  const wanted = explicit ?? process.env.PAIRFORGE_PYTHON;
  if (wanted) return wanted;
  if (existsSync('/usr/bin/python3')) return '/usr/bin/python3';
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const p = path.join(dir, 'python3');
    if (existsSync(p)) return realpathSync(p);
  }
  throw new SandboxUnavailableError('no python3 found: install python3 (apt-get install python3) or set PAIRFORGE_PYTHON');
}

/** bubblewrap: $PAIRFORGE_BWRAP when set (a custom install; a path that does not exist means "no
 * bubblewrap"), else the usual places and PATH. */
export function findBwrap(): string | undefined {
  const configured = process.env.PAIRFORGE_BWRAP;
  if (configured) return existsSync(configured) ? configured : undefined;
  for (const dir of ['/usr/bin', '/bin', '/usr/local/bin', ...(process.env.PATH ?? '').split(path.delimiter)]) {
    const p = path.join(dir, 'bwrap');
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/** Mounts of the host system: /usr read-only, and /bin, /sbin, /lib* as the symlinks or folders they are. */
function systemMounts(python: string): string[] {
  const args = ['--ro-bind', '/usr', '/usr'];
  for (const top of ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32']) {
    let st;
    try {
      st = lstatSync(top);
    } catch {
      continue;
    }
    if (st.isSymbolicLink()) args.push('--symlink', readlinkSync(top), top);
    else if (st.isDirectory()) args.push('--ro-bind', top, top);
  }
  for (const f of ['/etc/ld.so.cache', '/etc/localtime', '/etc/alternatives']) args.push('--ro-bind-try', f, f);
  // An interpreter outside /usr (e.g. /opt/python3.12) brings its installation prefix.
  const real = realpathSync(python);
  if (!real.startsWith('/usr/')) {
    const prefix = path.dirname(path.dirname(real));
    args.push('--ro-bind', prefix, prefix);
  }
  return args;
}

export function bwrapArgs(python: string, harness: string, limits: ExecLimits, privileged: boolean): string[] {
  return [
    '--unshare-all',
    '--unshare-user',
    '--disable-userns',
    '--uid', String(SANDBOX_UID),
    '--gid', String(SANDBOX_UID),
    '--hostname', 'sandbox',
    '--die-with-parent',
    '--new-session',
    ...(privileged ? ['--cap-drop', 'ALL'] : []),
    ...systemMounts(python),
    '--ro-bind', harness, HARNESS_MOUNT,
    '--proc', '/proc',
    '--dev', '/dev',
    '--remount-ro', '/dev',
    '--size', String(limits.tmpfsBytes),
    '--tmpfs', '/tmp',
    '--remount-ro', '/',
    '--clearenv',
    '--setenv', 'PATH', '/usr/local/bin:/usr/bin:/bin',
    '--setenv', 'HOME', '/tmp',
    '--setenv', 'LANG', 'C.UTF-8',
    '--setenv', 'PYTHONHASHSEED', '0',
    '--setenv', 'PYTHONDONTWRITEBYTECODE', '1',
    '--setenv', 'PYTHONIOENCODING', 'utf-8',
    '--setenv', 'OMP_NUM_THREADS', '1',
    '--setenv', 'OPENBLAS_NUM_THREADS', '1',
    '--chdir', '/tmp',
    '--',
    python, '-s', `${HARNESS_MOUNT}/worker.py`,
  ];
}

const FIX = [
  'To fix it: install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap) and allow user namespaces',
  '(sysctl kernel.unprivileged_userns_clone=1; on Ubuntu 24.04+ also sysctl kernel.apparmor_restrict_unprivileged_userns=0;',
  'in Docker run the container with --security-opt seccomp=unconfined --security-opt apparmor=unconfined, or --privileged).',
  'Running untrusted programs without isolation is possible only with an explicit opt-in',
  '(--allow-unsandboxed / pairforge.exec.allowUnsandboxed), and is not recommended.',
].join(' ');

function tryBwrap(bwrap: string, python: string, harness: string, limits: ExecLimits, asNobody: boolean): string | undefined {
  const args = bwrapArgs(python, harness, limits, !asNobody && isRoot()).slice(0, -3);
  args.push(python, '-c', 'import os,socket;assert os.getuid()==65534;print(len(socket.if_nameindex()))');
  const r = spawnSync(bwrap, args, {
    encoding: 'utf8',
    timeout: 20_000,
    ...(asNobody ? { uid: SANDBOX_UID, gid: SANDBOX_UID } : {}),
  });
  if (r.status === 0 && r.stdout.trim() === '1') return undefined;
  return (r.stderr || r.error?.message || `exit status ${r.status}`).trim();
}

/** The headroom a sandbox's memory group has beyond one test's address space and its tmpfs. */
export const CGROUP_HEADROOM_BYTES = 256 * 1024 ** 2;

/** Removes the empty groups of engines that died without cleaning up (kill -9). */
export function sweepStaleCgroups(base: string): void {
  let names: string[];
  try {
    names = readdirSync(base);
  } catch {
    return;
  }
  for (const name of names) {
    const m = /^pairforge-(\d+)-\d+$/.exec(name);
    if (!m || Number(m[1]) === process.pid) continue;
    try {
      process.kill(Number(m[1]), 0);
      continue; // its engine is alive
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ESRCH') continue;
    }
    removeCgroup(path.join(base, name));
  }
}

function withCgroup(plan: LaunchPlan, limits: ExecLimits): LaunchPlan {
  const base = memoryCgroupBase();
  if (base) sweepStaleCgroups(base);
  return base ? { ...plan, cgroup: { base, limitBytes: limits.memoryBytes + limits.tmpfsBytes + CGROUP_HEADROOM_BYTES } } : plan;
}

/**
 * Decides how workers start, probing bubblewrap once. Isolation is always used when it works;
 * `allowUnsandboxed` only permits falling back to unisolated workers when it does not (the plan
 * then says why in `fallbackReason`). Without the opt-in that case throws SandboxUnavailableError,
 * saying how to fix it.
 */
export function planLaunch(python: string, limits: ExecLimits, allowUnsandboxed: boolean, bwrapPath?: string): LaunchPlan {
  const harness = harnessDir();
  const problem = (() => {
    const bwrap = bwrapPath !== undefined ? (existsSync(bwrapPath) ? bwrapPath : undefined) : findBwrap();
    if (!bwrap) return { plan: undefined, why: `bubblewrap (bwrap) is not installed, so untrusted programs cannot run isolated.` };
    const problems: string[] = [];
    if (isRoot()) {
      // Preferred: bwrap as nobody, so nothing in the sandbox is root anywhere.
      const err = tryBwrap(bwrap, python, harness, limits, true);
      if (!err) return { plan: withCgroup({ mode: 'bwrap-nobody', command: bwrap, args: bwrapArgs(python, harness, limits, false), uid: SANDBOX_UID, gid: SANDBOX_UID }, limits) };
      problems.push(`as uid ${SANDBOX_UID}: ${err}`);
      const err2 = tryBwrap(bwrap, python, harness, limits, false);
      if (!err2) return { plan: withCgroup({ mode: 'bwrap-root', command: bwrap, args: bwrapArgs(python, harness, limits, true) }, limits) };
      problems.push(`as root: ${err2}`);
    } else {
      const err = tryBwrap(bwrap, python, harness, limits, false);
      if (!err) return { plan: { mode: 'bwrap-user' as const, command: bwrap, args: bwrapArgs(python, harness, limits, false) } };
      problems.push(err);
    }
    return { plan: undefined, why: `bubblewrap (${bwrap}) cannot create the sandbox here: ${problems.join('; ')}.` };
  })();
  if (problem.plan) return problem.plan;
  if (!allowUnsandboxed) throw new SandboxUnavailableError(`${problem.why} ${FIX}`);
  const workdir = mkdtempSync(path.join(os.tmpdir(), 'pairforge-exec-'));
  return {
    mode: 'none',
    command: python,
    args: ['-s', path.join(harness, 'worker.py'), '--workdir', workdir],
    workdir,
    fallbackReason: problem.why,
  };
}

// ---- memory cgroups ----------------------------------------------------------------------------
// RLIMIT_AS caps each process, not the sandbox: 64 processes of 2 GiB each could still exhaust the
// host. Where the engine runs as root on a cgroup-v1 memory hierarchy it may write to, each worker
// runs in its own child group of the engine's memory cgroup, capped at memory + tmpfs + 256 MiB;
// the kernel's OOM killer then acts inside the sandbox (test processes volunteer for it with
// oom_score_adj 1000). Elsewhere the per-process limits are all there is (see the README).

/** The engine's own memory cgroup directory (cgroup v1), if it may create groups in it. */
export function memoryCgroupBase(): string | undefined {
  if (!isRoot()) return undefined;
  let lines: string[];
  try {
    lines = readFileSync('/proc/self/cgroup', 'utf8').split('\n');
  } catch {
    return undefined;
  }
  for (const line of lines) {
    const [, controllers, rel] = line.split(':');
    if (rel === undefined || !controllers.split(',').includes('memory')) continue;
    const dir = path.join('/sys/fs/cgroup/memory', rel);
    try {
      accessSync(path.join(dir, 'cgroup.procs'), constants.W_OK);
      accessSync(dir, constants.W_OK);
      return dir;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

let cgroupCounter = 0;

/** Creates a capped child group; its cgroup.procs is handed to `uid` so the sandbox can join it. */
export function createMemoryCgroup(base: string, limitBytes: number, uid?: number): string | undefined {
  const dir = path.join(base, `pairforge-${process.pid}-${++cgroupCounter}`);
  try {
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'memory.limit_in_bytes'), String(limitBytes));
    try {
      // With swap accounting, swap counts too (the file exists only then).
      writeFileSync(path.join(dir, 'memory.memsw.limit_in_bytes'), String(limitBytes));
    } catch {
      // no swap accounting
    }
    if (uid !== undefined) chownSync(path.join(dir, 'cgroup.procs'), uid, uid);
    return dir;
  } catch {
    removeCgroup(dir);
    return undefined;
  }
}

export function removeCgroup(dir: string): boolean {
  try {
    rmdirSync(dir);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

/** How many processes the OOM killer has killed in the group so far. */
export function oomKills(dir: string): number {
  try {
    const m = /^oom_kill (\d+)$/m.exec(readFileSync(path.join(dir, 'memory.oom_control'), 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}
