// What runs on the host, as text: the run folder's wrapper and launcher, the Slurm job, and the short
// scripts the hand-off sends to `sh -s` (make the run folder, start, follow the log, poll, stop,
// prepare the venv), plus the parser of what the poll prints. Pure: tested without a host.
//
// Each remote script is one brace group with stdin from /dev/null (sh reads the whole group before
// running it, and no command can read the rest of the script), and prints a marker line with a
// fresh nonce before what the engine parses, so anything a login file prints is skipped.
import type { TrainingLauncher } from '../protocol';
import { remotePathWord, shQuote } from './shell';

/** Files of a run folder on the host (docs/training.md "The run folder"). */
export const RUN_FILES = {
  wrapper: 'pairforge-run.sh',
  launch: 'launch.sh',
  sbatch: 'job.sbatch',
  log: 'train.log',
  pid: 'pid',
  startedAt: 'started_at',
  exitCode: 'exit_code',
  endedAt: 'ended_at',
  slurmJob: 'slurm_job_id',
  config: 'config.json',
  export: 'export',
  trainer: 'trainer',
} as const;

/** The trainer's output files brought back when a run ends (the model and checkpoints stay). */
export const RESULT_FILES = ['status.json', 'run.json', 'metrics.jsonl', 'batches.jsonl', 'heldout_tokens.jsonl', RUN_FILES.log, RUN_FILES.exitCode, RUN_FILES.startedAt, RUN_FILES.endedAt] as const;

/**
 * The wrapper, started in the run folder as `setsid -f sh ./pairforge-run.sh`: its own session and
 * no terminal, so a closed connection sends it no SIGHUP (nohup is not enough: launchers such as
 * torchrun set their own SIGHUP handler). It writes its start time and pid, runs launch.sh with
 * stdout and stderr appended to train.log, passes SIGTERM / SIGINT on to it (the launcher, not the
 * group: torchrun puts its workers in sessions of their own), and writes the exit code when the
 * launcher ends, also after a signal (a kill of the whole group still records one). Each file goes
 * through a temporary name and a rename, so a reader sees it whole or not at all.
 */
export const WRAPPER_SCRIPT = `#!/bin/sh
# PairForge's run wrapper (docs/training.md "On the host"). Started in the run folder with
# setsid -f; records started_at, pid and exit_code, and passes SIGTERM/SIGINT to the launcher.
put() { printf '%s\\n' "$2" > "$1.tmp" && mv -f "$1.tmp" "$1"; }
sig=
child=
trap 'sig=TERM; [ -n "$child" ] && kill -TERM "$child" 2>/dev/null' TERM
trap 'sig=INT; [ -n "$child" ] && kill -INT "$child" 2>/dev/null' INT
trap '' HUP
: >> ${RUN_FILES.log}
put ${RUN_FILES.startedAt} "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
put ${RUN_FILES.pid} "$$"
sh ./${RUN_FILES.launch} >> ${RUN_FILES.log} 2>&1 < /dev/null &
child=$!
# A signal that came before the launcher existed.
[ -n "$sig" ] && kill -"$sig" "$child" 2>/dev/null
# wait returns early when a trapped signal arrives: wait again while the launcher lives.
while :; do
  wait "$child"
  code=$?
  kill -0 "$child" 2>/dev/null || break
done
# After a signal the status may be the signal's, not the launcher's: ask once more.
if [ -n "$sig" ] && [ "$code" -gt 128 ]; then
  wait "$child" 2>/dev/null
  again=$?
  [ "$again" -eq 127 ] || code=$again
fi
put ${RUN_FILES.endedAt} "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
put ${RUN_FILES.exitCode} "$code"
`;

