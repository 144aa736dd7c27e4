// The runtime probe runs the configured Node to check it can start the engine server.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MIN_NODE_MAJOR, probeRuntime, runtimeErrorMessage } from '../../../extension/runtimeCheck';


describe('runtime probe', () => {
  it('accepts this Node', async () => {
    const r = await probeRuntime(process.execPath);
    expect(r).toEqual({ ok: true, version: process.versions.node, executable: process.execPath });
  });

  it("names the program that ran: a runtime by name on PATH is the file it finds", async () => {
    const byName = await probeRuntime('node');
    if (!byName.ok) throw new Error(`no node on PATH: ${byName.reason}`);
    expect(path.isAbsolute(byName.executable)).toBe(true);
    expect(await probeRuntime(byName.executable)).toEqual(byName);
  });

  it('says why a runtime cannot be used', async () => {
    expect(await probeRuntime('/nonexistent/bin/node')).toEqual({ ok: false, reason: 'not found (not on PATH and not an existing file)' });
    const echo = await probeRuntime('/bin/echo');
    expect(echo.ok).toBe(false);
    expect(!echo.ok && echo.reason).toMatch(/^is not Node\.js/);
    const fails = await probeRuntime('/bin/false');
    expect(!fails.ok && fails.reason).toMatch(/^failed/);
    expect(runtimeErrorMessage('/opt/node16/bin/node', 'is Node.js 16.20.0')).toBe(
      `PairForge: the engine server cannot start with runtime "/opt/node16/bin/node": is Node.js 16.20.0. Set "pairforge.server.runtime" to a Node.js >= ${MIN_NODE_MAJOR} executable.`,
    );
  });
});
