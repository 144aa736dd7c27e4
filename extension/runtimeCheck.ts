// Checks that the configured runtime can run the engine server before the language client spawns
// it, so a wrong `pairforge.server.runtime` gives a message that says what is wrong and what to set.
// No `vscode` import (unit-testable).
import { execFile } from 'node:child_process';

/** better-sqlite3 12 and web-tree-sitter need Node >= 20. */
export const MIN_NODE_MAJOR = 20;

/** `executable`: the program that ran (its process.execPath), whatever name or link the runtime was
 * given as: 'node' on PATH and /usr/bin/node are one runtime. */
export type RuntimeProbe = { ok: true; version: string; executable: string } | { ok: false; reason: string };

/** Runs `<runtime> -e ...` and reads its Node version and executable. */
export function probeRuntime(runtime: string, opts: { cwd?: string; timeoutMs?: number } = {}): Promise<RuntimeProbe> {
  return new Promise((resolve) => {
    execFile(
      runtime,
      ['-e', 'process.stdout.write(process.versions.node + "\\n" + process.execPath)'],
      { cwd: opts.cwd, timeout: opts.timeoutMs ?? 15_000, windowsHide: true },
      (err, stdout, stderr) => {
        if (err) {
          const code = (err as NodeJS.ErrnoException).code;
          const reason =
            code === 'ENOENT'
              ? 'not found (not on PATH and not an existing file)'
              : code === 'EACCES'
                ? 'not executable (permission denied)'
                : err.killed
                  ? 'did not answer within the time limit'
                  : `failed: ${(stderr || err.message).trim().split('\n')[0]}`;
          resolve({ ok: false, reason });
          return;
        }
        const [version = '', executable = ''] = stdout.trim().split('\n');
        const major = Number(/^(\d+)\./.exec(version)?.[1]);
        if (!Number.isFinite(major)) resolve({ ok: false, reason: `is not Node.js (printed ${JSON.stringify(version.slice(0, 80))})` });
        else if (major < MIN_NODE_MAJOR) resolve({ ok: false, reason: `is Node.js ${version}; the engine needs Node.js >= ${MIN_NODE_MAJOR}` });
        else resolve({ ok: true, version, executable });
      },
    );
  });
}

/** The message shown when the engine cannot start. */
export function runtimeErrorMessage(runtime: string, reason: string): string {
  return `PairForge: the engine server cannot start with runtime "${runtime}": ${reason}. Set "pairforge.server.runtime" to a Node.js >= ${MIN_NODE_MAJOR} executable.`;
}
