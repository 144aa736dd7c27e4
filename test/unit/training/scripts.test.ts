// What runs on the host (server/training/scripts.ts), where a run is (handoff.ts stateOf), the
// metrics lines (results.ts): pure text and parsing.
import { describe, expect, it } from 'vitest';
import { stateOf } from '../../../server/training/handoff';
import { metricRow, splitMetrics } from '../../../server/training/results';
import {
  fillTemplate,
  followScript,
  launchCommand,
  launchScript,
  makeRunDirScript,
  parsePoll,
  pollScript,
  prepareScript,
  sbatchScript,
  startScript,
  stopScript,
  WRAPPER_SCRIPT,
  type LaunchValues,
  type PollResult,
} from '../../../server/training/scripts';

const HOSTILE = `runs 'q" ;$(touch PWNED) \`id\``;
const v: LaunchValues = {
  launcher: 'python',
  customLauncher: '',
  python: '~/.pairforge/venv/bin/python',
  runDir: `/home/me/${HOSTILE}`,
  runName: HOSTILE,
  tiny: false,
  gpus: 0,
  accelerateConfig: '',
  setup: '',
};
const Q = `'/home/me/runs '\\''q" ;$(touch PWNED) \`id\`'`;

describe('the wrapper', () => {
  it('records start time, pid and exit code through temporary names, passes TERM/INT on, ignores HUP', () => {
    expect(WRAPPER_SCRIPT).toContain(`put() { printf '%s\\n' "$2" > "$1.tmp" && mv -f "$1.tmp" "$1"; }`);
    expect(WRAPPER_SCRIPT).toContain(`trap 'sig=TERM; [ -n "$child" ] && kill -TERM "$child" 2>/dev/null' TERM`);
    expect(WRAPPER_SCRIPT).toContain(`trap 'sig=INT; [ -n "$child" ] && kill -INT "$child" 2>/dev/null' INT`);
    expect(WRAPPER_SCRIPT).toContain(`trap '' HUP`);
    expect(WRAPPER_SCRIPT).toContain('sh ./launch.sh >> train.log 2>&1 < /dev/null &');
    // started_at before pid (a reader that sees the pid sees the start), exit_code last.
    const order = ['put started_at', 'put pid', 'sh ./launch.sh', 'wait "$child"', 'put ended_at', 'put exit_code'].map((s) => WRAPPER_SCRIPT.indexOf(s));
    expect(order.every((x, i) => x > 0 && (i === 0 || x > order[i - 1]))).toBe(true);
  });
});

describe('launchers', () => {
  it('python: the venv python on the trainer, every path quoted, ~/ as $HOME', () => {
    expect(launchCommand(v)).toBe(`"$HOME"/.pairforge/venv/bin/python '/home/me/runs '\\''q" ;$(touch PWNED) \`id\`/trainer'/train.py train --run-dir ${Q}`);
    expect(launchCommand({ ...v, tiny: true })).toMatch(/ --tiny$/);
    const sh = launchScript(v);
    expect(sh).toContain(`cd ${Q} || exit 1`);
    expect(sh).toContain('export PYTHONUNBUFFERED=1');
    expect(sh).toMatch(/\nexec "\$HOME"\/\.pairforge\/venv\/bin\/python /);
    // No GPU count is needed by one process.
    expect(sh).not.toContain('nvidia-smi');
  });

  it('torchrun and accelerate: the GPU count from the setting or from nvidia-smi', () => {
    const t = launchScript({ ...v, launcher: 'torchrun' });
    expect(t).toContain('gpus=$(nvidia-smi -L 2>/dev/null | grep -c "^GPU")');
    expect(t).toContain('-m torch.distributed.run --standalone --nproc_per_node "$gpus" ');
    expect(launchScript({ ...v, launcher: 'torchrun', gpus: 8 })).toContain('gpus=8\n');
    expect(launchCommand({ ...v, launcher: 'accelerate' })).toContain('-m accelerate.commands.launch --num_processes "$gpus" $multi_gpu ');
    expect(launchCommand({ ...v, launcher: 'accelerate', accelerateConfig: '~/fsdp 8.yaml' })).toContain(`--config_file "$HOME"/'fsdp 8.yaml' `);
  });

  it('setup lines run before the launcher', () => {
    const sh = launchScript({ ...v, setup: 'module load cuda/12.4\r\nsource ~/env.sh\n' });
    expect(sh.indexOf('module load cuda/12.4\nsource ~/env.sh')).toBeLessThan(sh.indexOf('exec '));
  });

  it('custom: placeholders filled with quoted words; an unknown one is an error naming it', () => {
    expect(launchCommand({ ...v, launcher: 'custom', customLauncher: 'nice -n 5 {python} {trainer}/train.py train --run-dir {run} {tiny}' })).toBe(
      `nice -n 5 "$HOME"/.pairforge/venv/bin/python '/home/me/runs '\\''q" ;$(touch PWNED) \`id\`/trainer'/train.py train --run-dir ${Q}`,
    );
    expect(() => launchCommand({ ...v, launcher: 'custom', customLauncher: '{pyhton} x' })).toThrow(/unknown placeholder \{pyhton\}/);
    expect(() => launchCommand({ ...v, launcher: 'custom', customLauncher: '  ' })).toThrow(/no command template/);
    expect(fillTemplate('{a}-{b}', { a: 'x', b: "'y z'" })).toBe("x-'y z'");
  });

  it('sbatch: submits the job and waits; SIGTERM cancels it with TERM; the job runs torchrun', () => {
    const sh = launchScript({ ...v, launcher: 'sbatch', gpus: 4 });
    expect(sh).toContain(`sbatch --parsable --wait --job-name='pairforge-runs '\\''q" ;$(touch PWNED) \`id\`' --output='/home/me/runs '\\''q" ;$(touch PWNED) \`id\`/train.log' --open-mode=append job.sbatch > slurm_job_id &`);
    expect(sh).toContain(`trap 'j=$(cat slurm_job_id 2>/dev/null) && [ -n "$j" ] && scancel --signal=TERM --full "$j"' TERM INT`);
    const job = sbatchScript({ ...v, launcher: 'sbatch', gpus: 4 });
    expect(job).toContain('#SBATCH --gpus-per-node=4');
    expect(job).toContain('#SBATCH --signal=TERM@300');
    expect(job).toContain('srun "$HOME"/.pairforge/venv/bin/python -m torch.distributed.run --standalone --nproc_per_node "$gpus" ');
    expect(() => sbatchScript({ ...v, launcher: 'sbatch' })).toThrow(/set the GPUs per node/);
  });
});

