// The trainer's test harness: where its Python environment is, a real export to train on (made by
// the bundled CLI's `pairforge run` against the local stand-in server), run folders, and running
// `train.py` as the hand-off will (docs/training.md).
//
// The environment is the venv `.ci/run` makes from server/training/python/requirements.txt at
// .cache/trainer-venv, or PAIRFORGE_TRAINER_PYTHON. Without it the trainer tests skip and say
// why, unless PAIRFORGE_REQUIRE_TRAINER=1 (CI), where a missing venv fails them.
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from './cliHarness';
import { root } from './paths';

export const TRAINER_DIR = path.join(root, 'server', 'training', 'python');
export const DEFAULT_VENV = path.join(root, '.cache', 'trainer-venv');

/** train.py as shipped: the copy scripts/bundle.mjs puts beside a bundle (cliHarness's buildCli
 * makes one), so the tests run the files the .vsix carries. */
export function bundledTrainer(cli: string): string {
  return path.join(path.dirname(cli), 'trainer', 'train.py');
}

/** The venv's python, or why there is none. */
export function trainerPython(): { python: string; missing?: undefined } | { python?: undefined; missing: string } {
  const python = process.env.PAIRFORGE_TRAINER_PYTHON || path.join(DEFAULT_VENV, 'bin', 'python');
  if (existsSync(python)) return { python };
  const missing = `no trainer environment at ${python} (make it: /usr/bin/python3 -m venv ${DEFAULT_VENV} && ${DEFAULT_VENV}/bin/pip install -r server/training/python/requirements.txt, or set PAIRFORGE_TRAINER_PYTHON)`;
  if (process.env.PAIRFORGE_REQUIRE_TRAINER === '1') throw new Error(`PAIRFORGE_REQUIRE_TRAINER=1 but ${missing}`);
  console.warn(`trainer tests skipped: ${missing}`);
  return { missing };
}

/** The environment the trainer runs with in tests: one thread per process, nothing from the
 * network (every model is built locally). */
export function trainerEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...process.env, OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1', HF_HUB_OFFLINE: '1', HF_DATASETS_OFFLINE: '1', TOKENIZERS_PARALLELISM: 'false', ...extra };
}

/** `pairforge run` on the demo datasets with whole programs (StructureCoder FIM and chat pairs,
 * IterPref pairs with critical-line spans) into `dir`; returns the project file and export folder. */
export function makeDemoExport(cli: string, dir: string): { db: string; exportDir: string } {
  const db = path.join(dir, 'demo.sqlite');
  const exportDir = path.join(dir, 'export');
  const datasets = ['demo-apps.jsonl', 'demo-history.jsonl'].map((f) => path.join(root, 'media', 'demo', 'datasets', f)).join(',');
  const r = runCli(cli, ['run', '--db', db, '--dataset', datasets, '--endpoint', 'local', '--workers', '2', '--whole-programs', '--out', exportDir, '--json']);
  if (r.status !== 0) throw new Error(`pairforge run exited ${r.status}: ${r.stderr}`);
  return { db, exportDir };
}

/** A run folder holding a copy of the export in export/ and the given config.json. */
export function newRun(base: string, exportDir: string, config?: Record<string, unknown>): string {
  mkdirSync(base, { recursive: true });
  const run = mkdtempSync(path.join(base, 'run-'));
  cpSync(exportDir, path.join(run, 'export'), { recursive: true });
  if (config) writeFileSync(path.join(run, 'config.json'), JSON.stringify(config));
  return run;
}

export function runTrainer(python: string, args: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): SpawnSyncReturns<string> {
  return spawnSync(python, args, { encoding: 'utf8', cwd: root, timeout: opts.timeoutMs ?? 300_000, env: trainerEnv(opts.env) });
}

/** `train.py train --run-dir RUN --tiny` under plain python. */
export function trainTiny(python: string, script: string, run: string): SpawnSyncReturns<string> {
  return runTrainer(python, [script, 'train', '--run-dir', run, '--tiny']);
}

export function readJsonLines<T = Record<string, unknown>>(file: string): T[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);
}

export function readJson<T = Record<string, unknown>>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

/** Starts `train.py train --tiny` in the background and sends it `signal` once it has logged
 * step `afterStep`; resolves with its exit code (null when killed) and output. */
export function trainTinyAndSignal(python: string, script: string, run: string, signal: NodeJS.Signals, afterStep = 1): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, [script, 'train', '--run-dir', run, '--tiny'], { cwd: root, env: trainerEnv() });
    let stdout = '';
    let stderr = '';
    let sent = false;
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (!sent && new RegExp(`pairforge-train: step ${afterStep}/`).test(stdout)) {
        sent = true;
        child.kill(signal);
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
