// `pairforge train`: send the curated pairs to a GPU host over ssh and follow the run to its end;
// follow a run again (--attach), stop it (--stop), list the runs (--list), prepare a host's venv
// (--prepare). docs/training.md "Send to training".
import { redactText } from './redact';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { exportOptionsOf } from '../export/command';
import {
  EXIT_BAD_INPUT,
  EXIT_INTERRUPTED,
  EXIT_OK,
  EXIT_USAGE,
  UsageError,
  choiceOption,
  dbOf,
  err,
  out,
  parseArgs,
  settingOption,
  showHelp,
  type Args,
  type Command,
} from '../cli/kit';
import { openProject, type Project } from '../store/db';
import { SETTINGS, TRAINING_DEFAULTS, TRAINING_LAUNCHERS, type TrainingLauncher, type TrainingSettings } from '../protocol';
import { findTrainerDir, followRun, metricRows, NothingToTrainError, planSend, prepareHost, readConfigFile, sendRun, settleInterruptedSends, stopRun, type HandoffEnv } from './handoff';
import { ConnectionError, HostPool, RemoteError } from './ssh';
import { findTrainingRun, listTrainingRuns, metricsCount, type TrainingRun } from './store';

/** Exit status when the connection failed or dropped while following (the run goes on). */
export const EXIT_CONNECTION = 255;

const HELP = `usage: pairforge train --db PROJECT.sqlite --host HOST [--model M | --tiny] [options]
       pairforge train --db PROJECT.sqlite --attach RUN | --stop RUN | --list [--json]
       pairforge train --host HOST --prepare [--python PY] [--remote-dir DIR]

Exports the accepted pairs (TRL format, curriculum order), copies them with the trainer and a
config.json into a new run folder on HOST with rsync over your own ssh (~/.ssh/config, the agent
and ProxyJump apply; no prompts; host keys are checked against known_hosts and never accepted
silently), starts the run there detached (setsid: it survives the connection), streams its log
and follows it to its end: status and metrics are stored in the project, the results come back
beside it (training/<id>/), and the held-out per-token log-probs become a scoring run.

  --host HOST            an ssh destination: a Host alias of your ssh config, or [user@]hostname
  --remote-dir DIR       the folder of run folders on the host (default ${TRAINING_DEFAULTS.remoteDir})
  --name NAME            the run folder's name (default: the UTC start time, e.g. 20261207-043355)
  --model M              config.json's model: a model id or a folder on the host
  --tiny                 train the trainer's tiny random model for a few steps (a first try of a host)
  --config FILE          config.json for the trainer (docs/training.md "config.json"); --model wins
  --launcher L           ${TRAINING_LAUNCHERS.join(' | ')} (default ${TRAINING_DEFAULTS.launcher}: one process)
  --launch-template CMD  --launcher custom: the command, with {python} {trainer} {run} {run_name}
                         {gpus} {tiny} {accelerate_config} (filled in as quoted words)
  --python PY            the venv's python on the host (default ${TRAINING_DEFAULTS.python})
  --gpus N               GPUs per node for torchrun / accelerate / sbatch (default 0: all nvidia-smi lists)
  --accelerate-config F  accelerate's config file on the host (DeepSpeed, FSDP)
  --setup LINES          shell lines run on the host before the launcher and before --prepare's pip
                         (e.g. 'module load cuda', 'export PIP_INDEX_URL=...')
  --ssh-config FILE      an ssh config file (ssh -F) instead of ~/.ssh/config
  --ssh-option K=V       an extra ssh -o option (repeat it for more), e.g. ProxyJump=bastion
  --connect-timeout S    ssh's ConnectTimeout (default ${SETTINGS['training.connectTimeoutSeconds'].default})
  --detach               start the run and return (follow it later with --attach)
  --dry-run              export and write the run's files locally, print them; connect to nothing
  --json                 the ended run (or the list) as JSON on stdout; the log goes to stderr

  --attach RUN           follow a run (id or name) to its end: its log from the start, then live
  --stop RUN             ask the run's wrapper to stop it (SIGTERM: the trainer stops at the next
                         step boundary and saves a checkpoint when save_steps > 0)
  --list                 the project's runs: id, name, host, status, exit code, pairs, steps
  --prepare              make the trainer's venv on the host from requirements.txt (when --python
                         does not exist yet), install the pinned packages, report torch, CUDA, GPUs
  --base-python PY       the python --prepare makes the venv with (default ${TRAINING_DEFAULTS.basePython})

Export options (as pairforge export): --include-pending, --mode, --order, --epochs, --seed,
--fim-rate, --fim-seed, --family, --training-sentence.

Exit status: 0 the run succeeded; otherwise the run's own exit code (1 failed, 2 bad input,
143 stopped by SIGTERM, ...); 1 nothing to train on or the run was lost (its processes vanished
without an exit code); 2 usage, or the host refused (unknown host key, login) or a step of the
send failed; 255 the connection dropped while following (the run goes on: --attach RUN);
130 Ctrl-C (stops following; the run goes on).`;

