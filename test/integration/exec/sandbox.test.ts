// The adversarial suite: hostile programs run in the real
// bubblewrap sandbox. Each must end with the expected verdict within its limit, leave no process
// behind (checked in the host's process table) and leave the host unchanged.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExecEngine } from '../../../server/exec/engine';
import { memoryCgroupBase } from '../../../server/exec/sandbox';
import type { ExecLimits, TestSpec } from '../../../server/exec/types';
import type { Verdict } from '../../../server/protocol';

const LIMITS: Partial<ExecLimits> = {
  testTimeoutMs: 1500,
  candidateTimeoutMs: 20_000,
  memoryBytes: 512 * 1024 ** 2,
  outputBytes: 256 * 1024,
  tmpfsBytes: 8 * 1024 ** 2,
};
/** Time a hostile test may take beyond its limit: the kill, the reaping and a loaded machine. */
const SLACK_MS = 2500;
/** As root on cgroup v1 each sandbox has a memory cgroup (sandbox.ts); else only per-process limits. */
const CGROUP = memoryCgroupBase() !== undefined;
const MARK = `pfx${process.pid}x${Date.now().toString(36)}`;
const HOST_TARGETS = [path.join(os.tmpdir(), `${MARK}-escape`), path.join(process.cwd(), `${MARK}-escape`), `/root/${MARK}-escape`];

const stdio = (expected: string, input = ''): TestSpec => ({ kind: 'stdio', input, expected, fn_name: null, code: null, setup: null });

interface Row {
  process: { pid: number; ppid: number; uid: number; comm: string; cmdline: string };
}
function processTable(): Row['process'][] {
  const rows: Row['process'][] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const status = readFileSync(`/proc/${name}/status`, 'utf8');
      const ppid = Number(/^PPid:\s+(\d+)/m.exec(status)?.[1]);
      const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
      const comm = /^Name:\s+(.*)$/m.exec(status)?.[1] ?? '';
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0/g, ' ');
      rows.push({ pid: Number(name), ppid, uid, comm, cmdline });
    } catch {
      // the process ended while we looked
    }
  }
  return rows;
}

/** Processes under this test process that are not a worker's bwrap, its init or the worker itself. */
function strayProcesses(): string[] {
  const table = processTable();
  const byPid = new Map(table.map((p) => [p.pid, p]));
  const descends = (p: Row['process']) => {
    for (let q: Row['process'] | undefined = p, n = 0; q && n < 64; q = byPid.get(q.ppid), n++) if (q.ppid === process.pid) return true;
    return false;
  };
  const stray: string[] = [];
  for (const p of table) {
    if (p.pid === process.pid || !descends(p)) continue;
    const parent = byPid.get(p.ppid);
    const isBwrap = p.comm === 'bwrap';
    const isWorker = parent?.comm === 'bwrap' && /worker\.py/.test(p.cmdline);
    if (!isBwrap && !isWorker) stray.push(`${p.pid} ${p.comm} ${p.cmdline}`);
  }
  // Anything carrying our marker anywhere on the host escaped.
  for (const p of table) if (p.cmdline.includes(MARK) && p.pid !== process.pid) stray.push(`marker: ${p.pid} ${p.cmdline}`);
  return stray;
}

interface Hostile {
  name: string;
  code: string;
  test?: TestSpec;
  verdict: Verdict;
  /** The limit the program runs into, to bound how long it may take. */
  within?: number;
  /** Run on an engine of its own with these limits (over the suite's). */
  limits?: Partial<ExecLimits>;
  message?: RegExp;
}

let listener: net.Server;
let port = 0;
let connections = 0;

