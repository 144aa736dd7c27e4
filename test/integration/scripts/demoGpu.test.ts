// The demo's loopback GPU host (scripts/demo-gpu.mjs), as npm start runs it: an sshd of its own on
// 127.0.0.1 logging the current user in with its own keys, host keys checked; the demo's pairs
// sent there with exactly the settings npm start writes into the demo workspace, trained by the
// tiny model and brought back; a start after npm start was killed with SIGKILL replaces the sshd
// that start left; stop() ends the runs still going, then the server.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alive, demoTrainingSettings, runningRuns, startDemoGpu, type DemoGpu } from '../../../scripts/demo-gpu.mjs';
import { SSHD } from '../../../scripts/loopback-sshd.mjs';
import { buildCli } from '../../support/cliHarness';
import { root } from '../../support/paths';
import { makeDemoExport, tempDir, trainerPython } from '../../support/trainer';

const trainer = trainerPython();
const tools = [SSHD, '/usr/bin/ssh', '/usr/bin/ssh-keygen', '/usr/bin/rsync'].filter((f) => !existsSync(f));
const missing = trainer.missing ?? (tools.length ? `${tools.join(', ')} missing (apt-get install openssh-server openssh-client rsync)` : undefined);
if (missing) console.warn(`demo host tests skipped: ${missing}`);

/** The demo workspace's training settings as `pairforge train` options (the settings and the
 * options are one table in the engine: protocol/settings). */
function optionsOf(settings: Record<string, string | boolean>): string[] {
  const flag: Record<string, string> = {
    'pairforge.training.host': '--host',
    'pairforge.training.sshConfig': '--ssh-config',
    'pairforge.training.remoteDir': '--remote-dir',
    'pairforge.training.python': '--python',
    'pairforge.training.tiny': '--tiny',
    'pairforge.training.setup': '--setup',
    'pairforge.training.includePending': '--include-pending',
  };
  return Object.entries(settings).flatMap(([k, v]) => {
    if (!flag[k]) throw new Error(`no pairforge train option for ${k}: add it here`);
    return v === true ? [flag[k]] : v === false ? [] : [flag[k], String(v)];
  });
}

function ssh(gpu: DemoGpu, ...args: string[]) {
  return spawnSync('ssh', ['-F', gpu.sshConfig, '-o', 'BatchMode=yes', ...args], { encoding: 'utf8', timeout: 30_000 });
}

