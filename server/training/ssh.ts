// The hand-off's connections: the system's `ssh` and `rsync` as child processes (so ~/.ssh/config,
// the agent, ProxyJump and the user's known_hosts all apply), one ControlMaster per host and engine
// process, host keys checked and never accepted, and the failures ssh reports turned into messages
// that say what to do (docs/training.md "Send to training", step 1 "Connect").
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterMarker } from './scripts';
import { controlArgs, masterArgs, resolveArgs, scriptArgs, shQuote, type SshTarget } from './shell';

/** How the engine reaches a host (the settings' part; the socket is the pool's). */
export interface HostSpec {
  host: string;
  /** ssh config file (-F); undefined = ~/.ssh/config. */
  config?: string;
  options: readonly string[];
  connectTimeoutSeconds: number;
}

/** ssh could not reach or log in to the host, or the connection dropped. */
export class ConnectionError extends Error {
  override readonly name = 'ConnectionError';
  constructor(
    message: string,
    readonly kind: 'host-key-unknown' | 'host-key-changed' | 'auth' | 'unreachable' | 'invalid-host' | 'lost' | 'other',
  ) {
    super(message);
  }
}

/** A remote script ended with an error of its own (its `pairforge: ...` line is the message). */
export class RemoteError extends Error {
  override readonly name = 'RemoteError';
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
  }
}

export interface Result {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

export interface RunOptions {
  signal?: AbortSignal;
  /** Called with each piece of stdout as it comes. */
  onStdout?: (chunk: Buffer) => void;
  /** Kill the process after this long (default: none). */
  timeoutMs?: number;
  stdin?: string;
}

/** Runs a program to its end. A signal or a timeout kills it (SIGTERM). */
export function runProcess(command: string, args: readonly string[], opts: RunOptions = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    const kill = () => child.kill('SIGTERM');
    const timer = opts.timeoutMs ? setTimeout(kill, opts.timeoutMs) : undefined;
    opts.signal?.addEventListener('abort', kill, { once: true });
    if (opts.signal?.aborted) kill();
    child.stdout.on('data', (d: Buffer) => {
      out.push(d);
      opts.onStdout?.(d);
    });
    child.stderr.on('data', (d: Buffer) => {
      // Keep the end: the error is in the last lines.
      err = (err + d.toString('utf8')).slice(-65_536);
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.stdin ?? '');
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      opts.signal?.removeEventListener('abort', kill);
      reject(new Error(`${command}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? `not found (install ${command === 'rsync' ? 'rsync' : 'the OpenSSH client'})` : e.message}`));
    });
    child.on('close', (code) => {
      if (timer) clearTimeout(timer);
      opts.signal?.removeEventListener('abort', kill);
      resolve({ code, stdout: Buffer.concat(out), stderr: err });
    });
  });
}

/** ssh's configuration for a host (`ssh -G`): what the hints name. */
export interface ResolvedHost {
  hostname: string;
  port: string;
  user: string;
  knownHosts: string[];
}

export function parseSshG(out: string): ResolvedHost {
  const get = (k: string) => new RegExp(`^${k} (.*)$`, 'm').exec(out)?.[1].trim() ?? '';
  return { hostname: get('hostname'), port: get('port') || '22', user: get('user'), knownHosts: get('userknownhostsfile').split(/\s+/).filter(Boolean) };
}

/** The command a person runs to trust a host's key, after checking its fingerprint. */
export function trustHint(spec: HostSpec, r: ResolvedHost): string {
  const file = r.knownHosts[0] ?? '~/.ssh/known_hosts';
  const shown = file.startsWith(`${process.env.HOME ?? '\u0000'}/`) ? `~/${file.slice((process.env.HOME ?? '').length + 1)}` : file;
  const port = r.port === '22' ? '' : `-p ${r.port} `;
  const target = shQuote(r.hostname || spec.host);
  return [
    `  ssh-keyscan ${port}${target} | ssh-keygen -lf -      # the fingerprints: compare them with what the host's administrator gives you`,
    `  ssh-keyscan ${port}${target} >> ${shown.startsWith('~/') ? shown : shQuote(shown)}`,
    `or log in once yourself and answer "yes": ssh ${spec.config ? `-F ${shQuote(spec.config)} ` : ''}${shQuote(spec.host)}`,
  ].join('\n');
}