describe('the remote scripts', () => {
  it('are one brace group reading nothing from stdin, with the marker before their result', () => {
    for (const s of [makeRunDirScript('~/runs', HOSTILE, 'n1'), startScript(v.runDir, 'n1'), followScript(v.runDir, 10, 'n1'), pollScript(v.runDir, 0, 'n1'), stopScript(v.runDir, 'n1'), prepareScript(v.python, 'python3', '/r/trainer', 'n1')]) {
      expect(s.startsWith('{\n')).toBe(true);
      expect(s.endsWith('\n} < /dev/null\n')).toBe(true);
      expect(s).toMatch(/printf '%s\\n[^']*' pairforge-n1/);
    }
  });

  it('make the run folder: never an existing one, the tools checked, the name quoted', () => {
    const s = makeRunDirScript('~/pairforge runs', HOSTILE, 'n');
    expect(s).toContain(`mkdir -p -- "$HOME"/'pairforge runs' && cd -- "$HOME"/'pairforge runs'`);
    expect(s).toContain(`if [ -e 'runs '\\''q" ;$(touch PWNED) \`id\`' ]; then`);
    expect(s).toContain(`mkdir -- 'runs '\\''q" ;$(touch PWNED) \`id\`'`);
    expect(s).toContain('for t in setsid tail rsync; do');
  });

  it('start detached with setsid; follow with tail -F --pid from the byte after the copy', () => {
    expect(startScript(v.runDir, 'n')).toContain('setsid -f sh ./pairforge-run.sh < /dev/null > /dev/null 2>&1');
    expect(followScript(v.runDir, 0, 'n')).toContain('exec tail -c +1 -F -s 0.5 --pid="$(cat pid)" train.log');
    expect(followScript(v.runDir, 4096, 'n')).toContain('tail -c +4097 ');
    expect(stopScript(v.runDir, 'n')).toContain('kill -TERM "$pid"');
  });

  it('prepare: a venv only where the python does not exist, pip from requirements.txt, then env', () => {
    const s = prepareScript('~/.pairforge/venv/bin/python', 'python3.11', '/r/my trainer', 'n');
    expect(s).toContain('py="$HOME"/.pairforge/venv/bin/python');
    expect(s).toContain(`python3.11 -m venv "$venv"`);
    expect(s).toContain(`"$py" -m pip install --progress-bar off -r '/r/my trainer/requirements.txt'`);
    expect(s).toContain(`"$py" '/r/my trainer/train.py' env`);
    // The setup lines run first (a cluster's module load, a pip index), as before a run.
    const withSetup = prepareScript('~/v/bin/python', 'python3', '/r/t', 'n', 'module load python/3.11\r\nexport PIP_INDEX_URL=http://mirror/simple\n');
    const lines = withSetup.split('\n').map((l) => l.trim());
    expect(lines.indexOf('module load python/3.11')).toBeGreaterThan(0);
    expect(lines.indexOf('module load python/3.11')).toBeLessThan(lines.findIndex((l) => l.startsWith('py=')));
    expect(lines).toContain('export PIP_INDEX_URL=http://mirror/simple');
    expect(withSetup).not.toContain('\r');
  });
});