/** Values the launcher templates use; words are quoted where they are put in. */
export interface LaunchValues {
  launcher: TrainingLauncher;
  /** `custom`: the user's command with placeholders. */
  customLauncher: string;
  /** The venv's Python on the host (`~/` allowed). */
  python: string;
  /** The run folder on the host, absolute. */
  runDir: string;
  runName: string;
  tiny: boolean;
  /** GPUs per node; 0 = as many as nvidia-smi lists (at least 1). */
  gpus: number;
  /** accelerate's config file on the host ('' = none). */
  accelerateConfig: string;
  /** Shell lines run before the launcher. */
  setup: string;
}

const TEMPLATES: Record<Exclude<TrainingLauncher, 'custom' | 'sbatch'>, string> = {
  python: '{python} {trainer}/train.py train --run-dir {run} {tiny}',
  torchrun: '{python} -m torch.distributed.run --standalone --nproc_per_node {gpus} {trainer}/train.py train --run-dir {run} {tiny}',
  accelerate: '{python} -m accelerate.commands.launch {accelerate_args} {trainer}/train.py train --run-dir {run} {tiny}',
};

/** The command the Slurm job's one task runs: torchrun, one process per GPU of the node. */
const SLURM_STEP = 'srun {python} -m torch.distributed.run --standalone --nproc_per_node {gpus} {trainer}/train.py train --run-dir {run} {tiny}';

/** Fills `{name}` placeholders with shell words; an unknown one is an error naming it. */
export function fillTemplate(template: string, words: Readonly<Record<string, string>>, what = 'launcher template'): string {
  const unknown = new Set<string>();
  const out = template.replace(/\{([a-z_]+)\}/g, (all, name: string) => {
    if (!(name in words)) {
      unknown.add(name);
      return all;
    }
    return words[name];
  });
  if (unknown.size > 0) throw new Error(`${what}: unknown placeholder ${[...unknown].map((n) => `{${n}}`).join(', ')} (known: ${Object.keys(words).map((n) => `{${n}}`).join(' ')})`);
  return out.replace(/[ \t]+$/gm, '').replace(/ {2,}/g, ' ');
}

/** The placeholders a launcher template may use (docs/training.md "Launchers"), as shell words. */
function placeholderWords(v: LaunchValues): Record<string, string> {
  const trainer = `${v.runDir}/${RUN_FILES.trainer}`;
  return {
    python: remotePathWord(v.python),
    trainer: shQuote(trainer),
    run: shQuote(v.runDir),
    run_name: shQuote(v.runName),
    gpus: '"$gpus"',
    tiny: v.tiny ? '--tiny' : '',
    accelerate_config: v.accelerateConfig ? remotePathWord(v.accelerateConfig) : "''",
  };
}

/** The launcher command of a run (what launch.sh execs), placeholders filled. */
export function launchCommand(v: LaunchValues): string {
  const words = placeholderWords(v);
  if (v.launcher === 'custom') {
    if (v.customLauncher.trim() === '') throw new Error('launcher custom: no command template given (pairforge.training.customLauncher, --launch-template)');
    return fillTemplate(v.customLauncher.trim(), words);
  }
  if (v.launcher === 'sbatch') {
    // Name and output here, not as #SBATCH lines: these are shell words, quoted like the rest.
    return `sbatch --parsable --wait --job-name=${shQuote(`pairforge-${v.runName}`)} --output=${shQuote(`${v.runDir}/${RUN_FILES.log}`)} --open-mode=append ${RUN_FILES.sbatch}`;
  }
  const accelerateArgs = v.accelerateConfig ? `--config_file ${words.accelerate_config}` : '--num_processes "$gpus" $multi_gpu';
  return fillTemplate(TEMPLATES[v.launcher], { ...words, accelerate_args: accelerateArgs });
}

/** Sets `gpus` in a script: the setting, or the GPUs nvidia-smi lists (1 when it lists none). */
function gpusLines(gpus: number): string {
  if (gpus > 0) return `gpus=${gpus}`;
  return ['gpus=$(nvidia-smi -L 2>/dev/null | grep -c "^GPU")', '[ "$gpus" -ge 1 ] 2>/dev/null || gpus=1'].join('\n');
}

