// One warm worker: a sandboxed python3 running server/exec/python/worker.py, spoken to with one
// JSON object per line. The parent's own wall clock backs up the worker's: a worker that does not
// answer in time is killed with its whole process group (and, through --die-with-parent and the
// PID namespace, everything inside) and replaced.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createMemoryCgroup, oomKills, removeCgroup, type LaunchPlan } from './sandbox';

export class WorkerGoneError extends Error {
  override readonly name = 'WorkerGoneError';
  constructor(message: string, readonly reason: 'died' | 'timeout' | 'killed') {
    super(message);
  }
}

export type WorkerMessage = { op: string } & Record<string, unknown>;

const STDERR_KEEP = 8192;

export class WorkerProcess {
  private proc: ChildProcessWithoutNullStreams;
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

  private constructor(plan: LaunchPlan) {
    this.cgroup = plan.cgroup ? createMemoryCgroup(plan.cgroup.base, plan.cgroup.limitBytes, plan.uid) : undefined;
    if (this.cgroup) trackCgroup(this);
    // Joining the group before bwrap starts puts every process of the sandbox in it.
    const [command, args] = this.cgroup
      ? ['/bin/sh', ['-c', 'echo $$ > "$0" && exec "$@"', `${this.cgroup}/cgroup.procs`, plan.command, ...plan.args]]
      : [plan.command, plan.args];
    this.proc = spawn(command, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      // Its own process group, so the whole tree can be killed at once.
      detached: true,
      ...(plan.uid !== undefined ? { uid: plan.uid, gid: plan.gid } : {}),
    });
    this.proc.stdout.on('data', (chunk: Buffer) => this.onData(chunk));
    this.proc.stderr.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-STDERR_KEEP);
    });
    this.proc.stdin.on('error', () => undefined);
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
        if (this.cgroup && !this.exited) {
          this.cgroupGone = dropCgroup(this.cgroup).then(() => {
            live.delete(this);
          });
        }
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
    const w = new WorkerProcess(plan);
    try {
      const ready = await w.receive(timeoutMs);
      if (ready.op !== 'ready') throw new Error(`the sandbox worker said ${JSON.stringify(ready).slice(0, 200)} instead of ready`);
      w.info = ready;
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
    this.proc.stdin.write(`${JSON.stringify(msg)}\n`);
  }

  /** Kills the worker's process group and waits until it is reaped. */
  async kill(): Promise<void> {
    if (!this.exited && this.proc.pid !== undefined) {
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
      this.proc.stdin.end(`${JSON.stringify({ op: 'exit' })}\n`);
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

// If the engine's process exits with workers still running (no close(), an uncaught error), their
// cgroups must not outlive it: kill the workers and remove the groups before the process is gone.
// (Only a SIGKILL of the engine leaves empty groups; the next engine in the same cgroup removes them.)
const live = new Set<WorkerProcess>();
let exitHook = false;

function trackCgroup(w: WorkerProcess): void {
  live.add(w);
  if (exitHook) return;
  exitHook = true;
  process.on('exit', () => {
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
