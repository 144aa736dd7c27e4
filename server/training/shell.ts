// How the hand-off talks to a host, as pure functions: quoting for the remote POSIX shell, the
// arguments of the system's `ssh` and `rsync`, and the checks on what a person gives (host, run
// name, remote folder, ssh options). Nothing here runs a process (server/training/ssh.ts does).
//
// Every word that reaches a remote shell is quoted here: a host's shell sees only `sh -s`, and the
// script it reads on stdin is built from shQuote / remotePathWord words (docs/training.md
// "Quoting"). Host names never reach a shell at all: they are one argument of ssh and rsync.

/** `s` as one word of a POSIX shell, nothing expanded: single quotes, and each `'` as `'\''`. */
export function shQuote(s: string): string {
  // Plain words stay as they are (easier to read in the scripts); `=` is not plain: a first word
  // with one would be an assignment.
  if (s !== '' && /^[A-Za-z0-9_@%+:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A remote path as one shell word. A leading `~/` (or `~` alone) is the remote user's home, the
 * rest is quoted: `~/runs` -> `"$HOME"/runs`. Other paths are quoted whole (relative ones are
 * relative to the login folder, the home). */
export function remotePathWord(p: string): string {
  if (p === '~') return '"$HOME"';
  if (p.startsWith('~/')) {
    const rest = p.slice(2);
    return rest === '' ? '"$HOME"/' : `"$HOME"/${shQuote(rest)}`;
  }
  return shQuote(p);
}

/** Control characters (newlines among them), which no name here may hold. */
function hasControl(s: string): boolean {
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/** Refuses an ssh destination that ssh or rsync would read as something else: empty, an option
 * (`-...`), or with a `:` (rsync's host:path separator; use a Host alias in the ssh config). ssh
 * itself refuses names with shell characters (spaces, quotes, `;`, `$`...). */
export function checkHost(host: string, field = 'host'): string {
  if (host.trim() === '') throw new Error(`${field}: no host given (a Host alias of your ssh config, or [user@]hostname)`);
  if (host !== host.trim()) throw new Error(`${field}: '${host}' starts or ends with spaces`);
  if (host.startsWith('-')) throw new Error(`${field}: '${host}' starts with '-' (ssh would read it as an option)`);
  if (host.includes(':')) throw new Error(`${field}: '${host}' holds a ':' (rsync reads host:path); give the host a Host alias in your ssh config and use that`);
  if (hasControl(host)) throw new Error(`${field}: the host name holds a control character`);
  return host;
}

/** A run name: the run folder's name under the remote folder. Spaces, quotes and shell characters
 * are fine (every use is quoted); `/`, control characters, `.` and `..` are not. */
export function checkRunName(name: string, field = 'name'): string {
  if (name === '' || name.trim() === '') throw new Error(`${field}: the run name is empty`);
  if (name.length > 200) throw new Error(`${field}: the run name is longer than 200 characters`);
  if (name.includes('/')) throw new Error(`${field}: '${name}' holds a '/' (a run name is one folder name)`);
  if (name === '.' || name === '..') throw new Error(`${field}: '${name}' is not a folder name`);
  if (hasControl(name)) throw new Error(`${field}: the run name holds a control character`);
  return name;
}

/** A remote folder (the folder of run folders, the venv's Python, a config file on the host). */
export function checkRemotePath(p: string, field: string): string {
  if (p.trim() === '') throw new Error(`${field}: empty`);
  if (hasControl(p)) throw new Error(`${field}: the path holds a control character`);
  if (p.startsWith('~') && p !== '~' && !p.startsWith('~/')) throw new Error(`${field}: '${p}': only '~/' (the remote home) is expanded; give the path from / or from the home`);
  return p;
}

/** Options the hand-off sets itself and a user option may not change: no prompts, host keys
 * checked, its own connection sharing. */
const OWN_OPTIONS = ['batchmode', 'stricthostkeychecking', 'controlmaster', 'controlpath', 'controlpersist', 'connecttimeout'];

/** One extra `ssh -o` option, `Key=Value` (or `Key Value`). */
export function checkSshOption(o: string, field = 'ssh option'): string {
  const m = /^\s*([A-Za-z][A-Za-z0-9]*)\s*[= ]\s*(\S.*)$/s.exec(o);
  if (!m) throw new Error(`${field}: '${o}' is not Key=Value (e.g. ProxyJump=bastion)`);
  if (OWN_OPTIONS.includes(m[1].toLowerCase())) {
    throw new Error(`${field}: ${m[1]} is set by PairForge (BatchMode=yes, StrictHostKeyChecking=yes, its own ControlMaster; ConnectTimeout from the setting)`);
  }
  if (hasControl(m[2])) throw new Error(`${field}: '${m[1]}' holds a control character`);
  return `${m[1]}=${m[2].trim()}`;
}

/** How to reach a host: the destination, the ssh config file (-F; undefined = the user's own),
 * extra -o options, the connect timeout and the ControlMaster socket. */
export interface SshTarget {
  host: string;
  config?: string;
  options: readonly string[];
  connectTimeoutSeconds: number;
  /** The ControlMaster socket (in a private folder). */
  controlPath: string;
  /** How long an idle master stays (seconds), should its owner die without closing it. */
  controlPersistSeconds: number;
}

/** Options every ssh of the hand-off starts with: the config file, then the options that make it
 * safe to run unattended (no prompt, host keys checked against known_hosts, never accepted), then
 * the user's. ssh keeps the first value it reads of an option, so these come first. */
export function sshOptionArgs(t: SshTarget): string[] {
  const out: string[] = [];
  if (t.config) out.push('-F', t.config);
  out.push(
    '-o', 'BatchMode=yes',
    '-o', 'StrictHostKeyChecking=yes',
    '-o', `ConnectTimeout=${t.connectTimeoutSeconds}`,
    '-o', `ControlPath=${t.controlPath}`,
  );
  for (const o of t.options) out.push('-o', o);
  return out;
}

/** The master connection: authenticates, then goes to the background (-f) holding the shared
 * connection (-N: no command); its log (host key and login errors) goes to `logFile`. */
export function masterArgs(t: SshTarget, logFile: string): string[] {
  return [...sshOptionArgs(t), '-o', 'ControlMaster=yes', '-o', `ControlPersist=${t.controlPersistSeconds}`, '-E', logFile, '-f', '-N', '--', t.host];
}

/** A remote script: `sh -s` reads it on stdin, so the user's login shell sees only `sh -s`.
 * Without a master (it died) ssh connects on its own. */
export function scriptArgs(t: SshTarget): string[] {
  return [...sshOptionArgs(t), '-o', 'ControlMaster=no', '--', t.host, 'sh', '-s'];
}

/** A control command to the master (`check`, `exit`). */
export function controlArgs(t: SshTarget, command: 'check' | 'exit'): string[] {
  return [...sshOptionArgs(t), '-O', command, '--', t.host];
}

/** `ssh -G`: the configuration ssh would use for the host (hostname, port, known_hosts files). */
export function resolveArgs(t: SshTarget): string[] {
  return [...(t.config ? ['-F', t.config] : []), ...t.options.flatMap((o) => ['-o', o]), '-G', '--', t.host];
}

/** One word of rsync's `-e` command, which rsync splits at spaces itself, honouring single and
 * double quotes but not backslashes. */
export function rsyncWord(w: string): string {
  if (w !== '' && !/[\s'"]/.test(w)) return w;
  if (!w.includes("'")) return `'${w}'`;
  if (!w.includes('"')) return `"${w}"`;
  throw new Error(`cannot pass ${JSON.stringify(w)} to rsync's ssh command: it holds both kinds of quotes`);
}

/** rsync's remote shell (-e): the same ssh, sharing the master. */
export function rsyncShell(t: SshTarget): string {
  return ['ssh', ...sshOptionArgs(t), '-o', 'ControlMaster=no'].map(rsyncWord).join(' ');
}

/** rsync from local `sources` into `remoteDir` (absolute) on the host: archive mode, files compared
 * by checksum (a new export of unchanged pairs sends nothing new), paths passed to the remote rsync
 * without a shell (--protect-args), figures on stdout (--stats). `linkDest`: earlier run folders
 * whose identical files are hard-linked instead of copied. */
export function uploadArgs(t: SshTarget, sources: readonly string[], remoteDir: string, opts: { linkDest?: readonly string[]; exclude?: readonly string[]; delete?: boolean } = {}): string[] {
  if (!remoteDir.startsWith('/')) throw new Error(`upload: the remote folder must be absolute (got '${remoteDir}')`);
  return [
    '-a',
    '--checksum',
    '--protect-args',
    '--stats',
    ...(opts.delete ? ['--delete'] : []),
    ...(opts.exclude ?? []).flatMap((e) => ['--exclude', e]),
    ...(opts.linkDest ?? []).map((d) => `--link-dest=${d}`),
    '-e',
    rsyncShell(t),
    '--',
    ...sources,
    `${t.host}:${remoteDir.endsWith('/') ? remoteDir : `${remoteDir}/`}`,
  ];
}

/** rsync of `files` (names in the remote `remoteDir`) into the local `localDir`; missing ones are
 * skipped (--ignore-missing-args). */
export function downloadArgs(t: SshTarget, remoteDir: string, files: readonly string[], localDir: string): string[] {
  if (!remoteDir.startsWith('/')) throw new Error(`download: the remote folder must be absolute (got '${remoteDir}')`);
  const base = remoteDir.endsWith('/') ? remoteDir : `${remoteDir}/`;
  return ['-a', '--protect-args', '--ignore-missing-args', '-e', rsyncShell(t), '--', ...files.map((f) => `${t.host}:${base}${f}`), localDir.endsWith('/') ? localDir : `${localDir}/`];
}

/** rsync's --stats figures: bytes sent in all and new (literal) data among them. */
export function parseRsyncStats(stdout: string): { sentBytes: number | null; literalBytes: number | null; files: number | null } {
  const num = (re: RegExp) => {
    const m = re.exec(stdout);
    return m ? Number(m[1].replace(/[,.](?=\d{3}\b)/g, '')) : null;
  };
  return {
    sentBytes: num(/Total bytes sent:\s*([\d,.]+)/),
    literalBytes: num(/Literal data:\s*([\d,.]+)/),
    files: num(/Number of regular files transferred:\s*([\d,.]+)/),
  };
}
