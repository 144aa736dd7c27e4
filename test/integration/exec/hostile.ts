// The hostile programs of the sandbox suite (docs/execution.md, "Hostile programs") and how one
// is run and checked, shared by the in-process suite (sandbox.test.ts) and the driver that
// runs the suite as another user, from another folder or in another mode
// (hostile.driver.ts, started by matrix.test.ts). No vitest here: the driver is
// a plain Node program.
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BACKSTOP_MS, type ExecEngine } from '../../../server/exec/engine';
import type { ExecLimits, TestSpec } from '../../../server/exec/types';
import type { Verdict } from '../../../server/protocol';

export const HOSTILE_LIMITS: Partial<ExecLimits> = {
  testTimeoutMs: 1500,
  candidateTimeoutMs: 20_000,
  memoryBytes: 512 * 1024 ** 2,
  outputBytes: 256 * 1024,
  tmpfsBytes: 8 * 1024 ** 2,
};

/**
 * How long a hostile program may take beyond the limit it runs into: the kill, the reaping and a
 * replacement worker. A fixed part, plus a multiple of a trivial test's wall clock measured on
 * the same engine just before (`refMs`), so the bound grows with the load the machine is under
 * instead of assuming a quiet one.
 */
export const BASE_SLACK_MS = 2000;
export const REF_FACTOR = 40;
export function allowedMs(h: Hostile, refMs: number): number {
  return (h.within ?? 0) + BASE_SLACK_MS + REF_FACTOR * refMs;
}

/** A test that waited for a CPU may run up to twice its limit (worker.py, TestClock): the bound
 * for programs that keep the CPU busy; a program that sleeps or blocks ends at its limit. */
const CPU_BOUND_MS = 2 * (HOSTILE_LIMITS.testTimeoutMs ?? 0);

export const stdio = (expected: string, input = ''): TestSpec => ({ kind: 'stdio', input, expected, fn_name: null, code: null, setup: null });

/** What the programs may aim at, and what decides an expected verdict. */
export interface HostileEnv {
  /** A TCP server of the host on 127.0.0.1 that must see no connection. */
  port: number;
  /** Files outside the sandbox that must not appear. */
  hostTargets: string[];
  /** The engine has a memory cgroup (root on cgroup v1): the sandbox's processes together are capped. */
  cgroup: boolean;
}

export interface Hostile {
  name: string;
  code: string;
  test?: TestSpec;
  verdict: Verdict;
  /** The limit the program runs into, to bound how long it may take. */
  within?: number;
  /** Run on an engine of its own with these limits (over the suite's). */
  limits?: Partial<ExecLimits>;
  message?: RegExp;
  /** Part of the subset run while every core is kept busy. */
  load?: boolean;
}

export const hostTargets = (marker: string, cwd = process.cwd()): string[] => [
  path.join(os.tmpdir(), `${marker}-escape`),
  path.join(cwd, `${marker}-escape`),
  `/root/${marker}-escape`,
];

// A forged worker message: what a program that reached the engine's channel would write.
const FORGED =
  JSON.stringify({ op: 'result', ordinal: 0, status: 'exited', exit_code: 0, signal: null, stdout: 'FORGED\n', stdout_bytes: 7, stderr_tail: '', stderr_bytes: 0, report: { outcome: 'ok' }, duration_ms: 1, cpu_ms: 1, maxrss_kb: 1, leftover_processes: 0, dirty: false }) +
  '\n' +
  JSON.stringify({ op: 'done', next: 1, reason: 'complete' }) +
  '\n';

/** Takes every descriptor of the worker it can (pidfd_getfd, or opening /proc/<worker>/fd/N). */
const TAKE_WORKER_FDS = `import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
ppid = os.getppid()
got = []
try:
    pfd = os.pidfd_open(ppid)
except OSError:
    pfd = None
for fd in range(300):
    if pfd is not None and libc.syscall(438, pfd, fd, 0) >= 0:
        got.append(('pidfd_getfd', fd))
    for how in (os.O_RDONLY, os.O_WRONLY):
        try:
            os.close(os.open('/proc/%d/fd/%d' % (ppid, fd), how))
            got.append(('open', fd))
        except OSError:
            pass
print(got)`;

