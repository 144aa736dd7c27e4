// The hostile suite (hostile.ts) wherever the engine may live and whoever runs it
// (docs/execution.md, "Isolation"): from a private 0700 folder (what `mktemp -d`, /root and many
// home folders are) and from an open 0755 one, as root and as an ordinary user, in each mode the
// machine offers, and with every core kept busy by processes this test starts and stops. Every
// configuration must get the mode it should, log it once, give the same verdict classes, and leave
// nothing running.
//
// Each configuration is one driver process (hostile.driver.ts, bundled with the engine into
// the folder under test) that runs the whole suite on one engine. As root the ordinary user is the
// account `pairforge-test` (.ci/run creates it: useradd --system --no-create-home pairforge-test);
// not as root, this process's own user is the ordinary user and the root configurations are skipped.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as esbuild from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeBundle, root } from '../../../scripts/bundle.mjs';
import { ExecEngine } from '../../../server/exec/engine';
import { findBwrap } from '../../../server/exec/sandbox';
import { SandboxUnavailableError } from '../../../server/exec/types';
import type { DriverConfig, DriverReport } from './hostile.driver';
import { HOSTILE_LIMITS, hostilePrograms, stdio } from './hostile';
import type { Isolation, Verdict } from '../../../server/protocol';

const TEST_USER = 'pairforge-test';
/** One configuration's whole suite takes 10-25 s; a driver still running after this is stuck. */
const DRIVER_TIMEOUT_MS = 240_000;
const IS_ROOT = process.getuid?.() === 0;
const MARK = `pfm${process.pid}x${Date.now().toString(36)}`;

interface Account {
  name: string;
  uid: number;
  gid: number;
}

function lookupAccount(name: string): Account | undefined {
  for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const f = line.split(':');
    if (f[0] === name && f.length >= 4) return { name, uid: Number(f[2]), gid: Number(f[3]) };
  }
  return undefined;
}

/** The ordinary user: the test account as root, else this process's own user. */
const ORDINARY: Account | undefined = IS_ROOT ? lookupAccount(TEST_USER) : { name: os.userInfo().username, uid: process.getuid!(), gid: process.getgid!() };
const NO_ACCOUNT = `the ordinary-user configurations run as the account '${TEST_USER}', which does not exist: create it (as .ci/run does) with useradd --system --no-create-home --shell /usr/sbin/nologin ${TEST_USER}`;

type FolderKind = 'private' | 'open';

interface Config {
  name: string;
  folder: FolderKind;
  user: 'root' | 'ordinary';
  mode?: Isolation;
  expectMode: Isolation;
  /** Run only the `load` subset, with every core kept busy. */
  load?: boolean;
}

const CONFIGS: Config[] = [
  { name: 'root, private 0700 folder', folder: 'private', user: 'root', expectMode: 'bwrap-nobody' },
  { name: 'root, open 0755 folder', folder: 'open', user: 'root', expectMode: 'bwrap-nobody' },
  { name: 'root, private 0700 folder, pinned to bwrap-root', folder: 'private', user: 'root', mode: 'bwrap-root', expectMode: 'bwrap-root' },
  { name: 'ordinary user, own private 0700 folder', folder: 'private', user: 'ordinary', expectMode: 'bwrap-user' },
  { name: 'ordinary user, open 0755 folder', folder: 'open', user: 'ordinary', expectMode: 'bwrap-user' },
  { name: 'root, private 0700 folder, every core busy', folder: 'private', user: 'root', expectMode: 'bwrap-nobody', load: true },
  { name: 'root, private 0700 folder, pinned to bwrap-root, every core busy', folder: 'private', user: 'root', mode: 'bwrap-root', expectMode: 'bwrap-root', load: true },
  { name: 'ordinary user, own private 0700 folder, every core busy', folder: 'private', user: 'ordinary', expectMode: 'bwrap-user', load: true },
];

