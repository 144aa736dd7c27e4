// `pairforge train` against a real OpenSSH server on loopback (test/support/sshd.ts): the demo's
// pairs exported, uploaded with rsync and trained on "the host" (this machine, as the account
// pairforge-ssh) by the tiny trainer, the log streamed, status and metrics stored, the held-out
// results imported; a dropped connection and --attach; --stop; an unknown host key refused; host
// names, remote folders and run names with shell characters kept quoted; --prepare.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setPairsStatus } from '../../../server/pairs/store';
import {
  ConfigureNotification,
  TRAINING_DEFAULTS,
  TrainingFollowRequest,
  TrainingLogNotification,
  TrainingMetricsRequest,
  TrainingRunChangedNotification,
  TrainingRunsRequest,
  TrainingStartRequest,
  type TrainingRunView,
  type TrainingSettings,
} from '../../../server/protocol';
import { openProject } from '../../../server/store/db';
import { shQuote } from '../../../server/training/shell';
import { buildCli, runCli } from '../../support/cliHarness';
import { startInProcess } from '../../support/inProcess';
import { processesOf, remoteBase, runAs, sshdMissing, startSshd, type TestSshd } from '../../support/sshd';
import { makeDemoExport, readJsonLines, tempDir, trainerPython } from '../../support/trainer';

const trainer = trainerPython();
const missing = trainer.missing ?? sshdMissing();
if (missing && process.env.PAIRFORGE_REQUIRE_SSH === '1') throw new Error(`PAIRFORGE_REQUIRE_SSH=1 but ${missing}`);
if (missing) console.warn(`ssh hand-off tests skipped: ${missing}`);

/** A Host alias with the characters ssh allows that a shell would read: # ! * ? ~ ^ = + % */
const ODD_ALIAS = 'gpu#1!*?~x^=+%';
/** Spaces, both quotes, `;`, `$(...)`, backticks and a backslash: nothing of it may run. */
const HOSTILE = `runs 'q" ;$(touch PWNED) \`touch PWNED2\` \\n`;

interface RunJson {
  id: number;
  name: string;
  status: string;
  exitCode: number | null;
  runDir: string;
  pairs: number;
  records: number;
  step: number | null;
  maxSteps: number | null;
  metrics: number;
  scoreRunId: number | null;
  upload: { bytes: number; literalBytes: number };
  exportSha256: string;
}

let cli = '';
let work = '';
let db = '';
let sshd: TestSshd | undefined;
let base = '';
let python = '';

function train(args: string[], opts: { timeoutMs?: number } = {}) {
  return spawnSync(process.execPath, [cli, 'train', '--db', db, ...args], { encoding: 'utf8', timeout: opts.timeoutMs ?? 300_000, cwd: work });
}

/** The options every send shares: the test ssh config, the venv, one thread per process. */
function sendArgs(host = sshd!.alias): string[] {
  return ['--host', host, '--ssh-config', sshd!.config, '--python', python, '--setup', 'export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false', '--tiny'];
}

function list(): RunJson[] {
  const r = train(['--list', '--json']);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as RunJson[];
}

/** `export PIP_...` lines naming the pip sources of this process (its environment and pip's
 * configuration): what a host without network needs to install the trainer's requirements. */
function pipSourcesSetup(): string {
  const exports: string[] = [];
  for (const k of ['PIP_FIND_LINKS', 'PIP_INDEX_URL', 'PIP_EXTRA_INDEX_URL', 'PIP_NO_INDEX', 'PIP_CONSTRAINT']) {
    if (process.env[k]) exports.push(`export ${k}=${shQuote(process.env[k]!)}`);
  }
  for (const [key, name] of [
    ['global.index-url', 'PIP_INDEX_URL'],
    ['global.extra-index-url', 'PIP_EXTRA_INDEX_URL'],
    ['global.find-links', 'PIP_FIND_LINKS'],
  ]) {
    if (process.env[name]) continue;
    const v = spawnSync(python, ['-m', 'pip', 'config', 'get', key], { encoding: 'utf8' });
    if (v.status === 0 && v.stdout.trim()) exports.push(`export ${name}=${shQuote(v.stdout.trim())}`);
  }
  // pypi.org is unreachable here: asked once, not five times with backoff per package.
  exports.push('export PIP_RETRIES=0');
  return exports.join('\n');
}

