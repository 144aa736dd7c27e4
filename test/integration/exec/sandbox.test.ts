// The adversarial suite (docs/execution.md, "Hostile programs"): hostile programs
// (hostile.ts) run in the real bubblewrap sandbox of this process. Each must end with the
// expected verdict within its limit, leave no process behind (checked in the host's process
// table) and leave the host unchanged. matrix.test.ts runs the same programs in
// every mode, folder and user.
import { existsSync, readdirSync, statSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExecEngine } from '../../../server/exec/engine';
import { memoryCgroupBase } from '../../../server/exec/sandbox';
import { HOSTILE_LIMITS, hostTargets, hostilePrograms, processTable, runHostile, settledStrays, stdio, type HostileEnv, type SandboxSet } from './hostile';

/** As root on cgroup v1 each sandbox has a memory cgroup (sandbox.ts); else only per-process limits. */
const CGROUP = memoryCgroupBase() !== undefined;
const MARK = `pfx${process.pid}x${Date.now().toString(36)}`;
const HOST_TARGETS = hostTargets(MARK);
const ROOT = process.getuid?.() === 0;

let listener: net.Server;
let connections = 0;
const env: HostileEnv = { port: 0, hostTargets: HOST_TARGETS, cgroup: CGROUP };
// The programs are listed before the listener has its port: their code reads env.port when run.
const HOSTILE = () => hostilePrograms(env);

describe('hostile programs in the sandbox', () => {
  let engine: ExecEngine;
  const before = new Map<string, boolean>();
  const sandboxes: SandboxSet = new Map();

  beforeAll(async () => {
    listener = net.createServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    env.port = (listener.address() as net.AddressInfo).port;
    for (const p of HOST_TARGETS) before.set(p, existsSync(p));
    engine = await ExecEngine.create({ workers: 2, limits: HOSTILE_LIMITS });
  });

  afterAll(async () => {
    await engine?.close();
    await new Promise<void>((resolve) => listener.close(() => resolve()));
  });

  it('runs isolated in the strongest mode for its user', () => {
    const strongest = ROOT ? 'bwrap-nobody' : 'bwrap-user';
    expect(engine.sandbox.isolation).toBe(strongest);
    expect(engine.mode).toBe(strongest);
    expect(engine.status).toMatchObject({ mode: strongest, preferred: strongest, warning: false });
  });

  for (const name of HOSTILE().map((h) => h.name)) {
    it(name, async () => {
      const h = HOSTILE().find((x) => x.name === name)!;
      const o = await runHostile(h, {
        engine,
        env,
        ownEngine: (limits) => ExecEngine.create({ workers: 1, limits }),
        marker: MARK,
        before,
        connections: () => connections,
        sandboxes,
      });
      expect(o.verdict, o.detail).toBe(h.verdict);
      if (h.message) expect(o.text).toMatch(h.message);
      expect(o.elapsedMs, `reference test ${o.refMs.toFixed(1)} ms`).toBeLessThan(o.allowedMs);
      // Nothing the program started is still running, in or out of the sandbox.
      expect(o.stray).toEqual([]);
      // The host is unchanged: no file written outside the sandbox, no connection received.
      expect(o.hostChanged).toEqual([]);
      expect(o.connections).toBe(0);
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
    expect(await settledStrays(process.pid, MARK, sandboxes)).toEqual([]);
    // The host's /tmp holds nothing of the sandbox.
    expect(readdirSync(os.tmpdir()).filter((n) => n.includes(MARK))).toEqual([]);
    expect(statSync('/etc/shadow').isFile()).toBe(true);
  });
});