/** What ssh's log says went wrong, as a message for a person. */
export function classifySshFailure(spec: HostSpec, log: string, resolved: ResolvedHost | undefined): ConnectionError {
  const where = resolved && resolved.hostname && resolved.hostname !== spec.host ? `${spec.host} (${resolved.hostname} port ${resolved.port})` : spec.host;
  const lastLines = log
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^Warning: Permanently added/.test(l))
    .slice(-3)
    .join(' / ');
  if (/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key for .* has changed/i.test(log)) {
    return new ConnectionError(
      `${where}: the host key has CHANGED since it was trusted; PairForge refuses to connect. It may be a reinstalled host or someone in between: ask the host's administrator, then remove the old key (ssh-keygen -R) and trust the new one.`,
      'host-key-changed',
    );
  }
  if (/Host key verification failed|No .* host key is known for|host key is not known/i.test(log)) {
    const files = resolved?.knownHosts.length ? resolved.knownHosts.join(', ') : 'your known_hosts';
    return new ConnectionError(
      `${where}: the host key is not known (not in ${files}); PairForge never accepts a host key by itself (StrictHostKeyChecking=yes). Trust it once, after checking its fingerprint:\n${trustHint(spec, resolved ?? { hostname: spec.host, port: '22', user: '', knownHosts: [] })}`,
      'host-key-unknown',
    );
  }
  if (/hostname contains invalid characters/i.test(log)) {
    return new ConnectionError(`'${spec.host}': ssh refuses host names with spaces or shell characters; give the host a simple Host alias in your ssh config`, 'invalid-host');
  }
  if (/Permission denied|Too many authentication failures|no mutual signature/i.test(log)) {
    return new ConnectionError(
      `${where}: login refused (${lastLines}). PairForge logs in without prompts (BatchMode): load your key into the agent (ssh-add) or name it with IdentityFile in the ssh config.`,
      'auth',
    );
  }
  if (/Could not resolve hostname|Connection refused|Connection timed out|timed out|No route to host|Network is unreachable|Connection closed by|Connection reset/i.test(log)) {
    return new ConnectionError(`${where}: cannot connect (${lastLines})`, 'unreachable');
  }
  return new ConnectionError(`${where}: ssh failed${lastLines ? ` (${lastLines})` : ''}`, 'other');
}

/** A private folder for the ControlMaster sockets of this process (short: a socket path has a
 * ~100-byte limit). */
function controlDir(): string {
  const base = tmpdir().length <= 40 ? tmpdir() : '/tmp';
  return mkdtempSync(path.join(base, 'pfssh-'));
}

/** One host reached through one ControlMaster. */
export class HostConnection {
  readonly target: SshTarget;
  private master: Promise<void> | undefined;
  /** A master may be running (connect was called): close has one to end. */
  private started = false;

  constructor(
    readonly spec: HostSpec,
    controlPath: string,
    private readonly logFile: string,
  ) {
    this.target = { ...spec, controlPath, controlPersistSeconds: 600 };
  }

  /** Connects (once; again after the connection dropped). Host key and login failures throw a
   * ConnectionError that says what to do. */
  connect(signal?: AbortSignal): Promise<void> {
    this.started = true;
    this.master ??= this.startMaster(signal).catch((e: unknown) => {
      this.master = undefined;
      throw e;
    });
    return this.master;
  }

  private async startMaster(signal?: AbortSignal): Promise<void> {
    const check = await runProcess('ssh', controlArgs(this.target, 'check'), { timeoutMs: 10_000 });
    if (check.code === 0) return;
    // A socket left by a master that died would make the new master give up sharing.
    rmSync(this.target.controlPath, { force: true });
    rmSync(this.logFile, { force: true });
    const r = await runProcess('ssh', masterArgs(this.target, this.logFile), { signal, timeoutMs: (this.spec.connectTimeoutSeconds + 30) * 1000 });
    if (r.code === 0) return;
    let log = r.stderr;
    try {
      log += readFileSync(this.logFile, 'utf8');
    } catch {
      // no log written
    }
    if (signal?.aborted) throw new ConnectionError(`${this.spec.host}: connecting cancelled`, 'other');
    throw classifySshFailure(this.spec, log, await this.resolve());
  }

  /** `ssh -G` of the host, or undefined when ssh cannot say. */
  async resolve(): Promise<ResolvedHost | undefined> {
    const r = await runProcess('ssh', resolveArgs(this.target), { timeoutMs: 10_000 }).catch(() => undefined);
    return r?.code === 0 ? parseSshG(r.stdout.toString('utf8')) : undefined;
  }