const HOSTILE: Hostile[] = [
  {
    name: 'network: connect to a server on the host loopback',
    code: `import socket\ns = socket.create_connection(('127.0.0.1', PORT), timeout=1)\nprint('CONNECTED')`,
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
    code: `import os\nok = []\nfor p in ${JSON.stringify([...HOST_TARGETS, '/usr/escape', '/escape', '/dev/shm/escape', '/harness/escape'])}:\n    try:\n        open(p, 'w').write('x')\n        if not p.startswith('/tmp/'): ok.append(p)  # /tmp is the sandbox's own tmpfs\n    except OSError:\n        pass\nprint(ok)\nassert os.path.exists('/tmp/w')\nopen('/tmp/escape-probe', 'w').write('x')\nif ok: print('ESCAPED')`,
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
  },
  {
    name: 'fork bomb that survives fork failures',
    code: `import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass`,
    verdict: 'timeout',
    within: 1500,
  },
  {
    name: 'thread bomb',
    code: `import threading, time\nwhile True:\n    threading.Thread(target=time.sleep, args=(100,), daemon=True).start()`,
    verdict: 'runtime_error',
    message: /can't start new thread|RuntimeError/,
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
    verdict: CGROUP ? 'memory_limit' : 'timeout',
    within: 4000,
  },
  {
    name: 'memory bomb (growing list)',
    code: `a = []\nwhile True:\n    a.append(bytearray(8 * 1024 ** 2))`,
    verdict: 'memory_limit',
    within: 1500,
  },
  { name: 'infinite loop', code: `while True:\n    pass`, verdict: 'timeout', within: 1500 },
  { name: 'sleep inside C code (time.sleep)', code: `import time\ntime.sleep(3600)`, verdict: 'timeout', within: 1500 },
  { name: 'blocking select() in C', code: `import select\nselect.select([], [], [], 3600)`, verdict: 'timeout', within: 1500 },
  { name: 'reads stdin forever (no input given)', code: `import sys, os\nr, w = os.pipe()\nos.read(r, 1)`, verdict: 'timeout', within: 1500 },
  { name: 'huge stdout', code: `while True:\n    print('x' * 4096)`, verdict: 'output_limit', message: /stdout/ },
  { name: 'huge stderr', code: `import sys\nwhile True:\n    sys.stderr.write('e' * 4096)`, verdict: 'output_limit', message: /stderr/ },
  { name: 'one print larger than the cap', code: `print('y' * (10 * 1024 ** 2))`, verdict: 'output_limit' },
  { name: 'closed stdout', code: `import os, sys\nos.close(1)\nprint('hello')`, test: stdio('hello'), verdict: 'wrong_answer' },
  { name: 'kills its parent (the worker)', code: `import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\nimport time\ntime.sleep(10)`, verdict: 'runtime_error', message: /killed its sandbox/ },
  { name: 'kills every process it can (kill -1)', code: `import os, signal, time\nos.kill(-1, signal.SIGKILL)\ntime.sleep(10)`, verdict: 'runtime_error', message: /killed its sandbox/ },
  { name: 'ignores SIGTERM and SIGINT', code: `import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    time.sleep(0.01)`, verdict: 'timeout', within: 1500 },
  { name: 'stops itself (SIGSTOP)', code: `import os, signal\nos.kill(os.getpid(), signal.SIGSTOP)`, verdict: 'timeout', within: 1500 },
  { name: 'recursion bomb (RecursionError)', code: `def f(n):\n    return f(n + 1)\nf(0)`, verdict: 'runtime_error', message: /RecursionError/ },
  { name: 'recursion bomb past the C stack', code: `import sys\nsys.setrecursionlimit(10 ** 9)\nclass A:\n    def __getattr__(self, name):\n        return getattr(self, name)\nA().x`, verdict: 'runtime_error', message: /signal 11|segmentation/ },
  {
    name: 'background processes that try to outlive the test',
    code: `import os, subprocess, time\nsubprocess.Popen(['sleep', '3600'], start_new_session=True)\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n        time.sleep(3600)\n    os._exit(0)\nprint('done')`,
    test: stdio('done'),
    verdict: 'pass',
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
    name: 'has root capabilities? (CapEff must be 0)',
    code: `print([l.split()[1] for l in open('/proc/self/status') if l.startswith('CapEff')][0])\nimport os\nprint(os.getuid(), os.getgid())`,
    test: stdio('0000000000000000\n65534 65534'),
    verdict: 'pass',
  },
];

describe('hostile programs in the sandbox', () => {
  let engine: ExecEngine;
  const before = new Map<string, boolean>();

  beforeAll(async () => {
    listener = net.createServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    port = (listener.address() as net.AddressInfo).port;
    for (const p of HOST_TARGETS) before.set(p, existsSync(p));
    engine = await ExecEngine.create({ workers: 2, limits: LIMITS });
  });

  afterAll(async () => {
    await engine?.close();
    await new Promise<void>((resolve) => listener.close(() => resolve()));
  });

  it('runs isolated', () => {
    expect(engine.sandbox.isolation).toBe('bwrap');
    expect(engine.mode).toMatch(/^bwrap/);
  });

  for (const h of HOSTILE) {
    it(h.name, async () => {
      const code = h.code.replace('PORT', String(port));
      const own = h.limits ? await ExecEngine.create({ workers: 1, limits: { ...LIMITS, ...h.limits } }) : undefined;
      const t0 = performance.now();
      const r = await (own ?? engine).run(code, [h.test ?? stdio('')]).finally(() => own?.close());
      const elapsed = performance.now() - t0;
      const t = r.tests[0];
      expect(r.verdict, JSON.stringify(t)).toBe(h.verdict);
      if (h.message) expect(`${t.message ?? ''} ${t.stderrTail ?? ''}`).toMatch(h.message);
      expect(elapsed).toBeLessThan((h.within ?? 0) + SLACK_MS);
      // Nothing the program started is still running, in or out of the sandbox.
      expect(strayProcesses()).toEqual([]);
      // The host is unchanged: no file written outside the sandbox, no connection received.
      for (const p of HOST_TARGETS) expect(existsSync(p), p).toBe(before.get(p));
      expect(existsSync(path.join(os.tmpdir(), 'escape-probe'))).toBe(false);
      expect(connections).toBe(0);
    });
  }

  it('gives every test a clean tmpfs (nothing left by the hostile programs)', async () => {
    const r = await engine.run(`import os\nprint(sorted(os.listdir('/tmp')), sorted(os.listdir('/tmp/w')))`, [stdio("['w'] []")]);
    expect(r.verdict, JSON.stringify(r.tests)).toBe('pass');
  });

  it('still runs honest programs after all that, on replaced workers where needed', async () => {
    const r = await engine.run('print(sum(map(int, input().split())))', [stdio('6', '1 2 3'), stdio('0', '0')]);
    expect(r.verdict).toBe('pass');
    expect(engine.recycled).toBeGreaterThan(0);
  });

  it('leaves nothing at all after close()', async () => {
    await engine.close();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const mine = processTable().filter((p) => p.ppid === process.pid && p.comm === 'bwrap');
    expect(mine).toEqual([]);
    expect(strayProcesses()).toEqual([]);
    // The host's /tmp holds nothing of the sandbox.
    expect(readdirSync(os.tmpdir()).filter((n) => n.includes(MARK))).toEqual([]);
    expect(statSync('/etc/shadow').isFile()).toBe(true);
  });
});
