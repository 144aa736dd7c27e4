// The pure parts of choosing an isolation mode (server/exec/launch.ts): which modes a user may
// try, when a started worker counts as isolated (sandbox.ts), and the one line the engine logs.
import { describe, expect, it } from 'vitest';
import { modesFor, statusLine } from '../../../server/exec/launch';
import { isolationProblem } from '../../../server/exec/sandbox';

const READY = { op: 'ready', uid: 65534, gid: 65534, groups: [], capeff: 0, netifs: 1, dumpable: 0 };

describe('choosing the isolation mode', () => {
  it('tries the root modes strongest first, and only bwrap-user for an ordinary user', () => {
    expect(modesFor(true)).toEqual(['bwrap-nobody', 'bwrap-root']);
    expect(modesFor(false)).toEqual(['bwrap-user']);
  });

  it('counts a worker as isolated only as uid/gid 65534, no groups, no capability, loopback only, not dumpable', () => {
    expect(isolationProblem('bwrap-nobody', READY)).toBeUndefined();
    // Groups the sandbox does not map read as 65534.
    expect(isolationProblem('bwrap-user', { ...READY, groups: [65534, 65534] })).toBeUndefined();
    expect(isolationProblem('bwrap-root', { ...READY, uid: 0 })).toMatch(/runs as uid 0 gid 65534, not 65534/);
    expect(isolationProblem('bwrap-root', { ...READY, groups: [0] })).toMatch(/supplementary groups \[0\]/);
    expect(isolationProblem('bwrap-root', { ...READY, capeff: 0x20 })).toMatch(/keeps capabilities \(CapEff 32\)/);
    expect(isolationProblem('bwrap-nobody', { ...READY, netifs: 2 })).toMatch(/2 network interfaces/);
    expect(isolationProblem('bwrap-nobody', { ...READY, dumpable: 1 })).toMatch(/non-dumpable/);
    expect(isolationProblem('bwrap-nobody', { op: 'ready' })).toMatch(/uid undefined[\s\S]*groups undefined[\s\S]*undefined network[\s\S]*CapEff undefined[\s\S]*dumpable/);
    // Unisolated, nothing is promised.
    expect(isolationProblem('none', { op: 'ready', uid: 0 })).toBeUndefined();
  });

  it('logs the mode in one line, as a warning with the reason when it is weaker than the preferred one', () => {
    expect(statusLine({ mode: 'bwrap-nobody', preferred: 'bwrap-nobody', warning: false })).toBe('sandbox: bwrap-nobody (bubblewrap started as uid 65534)');
    expect(statusLine({ mode: 'bwrap-user', preferred: 'bwrap-user', warning: false })).toMatch(/^sandbox: bwrap-user \(bubblewrap started by this user/);
    expect(statusLine({ mode: 'bwrap-root', preferred: 'bwrap-nobody', reason: 'bwrap-nobody: no userns', warning: true })).toBe(
      'WARNING: sandbox: bwrap-root (bubblewrap started by root in a user namespace the engine made (the sandbox is host uid 65534)), weaker than bwrap-nobody: bwrap-nobody: no userns',
    );
  });
});