/** launch.sh: the run's environment and its launcher. Not a Slurm run: it execs the launcher, so
 * the wrapper's signals reach it directly. Slurm: it submits job.sbatch, waits for the job, and
 * turns the wrapper's SIGTERM into a scancel that lets the job stop at a step boundary. */
export function launchScript(v: LaunchValues): string {
  const command = launchCommand(v);
  const head = [
    '#!/bin/sh',
    '# The launcher of this run, written by PairForge (docs/training.md "Launchers").',
    'export PYTHONUNBUFFERED=1',
    `cd ${shQuote(v.runDir)} || exit 1`,
    ...(v.setup.trim() ? ['# setup (pairforge.training.setup)', v.setup.replace(/\r\n?/g, '\n').trimEnd()] : []),
    ...(command.includes('"$gpus"') ? [gpusLines(v.gpus)] : []),
    ...(command.includes('$multi_gpu') ? ['multi_gpu=', '[ "$gpus" -gt 1 ] && multi_gpu=--multi_gpu'] : []),
  ];
  if (v.launcher !== 'sbatch') return [...head, `exec ${command}`, ''].join('\n');
  return [
    ...head,
    `trap 'j=$(cat ${RUN_FILES.slurmJob} 2>/dev/null) && [ -n "$j" ] && scancel --signal=TERM --full "$j"' TERM INT`,
    `${command} > ${RUN_FILES.slurmJob} &`,
    'submitted=$!',
    'while :; do',
    '  wait "$submitted"',
    '  code=$?',
    '  kill -0 "$submitted" 2>/dev/null || break',
    'done',
    'exit "$code"',
    '',
  ].join('\n');
}

/** job.sbatch (Slurm launcher): one node, one task that runs torchrun over the node's GPUs (its
 * output appended to the run's log: sbatch's options in launch.sh), SIGTERM five minutes before the
 * time limit (docs/training.md "Launchers"). */
export function sbatchScript(v: LaunchValues): string {
  if (v.gpus < 1) throw new Error('launcher sbatch: set the GPUs per node (pairforge.training.gpus, --gpus): a login node cannot count the compute nodes\' GPUs');
  const words = placeholderWords(v);
  return [
    '#!/bin/bash',
    '#SBATCH --nodes=1',
    '#SBATCH --ntasks-per-node=1',
    `#SBATCH --gpus-per-node=${v.gpus}`,
    '#SBATCH --signal=TERM@300',
    'set -euo pipefail',
    'export PYTHONUNBUFFERED=1',
    ...(v.setup.trim() ? [v.setup.replace(/\r\n?/g, '\n').trimEnd()] : []),
    `gpus=${v.gpus}`,
    fillTemplate(SLURM_STEP, words),
    '',
  ].join('\n');
}

// ---- the scripts sent to `sh -s` ----------------------------------------------------------------

/** A marker line the engine looks for before the output it parses. */
export function markerLine(nonce: string): string {
  return `pairforge-${nonce}`;
}

function script(lines: readonly string[]): string {
  return ['{', ...lines.map((l) => `  ${l}`), '} < /dev/null', ''].join('\n');
}

const fail = (code: number, message: string) => `{ printf '%s\\n' ${shQuote(`pairforge: ${message}`)} >&2; exit ${code}; }`;

/** Exit codes of the remote scripts (beside ssh's own 255). */
export const REMOTE_EXIT = { noFolder: 3, noRun: 4, exists: 5, notStarted: 6, missingTool: 7, cannotMake: 8 } as const;

/** Makes `remoteDir` (mkdir -p) and a new run folder `name` in it (refused when it exists), after
 * checking the tools the hand-off needs; prints the run folder's absolute path. */