const made: string[] = [];
let staged = '';
const driverPids: number[] = [];

/** A fresh folder holding dist/hostile-driver.js and dist/exec-python/: private (0700, owned by
 * whoever runs the driver) or open (0755, owned by root, read-only for anyone else). */
function folder(kind: FolderKind, owner: Account | undefined): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pairforge-matrix-'));
  made.push(dir);
  mkdirSync(path.join(dir, 'dist', 'exec-python'), { recursive: true });
  for (const rel of ['hostile-driver.js', ...readdirSync(path.join(staged, 'exec-python')).map((n) => path.join('exec-python', n))]) {
    copyFileSync(path.join(staged, rel), path.join(dir, 'dist', rel));
  }
  if (kind === 'private' && owner && IS_ROOT) {
    for (const p of [dir, path.join(dir, 'dist'), path.join(dir, 'dist', 'exec-python'), path.join(dir, 'dist', 'hostile-driver.js')]) chownSync(p, owner.uid, owner.gid);
    for (const n of readdirSync(path.join(dir, 'dist', 'exec-python'))) chownSync(path.join(dir, 'dist', 'exec-python', n), owner.uid, owner.gid);
  }
  chmodSync(dir, kind === 'private' ? 0o700 : 0o755);
  return dir;
}

/** Starts `count` processes that spin forever: the machine under load. */
function busyLoops(count: number): ChildProcess[] {
  return Array.from({ length: count }, () => spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }));
}

async function stop(procs: ChildProcess[]): Promise<void> {
  await Promise.all(
    procs.map(
      (p) =>
        new Promise<void>((resolve) => {
          if (p.exitCode !== null || p.signalCode !== null) return resolve();
          p.once('exit', () => resolve());
          p.kill('SIGKILL');
        }),
    ),
  );
}

function runDriver(dir: string, cfg: DriverConfig, as: Account | undefined): Promise<{ report?: DriverReport; stderr: string; status: number | null }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(dir, 'dist', 'hostile-driver.js'), JSON.stringify(cfg)], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PAIRFORGE_MATRIX_MARK: MARK },
      ...(as && IS_ROOT ? { uid: as.uid, gid: as.gid } : {}),
    });
    if (child.pid !== undefined) driverPids.push(child.pid);
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), DRIVER_TIMEOUT_MS);
    child.on('exit', (status) => {
      clearTimeout(timer);
      let report: DriverReport | undefined;
      try {
        report = JSON.parse(out.trim().split('\n').pop() ?? '') as DriverReport;
      } catch {
        report = undefined;
      }
      resolve({ report, stderr: err, status });
    });
  });
}

/** Processes anywhere on the host that carry this run's mark in their environment (every process
 * the drivers started outside a sandbox inherits it; inside, the environment is cleared), and
 * cgroups of the drivers left behind. */
function leftovers(driverPids: number[]): string[] {
  const found: string[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      // Zombies are not running: they wait for the host's init to reap them.
      if (/^State:\s+Z/m.test(readFileSync(`/proc/${name}/status`, 'utf8'))) continue;
      if (readFileSync(`/proc/${name}/environ`, 'utf8').includes(`PAIRFORGE_MATRIX_MARK=${MARK}`)) {
        found.push(`${name} ${readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0/g, ' ')}`);
      }
    } catch {
      // gone, or not ours to read
    }
  }
  const memory = '/sys/fs/cgroup/memory';
  const walk = (dir: string, depth: number) => {
    if (depth > 6) return;
    let names: string[];
    try {
      names = readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
    } catch {
      return;
    }
    for (const n of names) {
      if (driverPids.some((pid) => n.startsWith(`pairforge-${pid}-`))) found.push(`cgroup ${path.join(dir, n)}`);
      else if (!n.startsWith('pairforge-')) walk(path.join(dir, n), depth + 1);
    }
  };
  if (existsSync(memory)) walk(memory, 0);
  return found;
}

