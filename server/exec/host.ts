// The server's one execution engine, created on first use with the limits from the settings and
// replaced (the old one closed once idle) when they change. Creation failures (bubblewrap missing)
// are not cached: the next request tries again, after the user fixed the machine.
import { inRange, type ExecSettings, type SandboxStatus } from '../protocol';
import type { EngineOptions, ExecLimits, ExecRunner } from './types';

export type EngineFactory = (opts: EngineOptions) => Promise<ExecRunner>;

/** The engine options the settings ask for, in the engine's units. Pure. The settings were
 * clamped into their bounds when they arrived (server/lsp/context.ts); a value out of bounds here
 * is left out, so the engine's default applies. workers 0 means one per core (the engine's default). */
export function engineOptions(s: Partial<ExecSettings> | undefined, log: (line: string) => void): EngineOptions {
  const limits: Partial<ExecLimits> = {};
  const t = inRange('exec.testTimeoutMs', s?.testTimeoutMs);
  if (t !== undefined) limits.testTimeoutMs = t;
  const m = inRange('exec.memoryMB', s?.memoryMB);
  if (m !== undefined) limits.memoryBytes = m * 1024 * 1024;
  const o = inRange('exec.outputKB', s?.outputKB);
  if (o !== undefined) limits.outputBytes = o * 1024;
  const w = inRange('exec.workers', s?.workers);
  return {
    limits,
    ...(w !== undefined && w > 0 ? { workers: w } : {}),
    allowUnsandboxed: s?.allowUnsandboxed === true,
    log,
  };
}

export class ExecHost {
  private engine: Promise<ExecRunner> | undefined;
  private key = '';
  private opts: EngineOptions;
  private busy = 0;
  private retired: ExecRunner[] = [];

  constructor(
    private readonly factory: EngineFactory,
    private readonly log: (line: string) => void,
    /** Called once per started engine with the mode its workers run in. */
    private readonly onStarted?: (status: SandboxStatus) => void,
  ) {
    this.opts = engineOptions(undefined, log);
  }

  /** New settings; the current engine is retired when they differ (closed when no run uses it). */
  configure(s: Partial<ExecSettings> | undefined): void {
    const opts = engineOptions(s, this.log);
    const key = JSON.stringify({ ...opts, log: undefined });
    if (key === this.key) return;
    this.key = key;
    this.opts = opts;
    const old = this.engine;
    this.engine = undefined;
    if (old) {
      void old.then(
        (e) => {
          this.retired.push(e);
          this.closeRetired();
        },
        () => undefined,
      );
    }
  }

  /** Runs `body` with the engine (created on first use). */
  async use<T>(body: (engine: ExecRunner) => Promise<T>): Promise<T> {
    const fresh = this.engine === undefined;
    const current = (this.engine ??= this.factory(this.opts));
    let engine: ExecRunner;
    try {
      engine = await current;
    } catch (e) {
      if (this.engine === current) this.engine = undefined;
      throw e;
    }
    if (fresh && engine.status) this.onStarted?.(engine.status);
    this.busy++;
    try {
      return await body(engine);
    } finally {
      this.busy--;
      this.closeRetired();
    }
  }

  /** Whether an engine has been created (and not retired). */
  get started(): boolean {
    return this.engine !== undefined;
  }

  private closeRetired(): void {
    if (this.busy > 0) return;
    for (const e of this.retired.splice(0)) void e.close().catch((err: Error) => this.log(`exec: closing an old engine failed: ${err.message}`));
  }

  async close(): Promise<void> {
    const e = this.engine;
    this.engine = undefined;
    this.key = '';
    const all = [...this.retired.splice(0)];
    if (e) all.push(...(await e.then((x) => [x], () => [])));
    await Promise.all(all.map((x) => x.close().catch(() => undefined)));
  }
}