describe('the poll', () => {
  const sect = (name: string, body: string | null) => (body === null ? `${name} -1\n` : `${name} ${Buffer.byteLength(body)}\n${body}\n`);
  const out = (parts: { exit?: string | null; pid?: string | null; status?: string | null; alive?: boolean; metrics?: [number, string] | null }) =>
    Buffer.from(
      'Welcome! (a login file printed this)\npairforge-n\n' +
        sect('exit_code', parts.exit ?? null) +
        sect('pid', parts.pid ?? null) +
        sect('started_at', '2026-12-07T03:33:55Z\n') +
        sect('ended_at', null) +
        sect('status.json', parts.status ?? null) +
        `alive ${parts.alive ? 1 : 0}\n` +
        (parts.metrics ? `metrics ${parts.metrics[0]} ${Buffer.byteLength(parts.metrics[1])}\n${parts.metrics[1]}\n` : 'metrics 0 -1\n'),
    );

  it('reads every section, after the marker, byte lengths and all', () => {
    const status = JSON.stringify({ state: 'training', step: 3, max_steps: 8, message: 'tr\u00e4ining\nmore' }, null, 2);
    const m = '{"step": 1, "loss": 0.69}\n{"step": 2, "loss": 0.6';
    const r = parsePoll(out({ pid: '4242\n', status, alive: true, metrics: [120, m] }), 'n');
    expect(r).toMatchObject({ exitCode: null, pid: 4242, startedAt: '2026-12-07T03:33:55Z', endedAt: null, alive: true });
    expect(r.status).toMatchObject({ state: 'training', step: 3, message: 'tr\u00e4ining\nmore' });
    expect(r.metrics!.offset).toBe(120);
    expect(r.metrics!.bytes.toString()).toBe(m);
    expect(() => parsePoll(Buffer.from('no marker'), 'n')).toThrow(/no poll result/);
  });

  it('where a run is', () => {
    const poll = (p: Partial<PollResult>): PollResult => ({ exitCode: null, pid: 7, startedAt: null, endedAt: null, status: null, alive: true, metrics: null, ...p });
    expect(stateOf(poll({ pid: null, alive: false }), false).status).toBe('uploading');
    expect(stateOf(poll({ status: { state: 'training', step: 3, max_steps: 8 } }), false)).toMatchObject({ status: 'running', trainerState: 'training', step: 3, maxSteps: 8 });
    expect(stateOf(poll({ exitCode: 0, alive: false, status: { state: 'done', message: 'trained 8 steps' } }), false)).toMatchObject({ status: 'succeeded', exitCode: 0, message: 'trained 8 steps' });
    expect(stateOf(poll({ exitCode: 143, alive: false }), true)).toMatchObject({ status: 'stopped', message: 'stopped by SIGTERM' });
    expect(stateOf(poll({ exitCode: 143, alive: false, status: { state: 'interrupted', message: 'SIGTERM: training stopped at step 3 of 9' } }), false)).toMatchObject({ status: 'stopped', message: 'SIGTERM: training stopped at step 3 of 9' });
    expect(stateOf(poll({ exitCode: 137, alive: false, status: { state: 'training' } }), false)).toMatchObject({ status: 'failed', message: 'exit code 137: killed by SIGKILL' });
    expect(stateOf(poll({ exitCode: 2, alive: false, status: { state: 'failed', message: 'RUN/config.json: unknown key' } }), false)).toMatchObject({ status: 'failed', message: 'exit code 2: RUN/config.json: unknown key' });
    expect(stateOf(poll({ alive: false, status: { state: 'training', step: 5 } }), false)).toMatchObject({ status: 'lost' });
    expect(stateOf(poll({ alive: false, status: { state: 'training', step: 5 } }), false).message).toMatch(/without an exit code.*at step 5/);
  });
});

describe('metrics lines', () => {
  it('takes complete lines only, numbers them by what they hold, and sets aside what is not a JSON object', () => {
    const r = splitMetrics(Buffer.from('{"step": 1, "loss": 0.69}\nnot json\n[1]\n{"step": 2, "loss": null, "note": "x"}\n{"step": 3, "lo'));
    expect(r.lines.map((l) => l.step)).toEqual([1, 2]);
    expect(r.bad).toEqual(['not json', '[1]']);
    expect(r.consumed).toBe(Buffer.byteLength('{"step": 1, "loss": 0.69}\nnot json\n[1]\n{"step": 2, "loss": null, "note": "x"}\n'));
    expect(splitMetrics(Buffer.from('{"step": 1'))).toEqual({ lines: [], consumed: 0, bad: [] });
    expect(metricRow('{"step": 2, "loss": null, "note": "x", "rewards/margins": 0.5}')).toEqual({ step: 2, loss: null, 'rewards/margins': 0.5 });
  });
});