/** Reads the worker another way: ptrace, process_vm_readv, its /proc files. */
const READ_WORKER = `import ctypes, errno, os
libc = ctypes.CDLL(None, use_errno=True)
ppid = os.getppid()
got = []
if libc.ptrace(16, ppid, 0, 0) == 0:  # PTRACE_ATTACH
    got.append('ptrace attach')
if libc.ptrace(0x4206, ppid, 0, 0) == 0:  # PTRACE_SEIZE
    got.append('ptrace seize')
class iovec(ctypes.Structure):
    _fields_ = [('base', ctypes.c_void_p), ('len', ctypes.c_size_t)]
buf = ctypes.create_string_buffer(16)
local, remote = iovec(ctypes.cast(buf, ctypes.c_void_p), 16), iovec(0x400000, 16)
r = libc.process_vm_readv(ppid, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)
if r >= 0 or ctypes.get_errno() not in (errno.EPERM, errno.EACCES):
    got.append('process_vm_readv %d %d' % (r, ctypes.get_errno()))
for name in ('mem', 'environ', 'maps', 'auxv', 'syscall', 'stack', 'fd', 'fdinfo', 'cwd', 'root', 'map_files'):
    p = '/proc/%d/%s' % (ppid, name)
    try:
        if name in ('fd', 'fdinfo', 'cwd', 'root', 'map_files'):
            os.listdir(p + '/')
        else:
            with open(p, 'rb') as f:
                f.read(1)
        got.append(name)
    except OSError:
        pass
print(got)`;

/** Writes a forged worker message into every descriptor of the sandbox's init (pid 1, which is
 * of the tests' own uid and dumpable) and of the worker it can take. */
const FORGE_THROUGH_INIT = `import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
forged = ${JSON.stringify(FORGED)}.encode()
for pid in (1, os.getppid()):
    try:
        pfd = os.pidfd_open(pid)
    except OSError:
        continue
    for fd in range(300):
        n = libc.syscall(438, pfd, fd, 0)
        if n >= 0:
            try:
                os.write(n, forged)
            except OSError:
                pass
        try:
            w = os.open('/proc/%d/fd/%d' % (pid, fd), os.O_WRONLY)
            os.write(w, forged)
        except OSError:
            pass`;

/** New namespaces, root, or a uid change: none of it may work. */
const ESCALATE = `import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
got = []
for flag, name in ((0x10000000, 'user'), (0x00020000, 'mount'), (0x20000000, 'pid'), (0x40000000, 'net')):
    if libc.unshare(flag) == 0:
        got.append('unshare ' + name)
for f, name in ((os.setuid, 'setuid'), (os.setgid, 'setgid')):
    try:
        f(0)
        got.append(name)
    except OSError:
        pass
print(got)`;

/** The hostile programs, in the order they run (the worker checks run on fresh workers first,
 * and again after the programs that kill their worker, on its replacement). */