  /** The connection dropped (a script ended with ssh's 255): the next call connects again. */
  private dropped(): void {
    this.master = undefined;
  }

  /** Runs a script with `sh -s` on the host. ssh's own failures (exit 255) throw a
   * ConnectionError; the script's own failures a RemoteError with its `pairforge:` message. */
  async script(text: string, opts: Omit<RunOptions, 'stdin'> = {}): Promise<Result> {
    await this.connect(opts.signal);
    const r = await runProcess('ssh', scriptArgs(this.target), { ...opts, stdin: text });
    if (r.code === 255) {
      this.dropped();
      const c = classifySshFailure(this.spec, r.stderr, undefined);
      throw new ConnectionError(c.kind === 'other' || c.kind === 'unreachable' ? `${this.spec.host}: the connection failed or dropped (${r.stderr.trim().split('\n').slice(-2).join(' / ') || 'ssh exit 255'})` : c.message, c.kind === 'other' ? 'lost' : c.kind);
    }
    if (r.code !== 0 && !opts.signal?.aborted) {
      const lines = r.stderr.split('\n').filter((l) => l.startsWith('pairforge: '));
      const message = lines.length ? lines.map((l) => l.slice('pairforge: '.length)).join('; ') : r.stderr.trim().split('\n').slice(-3).join(' / ') || `exit ${r.code}`;
      throw new RemoteError(`${this.spec.host}: ${message}`, r.code ?? -1);
    }
    return r;
  }

  /** A script whose result is the text after its marker line. */
  async scriptText(text: string, nonce: string, opts: Omit<RunOptions, 'stdin'> = {}): Promise<string> {
    const r = await this.script(text, { timeoutMs: 120_000, ...opts });
    const out = afterMarker(r.stdout.toString('utf8'), nonce);
    if (out === undefined) throw new RemoteError(`${this.spec.host}: the script printed no result (${r.stderr.trim().slice(-300) || 'no output'})`, r.code ?? -1);
    return out;
  }

  /** rsync with the hand-off's ssh; a failure throws with rsync's last lines. */
  async rsync(args: readonly string[], opts: Omit<RunOptions, 'stdin'> = {}): Promise<Result> {
    await this.connect(opts.signal);
    const r = await runProcess('rsync', args, opts);
    if (r.code !== 0 && !opts.signal?.aborted) {
      if (r.code === 255 || /connection unexpectedly closed|Broken pipe/.test(r.stderr)) this.dropped();
      const tail = r.stderr.trim().split('\n').slice(-3).join(' / ');
      if (/rsync: (command )?not found|rsync:.*No such file or directory \(2\)$/m.test(r.stderr) && /remote/i.test(r.stderr)) {
        throw new RemoteError(`${this.spec.host}: rsync is not installed on the host (${tail})`, r.code ?? -1);
      }
      throw new RemoteError(`${this.spec.host}: rsync failed (exit ${r.code}): ${tail}`, r.code ?? -1);
    }
    return r;
  }

  /** Ends the master (its sessions end with it). */
  async close(): Promise<void> {
    this.master = undefined;
    if (!this.started) return;
    this.started = false;
    await runProcess('ssh', controlArgs(this.target, 'exit'), { timeoutMs: 10_000 }).catch(() => undefined);
  }
}

/** The engine process's connections, one per host (and ssh config and options). */
export class HostPool {
  private dir: string | undefined;
  private readonly hosts = new Map<string, HostConnection>();

  get(spec: HostSpec): HostConnection {
    // One master per host (with its config and options): the connect timeout is how long to wait
    // for it, not another connection (following, polling and stopping a run ask with their own).
    const key = JSON.stringify([spec.host, spec.config ?? null, spec.options]);
    let h = this.hosts.get(key);
    if (!h) {
      this.dir ??= controlDir();
      const id = randomBytes(4).toString('hex');
      h = new HostConnection(spec, path.join(this.dir, `${id}.sock`), path.join(this.dir, `${id}.log`));
      this.hosts.set(key, h);
    }
    return h;
  }

  /** Closes every master and removes the socket folder. */
  async closeAll(): Promise<void> {
    await Promise.all([...this.hosts.values()].map((h) => h.close()));
    this.hosts.clear();
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }
}
