// Send to training, shared by `pairforge train` and the editor (docs/training.md "Send to
// training"): export the curated pairs, copy them with the trainer into a new run folder on the
// host, start the run there detached, follow its log and status, and bring its results back.
//
// The run's record is in the project from before anything is copied, and every step updates it,
// so a run survives the engine: following it again reads the host's files, never a connection's
// memory. Nothing secret is written anywhere: the keys stay the user's (agent, IdentityFile).
import { redactValue } from './redact';
import { randomBytes } from 'node:crypto';
import { closeSync, cpSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { homedir, hostname } from 'node:os';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { DEFAULT_EXPORT, exportPairs, type ExportOptions } from '../export/export';
import { FINAL_TRAINING_STATUSES, type TrainingSettings, type TrainingStatus } from '../protocol';
import type { Project } from '../store/db';
import { importHeldout, metricRow, splitMetrics } from './results';
import {
  followScript,
  launchCommand,
  launchScript,
  makeRunDirScript,
  parsePoll,
  pollScript,
  prepareScript,
  RESULT_FILES,
  resolveDirScript,
  RUN_FILES,
  sbatchScript,
  startScript,
  stopScript,
  WRAPPER_SCRIPT,
  markerLine,
  type LaunchValues,
  type PollResult,
} from './scripts';
import { checkHost, checkRemotePath, checkRunName, checkSshOption, downloadArgs, parseRsyncStats, uploadArgs } from './shell';
import { ConnectionError, type HostConnection, type HostPool, type HostSpec } from './ssh';
import {
  addMetrics,
  clearMetrics,
  createTrainingRun,
  earlierRunDirs,
  getTrainingRun,
  interruptedSends,
  metricsOf,
  updateTrainingRun,
  type TrainingRun,
  type TrainingRunUpdate,
} from './store';

/** What the hand-off needs of its process: the ssh connections and the trainer's files. */
export interface HandoffEnv {
  pool: HostPool;
  /** The trainer folder to upload (dist/trainer beside the bundle). */
  trainerDir: string;
  now?: () => string;
}

const nowIso = () => new Date().toISOString();

/** The export selected no pair: nothing was sent. */
export class NothingToTrainError extends Error {
  override readonly name = 'NothingToTrainError';
}
const nonce = () => randomBytes(8).toString('hex');

/** The trainer's files beside the bundle (dist/trainer), or in the sources (server/training/python). */
export function findTrainerDir(from: string = __dirname): string {
  for (const d of [path.join(from, 'trainer'), path.join(from, 'python')]) if (existsSync(path.join(d, 'train.py'))) return d;
  throw new Error(`the trainer is missing: no trainer/train.py beside ${from} (run npm run build)`);
}

/** The folder beside the project that holds a run's local files: the export sent, the log as
 * followed, and the results brought back. */
export function localRunDir(p: Project, runId: number): string {
  return path.join(path.dirname(p.file), 'training', String(runId));
}

/** The connection settings of a run (or of settings), checked. */
export function hostSpecOf(s: { host: string; sshConfig?: string | null; sshOptions?: readonly string[]; connectTimeoutSeconds: number }): HostSpec {
  return {
    host: checkHost(s.host),
    ...(s.sshConfig ? { config: s.sshConfig.startsWith('~/') ? path.join(homedir(), s.sshConfig.slice(2)) : path.resolve(s.sshConfig) } : {}),
    options: (s.sshOptions ?? []).map((o) => checkSshOption(o)),
    connectTimeoutSeconds: s.connectTimeoutSeconds,
  };
}

/** The settings' launch values for a run folder (the checks of launcher templates run here). */
function launchValues(s: TrainingSettings, runDir: string, runName: string): LaunchValues {
  return {
    launcher: s.launcher,
    customLauncher: s.customLauncher,
    python: s.python,
    runDir,
    runName,
    tiny: s.tiny,
    gpus: s.gpus,
    accelerateConfig: s.accelerateConfig,
    setup: s.setup,
  };
}

/** config.json of a run: the settings' keys, and `model` (required unless tiny). */
export function runConfig(s: TrainingSettings): Record<string, unknown> {
  const config: Record<string, unknown> = { ...s.config };
  if (s.model) config.model = s.model;
  if (!s.tiny && (typeof config.model !== 'string' || config.model === '')) {
    throw new Error('no model to train: set the model (pairforge.training.model, --model, or "model" in the config file), or train the tiny test model (--tiny)');
  }
  return config;
}

/** Checks everything that can be checked before connecting. */
export function checkSettings(s: TrainingSettings, name?: string): void {
  checkHost(s.host);
  checkRemotePath(s.remoteDir, 'remote folder');
  checkRemotePath(s.python, 'remote python');
  if (s.accelerateConfig) checkRemotePath(s.accelerateConfig, 'accelerate config');
  for (const o of s.sshOptions) checkSshOption(o);
  if (name !== undefined) checkRunName(name);
  runConfig(s);
  // The templates, with a stand-in folder: an unknown placeholder or a missing template is found now.
  const v = launchValues(s, '/run', name ?? 'run');
  launchScript(v);
  if (s.launcher === 'sbatch') sbatchScript(v);
}

/** A run's default name: its start time (UTC), e.g. 20261207-043355. */
export function defaultRunName(now: string): string {
  return now.replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

export interface SendOptions {
  settings: TrainingSettings;
  name?: string;
  /** Export options other than the format (trl); default: accepted pairs, the published curriculum. */
  export?: Partial<Omit<ExportOptions, 'format'>>;
  signal?: AbortSignal;
  /** One line per step, for a person. */
  onProgress?: (message: string) => void;
}

export interface SendResult {
  run: TrainingRun;
  /** rsync's figures of the upload. */
  upload: { sentBytes: number | null; literalBytes: number | null; files: number | null };
}

/** What `--dry-run` shows: the export made locally, the remote run folder, the files. */
export interface SendPlan {
  exportDir: string;
  pairs: number;
  records: number;
  exportSha256: string;
  remoteRunDir: string;
  launchSh: string;
  configJson: string;
  sbatch?: string;
}

function exportOptions(s: TrainingSettings, o: SendOptions['export']): ExportOptions {
  return { ...DEFAULT_EXPORT, family: s.family, includePending: s.includePending, ...(o ?? {}), format: 'trl' };
}

/** Exports into `dir/export`, and writes the run's own files beside it (config.json, the wrapper,
 * launch.sh, job.sbatch) and a copy of the trainer, as they go into the run folder. */
async function stage(p: Project, env: HandoffEnv, dir: string, s: TrainingSettings, runDir: string, name: string, o: SendOptions['export'], signal?: AbortSignal, record = true) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const summary = await exportPairs(p, path.join(dir, RUN_FILES.export), exportOptions(s, o), undefined, { ...(signal ? { signal } : {}), record });
  const file = summary.manifest.files[0];
  if (summary.manifest.counts.pairs === 0) {
    throw new NothingToTrainError(`nothing to train on: ${p.file} has no ${s.includePending || o?.includePending ? 'accepted or unflagged pending' : 'accepted'} pairs${o?.mode ? ` of mode ${o.mode}` : ''} (accept pairs in the review room, or send the pending ones too: --include-pending / pairforge.training.includePending)`);
  }
  const v = launchValues(s, runDir, name);
  const config = `${JSON.stringify(runConfig(s), null, 2)}\n`;
  const launchSh = launchScript(v);
  writeFileSync(path.join(dir, RUN_FILES.config), config);
  writeFileSync(path.join(dir, RUN_FILES.wrapper), WRAPPER_SCRIPT, { mode: 0o755 });
  writeFileSync(path.join(dir, RUN_FILES.launch), launchSh, { mode: 0o755 });
  const sbatch = s.launcher === 'sbatch' ? sbatchScript(v) : undefined;
  if (sbatch) writeFileSync(path.join(dir, RUN_FILES.sbatch), sbatch);
  // Times kept, so rsync links the unchanged trainer files of an earlier run folder.
  cpSync(env.trainerDir, path.join(dir, RUN_FILES.trainer), { recursive: true, preserveTimestamps: true, filter: (f) => !f.includes('__pycache__') });
  return { summary, file, launchSh, config, sbatch, command: launchCommand(v) };
}

/** `--dry-run`: the export and the run's files, made in `dir`, nothing sent or recorded. */
export async function planSend(p: Project, env: HandoffEnv, dir: string, opts: SendOptions): Promise<SendPlan> {
  const s = opts.settings;
  checkSettings(s, opts.name);
  const name = opts.name ?? defaultRunName((env.now ?? nowIso)());
  const runDir = `${s.remoteDir.replace(/\/+$/, '')}/${name}`;
  // Nothing recorded: the export is shown, not sent (its folder does not last).
  const st = await stage(p, env, dir, s, runDir, name, opts.export, opts.signal, false);
  return {
    exportDir: path.join(dir, RUN_FILES.export),
    pairs: st.summary.manifest.counts.pairs,
    records: st.summary.manifest.counts.records,
    exportSha256: st.file.sha256,
    remoteRunDir: runDir,
    launchSh: st.launchSh,
    configJson: st.config,
    ...(st.sbatch ? { sbatch: st.sbatch } : {}),
  };
}

/**
 * Sends the curated pairs to the host and starts a run: connect (host keys checked first, before
 * anything is recorded), record the run, export, make the run folder, upload (rsync, linking the
 * unchanged files of earlier run folders on the host), start the wrapper detached. Answers once the
 * run is running; a failure after the record marks it failed with the reason.
 */
export async function sendRun(p: Project, env: HandoffEnv, opts: SendOptions): Promise<SendResult> {
  const now = env.now ?? nowIso;
  const s = opts.settings;
  const say = opts.onProgress ?? (() => undefined);
  checkSettings(s, opts.name);
  const spec = hostSpecOf(s);
  const host = env.pool.get(spec);
  say(`connecting to ${s.host}`);
  await host.connect(opts.signal);

  const created = now();
  let name = opts.name ?? defaultRunName(created);
  let id: number | undefined;
  for (let i = 2; id === undefined; i++) {
    try {
      id = createTrainingRun(
        p,
        {
          name,
          host: s.host,
          sshConfig: spec.config ?? null,
          sshOptions: spec.options,
          remoteDir: s.remoteDir,
          launcher: s.launcher,
          python: s.python,
          model: s.tiny ? null : ((runConfig(s).model as string) ?? null),
          tiny: s.tiny,
          // The project's record: secrets the config may hold (a hub token) stay on the host.
          config: redactValue(runConfig(s)),
          sender: `${hostname()} ${process.pid}`,
        },
        created,
      );
    } catch (e) {
      // A default name taken (two sends in one second): the next one.
      if (opts.name !== undefined || !/is taken/.test((e as Error).message) || i > 20) throw e;
      name = `${defaultRunName(created)}-${i}`;
    }
  }
  const runId = id;
  const update = (u: TrainingRunUpdate) => updateTrainingRun(p, runId, u, now());
  try {
    say(`making the run folder ${s.remoteDir}/${name} on ${s.host}`);
    const n1 = nonce();
    const runDir = (await host.scriptText(makeRunDirScript(s.remoteDir, name, n1), n1, { signal: opts.signal })).split('\n')[0];
    if (!runDir.startsWith('/')) throw new Error(`${s.host}: the run folder's path is not absolute: '${runDir}'`);
    update({ runDir });

    const local = localRunDir(p, runId);
    say('exporting the pairs');
    const st = await stage(p, env, path.join(local, 'upload'), s, runDir, name, opts.export, opts.signal);
    update({
      exportSha256: st.file.sha256,
      exportPairs: st.summary.manifest.counts.pairs,
      exportRecords: st.summary.manifest.counts.records,
      exportOptions: st.summary.manifest.options,
      exportId: st.summary.exportId,
      launchCommand: st.command,
    });
    say(`exported ${st.summary.manifest.counts.pairs} pairs as ${st.summary.manifest.counts.records} records (sha256 ${st.file.sha256.slice(0, 12)}…)`);

    say(`uploading to ${s.host}:${runDir}`);
    const linkDest = earlierRunDirs(p, s.host, runId);
    const r = await host.rsync(uploadArgs(host.target, [`${path.join(local, 'upload')}/`], runDir, { linkDest, exclude: ['__pycache__'] }), { signal: opts.signal });
    const upload = parseRsyncStats(r.stdout.toString('utf8'));
    update({ uploadBytes: upload.sentBytes, uploadLiteralBytes: upload.literalBytes });
    say(`uploaded: ${upload.sentBytes ?? '?'} bytes sent, ${upload.literalBytes ?? '?'} of them new data`);

    if (opts.signal?.aborted) throw new Error('cancelled before the run started');
    const n2 = nonce();
    // Not cancellable: once the wrapper may have started, the record must say what the host has.
    const started = (await host.scriptText(startScript(runDir, n2), n2)).split('\n');
    const pid = Number(started[0]);
    update({ status: 'running', remotePid: Number.isInteger(pid) ? pid : null, startedAt: started[1]?.trim() || now(), message: null, sender: null });
    say(`started on ${s.host} (wrapper pid ${pid})`);
    return { run: getTrainingRun(p, runId)!, upload };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    update({ status: 'failed', message: `not started: ${message}`, finishedAt: now(), sender: null });
    throw e;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Sends cut short (the sending process was killed while its run was `uploading`): a run that got
 * no run folder, or whose host has no started wrapper, is recorded failed; one whose wrapper did
 * start (the process died just after starting it) is `running` and followed like any other.
 * Without `env` (no ssh) only the runs without a run folder are settled; `only`: just that run.
 */
export async function settleInterruptedSends(p: Project, env?: HandoffEnv, only?: number): Promise<void> {
  const now = env?.now ?? nowIso;
  for (const r of interruptedSends(p, hostname(), pidAlive).filter((x) => only === undefined || x.id === only)) {
    const why = `not started: the send was interrupted (its process ${r.sender?.split(' ')[1]} is gone)`;
    if (!r.runDir) {
      updateTrainingRun(p, r.id, { status: 'failed', message: why, finishedAt: now(), sender: null }, now());
      continue;
    }
    if (!env) continue;
    try {
      const { state } = await pollRun(p, env, r.id);
      if (state.status === 'uploading') updateTrainingRun(p, r.id, { status: 'failed', message: why, finishedAt: now(), sender: null }, now());
      else updateTrainingRun(p, r.id, { sender: null }, now());
    } catch {
      // the host cannot say now: asked again next time
    }
  }
}

/** The connection of a stored run. */
export function hostOf(env: HandoffEnv, run: TrainingRun, connectTimeoutSeconds: number): HostConnection {
  return env.pool.get(hostSpecOf({ host: run.host, sshConfig: run.sshConfig, sshOptions: run.sshOptions, connectTimeoutSeconds }));
}

const SIGNALS: Record<number, string> = { 1: 'SIGHUP', 2: 'SIGINT', 6: 'SIGABRT', 9: 'SIGKILL', 11: 'SIGSEGV', 15: 'SIGTERM' };

/** Where a run is, from what the poll read and whether a stop was asked for. */
export function stateOf(poll: PollResult, stopRequested: boolean): TrainingRunUpdate & { status: TrainingStatus } {
  const st = poll.status ?? {};
  const trainerState = typeof st.state === 'string' ? st.state : null;
  const trainerMessage = typeof st.message === 'string' ? st.message : null;
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  const base: TrainingRunUpdate = {
    trainerState,
    step: num(st.step),
    maxSteps: num(st.max_steps),
    epoch: num(st.epoch),
    ...(poll.startedAt ? { startedAt: poll.startedAt } : {}),
    ...(poll.pid !== null ? { remotePid: poll.pid } : {}),
  };
  if (poll.exitCode !== null) {
    const code = poll.exitCode;
    const ended = { ...base, exitCode: code, finishedAt: poll.endedAt ?? undefined };
    if (code === 0) return { ...ended, status: 'succeeded', message: trainerMessage };
    const signal = code > 128 && code < 160 ? SIGNALS[code - 128] ?? `signal ${code - 128}` : undefined;
    if (signal && (stopRequested || trainerState === 'interrupted')) return { ...ended, status: 'stopped', message: trainerMessage ?? `stopped by ${signal}` };
    const why = trainerState === 'failed' || trainerState === 'interrupted' ? trainerMessage : signal ? `killed by ${signal}` : trainerMessage;
    return { ...ended, status: 'failed', message: `exit code ${code}${why ? `: ${why}` : ''}` };
  }
  // No wrapper pid yet: it was never started (a send cut short between upload and start).
  if (poll.pid === null) return { ...base, status: 'uploading', message: 'not started on the host' };
  if (!poll.alive) {
    return {
      ...base,
      status: 'lost',
      message: `the run's wrapper is gone without an exit code (killed with SIGKILL, or the host restarted)${trainerState ? `; the trainer was ${trainerState}${base.step !== null ? ` at step ${base.step}` : ''}` : ''}; send it again (a run folder is never reused)`,
    };
  }
  return { ...base, status: 'running', message: trainerMessage };
}

export interface FollowOptions {
  /** Stops following (the run goes on). */
  signal?: AbortSignal;
  /** The log: first the local copy (from byte `from`), then what the host adds. */
  onLog?: (text: string) => void;
  /** After each change of the run's record (status, step, metrics). */
  onChange?: (run: TrainingRun) => void;
  /** Skip replaying the local copy of the log (the caller showed it). */
  noReplay?: boolean;
  /** How often the status and metrics are read while following (ms; default 2000). */
  pollMs?: number;
  connectTimeoutSeconds?: number;
  /** Lines about what the follower does (results brought back, held-out pairs imported). */
  onProgress?: (message: string) => void;
}

/** Reads a run's status and new metrics from the host once and stores them (a final status is
 * left to finishRun, which brings the results back first). Answers the run and its state. */
export async function pollRun(p: Project, env: HandoffEnv, runId: number, opts: { signal?: AbortSignal; connectTimeoutSeconds?: number } = {}): Promise<{ run: TrainingRun; state: ReturnType<typeof stateOf> }> {
  const now = env.now ?? nowIso;
  const run = getTrainingRun(p, runId)!;
  if (!run.runDir) throw new Error(`run ${run.id} '${run.name}' has not started (it is ${run.status})`);
  const host = hostOf(env, run, opts.connectTimeoutSeconds ?? 15);
  const n = nonce();
  const r = await host.script(pollScript(run.runDir, run.metricsOffset, n), { signal: opts.signal, timeoutMs: 60_000 });
  const poll = parsePoll(r.stdout, n);
  if (poll.metrics) {
    let from = poll.metrics.offset;
    if (from !== run.metricsOffset) {
      // The file got shorter (a resumed run cut it back): read it again from the start.
      clearMetrics(p, runId, now());
      from = 0;
    }
    const { lines, consumed } = splitMetrics(poll.metrics.bytes);
    if (consumed > 0) addMetrics(p, runId, from, lines, from + consumed, now());
  }
  const state = stateOf(poll, run.stopRequestedAt !== null);
  const { status, message, exitCode, finishedAt, ...progress } = state;
  updateTrainingRun(p, runId, FINAL_TRAINING_STATUSES.includes(status) ? progress : { ...progress, status, message, exitCode, finishedAt }, now());
  return { run: getTrainingRun(p, runId)!, state };
}

/** The lines of metrics.jsonl not stored yet, from the copy brought back. */
function completeMetrics(p: Project, runId: number, file: string): void {
  if (!existsSync(file)) return;
  const run = getTrainingRun(p, runId)!;
  const bytes = readFileSync(file);
  if (bytes.length < run.metricsOffset) clearMetrics(p, runId, nowIso());
  const from = Math.min(getTrainingRun(p, runId)!.metricsOffset, bytes.length);
  const { lines, consumed } = splitMetrics(bytes.subarray(from));
  if (consumed > 0) addMetrics(p, runId, from, lines, from + consumed, nowIso());
}

/** After the run ended: brings back its results (not the model), stores the last metrics,
 * imports the held-out per-token log-probs as a scoring run, and records the final status. Safe to
 * run again: the import happens once. */
export async function finishRun(p: Project, env: HandoffEnv, runId: number, final: TrainingRunUpdate & { status: TrainingStatus }, host: HostConnection, say: (m: string) => void = () => undefined): Promise<TrainingRun> {
  const now = env.now ?? nowIso;
  const run = getTrainingRun(p, runId)!;
  const results = path.join(localRunDir(p, runId), 'results');
  mkdirSync(results, { recursive: true });
  let note = '';
  try {
    await host.rsync(downloadArgs(host.target, run.runDir!, RESULT_FILES, results));
    completeMetrics(p, runId, path.join(results, 'metrics.jsonl'));
  } catch (e) {
    note = ` (its results could not be brought back: ${(e as Error).message})`;
  }
  const heldout = path.join(results, 'heldout_tokens.jsonl');
  if (final.status === 'succeeded' && run.scoreRunId === null && existsSync(heldout)) {
    try {
      const imp = importHeldout(p, heldout, { trainingRunId: runId, runName: run.name, host: run.host, runDir: run.runDir!, exportSha256: run.exportSha256 }, (scoreRunId) => updateTrainingRun(p, runId, { scoreRunId }, now()), now());
      say(`held-out pairs imported as scoring run ${imp.scoreRunId} (${imp.sides} sides${imp.skipped.length ? `, ${imp.skipped.length} skipped: ${imp.skipped[0].reason}` : ''})`);
    } catch (e) {
      note += ` (the held-out results were not imported: ${(e as Error).message})`;
    }
  }
  updateTrainingRun(p, runId, { ...final, message: `${final.message ?? ''}${note}`.trim() || null, finishedAt: final.finishedAt ?? now() }, now());
  return getTrainingRun(p, runId)!;
}

/**
 * Follows a run to its end: replays the local copy of its log, then streams the rest from the host
 * (`tail -F --pid` on the host: it ends when the wrapper does) while the status and the metrics are
 * read every couple of seconds; when it ends, finishRun. A dropped connection throws a
 * ConnectionError (the run goes on; following again continues where the copy ends). Aborting
 * stops following only.
 */
export async function followRun(p: Project, env: HandoffEnv, runId: number, opts: FollowOptions = {}): Promise<TrainingRun> {
  let run = getTrainingRun(p, runId);
  if (!run) throw new Error(`no training run ${runId} in ${p.file}`);
  const local = localRunDir(p, runId);
  mkdirSync(local, { recursive: true });
  const logFile = path.join(local, RUN_FILES.log);
  if (!existsSync(logFile)) writeFileSync(logFile, '');
  if (!opts.noReplay && opts.onLog) {
    const copy = readFileSync(logFile, 'utf8');
    if (copy) opts.onLog(copy);
  }
  if (FINAL_TRAINING_STATUSES.includes(run.status)) return run;
  const runDir = run.runDir;
  // A send cut short after the start but before recording it: the host knows.
  if (run.status === 'uploading' && runDir) run = (await pollRun(p, env, runId, { signal: opts.signal })).run;
  if (run.status === 'uploading' || !runDir) throw new Error(`run ${run.id} '${run.name}' has not started (it is ${run.status}): nothing to follow`);
  const host = hostOf(env, run, opts.connectTimeoutSeconds ?? 15);
  const changed = (r: TrainingRun) => opts.onChange?.(r);
  let lastSeen = JSON.stringify([run.status, run.step, run.trainerState, run.metricsOffset]);
  const note = (r: TrainingRun) => {
    const key = JSON.stringify([r.status, r.step, r.trainerState, r.metricsOffset]);
    if (key !== lastSeen) {
      lastSeen = key;
      changed(r);
    }
  };

  for (;;) {
    if (opts.signal?.aborted) return getTrainingRun(p, runId)!;
    // Stream the log from where the local copy ends, polling beside it.
    const offset = statSync(logFile).size;
    const fd = openSync(logFile, 'r+');
    let position = offset;
    const decoder = new StringDecoder('utf8');
    const n = nonce();
    const marker = Buffer.from(`${markerLine(n)}\n`);
    let head: Buffer | null = Buffer.alloc(0);
    const onStdout = (chunk: Buffer) => {
      let data = chunk;
      if (head !== null) {
        // Skip whatever comes before the marker (a login file's output).
        head = Buffer.concat([head, chunk]);
        const at = head.indexOf(marker);
        if (at < 0) return;
        data = head.subarray(at + marker.length);
        head = null;
      }
      if (data.length === 0) return;
      // Written where the host has it (two followers of one run write the same bytes in place).
      writeSync(fd, data, 0, data.length, position);
      position += data.length;
      const text = decoder.write(data);
      if (text) opts.onLog?.(text);
    };
    let polling = true;
    let pollError: unknown;
    const poller = (async () => {
      while (polling) {
        await sleep(opts.pollMs ?? 2000, opts.signal);
        if (!polling || opts.signal?.aborted) break;
        try {
          note((await pollRun(p, env, runId, { signal: opts.signal })).run);
        } catch (e) {
          if (e instanceof ConnectionError) {
            pollError = e;
            break;
          }
          // Anything else (a poll cut short) is tried again at the next tick.
        }
      }
    })();
    try {
      await host.script(followScript(runDir, offset, n), { signal: opts.signal, onStdout });
    } finally {
      polling = false;
      closeSync(fd);
      const rest = decoder.end();
      if (rest) opts.onLog?.(rest);
      await poller;
    }
    if (opts.signal?.aborted) return getTrainingRun(p, runId)!;
    if (pollError) throw pollError;
    // tail ended: the wrapper is gone. Read the end state.
    const polled = await pollRun(p, env, runId, { signal: opts.signal });
    note(polled.run);
    if (FINAL_TRAINING_STATUSES.includes(polled.state.status)) {
      run = await finishRun(p, env, runId, polled.state, host, opts.onProgress);
      changed(run);
      return run;
    }
    // tail ended while the wrapper lives (a log file replaced?): follow again.
    run = getTrainingRun(p, runId)!;
    await sleep(1000, opts.signal);
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Asks the run's wrapper to stop the run (SIGTERM, passed on to the launcher). The followers see
 * it end; a run that had ended or was lost is recorded so. */
export async function stopRun(p: Project, env: HandoffEnv, runId: number, connectTimeoutSeconds = 15): Promise<{ run: TrainingRun; outcome: 'signalled' | 'ended' | 'gone' }> {
  const now = env.now ?? nowIso;
  const run = getTrainingRun(p, runId);
  if (!run) throw new Error(`no training run ${runId} in ${p.file}`);
  if (FINAL_TRAINING_STATUSES.includes(run.status)) return { run, outcome: 'ended' };
  if (!run.runDir || run.status === 'uploading') throw new Error(`run ${run.id} '${run.name}' has not started (it is ${run.status})`);
  const host = hostOf(env, run, connectTimeoutSeconds);
  updateTrainingRun(p, runId, { stopRequestedAt: now() }, now());
  const n = nonce();
  const out = (await host.scriptText(stopScript(run.runDir, n), n)).trim();
  const outcome = out.startsWith('signalled') ? 'signalled' : out.startsWith('ended') ? 'ended' : 'gone';
  return { run: getTrainingRun(p, runId)!, outcome };
}

/** The stored metrics of a run as rows of numbers, in order. */
export function metricRows(p: Project, runId: number) {
  return metricsOf(p, runId).map((m) => metricRow(m.data));
}

/** What `train.py env` reports, in the protocol's words. */
export interface PreparedHost {
  created: boolean;
  env: Record<string, unknown>;
  exitCode: number;
}

/**
 * Prepares a host for training: copies the trainer (rsync) to REMOTE_DIR/trainer, makes the venv
 * from `basePython` when the settings' python does not exist yet, installs requirements.txt into
 * it (pip's output goes to `onOutput`), and reports `train.py env`.
 */
export async function prepareHost(env: HandoffEnv, s: TrainingSettings, opts: { signal?: AbortSignal; onOutput?: (text: string) => void; onProgress?: (m: string) => void } = {}): Promise<PreparedHost> {
  checkHost(s.host);
  checkRemotePath(s.remoteDir, 'remote folder');
  checkRemotePath(s.python, 'remote python');
  const host = env.pool.get(hostSpecOf(s));
  opts.onProgress?.(`connecting to ${s.host}`);
  await host.connect(opts.signal);
  const n1 = nonce();
  const base = (await host.scriptText(resolveDirScript(s.remoteDir, n1), n1, { signal: opts.signal })).split('\n')[0];
  const trainer = `${base}/${RUN_FILES.trainer}`;
  opts.onProgress?.(`copying the trainer to ${s.host}:${trainer}`);
  await host.rsync(uploadArgs(host.target, [`${env.trainerDir}/`], trainer, { exclude: ['__pycache__'], delete: true }), { signal: opts.signal });
  opts.onProgress?.(`installing requirements.txt with ${s.python} (pip's output follows)`);
  const n2 = nonce();
  const marker = `${markerLine(n2)}\n`;
  let seen = '';
  let shown = 0;
  const decoder = new StringDecoder('utf8');
  const r = await host
    .script(prepareScript(s.python, s.basePython, trainer, n2, s.setup), {
      signal: opts.signal,
      onStdout: (chunk) => {
        // Pip's output as it comes, up to the marker; what follows it is the report.
        seen += decoder.write(chunk);
        const at = seen.indexOf(marker);
        const upTo = at < 0 ? Math.max(shown, seen.length - marker.length) : at;
        if (upTo > shown) opts.onOutput?.(seen.slice(shown, upTo));
        shown = Math.max(shown, upTo);
      },
    })
    .catch((e: unknown) => {
      // env exits 1 when a pinned package does not import: the report is still there.
      if ((e as { code?: number }).code === 1 && seen.includes(marker)) return { code: 1, stdout: Buffer.from(seen), stderr: '' };
      // The end of pip's output, held back in case it was the start of the marker.
      if (!seen.includes(marker) && seen.length > shown) opts.onOutput?.(`${seen.slice(shown)}\n`);
      throw e;
    });
  const text = r.stdout.toString('utf8');
  const after = text.slice(text.indexOf(marker) + marker.length);
  const [first, ...rest] = after.split('\n');
  let report: Record<string, unknown>;
  try {
    report = JSON.parse(rest.join('\n')) as Record<string, unknown>;
  } catch {
    throw new Error(`${s.host}: train.py env printed no JSON report: ${rest.join('\n').slice(0, 500)}`);
  }
  return { created: first.trim() === 'created 1', env: report, exitCode: r.code ?? 0 };
}

/** A config file the user named (`--config FILE`): one JSON object. */
export function readConfigFile(file: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: ${(e as Error).message}`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error(`${file}: a config file is one JSON object (docs/training.md "config.json")`);
  return v as Record<string, unknown>;
}
