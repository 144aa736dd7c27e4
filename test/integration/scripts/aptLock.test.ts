// Waiting for Debian's apt/dpkg lock (scripts/apt-lock.mjs): a lock another process really holds
// on a file, as apt and dpkg hold theirs, is found in /proc/locks with its holder.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { heldBy, parseProcLocks } from '../../../scripts/apt-lock.mjs';

describe('apt lock', () => {
  it('finds a lock another process holds on a file (as apt holds its lock files)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pairforge-lock-'));
    const file = path.join(dir, 'lock-frontend');
    writeFileSync(file, '');
    // python3's fcntl.lockf is the fcntl lock apt and dpkg take.
    const holder = spawn('python3', ['-c', `import fcntl, sys, time\nf = open(${JSON.stringify(file)}, 'w')\nfcntl.lockf(f, fcntl.LOCK_EX)\nprint('held', flush=True)\ntime.sleep(30)`]);
    try {
      await new Promise<void>((resolve, reject) => {
        holder.stdout.on('data', () => resolve());
        holder.on('error', reject);
        holder.on('exit', (code) => reject(new Error(`lock holder exited with ${code}`)));
      });
      const st = statSync(file);
      const dev = Number(st.dev);
      const f = { file, inode: Number(st.ino), major: (dev >> 8) & 0xfff, minor: (dev & 0xff) | ((dev >> 12) & 0xfff00) };
      expect(heldBy([f], parseProcLocks(readFileSync('/proc/locks', 'utf8')))).toEqual([{ file, pid: holder.pid }]);
    } finally {
      holder.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