const VALUES = [
  'db', 'host', 'remote-dir', 'name', 'model', 'config', 'launcher', 'launch-template', 'python', 'gpus', 'accelerate-config', 'setup',
  'ssh-config', 'connect-timeout', 'attach', 'stop', 'base-python',
  'mode', 'order', 'epochs', 'seed', 'fim-rate', 'fim-seed', 'family',
];
const FLAGS = ['tiny', 'detach', 'dry-run', 'json', 'list', 'prepare', 'include-pending', 'training-sentence'];

/** `--ssh-option` may be repeated: taken out before the usual parsing. */
export function takeRepeated(argv: readonly string[], name: string): { rest: string[]; values: string[] } {
  const rest: string[] = [];
  const values: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    if (a === `--${name}`) {
      const v = argv[++i];
      if (v === undefined || v === '') throw new UsageError(`train: --${name} needs a value`);
      values.push(v);
    } else if (a.startsWith(`--${name}=`)) values.push(a.slice(name.length + 3));
    else rest.push(a);
  }
  return { rest, values };
}

/** The settings of `pairforge train`'s options (absent ones take the defaults of the settings). */
export function settingsOf(a: Args, sshOptions: string[]): TrainingSettings {
  const v = (k: string) => a.values.get(k);
  const config = v('config') ? readConfigFile(v('config')!) : {};
  if (a.flags.has('tiny') && v('model')) throw new UsageError('train: --model and --tiny exclude each other');
  const launcher = choiceOption<TrainingLauncher>('train', a, 'launcher', TRAINING_LAUNCHERS) ?? TRAINING_DEFAULTS.launcher;
  if (v('launch-template') && launcher !== 'custom') throw new UsageError('train: --launch-template goes with --launcher custom');
  return {
    ...TRAINING_DEFAULTS,
    host: v('host') ?? '',
    remoteDir: v('remote-dir') ?? TRAINING_DEFAULTS.remoteDir,
    launcher,
    customLauncher: v('launch-template') ?? '',
    python: v('python') ?? TRAINING_DEFAULTS.python,
    basePython: v('base-python') ?? TRAINING_DEFAULTS.basePython,
    sshConfig: v('ssh-config') ?? '',
    sshOptions,
    model: v('model') ?? '',
    tiny: a.flags.has('tiny'),
    config,
    accelerateConfig: v('accelerate-config') ?? '',
    setup: v('setup') ?? '',
    gpus: settingOption('train', a, 'gpus', 'training.gpus') ?? TRAINING_DEFAULTS.gpus,
    connectTimeoutSeconds: settingOption('train', a, 'connect-timeout', 'training.connectTimeoutSeconds') ?? TRAINING_DEFAULTS.connectTimeoutSeconds,
    includePending: a.flags.has('include-pending'),
  };
}

