// The trainer under the launchers the hand-off starts it with (docs/training.md "Launchers"):
// torchrun with two CPU processes over gloo, and accelerate launch; and `train.py env`, the
// host check.
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli } from '../../support/cliHarness';
import { TRAINER_DIR, bundledTrainer, makeDemoExport, newRun, readJson, readJsonLines, runTrainer, tempDir, trainerPython } from '../../support/trainer';

const env = trainerPython();
const python = env.python ?? '';
const title = env.missing ? `trainer launchers (skipped: ${env.missing})` : 'trainer launchers';

interface Batch {
  step: number;
  pair_ids: number[][];
}

let cli: string;
let script: string;
let dir: string;
let exportDir: string;
let order: number[];

describe.skipIf(!env.python)(title, () => {
  beforeAll(async () => {
    cli = await buildCli();
    script = bundledTrainer(cli);
    dir = tempDir('pairforge-launchers-');
    ({ exportDir } = makeDemoExport(cli, dir));
    order = readJsonLines<{ metadata: { pair_id: number } }>(path.join(exportDir, 'pairs.trl.jsonl')).map((r) => r.metadata.pair_id);
  }, 180_000);
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (cli) rmSync(path.dirname(cli), { recursive: true, force: true });
  });

  it('env: versions as pinned in requirements.txt, CUDA and GPUs reported', () => {
    const r = runTrainer(python, [script, 'env'], { timeoutMs: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    const pins = Object.fromEntries(
      readFileSync(path.join(TRAINER_DIR, 'requirements.txt'), 'utf8')
        .split('\n')
        .map((l) => /^([A-Za-z0-9_.-]+)==(\S+)/.exec(l))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => [m[1], m[2]]),
    );
    expect(Object.keys(pins).sort()).toEqual(['accelerate', 'datasets', 'peft', 'tokenizers', 'torch', 'transformers', 'trl']);
    for (const [name, version] of Object.entries(pins)) expect(String(out.packages[name]).split('+')[0], name).toBe(version);
    expect(out).toMatchObject({ mismatches: [], missing: [], trainer_format: 1 });
    expect(typeof out.cuda_available).toBe('boolean');
    expect(out.gpu_count).toBe(out.gpus.length);
  }, 120_000);

  it('torchrun, two CPU processes: each step takes the next two batches in export order, one process writes', () => {
    const run = newRun(dir, exportDir, { heldout_pairs: 2, max_steps: -1, num_train_epochs: 1 });
    const r = runTrainer(python, ['-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', '2', script, 'train', '--run-dir', run, '--tiny']);
    expect(r.status, r.stderr).toBe(0);
    const status = readJson<{ state: string; world_size: number; step: number }>(path.join(run, 'status.json'));
    expect(status).toMatchObject({ state: 'done', world_size: 2 });
    const info = readJson<{ heldout_pairs: number[]; world_size: number }>(path.join(run, 'run.json'));
    expect(info.world_size).toBe(2);
    const kept = order.filter((id) => !info.heldout_pairs.includes(id));
    const batches = readJsonLines<Batch>(path.join(run, 'batches.jsonl'));
    // Batches of 2 per process: step k holds batches 2k-1 (process 0) and 2k (process 1); the
    // sampler fills the last step by starting the file again.
    expect(batches.every((b) => b.pair_ids.length === 2)).toBe(true);
    const seen = batches.flatMap((b) => b.pair_ids.flat());
    expect(seen.slice(0, kept.length)).toEqual(kept);
    expect(seen.slice(kept.length)).toEqual(kept.slice(0, seen.length - kept.length));
    expect(batches.map((b) => b.step)).toEqual(batches.map((_, i) => i + 1));
    const metrics = readJsonLines(path.join(run, 'metrics.jsonl')).filter((m) => 'loss' in m);
    expect(metrics.map((m) => m.step)).toEqual(batches.map((b) => b.step));
    const held = readJsonLines<{ type: string }>(path.join(run, 'heldout_tokens.jsonl'));
    expect(held.filter((h) => h.type === 'side')).toHaveLength(4);
    // Only process 0 printed progress.
    expect(r.stdout.match(/pairforge-train: step 1\//g)).toHaveLength(1);
  }, 300_000);

  it('accelerate launch --cpu', () => {
    const run = newRun(dir, exportDir);
    const accelerate = path.join(path.dirname(python), 'accelerate');
    const r = runTrainer(accelerate, ['launch', '--cpu', '--num_processes', '1', '--num_machines', '1', '--mixed_precision', 'no', '--dynamo_backend', 'no', script, 'train', '--run-dir', run, '--tiny']);
    expect(r.status, r.stderr).toBe(0);
    expect(readJson<{ state: string }>(path.join(run, 'status.json')).state).toBe('done');
    expect(readJsonLines(path.join(run, 'metrics.jsonl')).filter((m) => 'loss' in m)).toHaveLength(8);
  }, 300_000);
});
