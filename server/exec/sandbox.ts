// How a warm worker is started: the bubblewrap command line of each isolation mode
// (docs/execution.md, "Isolation"; docs/published.md "Sandboxing facts") or, with an explicit
// opt-in, a plain unisolated process. Which mode an engine uses is decided in launch.ts.
//
// Inside: a read-only view of /usr (and the /bin, /lib* it implies), fresh /proc and /dev (both
// read-only), the harness read-only at /harness, a size-capped private tmpfs at /tmp (the only
// writable place), an empty read-only root, no environment but a few variables, and every
// namespace unshared: network (loopback only), PID, IPC, UTS, cgroup and user (uid/gid 65534,
// nested user namespaces disabled). In every bubblewrap mode the sandbox's processes are host
// uid 65534 (or, run by an ordinary user, that user) and hold no capability anywhere, so
// RLIMIT_NPROC applies (the kernel exempts root's processes from it) and the worker's /proc
// entries, which the kernel gives to root once the worker is not dumpable, stay shut to tests.
// --die-with-parent and --new-session tie the sandbox to the engine.
//
// Nothing of the install folder needs to be readable by uid 65534: the harness files are handed
// to bubblewrap as open descriptors (--ro-bind-data), read by the engine's own user.
import { existsSync, lstatSync, readlinkSync, realpathSync, accessSync, constants, readFileSync, readdirSync, mkdirSync, writeFileSync, chownSync, rmdirSync } from 'node:fs';
import path from 'node:path';
import { SandboxUnavailableError, type ExecLimits } from './types';
import type { Isolation } from '../protocol';

export const SANDBOX_UID = 65534;
export const HARNESS_MOUNT = '/harness';
/**
 * The worker's control channel: one socket, descriptor 3 of the sandboxed process. Not its
 * stdin/stdout: bubblewrap's init (pid 1 in the sandbox, of the tests' uid and dumpable) keeps
 * descriptors 0-2 open, and a test could take them with pidfd_getfd(2) and answer in the worker's
 * name; init closes every other descriptor, so only the worker holds this one.
 */
export const CHANNEL_FD = 3;
/** The descriptors a launch hands over start here, after the channel: the harness files, then
 * (bwrap-root) the user namespace. */
export const FIRST_PASSED_FD = 4;

export type SandboxMode = Isolation;

export interface LaunchPlan {
  mode: SandboxMode;
  command: string;
  args: string[];
  /** Run the command as this uid/gid (root only; also drops root's supplementary groups). */
  uid?: number;
  gid?: number;
  /** Files handed to the command as descriptors FIRST_PASSED_FD, +1, ... (the harness). */
  files?: string[];
  /** bwrap-root: a user namespace is made for each worker (userns.ts) with this interpreter and
   * handed over as the descriptor after the files. */
  userns?: { python: string };
  /** Unisolated only: the private work directory to remove on close. */
  workdir?: string;
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

export const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/** The harness files (worker.py, child.py, ...) of `dir`, handed to bubblewrap by descriptor. */
export function harnessFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => n.endsWith('.py'))
    .sort()
    .map((n) => path.join(dir, n));
}

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

/**
 * bubblewrap's arguments for a bubblewrap mode. `files` are the harness files, passed as
 * descriptors FIRST_PASSED_FD, +1, ... and copied read-only into /harness; in bwrap-root the
 * user namespace made by the engine is the descriptor after them.
 */
export function bwrapArgs(python: string, files: readonly string[], limits: ExecLimits, mode: Exclude<SandboxMode, 'none'>): string[] {
  const userns =
    mode === 'bwrap-root'
      ? // Joins the namespace the engine made (nested namespaces are already off in it), and drops
        // the capabilities a root-started bubblewrap would otherwise keep.
        ['--userns', String(FIRST_PASSED_FD + files.length), '--cap-drop', 'ALL']
      : ['--unshare-user', '--disable-userns'];
  return [
    ...userns,
    '--unshare-ipc',
    '--unshare-pid',
    '--unshare-net',
    '--unshare-uts',
    '--unshare-cgroup-try',
    '--uid', String(SANDBOX_UID),
    '--gid', String(SANDBOX_UID),
    '--hostname', 'sandbox',
    '--die-with-parent',
    '--new-session',
    ...systemMounts(python),
    ...files.flatMap((f, i) => ['--perms', '0444', '--ro-bind-data', String(FIRST_PASSED_FD + i), `${HARNESS_MOUNT}/${path.basename(f)}`]),
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

/** Why a started worker does not count as isolated in `mode` (undefined: it does). */
export function isolationProblem(mode: Isolation, ready: Record<string, unknown>): string | undefined {
  if (mode === 'none') return undefined;
  const problems: string[] = [];
  if (ready.uid !== SANDBOX_UID || ready.gid !== SANDBOX_UID) problems.push(`it runs as uid ${String(ready.uid)} gid ${String(ready.gid)}, not ${SANDBOX_UID}`);
  if (!Array.isArray(ready.groups) || ready.groups.some((g) => g !== SANDBOX_UID)) problems.push(`it keeps supplementary groups ${JSON.stringify(ready.groups)}`);
  if (ready.netifs !== 1) problems.push(`it sees ${String(ready.netifs)} network interfaces, not loopback only`);
  if (ready.capeff !== 0) problems.push(`it keeps capabilities (CapEff ${String(ready.capeff)})`);
  if (ready.dumpable !== 0) problems.push('it could not make itself non-dumpable (prctl via ctypes), so tests could read it through /proc');
  return problems.length ? `the sandbox is not what it should be: ${problems.join('; ')}` : undefined;
}

export const NO_BWRAP = 'bubblewrap (bwrap) is not installed, so untrusted programs cannot run isolated.';

export const FIX = [
  'To fix it: install bubblewrap 0.8 or newer (Debian/Ubuntu: apt-get install bubblewrap) and allow user namespaces',
  '(sysctl kernel.unprivileged_userns_clone=1; on Ubuntu 24.04+ also sysctl kernel.apparmor_restrict_unprivileged_userns=0;',
  'in Docker run the container with --security-opt seccomp=unconfined --security-opt apparmor=unconfined, or --privileged).',
  'Running untrusted programs without isolation is possible only with an explicit opt-in',
  '(--allow-unsandboxed / pairforge.exec.allowUnsandboxed), and is not recommended.',
].join(' ');

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
 * How workers start in `mode`. `harness` is the folder of the harness files; `workdir` (mode
 * none) the private work directory the unisolated worker uses instead of a tmpfs.
 */
export function launchPlan(mode: SandboxMode, bwrap: string | undefined, python: string, harness: string, limits: ExecLimits, workdir?: string): LaunchPlan {
  if (mode === 'none') {
    if (!workdir) throw new Error('an unisolated launch needs a work directory');
    return { mode, command: python, args: ['-s', path.join(harness, 'worker.py'), '--workdir', workdir], workdir };
  }
  if (!bwrap) throw new SandboxUnavailableError(NO_BWRAP);
  const files = harnessFiles(harness);
  const plan: LaunchPlan = { mode, command: bwrap, args: bwrapArgs(python, files, limits, mode), files };
  if (mode === 'bwrap-nobody') return withCgroup({ ...plan, uid: SANDBOX_UID, gid: SANDBOX_UID }, limits);
  if (mode === 'bwrap-root') return withCgroup({ ...plan, uid: 0, gid: 0, userns: { python } }, limits);
  return plan;
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