export function makeRunDirScript(remoteDir: string, name: string, nonce: string): string {
  return script([
    'for t in setsid tail rsync; do',
    `  command -v "$t" > /dev/null 2>&1 || { printf 'pairforge: %s is not installed on this host (the hand-off needs setsid, GNU tail and rsync)\\n' "$t" >&2; exit ${REMOTE_EXIT.missingTool}; }`,
    'done',
    `tail --version 2> /dev/null | grep -q GNU || ${fail(REMOTE_EXIT.missingTool, 'tail on this host is not GNU tail (the hand-off follows logs with tail -F --pid)')}`,
    `mkdir -p -- ${remotePathWord(remoteDir)} && cd -- ${remotePathWord(remoteDir)} || ${fail(REMOTE_EXIT.cannotMake, `cannot make or enter the folder ${remoteDir}`)}`,
    'base=$(pwd -P)',
    `if [ -e ${shQuote(name)} ]; then printf 'pairforge: %s/%s exists already: a run folder is never reused (choose another name)\\n' "$base" ${shQuote(name)} >&2; exit ${REMOTE_EXIT.exists}; fi`,
    `mkdir -- ${shQuote(name)} || ${fail(REMOTE_EXIT.cannotMake, `cannot make the run folder ${name}`)}`,
    `printf '%s\\n' ${markerLine(nonce)}`,
    `printf '%s/%s\\n' "$base" ${shQuote(name)}`,
  ]);
}

/** The absolute path of a remote folder (made when missing): what rsync needs, since it passes
 * paths without a shell. */
export function resolveDirScript(remoteDir: string, nonce: string): string {
  return script([
    `mkdir -p -- ${remotePathWord(remoteDir)} && cd -- ${remotePathWord(remoteDir)} || ${fail(REMOTE_EXIT.cannotMake, `cannot make or enter the folder ${remoteDir}`)}`,
    `printf '%s\\n' ${markerLine(nonce)}`,
    'pwd -P',
  ]);
}

/** Starts the wrapper detached and waits (10 s at most) until it wrote its pid; prints the pid and
 * the start time. */
export function startScript(runDir: string, nonce: string): string {
  return script([
    `cd -- ${shQuote(runDir)} || ${fail(REMOTE_EXIT.noFolder, `no run folder ${runDir}`)}`,
    `[ ! -e ${RUN_FILES.pid} ] || ${fail(REMOTE_EXIT.exists, `${runDir} was started already`)}`,
    `setsid -f sh ./${RUN_FILES.wrapper} < /dev/null > /dev/null 2>&1`,
    'i=0',
    `while [ ! -s ${RUN_FILES.pid} ] && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i + 1)); done`,
    `[ -s ${RUN_FILES.pid} ] || ${fail(REMOTE_EXIT.notStarted, 'the run wrapper did not start (no pid after 10 s)')}`,
    `printf '%s\\n' ${markerLine(nonce)}`,
    `cat ${RUN_FILES.pid} ${RUN_FILES.startedAt}`,
  ]);
}

/** Streams train.log from byte `offset` (0-based) and follows it until the wrapper is gone
 * (tail -F --pid; it checks every half second); then tail ends. */
export function followScript(runDir: string, offset: number, nonce: string): string {
  return script([
    `cd -- ${shQuote(runDir)} || ${fail(REMOTE_EXIT.noFolder, `no run folder ${runDir}`)}`,
    `[ -s ${RUN_FILES.pid} ] || ${fail(REMOTE_EXIT.noRun, `${runDir} has no started run`)}`,
    `printf '%s\\n' ${markerLine(nonce)}`,
    `exec tail -c +${Math.max(0, Math.floor(offset)) + 1} -F -s 0.5 --pid="$(cat ${RUN_FILES.pid})" ${RUN_FILES.log} 2> /dev/null`,
  ]);
}

/** Whether the wrapper still runs: its pid is alive and (where /proc has it) is the wrapper. */
const ALIVE = [
  'alive=0',
  `pid=$(cat ${RUN_FILES.pid} 2> /dev/null)`,
  'if [ -n "$pid" ] && kill -0 "$pid" 2> /dev/null; then',
  `  if [ ! -r "/proc/$pid/cmdline" ] || grep -qa ${RUN_FILES.wrapper} "/proc/$pid/cmdline"; then alive=1; fi`,
  'fi',
];

