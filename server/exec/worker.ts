// One warm worker: a sandboxed python3 running server/exec/python/worker.py, spoken to with one
// JSON object per line over its control channel (descriptor 3: see CHANNEL_FD in sandbox.ts). The
// parent's own wall clock backs up the worker's: a worker that does not answer in time is killed
// with its whole process group and the sandbox's init (and with it everything in the sandbox's PID
// namespace) and replaced.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import { CHANNEL_FD, createMemoryCgroup, isolationProblem, oomKills, removeCgroup, type LaunchPlan } from './sandbox';
import { makeUserNamespace } from './userns';

export class WorkerGoneError extends Error {
  override readonly name = 'WorkerGoneError';
  constructor(message: string, readonly reason: 'died' | 'timeout' | 'killed') {
    super(message);
  }
}

export type WorkerMessage = { op: string } & Record<string, unknown>;

const STDERR_KEEP = 8192;

export class WorkerProcess {
  private proc: ChildProcess;
  private channel: Duplex;
  private buffered: Buffer[] = [];
  private waiting: { resolve: (m: WorkerMessage) => void; reject: (e: Error) => void } | undefined;
  private queue: WorkerMessage[] = [];
  private stderrTail = '';
  private exited = false;
  private exitPromise: Promise<void>;
  private cgroupGone: Promise<void> = Promise.resolve();
  /** Tests run since start: workers are recycled after a number of them. */
  testsRun = 0;
  readonly startedAt = Date.now();
  info: WorkerMessage | undefined;

  /** The worker's own memory cgroup, when the plan has one (sandbox.ts). */
  readonly cgroup: string | undefined;
  /** bubblewrap's init in the sandbox (pid 1 there): the child of the bwrap process. */
  private sandboxInit: ProcessId | undefined;