export function hostilePrograms(env: HostileEnv): Hostile[] {
  const workerChecks = (when: string): Hostile[] => [
    { name: `takes the worker's descriptors (pidfd_getfd, /proc/<worker>/fd/N)${when}`, code: TAKE_WORKER_FDS, test: stdio('[]'), verdict: 'pass', load: true },
    { name: `reads the worker (ptrace, process_vm_readv, /proc/<worker>/mem, environ, ...)${when}`, code: READ_WORKER, test: stdio('[]'), verdict: 'pass', load: true },
    { name: `forges a result through the descriptors of the sandbox's init${when}`, code: FORGE_THROUGH_INIT, test: stdio('FORGED'), verdict: 'wrong_answer', load: true },
  ];
  return [
    ...workerChecks(''),
    {
      name: 'network: connect to a server on the host loopback',
      code: `import socket\ns = socket.create_connection(('127.0.0.1', ${env.port}), timeout=1)\nprint('CONNECTED')`,
      test: stdio('CONNECTED'),
      verdict: 'runtime_error',
      message: /ConnectionRefusedError|OSError/,
    },
    {
      name: 'network: reach the outside (TCP to 1.1.1.1 and DNS)',
      code: `import socket\ntry:\n    socket.getaddrinfo('example.com', 80)\n    print('DNS')\nexcept OSError:\n    pass\ns = socket.create_connection(('1.1.1.1', 80), timeout=1)\nprint('CONNECTED')`,
      test: stdio('CONNECTED'),
      verdict: 'runtime_error',
      message: /Network is unreachable|OSError/,
    },
    {
      name: 'filesystem: write outside the tmpfs (host /tmp, the repo, /root, /usr, /)',
      code: `import os\nok = []\nfor p in ${JSON.stringify([...env.hostTargets, '/usr/escape', '/escape', '/dev/shm/escape', '/harness/escape', '/harness/worker.py'])}:\n    try:\n        open(p, 'w').write('x')\n        if not p.startswith('/tmp/'): ok.append(p)  # /tmp is the sandbox's own tmpfs\n    except OSError:\n        pass\nprint(ok)\nassert os.path.exists('/tmp/w')\nopen('/tmp/escape-probe', 'w').write('x')\nif ok: print('ESCAPED')`,
      test: stdio('ESCAPED'),
      verdict: 'wrong_answer',
    },
    {
      name: 'secrets: read /etc/shadow and ~/.ssh',
      code: `import os\nfor p in ['/etc/shadow', '/etc/passwd', os.path.expanduser('~/.ssh/id_rsa'), '/root/.ssh/id_ed25519', '/root/.ssh/authorized_keys']:\n    try:\n        print(open(p).read()[:20]); print('READ', p)\n    except OSError as e:\n        pass\nprint(open('/etc/shadow').read())`,
      test: stdio('root'),
      verdict: 'runtime_error',
      message: /FileNotFoundError/,
    },
    {
      name: 'fork bomb',
      code: `import os\nwhile True:\n    os.fork()`,
      verdict: 'runtime_error',
      message: /BlockingIOError|Resource temporarily unavailable/,
      load: true,
    },
    {
      name: 'fork bomb that survives fork failures',
      code: `import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass`,
      verdict: 'timeout',
      within: CPU_BOUND_MS,
      load: true,
    },
    {
      name: 'thread bomb',
      code: `import threading, time\nwhile True:\n    threading.Thread(target=time.sleep, args=(100,), daemon=True).start()`,
      verdict: 'runtime_error',
      message: /can't start new thread|RuntimeError/,
      load: true,
    },
    {
      name: 'memory bomb (one huge allocation)',
      code: `x = bytearray(64 * 1024 ** 3)`,
      verdict: 'memory_limit',
    },
    {
      name: 'memory bomb spread over processes (each under its own limit)',
      code: `import os, time\nkids = []\nfor i in range(8):\n    pid = os.fork()\n    if pid == 0:\n        b = b'x' * (100 * 1024 ** 2)\n        time.sleep(30)\n        os._exit(0)\n    kids.append(pid)\nmine = b'y' * (100 * 1024 ** 2)\nfor _ in kids:\n    _, status = os.wait()\n    assert os.WIFEXITED(status), 'a child was killed'`,
      // 128 MiB per process, 8 MiB tmpfs: the sandbox's memory cgroup holds 392 MiB, 900 MB are asked for.
      limits: { memoryBytes: 128 * 1024 ** 2, testTimeoutMs: 4000 },
      verdict: env.cgroup ? 'memory_limit' : 'timeout',
      within: 4000,
    },
    {
      name: 'memory bomb (growing list)',
      code: `a = []\nwhile True:\n    a.append(bytearray(8 * 1024 ** 2))`,
      verdict: 'memory_limit',
      within: CPU_BOUND_MS,
      load: true,
    },
    { name: 'infinite loop', code: `while True:\n    pass`, verdict: 'timeout', within: CPU_BOUND_MS, load: true },
    { name: 'sleep inside C code (time.sleep)', code: `import time\ntime.sleep(3600)`, verdict: 'timeout', within: 1500 },
    { name: 'blocking select() in C', code: `import select\nselect.select([], [], [], 3600)`, verdict: 'timeout', within: 1500 },
    { name: 'reads stdin forever (no input given)', code: `import sys, os\nr, w = os.pipe()\nos.read(r, 1)`, verdict: 'timeout', within: 1500 },
    { name: 'huge stdout', code: `while True:\n    print('x' * 4096)`, verdict: 'output_limit', message: /stdout/, load: true },
    { name: 'huge stderr', code: `import sys\nwhile True:\n    sys.stderr.write('e' * 4096)`, verdict: 'output_limit', message: /stderr/ },
    { name: 'one print larger than the cap', code: `print('y' * (10 * 1024 ** 2))`, verdict: 'output_limit' },
    { name: 'closed stdout', code: `import os, sys\nos.close(1)\nprint('hello')`, test: stdio('hello'), verdict: 'wrong_answer' },
    { name: 'kills its parent (the worker)', code: `import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\nimport time\ntime.sleep(10)`, verdict: 'runtime_error', message: /killed its sandbox/, load: true },
    { name: 'kills every process it can (kill -1)', code: `import os, signal, time\nos.kill(-1, signal.SIGKILL)\ntime.sleep(10)`, verdict: 'runtime_error', message: /killed its sandbox/, load: true },
    {
      // The worker falls silent: the engine's own clock kills the sandbox (its bwrap and, in every
      // mode, the sandbox's init with every process in it) and replaces the worker.
      name: 'stops its worker (SIGSTOP to the parent)',
      code: `import os, signal, time\nos.kill(os.getppid(), signal.SIGSTOP)\ntime.sleep(60)`,
      verdict: 'timeout',
      message: /no answer within .* the sandbox was killed/,
      within: CPU_BOUND_MS + BACKSTOP_MS,
    },
    ...workerChecks(' (replacement worker)'),
    { name: 'ignores SIGTERM and SIGINT', code: `import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    time.sleep(0.01)`, verdict: 'timeout', within: 1500 },
    { name: 'stops itself (SIGSTOP)', code: `import os, signal\nos.kill(os.getpid(), signal.SIGSTOP)`, verdict: 'timeout', within: 1500 },
    { name: 'recursion bomb (RecursionError)', code: `def f(n):\n    return f(n + 1)\nf(0)`, verdict: 'runtime_error', message: /RecursionError/ },
    { name: 'recursion bomb past the C stack', code: `import sys\nsys.setrecursionlimit(10 ** 9)\nclass A:\n    def __getattr__(self, name):\n        return getattr(self, name)\nA().x`, verdict: 'runtime_error', message: /signal 11|segmentation/ },
    {
      name: 'background processes that try to outlive the test',
      code: `import os, subprocess, time\nsubprocess.Popen(['sleep', '3600'], start_new_session=True)\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n        time.sleep(3600)\n    os._exit(0)\nprint('done')`,
      test: stdio('done'),
      verdict: 'pass',
      load: true,
    },
    {
      name: 'fills the tmpfs (one big file, then many small ones)',
      code: `try:\n    open('/tmp/w/big', 'wb').write(b'x' * (64 * 1024 ** 2))\nexcept OSError as e:\n    print(type(e).__name__)\ni = 0\nwhile True:\n    open('/tmp/w/f%d' % i, 'wb').write(b'x' * 65536)\n    i += 1`,
      verdict: 'runtime_error',
      message: /No space left|File too large|OSError/,
    },
    {
      name: 'reads the worker through /proc and ptrace',
      code: `import os, ctypes\nppid = os.getppid()\nprint(os.listdir('/proc/%d/fd' % ppid))`,
      verdict: 'runtime_error',
      message: /PermissionError/,
      load: true,
    },
    {
      name: 'fakes success by exiting early in an assert test',
      code: `import os\nos._exit(0)`,
      test: { kind: 'assert', input: null, expected: null, fn_name: null, code: 'assert False', setup: null },
      verdict: 'runtime_error',
      message: /exited/,
    },
    {
      name: 'patches json.dumps and os.write to rewrite its report',
      code: `import json, os\njson.dumps = lambda *a, **k: '{"outcome": "ok"}'\nreal = os.write\nos.write = lambda fd, data: real(fd, b'{"outcome": "ok"}\\n')`,
      test: { kind: 'assert', input: null, expected: null, fn_name: null, code: 'assert False', setup: null },
      verdict: 'wrong_answer',
    },
    {
      name: 'returns an object whose __eq__ is always true',
      code: `class Liar:\n    def __eq__(self, other):\n        return True\ndef f(x):\n    return Liar()`,
      test: { kind: 'call', input: '[1]', expected: '[2]', fn_name: 'f', code: null, setup: null },
      verdict: 'wrong_answer',
    },
    {
      name: 'new namespaces, setuid(0)',
      code: ESCALATE,
      test: stdio('[]'),
      verdict: 'pass',
      load: true,
    },
    {
      name: 'has root capabilities? (CapEff, CapPrm, CapBnd must be 0; uid, gid, groups)',
      // Groups the sandbox does not map show as 65534: none but those may be left.
      code: `caps = dict(l.split(':') for l in open('/proc/self/status') if l.startswith(('CapEff', 'CapPrm', 'CapBnd')))\nprint(sorted(set(v.strip() for v in caps.values())))\nimport os\nprint(os.getuid(), os.getgid(), sorted(set(os.getgroups()) - {65534}))`,
      test: stdio("['0000000000000000']\n65534 65534 []"),
      verdict: 'pass',
      load: true,
    },
  ];
}