const LOAD_NAMES = hostilePrograms({ port: 0, hostTargets: [], cgroup: false })
  .filter((h) => h.load)
  .map((h) => h.name);

describe('the hostile suite in every mode, folder and user', () => {
  const results = new Map<string, DriverReport>();

  beforeAll(async () => {
    staged = mkdtempSync(path.join(os.tmpdir(), 'pairforge-matrix-build-'));
    made.push(staged);
    await esbuild.build({ ...nodeBundle, absWorkingDir: root, entryPoints: ['test/integration/exec/hostile.driver.ts'], outfile: path.join(staged, 'hostile-driver.js') });
    mkdirSync(path.join(staged, 'exec-python'));
    const harness = path.join(root, 'server', 'exec', 'python');
    for (const n of readdirSync(harness).filter((f) => f.endsWith('.py'))) copyFileSync(path.join(harness, n), path.join(staged, 'exec-python', n));
  });

  afterAll(() => {
    for (const dir of made) rmSync(dir, { recursive: true, force: true });
  });

  for (const c of CONFIGS) {
    it(c.name, { timeout: DRIVER_TIMEOUT_MS + 10_000 }, async (ctx) => {
      if (c.user === 'root' && !IS_ROOT) return ctx.skip('needs root: run as root to cover bwrap-nobody and bwrap-root');
      if (c.user === 'ordinary' && !ORDINARY) throw new Error(NO_ACCOUNT);
      const as = c.user === 'ordinary' ? ORDINARY : undefined;
      const dir = folder(c.folder, as);
      const cfg: DriverConfig = { marker: MARK, ...(c.mode ? { mode: c.mode } : {}), ...(c.load ? { names: LOAD_NAMES } : {}) };
      const busy = c.load ? busyLoops(os.cpus().length) : [];
      let got: Awaited<ReturnType<typeof runDriver>>;
      try {
        got = await runDriver(dir, cfg, as);
      } finally {
        await stop(busy);
      }
      const r = got.report;
      expect(r, `driver exit ${got.status}: ${got.stderr.slice(-3000)}`).toBeDefined();
      if (!r) return;
      results.set(c.name, r);
      // Who ran it, from where, and in which mode, said once.
      expect(r.uid).toBe(as ? as.uid : process.getuid!());
      expect(r.harness).toBe(path.join(dir, 'dist', 'exec-python'));
      expect(r.mode).toBe(c.expectMode);
      expect(r.status.mode).toBe(c.expectMode);
      const weaker = c.mode !== undefined && c.mode !== (c.user === 'root' ? 'bwrap-nobody' : 'bwrap-user');
      expect(r.status.warning).toBe(weaker);
      if (weaker) expect(r.status.reason).toMatch(/pinned to bwrap-root, although bwrap-nobody works/);
      expect(r.log.filter((l) => /sandbox: /.test(l))).toHaveLength(1);
      expect(r.log[0]).toMatch(weaker ? /^WARNING: sandbox: / : new RegExp(`^sandbox: ${c.expectMode} `));
      // Every program: its verdict class, message, time, and nothing left, nothing changed.
      const expected = c.load ? LOAD_NAMES : hostilePrograms({ port: 0, hostTargets: [], cgroup: r.cgroup }).map((h) => h.name);
      expect(r.outcomes.map((o) => o.name)).toEqual(expected);
      const bad = r.outcomes.filter((o) => o.verdict !== o.expected || !o.messageOk || o.elapsedMs >= o.allowedMs || o.stray.length || o.hostChanged.length || o.connections);
      expect(
        bad.map((o) => `${o.name}: ${o.verdict} (expected ${o.expected}), ${o.elapsedMs.toFixed(0)}/${o.allowedMs.toFixed(0)} ms (ref ${o.refMs.toFixed(1)}), stray ${o.stray.join('; ')}, host ${o.hostChanged.join('; ')}: ${o.detail}`),
      ).toEqual([]);
      expect(r.honestAfter).toBe('pass');
      expect(r.recycled).toBeGreaterThan(0);
      expect(r.afterClose).toEqual([]);
    });
  }

  it('gives the same verdict classes in every configuration, with nothing left running', { timeout: 30_000 }, async (ctx) => {
    if (results.size === 0) return ctx.skip('no configuration ran');
    // Per program, the verdicts of all configurations that ran it (the spread memory bomb's depends
    // only on whether the engine has a memory cgroup: root on cgroup v1).
    const by = new Map<string, Set<string>>();
    for (const r of results.values()) {
      for (const o of r.outcomes) {
        const key = o.name.startsWith('memory bomb spread') ? `${o.name} [cgroup ${r.cgroup}]` : o.name;
        (by.get(key) ?? by.set(key, new Set()).get(key)!).add(o.verdict as Verdict);
      }
    }
    // The table, for the log: one row per program, one column per configuration (verdict, ms).
    const configs = [...results.keys()];
    const names = [...new Set([...results.values()].flatMap((r) => r.outcomes.map((o) => o.name)))];
    const table = [
      `configurations: ${configs.map((c, i) => `[${i + 1}] ${c}: ${results.get(c)!.mode}`).join('; ')}`,
      ...names.map((n) => {
        const cells = configs.map((c, i) => {
          const o = results.get(c)!.outcomes.find((x) => x.name === n);
          return o ? `[${i + 1}] ${o.verdict} ${Math.round(o.elapsedMs)}` : `[${i + 1}] -`;
        });
        return `${n.slice(0, 60).padEnd(60)} ${cells.join('  ')}`;
      }),
    ];
    process.stdout.write(`${table.join('\n')}\n`);
    const differing = [...by].filter(([, v]) => v.size > 1).map(([k, v]) => `${k}: ${[...v].join(', ')}`);
    expect(differing).toEqual([]);
    // A sandbox's init may take a moment to go once its worker has gone.
    let left = leftovers(driverPids);
    for (let i = 0; i < 50 && left.length; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      left = leftovers(driverPids);
    }
    expect(left).toEqual([]);
  });
});

