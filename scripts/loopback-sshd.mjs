// What an OpenSSH server of our own needs to run on loopback beside the system's, and what its
// client needs to reach it: the demo's "GPU host" that `npm start` runs (scripts/demo-gpu.mjs) and
// the hand-off's tests (test/support/sshd.ts) write their files with these, so the two agree on
// what a working config is here (docs/training.md "The demo, as a new user would do it").
//
// The server: its own port on 127.0.0.1 only, its own host key and pid file, key login only for
// one account from an authorized_keys file of its own (never ~/.ssh). `UsePAM no`: PAM's session
// modules (pam_loginuid) fail in containers, and nothing else of PAM is wanted; sshd then refuses an
// account whose password field is locked ('!'), which `usermod -p '*'` unlocks for key login.
// `StrictModes no`: the key files live in a folder of ours, not in a home with ssh's expected modes.
// A root login is allowed by sshd's default `PermitRootLogin prohibit-password` (keys only).
//
// The client: a Host alias in a file passed with `ssh -F` (so ~/.ssh/config is not read), the key
// pair's private half, and a known_hosts file holding the server's key: host keys are checked
// (StrictHostKeyChecking yes), never accepted blindly.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export const SSHD = '/usr/sbin/sshd';

/** A path as one argument of an sshd_config or ssh_config line. Both read "..." as one word; `%`
 * starts a token in some options and `"` cannot be escaped, so paths holding them are refused. */
export function configPath(p) {
  if (/["%\p{Cc}]/u.test(p)) throw new Error(`${p}: an ssh config file cannot hold this path (it has a double quote, a % or a control character); use a folder without them`);
  return /^[A-Za-z0-9_./@+-]+$/.test(p) ? p : `"${p}"`;
}

/** A new key pair without a passphrase: `file` (private, mode 0600) and `file.pub`. */
export function makeKeyPair(file, comment) {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file]);
}

/** The public key `type base64` of `file.pub` (without its comment). */
export function publicKey(file) {
  return readFileSync(`${file}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
}

/**
 * sshd_config for a server on 127.0.0.1:port that logs `user` in with the keys of `authorizedKeys`.
 * @param {{ port: number, hostKey: string, pidFile: string, authorizedKeys: string, user: string }} o
 */
export function sshdConfigText(o) {
  return [
    `Port ${o.port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${configPath(o.hostKey)}`,
    `PidFile ${configPath(o.pidFile)}`,
    'UsePAM no',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PubkeyAuthentication yes',
    `AuthorizedKeysFile ${configPath(o.authorizedKeys)}`,
    'StrictModes no',
    `AllowUsers ${o.user}`,
    // The hand-off shares one connection per host (ControlMaster) and opens a session per command.
    'MaxSessions 50',
    'MaxStartups 50',
    '',
  ].join('\n');
}

/**
 * One `Host` block of an ssh config file: `alias` is 127.0.0.1:port as `user`, with `identityFile`
 * and the host keys of `knownHosts` only.
 * @param {{ alias: string, port: number, user: string, identityFile: string, knownHosts: string }} o
 */
export function sshHostBlock(o) {
  return [
    `Host ${o.alias}`,
    '  HostName 127.0.0.1',
    `  Port ${o.port}`,
    `  User ${o.user}`,
    `  IdentityFile ${configPath(o.identityFile)}`,
    '  IdentitiesOnly yes',
    `  UserKnownHostsFile ${configPath(o.knownHosts)}`,
    '  StrictHostKeyChecking yes',
    '  LogLevel ERROR',
    '',
  ].join('\n');
}

/** The known_hosts line of a server on 127.0.0.1:port whose public key is `key` (`type base64`). */
export function knownHostsLine(port, key) {
  return `[127.0.0.1]:${port} ${key}\n`;
}
