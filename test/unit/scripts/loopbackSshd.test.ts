// The config texts of an sshd of our own on loopback and of its client (scripts/loopback-sshd.mjs),
// which the demo's GPU host and the hand-off's tests both write.
import { describe, expect, it } from 'vitest';
import { configPath, knownHostsLine, sshdConfigText, sshHostBlock } from '../../../scripts/loopback-sshd.mjs';

describe('loopback sshd config texts', () => {
  it('quotes a path with spaces, and refuses one ssh could not read back', () => {
    expect(configPath('/tmp/a-b_c/key.pub')).toBe('/tmp/a-b_c/key.pub');
    expect(configPath('/tmp/my keys/key')).toBe('"/tmp/my keys/key"');
    for (const bad of ['/tmp/a"b', '/tmp/100%', '/tmp/a\nb']) expect(() => configPath(bad)).toThrow(/cannot hold this path/);
  });

  it('the server: loopback only, keys only, one account; the client: host keys checked', () => {
    const server = sshdConfigText({ port: 2222, hostKey: '/d/host key', pidFile: '/d/pid', authorizedKeys: '/d/ak', user: 'me' }).split('\n');
    expect(server).toEqual(expect.arrayContaining(['Port 2222', 'ListenAddress 127.0.0.1', 'HostKey "/d/host key"', 'PasswordAuthentication no', 'KbdInteractiveAuthentication no', 'AllowUsers me', 'AuthorizedKeysFile /d/ak']));
    const client = sshHostBlock({ alias: 'demo-gpu', port: 2222, user: 'me', identityFile: '/d/k', knownHosts: '/d/kh' }).split('\n');
    expect(client[0]).toBe('Host demo-gpu');
    expect(client).toEqual(expect.arrayContaining(['  HostName 127.0.0.1', '  Port 2222', '  IdentitiesOnly yes', '  UserKnownHostsFile /d/kh', '  StrictHostKeyChecking yes']));
    expect(knownHostsLine(2222, 'ssh-ed25519 AAAA')).toBe('[127.0.0.1]:2222 ssh-ed25519 AAAA\n');
  });
});