// ---- what a program may leave behind -------------------------------------------------------

export interface ProcessRow {
  pid: number;
  ppid: number;
  state: string;
  /** Start time (clock ticks since boot): with the pid, names one process for good. */
  start: string;
  /** Pid 1 of its (innermost) PID namespace. */
  nsInit: boolean;
  uid: number;
  comm: string;
  cmdline: string;
}

export function processTable(): ProcessRow[] {
  const rows: ProcessRow[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const status = readFileSync(`/proc/${name}/status`, 'utf8');
      const ppid = Number(/^PPid:\s+(\d+)/m.exec(status)?.[1]);
      const state = /^State:\s+(\S)/m.exec(status)?.[1] ?? '?';
      const nsInit = /^NSpid:.*\s1$/m.test(status);
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
      const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
      const comm = /^Name:\s+(.*)$/m.exec(status)?.[1] ?? '';
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0/g, ' ');
      rows.push({ pid: Number(name), ppid, state, start, nsInit, uid, comm, cmdline });
    } catch {
      // the process ended while we looked
    }
  }
  return rows;
}

function pidNamespace(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return undefined;
  }
}

function descendsFrom(table: ProcessRow[], root: number): (p: ProcessRow) => boolean {
  const byPid = new Map(table.map((p) => [p.pid, p]));
  return (p) => {
    for (let q: ProcessRow | undefined = p, n = 0; q && n < 64; q = byPid.get(q.ppid), n++) if (q.ppid === root) return true;
    return false;
  };
}