/** Prints where a run is: each file as `name length` then its bytes, whether the wrapper lives,
 * and metrics.jsonl from byte `metricsOffset` (from 0 again when the file got shorter: a resumed
 * run cut it back). */
export function pollScript(runDir: string, metricsOffset: number, nonce: string): string {
  const off = Math.max(0, Math.floor(metricsOffset));
  return script([
    `cd -- ${shQuote(runDir)} || ${fail(REMOTE_EXIT.noFolder, `no run folder ${runDir}`)}`,
    `sect() { if [ -f "$1" ]; then n=$(wc -c < "$1"); printf '%s %s\\n' "$1" "$n"; head -c "$n" "$1"; printf '\\n'; else printf '%s -1\\n' "$1"; fi; }`,
    ...ALIVE,
    `printf '%s\\n' ${markerLine(nonce)}`,
    `sect ${RUN_FILES.exitCode}`,
    `sect ${RUN_FILES.pid}`,
    `sect ${RUN_FILES.startedAt}`,
    `sect ${RUN_FILES.endedAt}`,
    'sect status.json',
    'printf \'alive %s\\n\' "$alive"',
    `off=${off}`,
    'if [ -f metrics.jsonl ]; then',
    '  total=$(wc -c < metrics.jsonl)',
    '  [ "$total" -ge "$off" ] || off=0',
    '  printf \'metrics %s %s\\n\' "$off" "$((total - off))"',
    '  tail -c +"$((off + 1))" metrics.jsonl | head -c "$((total - off))"',
    "  printf '\\n'",
    'else',
    "  printf 'metrics 0 -1\\n'",
    'fi',
  ]);
}

/** Sends SIGTERM to the wrapper (which passes it to the launcher); prints `signalled`, `ended N`
 * (it had ended) or `gone` (no wrapper: lost). */
export function stopScript(runDir: string, nonce: string): string {
  return script([
    `cd -- ${shQuote(runDir)} || ${fail(REMOTE_EXIT.noFolder, `no run folder ${runDir}`)}`,
    `if [ -f ${RUN_FILES.exitCode} ]; then printf '%s\\nended %s\\n' ${markerLine(nonce)} "$(cat ${RUN_FILES.exitCode})"; exit 0; fi`,
    ...ALIVE,
    `if [ "$alive" = 1 ] && kill -TERM "$pid"; then printf '%s\\nsignalled\\n' ${markerLine(nonce)}; else printf '%s\\ngone\\n' ${markerLine(nonce)}; fi`,
  ]);
}

/** Makes the trainer's venv from `basePython` when `python` does not exist yet, installs
 * requirements.txt into it (pip's output streamed), then prints `created N` and `train.py env`'s
 * JSON after the marker. `python` must be VENV/bin/python(3). `setup` (pairforge.training.setup)
 * runs first, as before a run: a cluster's `module load python`, a pip index the host needs. */
export function prepareScript(python: string, basePython: string, trainerDir: string, nonce: string, setup = ''): string {
  const py = remotePathWord(python);
  return script([
    ...(setup.trim() ? ['# setup (pairforge.training.setup)', ...setup.replace(/\r\n?/g, '\n').trimEnd().split('\n')] : []),
    `py=${py}`,
    'case "$py" in',
    '  */bin/python|*/bin/python3) venv=${py%/bin/*} ;;',
    `  *) ${fail(2, `${python} is not VENV/bin/python: --prepare makes a venv and needs its python's path`)} ;;`,
    'esac',
    'created=0',
    'if [ ! -x "$py" ]; then',
    '  printf \'pairforge: making the venv %s\\n\' "$venv"',
    `  ${shQuote(basePython)} -m venv "$venv" || ${fail(10, `could not make a venv with ${basePython} (is python3-venv installed?)`)}`,
    '  created=1',
    'fi',
    `printf 'pairforge: installing %s into %s\\n' ${shQuote(`${trainerDir}/requirements.txt`)} "$venv"`,
    `"$py" -m pip install --progress-bar off -r ${shQuote(`${trainerDir}/requirements.txt`)} 2>&1 || ${fail(11, 'pip install -r requirements.txt failed (its output is above)')}`,
    `printf '%s\\n' ${markerLine(nonce)}`,
    'printf \'created %s\\n\' "$created"',
    `"$py" ${shQuote(`${trainerDir}/train.py`)} env`,
  ]);
}