  /** `passed`: the descriptors the plan hands over (sandbox.ts, FIRST_PASSED_FD), open until spawned. */
  private constructor(plan: LaunchPlan, passed: number[]) {
    this.cgroup = plan.cgroup ? createMemoryCgroup(plan.cgroup.base, plan.cgroup.limitBytes, plan.uid) : undefined;
    track(this);
    // Joining the group before bwrap starts puts every process of the sandbox in it.
    const [command, args] = this.cgroup
      ? ['/bin/sh', ['-c', 'echo $$ > "$0" && exec "$@"', `${this.cgroup}/cgroup.procs`, plan.command, ...plan.args]]
      : [plan.command, plan.args];
    this.proc = spawn(command, args, {
      // 0 and 1 are /dev/null; 2 carries bubblewrap's and the worker's own errors; 3 is the channel.
      stdio: ['ignore', 'ignore', 'pipe', 'pipe', ...passed],
      // Its own process group, so the whole tree can be killed at once.
      detached: true,
      ...(plan.uid !== undefined ? { uid: plan.uid, gid: plan.gid } : {}),
    });
    this.channel = this.proc.stdio[CHANNEL_FD] as Duplex;
    this.channel.on('data', (chunk: Buffer) => this.onData(chunk));
    this.proc.stderr!.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-STDERR_KEEP);
    });
    this.channel.on('error', () => undefined);
    this.exitPromise = new Promise((resolve) => {
      const done = () => {
        if (this.exited) return;
        this.exited = true;
        const w = this.waiting;
        this.waiting = undefined;
        w?.reject(new WorkerGoneError(`the sandbox worker exited${this.stderrTail ? `: ${this.stderrTail.trim().slice(-500)}` : ''}`, 'died'));
        resolve();
      };
      const gone = () => {
        if (!this.exited) this.killSandboxInit();
        if (this.cgroup && !this.exited) {
          this.cgroupGone = dropCgroup(this.cgroup).then(() => {
            live.delete(this);
          });
        } else live.delete(this);
        done();
      };
      this.proc.on('exit', gone);
      this.proc.on('error', (e) => {
        this.stderrTail += String(e.message);
        gone();
      });
    });
  }

  static async start(plan: LaunchPlan, timeoutMs = 20_000): Promise<WorkerProcess> {
    const passed: number[] = [];
    let w: WorkerProcess;
    try {
      // Read as the engine's user, so nothing of the install folder need be readable in the sandbox.
      for (const f of plan.files ?? []) passed.push(openSync(f, 'r'));
      if (plan.userns) passed.push(await makeUserNamespace(plan.userns.python));
      w = new WorkerProcess(plan, passed);
    } finally {
      for (const fd of passed) closeSync(fd);
    }
    try {
      const ready = await w.receive(timeoutMs);
      if (ready.op !== 'ready') throw new Error(`the sandbox worker said ${JSON.stringify(ready).slice(0, 200)} instead of ready`);
      // Every worker, the first and each replacement, must be isolated as its mode promises.
      const problem = isolationProblem(plan.mode, ready);
      if (problem) throw new Error(problem);
      w.info = ready;
      if (plan.mode !== 'none' && w.proc.pid !== undefined) w.sandboxInit = childOf(w.proc.pid);
      return w;
    } catch (e) {
      await w.kill();
      throw e;
    }
  }

  /** Processes the OOM killer has killed in this worker's cgroup so far (0 without one). */
  oomKills(): number {
    return this.cgroup ? oomKills(this.cgroup) : 0;
  }

  get alive(): boolean {
    return !this.exited;
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  get stderr(): string {
    return this.stderrTail;
  }

  private onData(chunk: Buffer): void {
    let start = 0;
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, start)) {
      this.buffered.push(chunk.subarray(start, i));
      const line = Buffer.concat(this.buffered).toString('utf8');
      this.buffered = [];
      start = i + 1;
      let msg: WorkerMessage;
      try {
        msg = JSON.parse(line) as WorkerMessage;
      } catch {
        msg = { op: 'garbage', line: line.slice(0, 200) };
      }
      const w = this.waiting;
      if (w) {
        this.waiting = undefined;
        w.resolve(msg);
      } else this.queue.push(msg);
    }
    if (start < chunk.length) this.buffered.push(chunk.subarray(start));
  }

  /** The next message, or WorkerGoneError when the worker dies or stays silent past timeoutMs. */
  receive(timeoutMs: number, signal?: AbortSignal): Promise<WorkerMessage> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    if (signal?.aborted) return Promise.reject(new WorkerGoneError('aborted', 'killed'));
    if (this.exited) return Promise.reject(new WorkerGoneError(`the sandbox worker is gone${this.stderrTail ? `: ${this.stderrTail.trim().slice(-500)}` : ''}`, 'died'));
    return new Promise((resolve, reject) => {
      const finish = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const timer = setTimeout(() => {
        this.waiting = undefined;
        finish();
        void this.kill().then(() => reject(new WorkerGoneError(`the sandbox worker did not answer within ${timeoutMs} ms`, 'timeout')));
      }, timeoutMs);
      const onAbort = () => {
        this.waiting = undefined;
        finish();
        void this.kill().then(() => reject(new WorkerGoneError('aborted', 'killed')));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting = {
        resolve: (m) => {
          finish();
          resolve(m);
        },
        reject: (e) => {
          finish();
          reject(e);
        },
      };
    });
  }

  /** Sends one message (answers come through receive()). */
  send(msg: WorkerMessage): void {
    if (this.exited) throw new WorkerGoneError('the sandbox worker is gone', 'died');
    this.channel.write(`${JSON.stringify(msg)}\n`);
  }

  /**
   * SIGKILLs bubblewrap's init in the sandbox, which takes every process of the sandbox's PID
   * namespace with it: when the engine kills a worker, and when its bwrap ends (a program killed
   * the worker, whose own test processes may live on). bubblewrap alone does not guarantee it:
   * its monitor exits as soon as the worker has, and --die-with-parent relies on the parent-death
   * signal, which the kernel clears when a process changes its credentials, as init does in
   * bwrap-root (host uid 0 -> 65534). Only the process recorded at start (same pid and start
   * time), so a reused pid is never hit.
   */
  private killSandboxInit(): void {
    const init = this.sandboxInit;
    if (!init) return;
    const now = processId(init.pid);
    if (now && now.start === init.start && now.state !== 'Z') {
      try {
        process.kill(init.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }

  /** For the process exit hook (below), which cannot wait. */
  killSandboxInitAtExit(): void {
    this.killSandboxInit();
  }

  /** Kills the sandbox and the worker's process group and waits until it is reaped. */
  async kill(): Promise<void> {
    if (!this.exited && this.proc.pid !== undefined) {
      this.killSandboxInit();
      try {
        process.kill(-this.proc.pid, 'SIGKILL');
      } catch {
        try {
          this.proc.kill('SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    await this.exitPromise;
    await this.cgroupGone;
  }

  /** Asks the worker to exit, killing it if it does not within a second. */
  async close(): Promise<void> {
    if (this.exited) return;
    try {
      this.channel.end(`${JSON.stringify({ op: 'exit' })}\n`);
    } catch {
      // the pipe is already closed
    }
    const timer = setTimeout(() => void this.kill(), 1000);
    await this.exitPromise;
    clearTimeout(timer);
    await this.cgroupGone;
  }
}

/** Removes a worker's cgroup once its last process is gone (the kernel empties it a moment after). */
async function dropCgroup(dir: string): Promise<void> {
  for (let i = 0; i < 50; i++) {
    if (removeCgroup(dir)) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

interface ProcessId {
  pid: number;
  ppid: number;
  state: string;
  /** Start time in clock ticks since boot: with the pid, names one process for good. */
  start: string;
}

function processId(pid: number): ProcessId | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { pid, ppid: Number(f[1]), state: f[0], start: f[19] };
  } catch {
    return undefined;
  }
}

/** The (first) child of a live process: /proc/<pid>/task/<pid>/children, else a scan of /proc. */
function childOf(pid: number): ProcessId | undefined {
  try {
    const first = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/)[0];
    if (first) return processId(Number(first));
  } catch {
    // no children file in this kernel
  }
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const id = processId(Number(name));
    if (id?.ppid === pid) return id;
  }
  return undefined;
}

// If the engine's process exits with workers still running (no close(), an uncaught error), they
// and their cgroups must not outlive it: kill the sandboxes and remove the groups before the
// process is gone. (Only a SIGKILL of the engine leaves empty groups; the next engine in the same
// cgroup removes them. Its sandboxes end with it: their channel closes, and bubblewrap's
// --die-with-parent.)
const live = new Set<WorkerProcess>();
let exitHook = false;

function track(w: WorkerProcess): void {
  live.add(w);
  if (exitHook) return;
  exitHook = true;
  process.on('exit', () => {
    for (const x of live) x.killSandboxInitAtExit();
    for (const x of live) {
      if (x.pid !== undefined) {
        try {
          process.kill(-x.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    const pause = new Int32Array(new SharedArrayBuffer(4));
    for (const x of live) {
      // The kernel empties a group a moment after its processes die.
      for (let i = 0; i < 25 && x.cgroup && !removeCgroup(x.cgroup); i++) Atomics.wait(pause, 0, 0, 20);
    }
  });
}
