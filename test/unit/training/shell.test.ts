// The hand-off's quoting and the ssh / rsync arguments (server/training/shell.ts), and what it
// makes of ssh's failures (server/training/ssh.ts): pure, with hostile strings.
import { describe, expect, it } from 'vitest';
import {
  checkHost,
  checkRemotePath,
  checkRunName,
  checkSshOption,
  downloadArgs,
  masterArgs,
  parseRsyncStats,
  remotePathWord,
  rsyncShell,
  rsyncWord,
  scriptArgs,
  shQuote,
  sshOptionArgs,
  uploadArgs,
  type SshTarget,
} from '../../../server/training/shell';
import { classifySshFailure, parseSshG, trustHint } from '../../../server/training/ssh';

/**
 * Reads one word of the forms shQuote writes, as POSIX sh does: characters inside '...' are taken
 * as they are, `\'` outside quotes is a quote, and anything else outside quotes must be a plain
 * character (one the shell gives no meaning to). Throws on anything a shell would expand.
 */
function readWord(w: string): string {
  let out = '';
  let i = 0;
  while (i < w.length) {
    if (w[i] === "'") {
      const end = w.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unterminated quote in ${w}`);
      out += w.slice(i + 1, end);
      i = end + 1;
    } else if (w[i] === '\\' && w[i + 1] === "'") {
      out += "'";
      i += 2;
    } else if (/[A-Za-z0-9_@%+:,./-]/.test(w[i])) {
      out += w[i++];
    } else {
      throw new Error(`unquoted ${JSON.stringify(w[i])} in ${w}`);
    }
  }
  return out;
}

/** Deterministic random strings over every character a shell treats specially, and more. */
function* hostileStrings(count: number): Generator<string> {
  const alphabet = [..."abc XYZ019 '\"`$(){}[]<>|&;*?~#!=%^\\\n\t\r/.-_,:@+", 'é', '😀', '\u0000', '\u007f'];
  let seed = 12345;
  const next = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
  for (let n = 0; n < count; n++) {
    const len = next() % 24;
    let s = '';
    for (let i = 0; i < len; i++) s += alphabet[next() % alphabet.length];
    yield s;
  }
}

const HOSTILE = [`runs 'q" ;$(touch PWNED) \`id\` \\n`, "'", "''", "'\\''", '$HOME', '~', '-rf', 'a\nb', '*', '"$(reboot)"', ''];

describe('shQuote', () => {
  it('gives one word that a shell reads back as the string, expanding nothing', () => {
    for (const s of [...HOSTILE, ...hostileStrings(2000)]) expect(readWord(shQuote(s)), JSON.stringify(s)).toBe(s);
  });

  it('leaves plain words as they are and quotes the rest', () => {
    expect(shQuote('/home/me/runs/train.py')).toBe('/home/me/runs/train.py');
    expect(shQuote('a b')).toBe("'a b'");
    expect(shQuote("it's")).toBe("'it'\\''s'");
    expect(shQuote('')).toBe("''");
    // `=` would make a first word an assignment; `~` would be the home.
    expect(shQuote('a=b')).toBe("'a=b'");
    expect(shQuote('~/x')).toBe("'~/x'");
  });
});

describe('remotePathWord', () => {
  it('expands only a leading ~/ to "$HOME" and quotes the rest', () => {
    expect(remotePathWord('~/pairforge runs')).toBe(`"$HOME"/'pairforge runs'`);
    expect(remotePathWord('~')).toBe('"$HOME"');
    expect(remotePathWord('/abs/$(x)')).toBe("'/abs/$(x)'");
    expect(remotePathWord('rel/dir')).toBe('rel/dir');
    for (const s of hostileStrings(500)) expect(readWord(remotePathWord(`~/${s}`).replace(/^"\$HOME"\//, '')), s).toBe(s);
  });
});

describe('checks on what a person gives', () => {
  it('host: refuses options, rsync separators, blanks and control characters; ssh refuses the rest itself', () => {
    expect(checkHost('gpu-1')).toBe('gpu-1');
    expect(checkHost('me@gpu#1!*?~x')).toBe('me@gpu#1!*?~x');
    expect(() => checkHost('')).toThrow(/no host given/);
    expect(() => checkHost('-oProxyCommand=x')).toThrow(/starts with '-'/);
    expect(() => checkHost('gpu:/tmp')).toThrow(/holds a ':'/);
    expect(() => checkHost('gpu\nx')).toThrow(/control character/);
    expect(() => checkHost(' gpu')).toThrow(/spaces/);
  });

  it('run name: one folder name; shell characters are fine', () => {
    expect(checkRunName(`runs 'q" ;$(touch PWNED)`)).toContain('$(touch');
    for (const bad of ['', ' ', 'a/b', '.', '..', 'a\nb', 'x'.repeat(201)]) expect(() => checkRunName(bad), JSON.stringify(bad)).toThrow();
  });

  it('remote paths: only ~/ is expanded; ~user is refused', () => {
    expect(checkRemotePath('~/x', 'f')).toBe('~/x');
    expect(() => checkRemotePath('~other/x', 'remote folder')).toThrow(/only '~\/'/);
    expect(() => checkRemotePath('a\u0007b', 'f')).toThrow(/control/);
  });

  it('ssh options: Key=Value, never one PairForge sets itself', () => {
    expect(checkSshOption('ProxyJump=bastion')).toBe('ProxyJump=bastion');
    expect(checkSshOption('ProxyCommand ssh -W %h:%p bastion')).toBe('ProxyCommand=ssh -W %h:%p bastion');
    for (const own of ['StrictHostKeyChecking=no', 'batchmode=no', 'ControlPath=/tmp/x', 'ConnectTimeout=1']) expect(() => checkSshOption(own)).toThrow(/set by PairForge/);
    expect(() => checkSshOption('=x')).toThrow(/Key=Value/);
  });
});

const target: SshTarget = {
  host: 'gpu#1',
  config: '/home/me/my ssh/config',
  options: ['ProxyCommand=ssh -W %h:%p "bastion"', 'User=me'],
  connectTimeoutSeconds: 15,
  controlPath: '/tmp/pfssh-x/ab.sock',
  controlPersistSeconds: 600,
};

describe('ssh and rsync arguments', () => {
  it('ssh: no prompts, host keys checked, the shared master, then the user options; a host is one argument after --', () => {
    const a = sshOptionArgs(target);
    expect(a.slice(0, 10)).toEqual(['-F', '/home/me/my ssh/config', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes', '-o', 'ConnectTimeout=15', '-o', 'ControlPath=/tmp/pfssh-x/ab.sock']);
    expect(a.slice(10)).toEqual(['-o', 'ProxyCommand=ssh -W %h:%p "bastion"', '-o', 'User=me']);
    expect(scriptArgs(target).slice(-5)).toEqual(['ControlMaster=no', '--', 'gpu#1', 'sh', '-s']);
    const m = masterArgs(target, '/tmp/pfssh-x/ab.log');
    expect(m).toContain('ControlMaster=yes');
    expect(m).toContain('ControlPersist=600');
    expect(m.slice(-5)).toEqual(['/tmp/pfssh-x/ab.log', '-f', '-N', '--', 'gpu#1']);
  });

  it("rsync's -e: words with spaces or quotes quoted as rsync splits them", () => {
    expect(rsyncWord('plain')).toBe('plain');
    expect(rsyncWord('a b')).toBe("'a b'");
    expect(rsyncWord(`say "hi"`)).toBe(`'say "hi"'`);
    expect(rsyncWord("it's")).toBe(`"it's"`);
    expect(() => rsyncWord(`'"`)).toThrow(/both kinds of quotes/);
    expect(rsyncShell(target)).toBe(
      "ssh -F '/home/me/my ssh/config' -o BatchMode=yes -o StrictHostKeyChecking=yes -o ConnectTimeout=15 -o ControlPath=/tmp/pfssh-x/ab.sock -o 'ProxyCommand=ssh -W %h:%p \"bastion\"' -o User=me -o ControlMaster=no",
    );
  });

  it('upload and download: checksums, paths without a shell, absolute remote folders only', () => {
    const up = uploadArgs(target, ['/local/up/'], "/r/runs 'q\" ;$(x)", { linkDest: ['/r/a', '/r/b'], exclude: ['__pycache__'] });
    expect(up.slice(0, 4)).toEqual(['-a', '--checksum', '--protect-args', '--stats']);
    expect(up).toContain('--link-dest=/r/a');
    expect(up.slice(-3)).toEqual(['--', '/local/up/', "gpu#1:/r/runs 'q\" ;$(x)/"]);
    expect(() => uploadArgs(target, ['/x'], '~/runs')).toThrow(/absolute/);
    const down = downloadArgs(target, '/r/run', ['metrics.jsonl', 'status.json'], '/local/results');
    expect(down).toContain('--ignore-missing-args');
    expect(down.slice(-3)).toEqual(['gpu#1:/r/run/metrics.jsonl', 'gpu#1:/r/run/status.json', '/local/results/']);
  });

  it("reads rsync's --stats figures", () => {
    const stats = 'Number of regular files transferred: 15\nTotal file size: 480,000 bytes\nLiteral data: 477,616 bytes\nMatched data: 0 bytes\nTotal bytes sent: 479,139\n';
    expect(parseRsyncStats(stats)).toEqual({ sentBytes: 479139, literalBytes: 477616, files: 15 });
    expect(parseRsyncStats('')).toEqual({ sentBytes: null, literalBytes: null, files: null });
  });
});

describe("ssh's failures, for a person", () => {
  const spec = { host: 'gpu', config: '/tmp/cfg', options: [], connectTimeoutSeconds: 15 };
  const resolved = parseSshG('host gpu\nhostname 10.0.0.7\nport 2222\nuser me\nuserknownhostsfile /home/me/.ssh/known_hosts /home/me/.ssh/known_hosts2\n');

  it('reads ssh -G', () => {
    expect(resolved).toEqual({ hostname: '10.0.0.7', port: '2222', user: 'me', knownHosts: ['/home/me/.ssh/known_hosts', '/home/me/.ssh/known_hosts2'] });
  });

  it('an unknown host key: refused, with the commands to check and trust it', () => {
    const e = classifySshFailure(spec, 'No ED25519 host key is known for [10.0.0.7]:2222 and you have requested strict checking.\r\nHost key verification failed.\r\n', resolved);
    expect(e.kind).toBe('host-key-unknown');
    expect(e.message).toContain('gpu (10.0.0.7 port 2222): the host key is not known (not in /home/me/.ssh/known_hosts, /home/me/.ssh/known_hosts2)');
    expect(e.message).toContain('ssh-keyscan -p 2222 10.0.0.7 | ssh-keygen -lf -');
    expect(e.message).toContain('ssh-keyscan -p 2222 10.0.0.7 >> /home/me/.ssh/known_hosts');
    expect(e.message).toContain('ssh -F /tmp/cfg gpu');
    expect(trustHint({ ...spec, config: undefined }, { ...resolved, port: '22' })).toContain('ssh-keyscan 10.0.0.7 >>');
  });

  it('a changed host key, a refused login, an unreachable host, an invalid name', () => {
    expect(classifySshFailure(spec, '@ WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED! @\nHost key verification failed.', resolved).kind).toBe('host-key-changed');
    const auth = classifySshFailure(spec, 'me@10.0.0.7: Permission denied (publickey).', resolved);
    expect(auth.kind).toBe('auth');
    expect(auth.message).toMatch(/ssh-add/);
    expect(classifySshFailure(spec, 'ssh: connect to host 10.0.0.7 port 2222: Connection refused', resolved).kind).toBe('unreachable');
    expect(classifySshFailure({ ...spec, host: 'a;b' }, 'hostname contains invalid characters', undefined).message).toMatch(/ssh refuses host names with spaces or shell characters/);
  });
});