describe.skipIf(missing !== undefined)('the demo GPU host (npm start)', () => {
  let work = '';
  let dir = '';
  let cli = '';
  let db = '';
  let gpu: DemoGpu | undefined;
  const logged: string[] = [];

  beforeAll(async () => {
    work = tempDir('pairforge-demo-gpu-');
    dir = path.join(work, 'demo-gpu');
    cli = await buildCli();
    ({ db } = makeDemoExport(cli, work));
    gpu = await startDemoGpu({ dir, log: (m) => logged.push(m) });
  }, 300_000);

  afterAll(() => {
    gpu?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
    if (cli) rmSync(path.dirname(cli), { recursive: true, force: true });
  });

  it('logs this user in on loopback with its own key only, and checks the host key', () => {
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(gpu!.clientKey).mode & 0o777).toBe(0o600);
    const who = ssh(gpu!, 'demo-gpu', 'id -un');
    expect(who.status, who.stderr).toBe(0);
    expect(who.stdout.trim()).toBe(os.userInfo().username);
    expect(readFileSync(gpu!.sshdConfig, 'utf8')).toMatch(/^ListenAddress 127\.0\.0\.1$/m);
    // A client that does not know the host key is refused, never asked.
    const unknown = ssh(gpu!, '-o', `UserKnownHostsFile=${path.join(work, 'no-known-hosts')}`, 'demo-gpu', 'true');
    expect(unknown.status).toBe(255);
    expect(unknown.stderr).toMatch(/Host key verification failed|No ED25519 host key is known/);
    // Another key (none) and passwords do not log in.
    const nokey = ssh(gpu!, '-o', 'IdentityFile=/dev/null', '-o', 'PreferredAuthentications=password,keyboard-interactive', 'demo-gpu', 'true');
    expect(nokey.status).toBe(255);
    expect(nokey.stderr).toMatch(/Permission denied/);
  });

  it("trains the demo's pairs there with the settings npm start writes, and brings the run back", () => {
    // The venv's own folder, as npm start writes it (.cache/trainer-venv may be a link).
    const python = path.join(realpathSync(path.dirname(path.dirname(trainer.python!))), 'bin', 'python');
    const settings = demoTrainingSettings(gpu!, python);
    expect(settings['pairforge.training.includePending']).toBe(true);
    const r = spawnSync(process.execPath, [cli, 'train', '--db', db, ...optionsOf(settings), '--name', 'first', '--json'], { encoding: 'utf8', timeout: 300_000, cwd: work });
    expect(r.status, r.stderr.slice(-2000)).toBe(0);
    const run = JSON.parse(r.stdout) as { status: string; exitCode: number; pairs: number; metrics: number; runDir: string; scoreRunId: number | null };
    expect(run).toMatchObject({ status: 'succeeded', exitCode: 0 });
    expect(run.pairs).toBeGreaterThan(0);
    expect(run.metrics).toBeGreaterThan(0);
    expect(run.scoreRunId).not.toBeNull();
    expect(run.runDir).toBe(path.join(gpu!.runs, 'first'));
    expect(existsSync(path.join(gpu!.runs, 'first', 'metrics.jsonl'))).toBe(true);
    // The log streamed on stderr holds the trainer's metrics lines.
    expect(r.stderr).toMatch(/loss/);
  }, 300_000);

  it('stop() ends a run still going on the host, then the server', async () => {
    const python = path.join(realpathSync(path.dirname(path.dirname(trainer.python!))), 'bin', 'python');
    const settings = demoTrainingSettings(gpu!, python);
    const r = spawnSync(process.execPath, [cli, 'train', '--db', db, ...optionsOf(settings), '--name', 'second', '--detach'], { encoding: 'utf8', timeout: 120_000, cwd: work });
    expect(r.status, r.stderr.slice(-2000)).toBe(0);
    let going = runningRuns(gpu!.runs);
    for (let i = 0; i < 50 && going.length === 0; i++) {
      await new Promise((res) => setTimeout(res, 100));
      going = runningRuns(gpu!.runs);
    }
    expect(going.map(([, run]) => path.basename(run))).toEqual(['second']);
    const server = gpu!.pid;
    expect(gpu!.stop()).toEqual(['second']);
    expect(alive(server)).toBe(false);
    for (let i = 0; i < 100 && runningRuns(gpu!.runs).length > 0; i++) await new Promise((res) => setTimeout(res, 100));
    expect(runningRuns(gpu!.runs)).toEqual([]);
  }, 180_000);

  it('a start after npm start was killed (SIGKILL) stops the sshd it left and keeps the keys', async () => {
    const hostKey = readFileSync(`${gpu!.hostKey}.pub`, 'utf8');
    // npm start's part, alone: node scripts/demo-gpu.mjs, killed with SIGKILL once it serves.
    const first: ChildProcess = spawn(process.execPath, [path.join(root, 'scripts', 'demo-gpu.mjs'), '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      first.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) resolve(out);
      });
      first.on('exit', (code) => reject(new Error(`demo-gpu.mjs exited ${code}`)));
    });
    const left = Number(/\(pid (\d+)\)/.exec(line)?.[1]);
    first.kill('SIGKILL');
    await new Promise((res) => first.once('exit', res));
    expect(alive(left)).toBe(true);
    logged.length = 0;
    gpu = await startDemoGpu({ dir, log: (m) => logged.push(m) });
    expect(logged.join('\n')).toContain(`a previous npm start left running (pid ${left})`);
    for (let i = 0; i < 30 && alive(left); i++) await new Promise((res) => setTimeout(res, 100));
    expect(alive(left)).toBe(false);
    expect(readFileSync(`${gpu.hostKey}.pub`, 'utf8')).toBe(hostKey);
    const who = ssh(gpu, 'demo-gpu', 'true');
    expect(who.status, who.stderr).toBe(0);
  }, 60_000);
});