describe('choosing the mode', () => {
  let dir: string;
  const fork = 'import os\nwhile True:\n    os.fork()';
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'pairforge-modes-'));
    chmodSync(dir, 0o755);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A bubblewrap that fails, as it does where uid 65534 may not make user namespaces, for `uid`
   * (or for everyone), and is the real one otherwise. */
  function failingBwrap(name: string, uid?: number): string {
    const p = path.join(dir, name);
    const when = uid === undefined ? 'true' : `[ "$(id -u)" = ${uid} ]`;
    writeFileSync(p, `#!/bin/sh\nif ${when}; then echo "bwrap: setting up uid map: Permission denied" >&2; exit 1; fi\nexec ${findBwrap()} "$@"\n`, { mode: 0o755 });
    return p;
  }

  it('as root, falls back to bwrap-root where bubblewrap cannot run as uid 65534, with one warning saying why and how to fix it', async (ctx) => {
    if (!IS_ROOT) return ctx.skip('needs root: bwrap-nobody and bwrap-root are root modes');
    const lines: string[] = [];
    const e = await ExecEngine.create({ workers: 1, limits: HOSTILE_LIMITS, bwrap: failingBwrap('bwrap-not-as-nobody', 65534), log: (l) => lines.push(l) });
    try {
      expect(e.mode).toBe('bwrap-root');
      expect(e.status).toMatchObject({ mode: 'bwrap-root', preferred: 'bwrap-nobody', warning: true });
      expect(e.status.reason).toMatch(/^bwrap-nobody: .*setting up uid map: Permission denied.*To get bwrap-nobody: allow unprivileged user namespaces/);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^WARNING: sandbox: bwrap-root \(.*\), weaker than bwrap-nobody: bwrap-nobody: .*Permission denied/);
      // The same sandbox as bwrap-nobody: host uid 65534, so the fork bomb meets its process limit.
      const r = await e.run(fork, [stdio('')]);
      expect(r.verdict, JSON.stringify(r.tests)).toBe('runtime_error');
      expect(r.tests[0].message).toMatch(/BlockingIOError/);
      expect(r.sandbox.isolation).toBe('bwrap-root');
    } finally {
      await e.close();
    }
  });

  it('refuses a pinned mode that is not for this user, that cannot start, or that is none without the opt-in', async () => {
    const other: Isolation = IS_ROOT ? 'bwrap-user' : 'bwrap-nobody';
    const notForUs = await ExecEngine.create({ workers: 1, mode: other }).catch((e: unknown) => e);
    expect(notForUs).toBeInstanceOf(SandboxUnavailableError);
    expect(String(notForUs)).toMatch(new RegExp(`'${other}' is not available to ${IS_ROOT ? 'root' : 'an ordinary user'}`));
    const preferred: Isolation = IS_ROOT ? 'bwrap-nobody' : 'bwrap-user';
    const broken = await ExecEngine.create({ workers: 1, mode: preferred, bwrap: failingBwrap('bwrap-never') }).catch((e: unknown) => e);
    expect(broken).toBeInstanceOf(SandboxUnavailableError);
    expect(String(broken)).toMatch(new RegExp(`the isolation mode '${preferred}' cannot start here: .*Permission denied`));
    const none = await ExecEngine.create({ workers: 1, mode: 'none' }).catch((e: unknown) => e);
    expect(none).toBeInstanceOf(SandboxUnavailableError);
    expect(String(none)).toMatch(/'none' needs the explicit opt-in/);
  });

  it('pinned to none with the opt-in: runs unisolated, warned loudly, saying a sandbox works here', async () => {
    const lines: string[] = [];
    const e = await ExecEngine.create({ workers: 1, mode: 'none', allowUnsandboxed: true, log: (l) => lines.push(l) });
    try {
      expect(e.status).toMatchObject({ mode: 'none', warning: true });
      expect(e.status.reason).toMatch(new RegExp(`pinned to none, although ${IS_ROOT ? 'bwrap-nobody' : 'bwrap-user'} works`));
      expect(lines.join('\n')).toMatch(/WITHOUT A SANDBOX[\s\S]*pinned to none/);
      expect((await e.run('print(1)', [stdio('1')])).sandbox.isolation).toBe('none');
    } finally {
      await e.close();
    }
  });
});

describe('verdicts at any load', () => {
  it('a test is not charged for the time it waited for a CPU; one that sleeps still ends on time', async () => {
    const e = await ExecEngine.create({ workers: 1, limits: { testTimeoutMs: 1500 }, log: () => undefined });
    // Twice as many busy loops as cores: the test gets about a third of a CPU.
    const busy = busyLoops(2 * os.cpus().length);
    try {
      // 0.6 s of CPU takes about 1.8 s of wall clock here: a wall clock alone would time it out.
      const work = await e.run('import time\nt = time.process_time()\nwhile time.process_time() - t < 0.6:\n    pass\nprint("done")', [stdio('done')]);
      expect(work.verdict, JSON.stringify(work.tests)).toBe('pass');
      const sleeper = await e.run('import time\ntime.sleep(60)', [stdio('')]);
      expect(sleeper.verdict).toBe('timeout');
      expect(sleeper.tests[0].durationMs).toBeLessThan(2 * 1500);
      const loop = await e.run('while True:\n    pass', [stdio('')]);
      expect(loop.verdict).toBe('timeout');
      expect(loop.tests[0].message).toMatch(/ms of it spent waiting for a CPU, not counted/);
    } finally {
      await stop(busy);
      await e.close();
    }
  });
});
