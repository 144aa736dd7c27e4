// The user namespace of a bwrap-root worker (docs/execution.md, "Isolation").
//
// Where bubblewrap cannot make a user namespace as uid 65534 (unprivileged user namespaces are
// off, or 65534 cannot reach the interpreter), root could let bubblewrap make one itself, but then
// bubblewrap maps the sandbox's uid to root's: its processes would be host uid 0 (without
// capabilities), which RLIMIT_NPROC does not limit and which owns a non-dumpable worker's /proc
// entries. Instead root makes the namespace: a helper process unshares one, root maps uid and gid
// 65534 in it to host uid and gid 65534 (nothing else), nested user namespaces are disabled in it
// (user.max_user_namespaces 0 there), and bubblewrap, started by root, joins it (--userns). Inside,
// the sandbox is then what bwrap-nobody gives: host nobody, no capability anywhere.
//
// One namespace per worker: RLIMIT_NPROC counts processes per user per namespace, so workers
// sharing one would share their tests' process limit.
import { spawn } from 'node:child_process';
import { openSync, writeFileSync } from 'node:fs';
import { SANDBOX_UID } from './sandbox';

const CLONE_NEWUSER = 0x10000000;

// Runs as root on the host: unshares a user namespace, disables nested ones in it (a process has
// every capability in the namespace it made, and the sysctl is per namespace), says "ready" and
// waits until the engine, having mapped the ids and opened the namespace, closes its stdin.
const HELPER = `import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
if libc.unshare(${CLONE_NEWUSER}) != 0:
    sys.stderr.write('unshare(CLONE_NEWUSER): %s' % os.strerror(ctypes.get_errno()))
    sys.exit(1)
with open('/proc/sys/user/max_user_namespaces', 'w') as f:
    f.write('0')
sys.stdout.write('ready\\n')
sys.stdout.flush()
sys.stdin.read()
`;

/**
 * Makes a user namespace mapping only uid/gid 65534 to host uid/gid 65534, with nested user
 * namespaces disabled, and returns an open descriptor of it (the caller closes it once bubblewrap
 * has it). Root only. Rejects with the helper's own error (e.g. user namespaces unavailable).
 */
export function makeUserNamespace(python: string, timeoutMs = 10_000): Promise<number> {
  return new Promise((resolve, reject) => {
    // -I -S: no environment, no site packages: this runs as root outside any sandbox.
    const helper = spawn(python, ['-I', '-S', '-c', HELPER], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let settled = false;
    let exited = false;
    const finish = (e: Error | undefined, fd?: number) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      helper.stdin.end();
      if (e) {
        helper.kill('SIGKILL');
        reject(e);
      } else if (exited) resolve(fd!);
      else {
        // Its work is done once the namespace is open: resolve when it is gone (it exits at the
        // end of its stdin), so nothing of the engine's outlives a worker start.
        const stuck = setTimeout(() => helper.kill('SIGKILL'), 2000);
        helper.once('exit', () => {
          clearTimeout(stuck);
          resolve(fd!);
        });
      }
    };
    const timer = setTimeout(() => finish(new Error(`the user namespace helper did not answer within ${timeoutMs} ms`)), timeoutMs);
    helper.stdin.on('error', () => undefined);
    helper.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
    helper.on('error', (e) => finish(new Error(`cannot start the user namespace helper (${python}): ${e.message}`)));
    helper.on('exit', (code) => {
      exited = true;
      finish(new Error(`cannot make a user namespace: ${err.trim() || `the helper exited with status ${code}`}`));
    });
    helper.stdout.on('data', (c: Buffer) => {
      out += c.toString('utf8');
      if (!out.includes('ready\n') || settled) return;
      try {
        const proc = `/proc/${helper.pid}`;
        writeFileSync(`${proc}/setgroups`, 'deny');
        writeFileSync(`${proc}/uid_map`, `${SANDBOX_UID} ${SANDBOX_UID} 1\n`);
        writeFileSync(`${proc}/gid_map`, `${SANDBOX_UID} ${SANDBOX_UID} 1\n`);
        // The open descriptor keeps the namespace alive after the helper exits.
        finish(undefined, openSync(`${proc}/ns/user`, 'r'));
      } catch (e) {
        finish(new Error(`cannot map uid ${SANDBOX_UID} in a new user namespace: ${(e as Error).message}`));
      }
    });
  });
}