/** PID namespaces of sandboxes, each with its init (pid:start time): the kernel reuses a
 * namespace's number once it is gone, so a namespace is the same only with the same init. */
export type SandboxSet = Map<string, string>;

/** Adds to `seen` the PID namespaces of the sandboxes under `root` (the engine's process): a
 * sandbox that outlives its bwrap is orphaned, no longer under `root`, but still in its namespace. */
export function noteSandboxes(root: number, seen: SandboxSet): void {
  const table = processTable();
  const mine = descendsFrom(table, root);
  const own = pidNamespace(process.pid);
  for (const p of table) {
    if (!mine(p) || !p.nsInit) continue;
    const ns = pidNamespace(p.pid);
    if (ns && ns !== own) seen.set(ns, `${p.pid}:${p.start}`);
  }
}

/** Processes under `root` (the engine's process) that are not a worker's bwrap or the worker
 * itself; processes no longer under `root` in a sandbox's PID namespace from `seen`
 * (noteSandboxes); and anywhere on the host any process carrying `marker` in its command line.
 * Zombies are not running: they wait for the host's init to reap them. */
export function strayProcesses(root: number, marker: string, seen: ReadonlyMap<string, string> = new Map()): string[] {
  const table = processTable().filter((p) => p.state !== 'Z');
  const byPid = new Map(table.map((p) => [p.pid, p]));
  const descends = descendsFrom(table, root);
  const stray: string[] = [];
  if (seen.size) {
    const namespaces = new Map<number, string | undefined>();
    const nsOf = (pid: number) => {
      if (!namespaces.has(pid)) namespaces.set(pid, pidNamespace(pid));
      return namespaces.get(pid);
    };
    // The inits still running of the namespaces seen: only their namespaces are still ours.
    const ours = new Set<string>();
    for (const p of table) {
      const ns = p.nsInit ? nsOf(p.pid) : undefined;
      if (ns && seen.get(ns) === `${p.pid}:${p.start}`) ours.add(ns);
    }
    for (const p of table) {
      if (descends(p) || p.pid === root) continue;
      const ns = nsOf(p.pid);
      if (ns && ours.has(ns)) stray.push(`orphaned sandbox: ${p.pid} ${p.comm} ${p.cmdline}`);
    }
  }
  for (const p of table) {
    if (p.pid === root || !descends(p)) continue;
    const parent = byPid.get(p.ppid);
    const isBwrap = p.comm === 'bwrap';
    const isWorker = parent?.comm === 'bwrap' && /worker\.py/.test(p.cmdline);
    if (!isBwrap && !isWorker) stray.push(`${p.pid} ${p.comm} ${p.cmdline}`);
  }
  for (const p of table) if (p.cmdline.includes(marker) && p.pid !== root && p.pid !== process.pid) stray.push(`marker: ${p.pid} ${p.cmdline}`);
  return stray;
}

