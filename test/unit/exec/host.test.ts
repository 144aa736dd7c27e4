// The server-held execution engine: options from the settings, created lazily, replaced when they change.
import { describe, expect, it } from 'vitest';
import { engineOptions, ExecHost } from '../../../server/exec/host';
import { DEFAULT_EXEC_LIMITS, type EngineOptions, type ExecRunner } from '../../../server/exec/types';

describe('engine options from settings', () => {
  it('converts MiB / KiB, drops workers = 0 (one per core) and values out of the settings\' bounds', () => {
    const log = () => undefined;
    expect(engineOptions({ testTimeoutMs: 4000, memoryMB: 512, outputKB: 64, workers: 0, allowUnsandboxed: false }, log)).toEqual({
      limits: { testTimeoutMs: 4000, memoryBytes: 512 * 1024 * 1024, outputBytes: 64 * 1024 },
      allowUnsandboxed: false,
      log,
    });
    // Settings are clamped when they arrive (normalizeSettings); what is still out of bounds here
    // leaves the engine's default in place.
    expect(engineOptions({ testTimeoutMs: 5, workers: 3, allowUnsandboxed: true }, log)).toEqual({ limits: {}, workers: 3, allowUnsandboxed: true, log });
    expect(engineOptions({ testTimeoutMs: 100, workers: 257 }, log)).toEqual({ limits: { testTimeoutMs: 100 }, allowUnsandboxed: false, log });
    expect(engineOptions(undefined, log)).toEqual({ limits: {}, allowUnsandboxed: false, log });
    expect(engineOptions({ memoryMB: Number.NaN, outputKB: -3 }, log).limits).toEqual({});
  });
});

describe('the server-held execution engine', () => {
  /** A runner that records what happens to it (the real engine is in the integration tests). */
  function fakeFactory() {
    const made: { opts: EngineOptions; closed: boolean }[] = [];
    let fail: Error | undefined;
    const factory = async (opts: EngineOptions): Promise<ExecRunner> => {
      if (fail) throw fail;
      const rec = { opts, closed: false };
      made.push(rec);
      return {
        sandbox: { isolation: 'bwrap-nobody', limits: { ...DEFAULT_EXEC_LIMITS } },
        run: async () => {
          throw new Error('not used');
        },
        close: async () => {
          rec.closed = true;
        },
      };
    };
    return { made, factory, failWith: (e: Error | undefined) => (fail = e) };
  }

  it('creates the engine on first use, keeps it while the limits stay, replaces it (closing the old one once idle) when they change', async () => {
    const f = fakeFactory();
    const host = new ExecHost(f.factory, () => undefined);
    host.configure({ testTimeoutMs: 4000 });
    expect(f.made).toHaveLength(0);
    expect(host.started).toBe(false);
    await host.use(async () => undefined);
    await host.use(async () => undefined);
    host.configure({ testTimeoutMs: 4000 });
    await host.use(async () => undefined);
    expect(f.made).toHaveLength(1);
    // New limits while a run is in flight: the old engine is closed only after that run.
    let release!: () => void;
    const running = host.use(() => new Promise<void>((r) => (release = r)));
    await Promise.resolve();
    host.configure({ testTimeoutMs: 2000 });
    await new Promise((r) => setTimeout(r, 10));
    expect(f.made[0].closed).toBe(false);
    release();
    await running;
    expect(f.made[0].closed).toBe(true);
    await host.use(async () => undefined);
    expect(f.made).toHaveLength(2);
    expect(f.made[1].opts.limits).toEqual({ testTimeoutMs: 2000 });
    await host.close();
    expect(f.made[1].closed).toBe(true);
  });

  it('does not cache a failed start: the next run tries again', async () => {
    const f = fakeFactory();
    const host = new ExecHost(f.factory, () => undefined);
    f.failWith(new Error('bubblewrap is missing: apt-get install bubblewrap'));
    await expect(host.use(async () => 1)).rejects.toThrow(/bubblewrap is missing/);
    f.failWith(undefined);
    await expect(host.use(async () => 2)).resolves.toBe(2);
    expect(f.made).toHaveLength(1);
    await host.close();
  });
});