function seconds(from: string | null, to: string | null): string {
  if (!from || !to) return '';
  const s = Math.max(0, Math.round((Date.parse(to) - Date.parse(from)) / 1000));
  return s < 120 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

/** The run as --json prints it. */
export function runJson(p: Project, r: TrainingRun) {
  return {
    id: r.id,
    name: r.name,
    host: r.host,
    remoteDir: r.remoteDir,
    runDir: r.runDir,
    status: r.status,
    exitCode: r.exitCode,
    message: r.message,
    trainerState: r.trainerState,
    step: r.step,
    maxSteps: r.maxSteps,
    pairs: r.exportPairs,
    records: r.exportRecords,
    exportSha256: r.exportSha256,
    upload: { bytes: r.uploadBytes, literalBytes: r.uploadLiteralBytes },
    launcher: r.launcher,
    command: r.launchCommand,
    model: r.model,
    tiny: r.tiny,
    metrics: metricsCount(p, r.id),
    scoreRunId: r.scoreRunId,
    createdAt: r.createdAt,
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
  };
}

/** The closing line of a run for a person: status, time, the last loss, the held-out figures. */
export function endLine(p: Project, r: TrainingRun): string {
  const rows = metricRows(p, r.id);
  const last = [...rows].reverse().find((m) => typeof m.loss === 'number');
  const parts = [`run ${r.id} '${r.name}' ${r.status}${r.exitCode !== null ? ` (exit ${r.exitCode})` : ''}${r.startedAt && r.finishedAt ? ` in ${seconds(r.startedAt, r.finishedAt)}` : ''}`];
  if (r.step !== null) parts.push(`${r.step}${r.maxSteps ? `/${r.maxSteps}` : ''} steps`);
  const fixed = (v: number | null | undefined) => (typeof v === 'number' ? v.toFixed(4) : '?');
  if (last) parts.push(`loss ${fixed(last.loss)} at step ${last.step}, rewards/margins ${fixed(last['rewards/margins'])}, rewards/accuracies ${fixed(last['rewards/accuracies'])}`);
  if (r.scoreRunId !== null) parts.push(`held-out per-token results: scoring run ${r.scoreRunId}`);
  return `${parts.join('; ')}${r.message ? `\n  ${r.message}` : ''}`;
}

/** The exit status of an ended run. */
export function exitOf(r: TrainingRun): number {
  if (r.status === 'succeeded') return EXIT_OK;
  if (r.exitCode !== null && r.exitCode !== 0) return r.exitCode;
  return EXIT_BAD_INPUT;
}

async function follow(p: Project, env: HandoffEnv, run: TrainingRun, a: Args, connectTimeoutSeconds: number): Promise<number> {
  const json = a.flags.has('json');
  const log = (t: string) => (json ? process.stderr : process.stdout).write(t);
  const stop = new AbortController();
  let interrupted = false;
  const onSigint = () => {
    if (interrupted) process.exit(EXIT_INTERRUPTED);
    interrupted = true;
    err(`\ninterrupted: stopped following; run ${run.id} '${run.name}' goes on on ${run.host}. Follow it again: pairforge train --db ${a.values.get('db')} --attach ${run.id}; stop it: --stop ${run.id}`);
    stop.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    const ended = await followRun(p, env, run.id, { signal: stop.signal, onLog: log, connectTimeoutSeconds, onProgress: (m) => err(`pairforge train: ${m}`) });
    if (interrupted) return EXIT_INTERRUPTED;
    err(`pairforge train: ${endLine(p, ended)}`);
    if (json) out(JSON.stringify(runJson(p, ended)));
    return exitOf(ended);
  } catch (e) {
    if (e instanceof ConnectionError) {
      err(`pairforge train: ${e.message}\nrun ${run.id} '${run.name}' goes on on ${run.host}; follow it again: pairforge train --db ${a.values.get('db')} --attach ${run.id}`);
      return EXIT_CONNECTION;
    }
    throw e;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

function list(p: Project, json: boolean): number {
  const runs = listTrainingRuns(p);
  if (json) {
    out(JSON.stringify(runs.map((r) => runJson(p, r))));
    return EXIT_OK;
  }
  if (runs.length === 0) {
    out(`no training runs in ${p.file}`);
    return EXIT_OK;
  }
  for (const r of runs) {
    out(
      [
        String(r.id).padStart(4),
        r.status.padEnd(9),
        (r.exitCode === null ? '-' : String(r.exitCode)).padStart(4),
        `${r.host}:${r.runDir ?? `${r.remoteDir}/${r.name}`}`,
        `${r.exportPairs ?? '?'} pairs`,
        r.step !== null ? `step ${r.step}${r.maxSteps ? `/${r.maxSteps}` : ''}` : '',
        r.createdAt,
      ].join('  '),
    );
  }
  return EXIT_OK;
}

async function run(argv: string[]): Promise<number> {
  const { rest, values: sshOptions } = takeRepeated(argv, 'ssh-option');
  const a = parseArgs('train', rest, { values: VALUES, flags: FLAGS });
  if (a.flags.has('help')) return showHelp(HELP);
  if (a.positionals.length > 0) throw new UsageError(`train: unexpected argument ${a.positionals[0]}`);
  const modes = ['attach', 'stop'].filter((k) => a.values.has(k)).concat(['list', 'prepare'].filter((k) => a.flags.has(k)));
  if (modes.length > 1) throw new UsageError(`train: --${modes[0]} and --${modes[1]} exclude each other`);
  const mode = modes[0] ?? 'send';
  const settings = settingsOf(a, sshOptions);
  const pool = new HostPool();
  let trainerDir = '';
  try {
    trainerDir = findTrainerDir();
  } catch (e) {
    if (mode === 'send' || mode === 'prepare') throw e;
  }
  const env: HandoffEnv = { pool, trainerDir };
  try {
    if (mode === 'prepare') {
      if (!settings.host) throw new UsageError('train: --prepare needs --host HOST');
      const r = await prepareHost(env, settings, { onOutput: (t) => process.stderr.write(t), onProgress: (m) => err(`pairforge train: ${m}`) });
      const e = r.env as { python?: string; executable?: string; packages?: Record<string, string>; cuda_available?: boolean; cuda_version?: string | null; gpu_count?: number; gpus?: { name: string }[]; mismatches?: string[]; missing?: string[] };
      if (a.flags.has('json')) out(JSON.stringify({ host: settings.host, created: r.created, ...r.env }));
      else {
        out(`${settings.host}: ${r.created ? 'made the venv' : 'venv found'} ${e.executable ?? settings.python} (Python ${e.python ?? '?'})`);
        out(`  torch ${e.packages?.torch ?? 'missing'}, CUDA ${e.cuda_available ? `available (${e.cuda_version ?? '?'})` : 'not available'}, ${e.gpu_count ?? 0} GPU(s)${e.gpus?.length ? `: ${e.gpus.map((g) => g.name).join(', ')}` : ''}`);
        if (e.mismatches?.length) out(`  versions that differ from requirements.txt: ${e.mismatches.join(', ')}`);
        if (e.missing?.length) out(`  packages that do not import: ${e.missing.join('; ')}`);
      }
      return r.exitCode === 0 ? EXIT_OK : EXIT_BAD_INPUT;
    }
    const db = dbOf('train', a, true);
    const p = openProject(db);
    try {
      if (mode === 'list') {
        await settleInterruptedSends(p);
        return list(p, a.flags.has('json'));
      }
      if (mode === 'stop') {
        const r = findTrainingRun(p, a.values.get('stop')!);
        const s = await stopRun(p, env, r.id, settings.connectTimeoutSeconds);
        const what = { signalled: `asked run ${r.id} '${r.name}' on ${r.host} to stop (SIGTERM); it stops at the next step boundary`, ended: `run ${r.id} '${r.name}' had ended (${s.run.status})`, gone: `run ${r.id} '${r.name}': its wrapper is gone (lost)` }[s.outcome];
        if (a.flags.has('json')) out(JSON.stringify({ ...runJson(p, s.run), outcome: s.outcome }));
        else out(what);
        return EXIT_OK;
      }
      if (mode === 'attach') {
        const found = findTrainingRun(p, a.values.get('attach')!);
        await settleInterruptedSends(p, env, found.id);
        const r = findTrainingRun(p, String(found.id));
        err(`pairforge train: following run ${r.id} '${r.name}' on ${r.host}:${r.runDir ?? '?'} (Ctrl-C stops following; the run goes on)`);
        return await follow(p, env, r, a, settings.connectTimeoutSeconds);
      }
      // send
      if (!settings.host) throw new UsageError('train: --host HOST is required (or --attach / --stop / --list)');
      const exportOpts = exportOptionsOf(withFormat(a));
      const { format: _format, ...exportRest } = exportOpts;
      void _format;
      if (a.flags.has('dry-run')) {
        const dir = mkdtempSync(path.join(tmpdir(), 'pairforge-train-dry-'));
        const planned = await planSend(p, env, dir, { settings, ...(a.values.has('name') ? { name: a.values.get('name')! } : {}), export: exportRest });
        // Printed without the secrets the files carry to the host (the files keep them).
        const plan = { ...planned, launchSh: redactText(planned.launchSh), configJson: redactText(planned.configJson), ...(planned.sbatch ? { sbatch: redactText(planned.sbatch) } : {}) };
        if (a.flags.has('json')) out(JSON.stringify(plan));
        else {
          out(`would send ${plan.pairs} pairs (${plan.records} records, sha256 ${plan.exportSha256}) to ${settings.host}:${plan.remoteRunDir}`);
          if (plan.remoteRunDir.startsWith('~')) out('(the host makes paths under ~ absolute; the files sent name the absolute folder)');
          out(`files in ${dir} (export/, trainer/, config.json, pairforge-run.sh, launch.sh${plan.sbatch ? ', job.sbatch' : ''})`);
          out(`--- config.json\n${plan.configJson}--- launch.sh\n${plan.launchSh}${plan.sbatch ? `--- job.sbatch\n${plan.sbatch}` : ''}`);
        }
        return EXIT_OK;
      }
      let sent;
      // Ctrl-C before the run started cancels the send (the run is recorded failed: not started).
      const cancel = new AbortController();
      const onSigint = () => {
        err('\ninterrupted: cancelling the send (nothing runs on the host yet)');
        cancel.abort();
      };
      process.once('SIGINT', onSigint);
      try {
        sent = await sendRun(p, env, {
          settings,
          ...(a.values.has('name') ? { name: a.values.get('name')! } : {}),
          export: exportRest,
          signal: cancel.signal,
          onProgress: (m) => err(`pairforge train: ${m}`),
        });
      } catch (e) {
        if (cancel.signal.aborted) return EXIT_INTERRUPTED;
        if (e instanceof ConnectionError || e instanceof RemoteError) {
          err(`pairforge train: ${e.message}`);
          return EXIT_USAGE;
        }
        throw e;
      } finally {
        process.off('SIGINT', onSigint);
      }
      const r = sent.run;
      err(`pairforge train: run ${r.id} '${r.name}' runs on ${r.host}:${r.runDir}: ${r.launchCommand}`);
      if (a.flags.has('detach')) {
        if (a.flags.has('json')) out(JSON.stringify(runJson(p, r)));
        err(`pairforge train: detached; follow it: pairforge train --db ${db} --attach ${r.id}`);
        return EXIT_OK;
      }
      return await follow(p, env, r, a, settings.connectTimeoutSeconds);
    } finally {
      p.close();
    }
  } catch (e) {
    if (e instanceof NothingToTrainError) {
      err(`pairforge train: ${e.message}`);
      return EXIT_BAD_INPUT;
    }
    if (e instanceof ConnectionError) {
      err(`pairforge train: ${e.message}`);
      return EXIT_USAGE;
    }
    if (e instanceof RemoteError) {
      err(`pairforge train: ${e.message}`);
      return EXIT_USAGE;
    }
    throw e;
  } finally {
    await pool.closeAll();
  }
}

/** The export options of the arguments, with the format trl (the trainer reads that). */
function withFormat(a: Args): Args {
  return { ...a, values: new Map([...a.values, ['format', 'trl']]) };
}

export const trainCommand: Command = {
  name: 'train',
  summary: 'train --db P --host HOST [--tiny]     send the curated pairs to a GPU host over ssh and follow the run',
  help: HELP,
  run,
};