/** strayProcesses, asked again for up to 2 s while it finds any: a sandbox whose worker died
 * (a program killed it) ends a moment after its bwrap has reported it. */
export async function settledStrays(root: number, marker: string, seen: ReadonlyMap<string, string>): Promise<string[]> {
  let stray = strayProcesses(root, marker, seen);
  for (let i = 0; i < 40 && stray.length; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    stray = strayProcesses(root, marker, seen);
  }
  return stray;
}

// ---- running one --------------------------------------------------------------------------

export interface HostileOutcome {
  name: string;
  expected: Verdict;
  verdict: Verdict;
  /** The first test's message and stderr tail, for the message check. */
  text: string;
  messageOk: boolean;
  elapsedMs: number;
  allowedMs: number;
  /** A trivial test's wall clock just before (median of 3), which `allowedMs` scales with. */
  refMs: number;
  stray: string[];
  /** Host files that appeared (or vanished), and the host /tmp probe. */
  hostChanged: string[];
  connections: number;
  detail: string;
}

/** Median wall clock of three trivial tests on `engine`: how fast this machine is right now. */
export async function referenceMs(engine: ExecEngine): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const r = await engine.run('print(1)', [stdio('1')]);
    times.push(performance.now() - t0);
    if (r.verdict !== 'pass') throw new Error(`the reference test did not pass: ${JSON.stringify(r.tests)}`);
  }
  return times.sort((a, b) => a - b)[1];
}

export interface RunContext {
  engine: ExecEngine;
  env: HostileEnv;
  /** Makes an engine of its own for a program with its own limits. */
  ownEngine: (limits: Partial<ExecLimits>) => Promise<ExecEngine>;
  marker: string;
  /** Whether each host target existed before the suite. */
  before: Map<string, boolean>;
  connections: () => number;
  /** PID namespaces of the sandboxes seen so far (noteSandboxes). */
  sandboxes: SandboxSet;
}

export async function runHostile(h: Hostile, ctx: RunContext): Promise<HostileOutcome> {
  const refMs = await referenceMs(ctx.engine);
  noteSandboxes(process.pid, ctx.sandboxes);
  const own = h.limits ? await ctx.ownEngine({ ...HOSTILE_LIMITS, ...h.limits }) : undefined;
  if (own) noteSandboxes(process.pid, ctx.sandboxes);
  const t0 = performance.now();
  const r = await (own ?? ctx.engine).run(h.code, [h.test ?? stdio('')]).finally(() => own?.close());
  const elapsedMs = performance.now() - t0;
  const t = r.tests[0];
  const text = `${t.message ?? ''} ${t.stderrTail ?? ''}`;
  const hostChanged = ctx.env.hostTargets.filter((p) => existsSync(p) !== ctx.before.get(p));
  if (existsSync(path.join(os.tmpdir(), 'escape-probe'))) hostChanged.push(path.join(os.tmpdir(), 'escape-probe'));
  return {
    name: h.name,
    expected: h.verdict,
    verdict: r.verdict,
    text,
    messageOk: h.message ? h.message.test(text) : true,
    elapsedMs,
    allowedMs: allowedMs(h, refMs),
    refMs,
    stray: await settledStrays(process.pid, ctx.marker, ctx.sandboxes),
    hostChanged,
    connections: ctx.connections(),
    detail: JSON.stringify(t).slice(0, 1500),
  };
}