/** No file named PWNED* anywhere the hostile names could have run a command. */
function noInjectedFiles(): void {
  for (const dir of [work, base, sshd!.account.home, os.tmpdir(), '/']) {
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)) expect(name.startsWith('PWNED'), `${dir}/${name}`).toBe(false);
  }
  for (const e of readdirSync(base, { recursive: true, withFileTypes: true })) expect(e.name.startsWith('PWNED'), path.join(e.parentPath, e.name)).toBe(false);
}

describe.skipIf(missing !== undefined)('pairforge train over ssh (a loopback sshd)', () => {
  beforeAll(async () => {
    cli = await buildCli();
    work = tempDir('pairforge-handoff-');
    ({ db } = makeDemoExport(cli, work));
    sshd = await startSshd([ODD_ALIAS]);
    base = remoteBase(sshd.account);
    // The remote account runs the venv's python: the venv's own folder, not a path through this
    // repository's (which may be private), or the copy .ci/run made for it.
    const py = trainer.python!;
    python = process.env.PAIRFORGE_SSH_TRAINER_PYTHON || path.join(realpathSync(path.dirname(path.dirname(py))), 'bin', path.basename(py));
    const can = runAs(sshd.account, [python, '-c', 'import trl, torch']);
    if (can.status !== 0) throw new Error(`the account ${sshd.account.name} cannot run ${python} (${can.stderr.trim().slice(-300)}); .ci/run copies the venv where it can (PAIRFORGE_SSH_TRAINER_PYTHON)`);
  }, 300_000);

  afterAll(async () => {
    await sshd?.stop(base);
    // Nothing of the tests may still run as the remote account (killed processes take a moment
    // to be reaped).
    let left: ReturnType<typeof processesOf> = [];
    if (sshd) {
      left = processesOf(sshd.account);
      for (let i = 0; i < 50 && left.length > 0; i++) {
        await new Promise((r) => setTimeout(r, 200));
        left = processesOf(sshd.account);
      }
    }
    for (const d of [work, base]) if (d) rmSync(d, { recursive: true, force: true });
    if (cli) rmSync(path.dirname(cli), { recursive: true, force: true });
    expect(left, JSON.stringify(left)).toEqual([]);
  }, 60_000);

  it('sends the accepted pairs, trains the tiny model on the host, streams its log, and stores status, metrics and held-out results (odd alias, hostile folder and name)', async () => {
    const p = openProject(db);
    let accepted: number[];
    try {
      accepted = p.db.prepare<[], { id: number }>('SELECT id FROM pairs ORDER BY id LIMIT 8').all().map((r) => r.id);
      setPairsStatus(p, accepted, 'accepted');
    } finally {
      p.close();
    }
    const remoteDir = path.join(base, HOSTILE);
    const t0 = Date.now();
    let firstLineMs = 0;
    const child = spawn(process.execPath, [cli, 'train', '--db', db, ...sendArgs(ODD_ALIAS), '--remote-dir', remoteDir, '--name', HOSTILE], { cwd: work });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (!firstLineMs && stdout.includes('pairforge-train:')) firstLineMs = Date.now() - t0;
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code, stderr).toBe(0);
    console.log(`send -> first log line: ${(firstLineMs / 1000).toFixed(2)} s; whole run ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    // The log streamed as the trainer wrote it, each step once.
    for (let s = 1; s <= 8; s++) expect(stdout.match(new RegExp(`pairforge-train: step ${s}/8,`, 'g')), `step ${s}`).toHaveLength(1);
    expect(stderr).toMatch(/succeeded \(exit 0\)/);
    expect(stderr).toMatch(/held-out pairs imported as scoring run \d+/);

    const [run] = list();
    expect(run).toMatchObject({ name: HOSTILE, status: 'succeeded', exitCode: 0, pairs: 8, records: 8, step: 8, maxSteps: 8 });
    // The run folder is exactly the hostile path, made by the remote account.
    expect(run.runDir).toBe(path.join(realpathSync(base), HOSTILE, HOSTILE));
    expect(readFileSync(path.join(run.runDir, 'exit_code'), 'utf8').trim()).toBe('0');
    for (const f of ['export/pairs.trl.jsonl', 'export/manifest.json', 'train.log', 'metrics.jsonl', 'status.json', 'pid', 'started_at', 'config.json', 'trainer/train.py']) {
      expect(existsSync(path.join(run.runDir, f)), f).toBe(true);
    }
    noInjectedFiles();

    // Metrics: every line of the host's metrics.jsonl, in order (8 steps and TRL's closing line).
    const remoteMetrics = readJsonLines(path.join(run.runDir, 'metrics.jsonl'));
    expect(run.metrics).toBe(remoteMetrics.length);
    expect(remoteMetrics.filter((m) => typeof m.loss === 'number').map((m) => m.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const q = openProject(db, { readonly: true });
    try {
      const stored = q.db.prepare<[number], { line: number; data: string }>('SELECT line, data FROM training_metrics WHERE run_id = ? ORDER BY line').all(run.id);
      expect(stored.map((s) => JSON.parse(s.data))).toEqual(remoteMetrics);
      // The export sent is what the project's accepted pairs give, and its checksum is recorded.
      const manifest = JSON.parse(readFileSync(path.join(run.runDir, 'export', 'manifest.json'), 'utf8'));
      expect(manifest.files[0].sha256).toBe(run.exportSha256);
      expect([...manifest.pairKeys].length).toBe(8);
      // The held-out pairs came back as a scoring run whose margins are the trainer's own figures.
      const heldout = readJsonLines(path.join(run.runDir, 'heldout_tokens.jsonl'));
      const summary = heldout.find((l) => l.type === 'summary') as { pairs: number; prefers_chosen: number; mean_margin: number };
      const margins = q.db.prepare<[number], { margin: number; prefers_chosen: number }>('SELECT margin, prefers_chosen FROM pair_scores WHERE run_id = ?').all(run.scoreRunId!);
      expect(margins).toHaveLength(summary.pairs);
      expect(margins.filter((m) => m.prefers_chosen === 1)).toHaveLength(summary.prefers_chosen);
      expect(margins.reduce((s, m) => s + m.margin, 0) / margins.length).toBeCloseTo(summary.mean_margin, 3);
    } finally {
      q.close();
    }
    // The local copy of the log is the host's log, byte for byte.
    expect(readFileSync(path.join(path.dirname(db), 'training', String(run.id), 'train.log'), 'utf8')).toBe(readFileSync(path.join(run.runDir, 'train.log'), 'utf8'));

    // The same export again: rsync sends no new data for the unchanged files (the pairs, the
    // trainer), only what changed (the manifest's time, the run's own files).
    const again = train([...sendArgs(ODD_ALIAS), '--remote-dir', base, '--name', 'again', '--detach', '--json']);
    expect(again.status, again.stderr).toBe(0);
    const second = JSON.parse(again.stdout) as RunJson;
    expect(second.exportSha256).toBe(run.exportSha256);
    console.log(`upload: first ${run.upload.bytes} bytes sent (${run.upload.literalBytes} new data); unchanged export again ${second.upload.bytes} bytes (${second.upload.literalBytes} new data)`);
    expect(second.upload.literalBytes).toBeLessThan(run.upload.literalBytes / 10);
    const attach = train(['--attach', 'again']);
    expect(attach.status, attach.stderr).toBe(0);
  }, 300_000);

  it('a dropped connection: train exits 255 and says how to follow again; --attach follows the run to its end, each step once', async () => {
    const config = path.join(work, 'long.json');
    writeFileSync(config, JSON.stringify({ max_steps: 40 }));
    const child = spawn(process.execPath, [cli, 'train', '--db', db, ...sendArgs(), '--remote-dir', base, '--name', 'dropped', '--include-pending', '--config', config], { cwd: work });
    let stdout = '';
    let stderr = '';
    let dropped = 0;
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (!dropped && /pairforge-train: step 3\/40,/.test(stdout)) dropped = sshd!.dropConnections();
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(dropped).toBeGreaterThan(0);
    expect(code, stderr).toBe(255);
    expect(stderr).toMatch(/goes on on pf-gpu; follow it again: pairforge train --db .* --attach \d+/);
    expect(stdout).not.toMatch(/step 40\/40/);

    const attach = train(['--attach', 'dropped']);
    expect(attach.status, attach.stderr).toBe(0);
    // The whole log, from the start, each step exactly once.
    for (let s = 1; s <= 40; s++) expect(attach.stdout.match(new RegExp(`pairforge-train: step ${s}/40,`, 'g')), `step ${s}`).toHaveLength(1);
    const run = list().find((r) => r.name === 'dropped')!;
    expect(run).toMatchObject({ status: 'succeeded', exitCode: 0, step: 40, pairs: 16 });
    const q = openProject(db, { readonly: true });
    try {
      const steps = q.db.prepare<[number], { step: number | null; data: string }>('SELECT step, data FROM training_metrics WHERE run_id = ? ORDER BY line').all(run.id);
      expect(steps.filter((s) => JSON.parse(s.data).loss !== undefined).map((s) => s.step)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    } finally {
      q.close();
    }
  }, 300_000);

  it('--stop: the wrapper passes SIGTERM on, the trainer stops at a step boundary, the run is stopped with exit 143', async () => {
    const config = path.join(work, 'longer.json');
    writeFileSync(config, JSON.stringify({ max_steps: 2000 }));
    const sent = train([...sendArgs(), '--remote-dir', base, '--name', 'stopped', '--include-pending', '--config', config, '--detach']);
    expect(sent.status, sent.stderr).toBe(0);
    // Wait until it trains, then stop it.
    const runDir = path.join(realpathSync(base), 'stopped');
    for (let i = 0; i < 240 && !/step \d+\/2000/.test(existsSync(path.join(runDir, 'train.log')) ? readFileSync(path.join(runDir, 'train.log'), 'utf8') : ''); i++) await new Promise((r) => setTimeout(r, 500));
    const stop = train(['--stop', 'stopped']);
    expect(stop.status, stop.stderr).toBe(0);
    expect(stop.stdout).toMatch(/asked run \d+ 'stopped' on pf-gpu to stop \(SIGTERM\)/);
    const attach = train(['--attach', 'stopped']);
    expect(attach.status).toBe(143);
    expect(attach.stderr).toMatch(/SIGTERM: training stopped at step \d+ of 2000/);
    const run = list().find((r) => r.name === 'stopped')!;
    expect(run).toMatchObject({ status: 'stopped', exitCode: 143 });
    expect(JSON.parse(readFileSync(path.join(runDir, 'status.json'), 'utf8')).state).toBe('interrupted');
  }, 300_000);

  it('an unknown host key is refused with the commands to trust it; nothing is sent or recorded', () => {
    const before = list().length;
    const r = train([...sendArgs('pf-unknown'), '--remote-dir', base, '--name', 'never']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('the host key is not known');
    expect(r.stderr).toContain('never accepts a host key by itself');
    expect(r.stderr).toContain(`ssh-keyscan -p ${sshd!.port} 127.0.0.1 >> ${sshd!.emptyKnownHosts}`);
    expect(readFileSync(sshd!.emptyKnownHosts, 'utf8')).toBe('');
    expect(list()).toHaveLength(before);
    expect(existsSync(path.join(base, 'never'))).toBe(false);
  });

  it('runs through launch.sh with the torchrun launcher and with a custom command template', async () => {
    const template = 'env PAIRFORGE_CUSTOM_LAUNCH=1 {python} {trainer}/train.py train --run-dir {run} {tiny}';
    for (const [launcher, extra, marker] of [
      ['torchrun', ['--gpus', '1'], 'gpus=1\nexec'],
      ['custom', ['--launch-template', template], 'env PAIRFORGE_CUSTOM_LAUNCH=1 '],
    ] as const) {
      const r = train([...sendArgs(), '--remote-dir', base, '--name', `via ${launcher}`, '--include-pending', '--launcher', launcher, ...extra]);
      expect(r.status, `${launcher}: ${r.stderr}`).toBe(0);
      expect(r.stderr).toMatch(/succeeded \(exit 0\)/);
      const run = list().find((x) => x.name === `via ${launcher}`)!;
      expect(run).toMatchObject({ status: 'succeeded', exitCode: 0, step: 8 });
      const launch = readFileSync(path.join(run.runDir, 'launch.sh'), 'utf8');
      expect(launch).toContain(marker);
      if (launcher === 'torchrun') expect(launch).toContain('-m torch.distributed.run --standalone --nproc_per_node "$gpus"');
      expect(r.stdout).toMatch(/pairforge-train: step 8\/8,/);
    }
  }, 300_000);

  it('--dry-run --launcher sbatch: the export and the run files are shown, every remote word quoted; nothing is sent or recorded', () => {
    const exports = () => {
      const p = openProject(db, { readonly: true });
      try {
        return (p.db.prepare('SELECT COUNT(*) AS n FROM exports').get() as { n: number }).n;
      } finally {
        p.close();
      }
    };
    const before = { runs: list().length, exports: exports() };
    const remoteDir = path.join(base, "it's $(touch PWNED6)");
    // Secrets go to the host in the run's files, never into what is printed.
    const secretConfig = path.join(work, 'secret.json');
    writeFileSync(secretConfig, JSON.stringify({ trl: { hub_token: 'hf_SECRET_CONFIG' } }));
    const r = train([
      ...['--host', 'gpu-that-does-not-exist.invalid', '--remote-dir', remoteDir, '--name', 'dry run', '--launcher', 'sbatch', '--gpus', '2', '--include-pending', '--tiny'],
      ...['--setup', 'export HF_TOKEN=hf_SECRET_SETUP', '--config', secretConfig, '--dry-run', '--json'],
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).not.toContain('hf_SECRET');
    const plan = JSON.parse(r.stdout) as { pairs: number; records: number; exportDir: string; remoteRunDir: string; launchSh: string; sbatch?: string; configJson: string };
    expect(plan.pairs).toBeGreaterThan(0);
    expect(plan.remoteRunDir).toBe(`${remoteDir}/dry run`);
    expect(existsSync(path.join(plan.exportDir, 'pairs.trl.jsonl'))).toBe(true);
    const files = path.dirname(plan.exportDir);
    expect(readFileSync(path.join(files, 'launch.sh'), 'utf8')).toContain('export HF_TOKEN=hf_SECRET_SETUP');
    expect(readFileSync(path.join(files, 'config.json'), 'utf8')).toContain('hf_SECRET_CONFIG');
    expect(plan.launchSh).toContain('export HF_TOKEN=<redacted>');
    // The folder reaches the scripts only quoted: the quote closed and escaped, $( ) inert.
    expect(plan.launchSh).toContain(`'${base}/it'\\''s $(touch PWNED6)/dry run'`);
    expect(plan.sbatch).toMatch(/^#!/);
    expect(plan.sbatch).toContain('#SBATCH');
    expect(list()).toHaveLength(before.runs);
    expect(exports()).toBe(before.exports);
    expect(existsSync(remoteDir)).toBe(false);
    rmSync(path.dirname(plan.exportDir), { recursive: true, force: true });
    noInjectedFiles();
  });

  it('host names with shell characters never reach a shell: ssh refuses them, and nothing runs', () => {
    for (const host of [`gpu;touch ${path.join(work, 'PWNED3')}`, `gpu$(touch ${path.join(work, 'PWNED4')})`, 'gpu `touch PWNED5`']) {
      const r = train([...sendArgs(host), '--remote-dir', base]);
      expect(r.status, host).toBe(2);
      expect(r.stderr, host).toMatch(/ssh refuses host names with spaces or shell characters/);
    }
    const dash = train([...sendArgs('-oProxyCommand=touch PWNED6'), '--remote-dir', base]);
    expect(dash.status).toBe(2);
    expect(dash.stderr).toMatch(/starts with '-'/);
    noInjectedFiles();
  });

  it("the editor's requests: start (progress), follow (the log as notifications, each step once), metrics, the runs", async () => {
    const server = await startInProcess();
    try {
      await server.client.sendNotification(ConfigureNotification.method, { dbPath: db, preset: 'structurecoder', extraKinds: [], trusted: true });
      const logs = new Map<string, string>();
      server.client.onNotification(TrainingLogNotification.method, (x: { stream: string; text: string }) => void logs.set(x.stream, (logs.get(x.stream) ?? '') + x.text));
      const changes: TrainingRunView[] = [];
      server.client.onNotification(TrainingRunChangedNotification.method, (v: TrainingRunView) => void changes.push(v));
      const settings: TrainingSettings = { ...TRAINING_DEFAULTS, host: sshd!.alias, sshConfig: sshd!.config, remoteDir: base, python, tiny: true, includePending: true, setup: 'export OMP_NUM_THREADS=1' };
      const started = (await server.client.sendRequest(TrainingStartRequest.method, { settings, name: 'from the editor', workDoneToken: 'send-1' })) as TrainingRunView;
      expect(started).toMatchObject({ name: 'from the editor', status: 'running', pairs: 16, host: 'pf-gpu' });
      expect((server.progress.get('send-1') ?? []).map((x) => x.message).join('\n')).toMatch(/exported 16 pairs.*\n.*uploading to pf-gpu/s);
      // Two terminals follow the same run: each gets the whole log once.
      const [a, b] = (await Promise.all([
        server.client.sendRequest(TrainingFollowRequest.method, { runId: started.id, stream: 'a' }),
        server.client.sendRequest(TrainingFollowRequest.method, { runId: started.id, stream: 'b' }),
      ])) as TrainingRunView[];
      expect(a).toMatchObject({ status: 'succeeded', exitCode: 0, step: 8 });
      expect(b.status).toBe('succeeded');
      for (const stream of ['a', 'b']) for (let st = 1; st <= 8; st++) expect(logs.get(stream)!.match(new RegExp(`pairforge-train: step ${st}/8,`, 'g')), `${stream} step ${st}`).toHaveLength(1);
      expect(changes.at(-1)).toMatchObject({ id: started.id, status: 'succeeded' });
      expect(changes.at(-1)!.scoreRunId).not.toBeNull();
      const metrics = (await server.client.sendRequest(TrainingMetricsRequest.method, { runId: started.id })) as { rows: Record<string, number | null>[] };
      expect(metrics.rows.filter((r) => typeof r.loss === 'number').map((r) => r.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      expect(metrics.rows[0]).toHaveProperty('rewards/chosen');
      const runs = (await server.client.sendRequest(TrainingRunsRequest.method, { refresh: true })) as TrainingRunView[];
      expect(runs[0]).toMatchObject({ id: started.id, name: 'from the editor', status: 'succeeded', metrics: metrics.rows.length });
      // A finished run followed again: its log from the local copy, at once.
      const again = (await server.client.sendRequest(TrainingFollowRequest.method, { runId: started.id, stream: 'c' })) as TrainingRunView;
      expect(again.status).toBe('succeeded');
      expect(logs.get('c')).toBe(readFileSync(path.join(started.localDir, 'train.log'), 'utf8'));
    } finally {
      await server.stop();
    }
  }, 300_000);

  it('--prepare reports the host environment (torch, CUDA, GPUs) from the venv', () => {
    const r = runCli(cli, ['train', '--host', sshd!.alias, '--ssh-config', sshd!.config, '--remote-dir', base, '--prepare', '--python', python, '--json'], { cwd: work });
    expect(r.status, r.stderr).toBe(0);
    const env = JSON.parse(r.stdout);
    expect(env).toMatchObject({ host: 'pf-gpu', created: false, cuda_available: false, gpu_count: 0, missing: [] });
    expect(env.packages.torch).toMatch(/^2\.13\.0/);
    expect(r.stderr).toMatch(/Requirement already satisfied: torch==2\.13\.0/);
    expect(existsSync(path.join(base, 'trainer', 'requirements.txt'))).toBe(true);
  }, 180_000);

  it('--prepare makes the venv on the host from the requirements file when it is not there, then reports it', () => {
    // The host's own python3 and pip, as the remote account. This machine has no network: pip's
    // sources are the local package indexes this (root) process's pip is configured with, given
    // to the host the way a user gives a mirror, in the setup lines (which --prepare runs first).
    const fresh = path.join(base, 'fresh venv', 'bin', 'python');
    const r = runCli(cli, ['train', '--host', sshd!.alias, '--ssh-config', sshd!.config, '--remote-dir', base, '--prepare', '--python', fresh, '--base-python', 'python3', '--setup', pipSourcesSetup(), '--json'], {
      cwd: work,
      timeoutMs: 600_000,
    });
    expect(r.status, r.stderr.slice(-2000)).toBe(0);
    const env = JSON.parse(r.stdout);
    expect(env).toMatchObject({ created: true, cuda_available: false, gpu_count: 0, missing: [] });
    expect(env.packages.torch).toMatch(/^2\.13\.0/);
    expect(r.stderr).toContain(`pairforge: making the venv ${path.join(base, 'fresh venv')}`);
    // Made by the remote account, and it runs the trainer.
    expect(statSync(path.join(base, 'fresh venv')).uid).toBe(sshd!.account.uid);
    const again = runCli(cli, ['train', '--host', sshd!.alias, '--ssh-config', sshd!.config, '--remote-dir', base, '--prepare', '--python', fresh, '--json'], { cwd: work, timeoutMs: 300_000 });
    expect(again.status, again.stderr.slice(-2000)).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ created: false, missing: [] });
  }, 900_000);
});