// ---- what the poll prints -----------------------------------------------------------------------

export interface PollResult {
  exitCode: number | null;
  /** The wrapper's pid (null before it started). */
  pid: number | null;
  startedAt: string | null;
  endedAt: string | null;
  /** status.json, parsed (null when absent or not JSON yet). */
  status: Record<string, unknown> | null;
  /** The wrapper still runs. */
  alive: boolean;
  /** metrics.jsonl: the offset these bytes start at (0 after a cut-back), and the bytes. */
  metrics: { offset: number; bytes: Buffer } | null;
}

/** Reads pollScript's output (everything after the marker line). Throws on output that is not
 * the poll's (a different script version, a broken connection). */
export function parsePoll(out: Buffer, nonce: string): PollResult {
  const marker = Buffer.from(`${markerLine(nonce)}\n`);
  const at = out.indexOf(marker);
  if (at < 0) throw new Error('the host printed no poll result (see the log)');
  let pos = at + marker.length;
  const line = (): string => {
    const nl = out.indexOf(0x0a, pos);
    if (nl < 0) throw new Error('poll result cut short');
    const s = out.subarray(pos, nl).toString('utf8');
    pos = nl + 1;
    return s;
  };
  const section = (name: string): string | null => {
    const [n, len] = line().split(' ');
    if (n !== name) throw new Error(`poll result: expected ${name}, got ${n}`);
    const size = Number(len);
    if (size < 0) return null;
    const body = out.subarray(pos, pos + size).toString('utf8');
    pos += size + 1;
    return body;
  };
  const int = (s: string | null) => {
    const v = s === null ? NaN : Number(s.trim());
    return Number.isInteger(v) ? v : null;
  };
  const exitCode = int(section(RUN_FILES.exitCode));
  const pid = int(section(RUN_FILES.pid));
  const startedAt = section(RUN_FILES.startedAt)?.trim() || null;
  const endedAt = section(RUN_FILES.endedAt)?.trim() || null;
  const statusText = section('status.json');
  let status: Record<string, unknown> | null = null;
  if (statusText) {
    try {
      const v = JSON.parse(statusText) as unknown;
      if (v && typeof v === 'object' && !Array.isArray(v)) status = v as Record<string, unknown>;
    } catch {
      // replaced atomically, so this is a different file; the next poll reads it again
    }
  }
  const [aliveName, aliveValue] = line().split(' ');
  if (aliveName !== 'alive') throw new Error(`poll result: expected alive, got ${aliveName}`);
  const [mName, mOff, mLen] = line().split(' ');
  if (mName !== 'metrics') throw new Error(`poll result: expected metrics, got ${mName}`);
  const len = Number(mLen);
  const metrics = len < 0 ? null : { offset: Number(mOff), bytes: Buffer.from(out.subarray(pos, pos + len)) };
  return { exitCode, pid, startedAt, endedAt, status, alive: aliveValue === '1', metrics };
}

/** The text after the marker line of a script's output, or undefined when the marker is missing. */
export function afterMarker(out: string, nonce: string): string | undefined {
  const m = `${markerLine(nonce)}\n`;
  const at = out.indexOf(m);
  return at < 0 ? undefined : out.slice(at + m.length);
}
