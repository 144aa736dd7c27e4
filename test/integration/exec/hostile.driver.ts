// Runs the hostile programs (hostile.ts) on an engine of its own and prints one JSON report
// on stdout: the engine's mode and status, what it logged, each program's outcome and what was
// left after close(). matrix.test.ts bundles it with the engine into a folder of its
// own and starts it there, as root or as an ordinary user, so the engine runs from that folder
// exactly as an installed one would.
//
// argv[2]: JSON { marker, mode?, names? } (names: run only these programs).
import { existsSync } from 'node:fs';
import net from 'node:net';
import { ExecEngine } from '../../../server/exec/engine';
import { harnessDir, memoryCgroupBase } from '../../../server/exec/sandbox';
import { HOSTILE_LIMITS, hostTargets, hostilePrograms, processTable, runHostile, settledStrays, stdio, type HostileEnv, type HostileOutcome, type SandboxSet } from './hostile';
import type { Isolation } from '../../../server/protocol';

export interface DriverConfig {
  marker: string;
  mode?: Isolation;
  names?: string[];
}

export interface DriverReport {
  uid: number;
  cwd: string;
  harness: string;
  mode: Isolation;
  status: ExecEngine['status'];
  /** What the suite's engine logged (one line about its mode). */
  log: string[];
  cgroup: boolean;
  outcomes: HostileOutcome[];
  honestAfter: string;
  recycled: number;
  /** Processes of the engine left once it was closed. */
  afterClose: string[];
}

async function main(): Promise<void> {
  const cfg = JSON.parse(process.argv[2] ?? '{}') as DriverConfig;
  let connections = 0;
  const listener = net.createServer((s) => {
    connections++;
    s.destroy();
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const env: HostileEnv = {
    port: (listener.address() as net.AddressInfo).port,
    hostTargets: hostTargets(cfg.marker),
    cgroup: memoryCgroupBase() !== undefined,
  };
  const before = new Map(env.hostTargets.map((p) => [p, existsSync(p)]));
  const log: string[] = [];
  const mode = cfg.mode !== undefined ? { mode: cfg.mode } : {};
  const engine = await ExecEngine.create({ workers: 2, limits: HOSTILE_LIMITS, ...mode, log: (l) => log.push(l) });
  const outcomes: HostileOutcome[] = [];
  const sandboxes: SandboxSet = new Map();
  let honestAfter = '';
  let recycled = 0;
  try {
    for (const h of hostilePrograms(env)) {
      if (cfg.names && !cfg.names.includes(h.name)) continue;
      outcomes.push(
        await runHostile(h, {
          engine,
          env,
          ownEngine: (limits) => ExecEngine.create({ workers: 1, limits, ...mode, log: () => undefined }),
          marker: cfg.marker,
          before,
          connections: () => connections,
          sandboxes,
        }),
      );
    }
    const r = await engine.run('print(sum(map(int, input().split())))', [stdio('6', '1 2 3')]);
    honestAfter = r.verdict;
    recycled = engine.recycled;
  } finally {
    await engine.close();
    listener.close();
  }
  await new Promise((resolve) => setTimeout(resolve, 200));
  const bwraps = processTable().filter((p) => p.ppid === process.pid && p.comm === 'bwrap');
  const report: DriverReport = {
    uid: process.getuid?.() ?? -1,
    cwd: process.cwd(),
    harness: harnessDir(),
    mode: engine.mode,
    status: engine.status,
    log,
    cgroup: env.cgroup,
    outcomes,
    honestAfter,
    recycled,
    afterClose: [...bwraps.map((p) => `${p.pid} ${p.cmdline}`), ...(await settledStrays(process.pid, cfg.marker, sandboxes))],
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

main().then(
  () => process.exit(0),
  (e: Error) => {
    process.stderr.write(`hostile driver: ${e.stack ?? e.message}\n`);
    process.exit(1);
  },
);
