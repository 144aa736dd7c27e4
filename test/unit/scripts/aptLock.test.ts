// Waiting for Debian's apt/dpkg lock (scripts/apt-lock.mjs): the kernel's lock table read right
// and the lock files matched by device and inode (a lock held by a real process:
// test/integration/scripts/aptLock.test.ts).
import { describe, expect, it } from 'vitest';
import { heldBy, parseProcLocks } from '../../../scripts/apt-lock.mjs';

const PROC_LOCKS = `1: POSIX  ADVISORY  WRITE 5475 fe:00:131075 0 EOF
2: OFDLCK ADVISORY  READ  -1 00:1a:77 0 EOF
2: -> POSIX  ADVISORY  WRITE 6001 fe:00:131075 0 EOF
3: FLOCK  ADVISORY  WRITE 812 103:02:5529 0 EOF
`;

describe('apt lock', () => {
  it('reads /proc/locks: holders with their device and inode, waiters left out', () => {
    expect(parseProcLocks(PROC_LOCKS)).toEqual([
      { type: 'POSIX', pid: 5475, major: 0xfe, minor: 0, inode: 131075 },
      { type: 'OFDLCK', pid: -1, major: 0, minor: 0x1a, inode: 77 },
      { type: 'FLOCK', pid: 812, major: 0x103, minor: 2, inode: 5529 },
    ]);
  });

  it('matches a lock file by device and inode (the same inode on another device is not it)', () => {
    const locks = parseProcLocks(PROC_LOCKS);
    const frontend = { file: '/var/lib/dpkg/lock-frontend', inode: 131075, major: 0xfe, minor: 0 };
    const lists = { file: '/var/lib/apt/lists/lock', inode: 5529, major: 8, minor: 1 };
    expect(heldBy([frontend, lists], locks)).toEqual([{ file: '/var/lib/dpkg/lock-frontend', pid: 5475 }]);
    expect(heldBy([lists], locks)).toEqual([]);
  });

});
