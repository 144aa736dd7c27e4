// The trainer (server/training/python, docs/training.md) on CPU: a real TRL export made by
// `pairforge run`, a tiny random model and a tokenizer built from the export's text. The masked
// loss against a direct computation, gradients outside the spans, the curriculum order, metrics,
// held-out log-probs, LoRA, SIGTERM and resume, and bad input.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli, runCli } from '../../support/cliHarness';
import {
  bundledTrainer,
  makeDemoExport,
  newRun,
  readJson,
  readJsonLines,
  runTrainer,
  tempDir,
  trainTiny,
  trainTinyAndSignal,
  trainerPython,
} from '../../support/trainer';

const env = trainerPython();
const python = env.python ?? '';
const title = env.missing ? `trainer (skipped: ${env.missing})` : 'trainer';

interface TrlLine {
  prompt: string;
  chosen: string;
  rejected: string;
  chosen_loss_spans: [number, number][];
  rejected_loss_spans: [number, number][];
  metadata: { pair_id: number; mode: string; format: string };
}

interface SideLine {
  type: 'side';
  pair_id: number;
  side: 'chosen' | 'rejected';
  format: string;
  text_sha256: string;
  prompt_tokens: number;
  token_ids: number[];
  char_ranges: [number, number][];
  in_loss: number[];
  logp_policy: number[];
  logp_ref: number[];
  reward_sum: number;
  masked_reward_sum: number;
}

interface Batch {
  step: number;
  pair_ids: number[][];
  lines: number[][];
}

const TRL_METRICS = ['loss', 'rewards/chosen', 'rewards/rejected', 'rewards/accuracies', 'rewards/margins', 'logps/chosen', 'logps/rejected', 'learning_rate', 'epoch', 'step'];

let cli: string;
let script: string;
let dir: string;
let exportDir: string;
let db: string;
let records: TrlLine[];

describe.skipIf(!env.python)(title, () => {
  beforeAll(async () => {
    cli = await buildCli();
    script = bundledTrainer(cli);
    dir = tempDir('pairforge-trainer-');
    ({ db, exportDir } = makeDemoExport(cli, dir));
    records = readJsonLines<TrlLine>(path.join(exportDir, 'pairs.trl.jsonl'));
  }, 180_000);
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (cli) rmSync(path.dirname(cli), { recursive: true, force: true });
  });

  it('the export has what the checks need: FIM and chat records, IterPref rejected sides with partial spans', () => {
    expect(records.length).toBeGreaterThanOrEqual(10);
    expect(records.some((r) => r.metadata.format === 'fim')).toBe(true);
    expect(records.some((r) => r.metadata.format === 'chat')).toBe(true);
    const partial = records.filter((r) => r.metadata.mode === 'iterpref' && r.rejected_loss_spans.reduce((n, [a, b]) => n + b - a, 0) < [...r.rejected].length);
    expect(partial.length).toBeGreaterThan(0);
  });

  it('the masked loss equals a direct computation; tokens outside the spans get no gradient and change nothing', () => {
    const work = tempDir('pairforge-masked-');
    try {
      const r = runTrainer(python, [path.join(__dirname, 'masked_loss_check.py'), exportDir, work]);
      expect(r.status, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout);
      // Token ranges from the tokenizer's offsets equal the ranges of each token's bytes (astral
      // characters split over byte tokens, CRLF), and so do the masks.
      expect(out.ranges.tokens).toBeGreaterThan(1000);
      expect(out.ranges.mismatch_count, JSON.stringify(out.ranges.mismatches)).toBe(0);
      expect(out.ranges.mask_mismatches).toEqual([]);
      // 'y = "😀é"\r\n    return y\r\n' with spans [0, 9) and [20, 22): the emoji's four byte
      // tokens share its range [5, 6); "    " and "return" are outside, " y" inside, "\r\n" outside.
      expect(out.ranges.astral_rejected_ranges.slice(3, 7)).toEqual([[5, 6], [5, 6], [5, 6], [5, 6]]);
      expect(out.ranges.astral_rejected_mask).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 0, 0]);
      for (const c of out.loss) {
        expect(c.abs_err, c.name).toBeLessThan(1e-6);
        expect(c.logps_chosen_err, c.name).toBeLessThan(1e-6);
        expect(c.margins_err, c.name).toBeLessThan(1e-6);
        // The policy differs from the reference, so the loss is not the trivial log 2.
        expect(c.loss_minus_log2, c.name).toBeGreaterThan(1e-3);
      }
      expect(out.loss.map((c: { name: string }) => c.name)).toEqual(['sigmoid', 'sigmoid+sft', 'hinge']);
      expect(out.gradient.out_positions).toBeGreaterThan(out.gradient.rejected_out_of_span_response_tokens);
      expect(out.gradient.rejected_out_of_span_response_tokens).toBeGreaterThan(0);
      expect(out.gradient.max_abs_out).toBe(0);
      expect(out.gradient.min_max_abs_in).toBeGreaterThan(0);
      expect(out.perturb.grad_tensors).toBeGreaterThan(10);
      expect(out.perturb.outside_loss_diff).toBe(0);
      expect(out.perturb.outside_max_grad_diff).toBeLessThan(1e-12);
      expect(out.perturb.inside_loss_diff).toBeGreaterThan(1e-6);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, 300_000);

  it('a --tiny run: metrics lines with TRL names, batches in the export order, held-out log-probs, the model', () => {
    const run = newRun(dir, exportDir);
    const r = trainTiny(python, script, run);
    expect(r.status, r.stderr).toBe(0);
    const status = readJson<{ state: string; step: number; max_steps: number; exit_code: number }>(path.join(run, 'status.json'));
    expect(status).toMatchObject({ state: 'done', step: 8, max_steps: 8, exit_code: 0 });

    const metrics = readJsonLines(path.join(run, 'metrics.jsonl'));
    const steps = metrics.filter((m) => 'loss' in m);
    expect(steps.map((m) => m.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    for (const m of steps) for (const k of TRL_METRICS) expect(typeof m[k], k).toBe('number');
    // Step 1: the policy is the reference, so every reward is 0 and the loss is log 2.
    expect(steps[0].loss as number).toBeCloseTo(Math.log(2), 6);
    expect(steps[0]['rewards/margins']).toBe(0);
    expect(steps.slice(1).some((m) => m['rewards/margins'] !== 0)).toBe(true);
    expect(metrics[metrics.length - 1]).toHaveProperty('train_loss');

    // Held out: 4 pairs spread over the curriculum, none of them trained on.
    const info = readJson<{ heldout_pairs: number[]; train_records: number; options: { beta: number; sft_weight: number } }>(path.join(run, 'run.json'));
    expect(info.heldout_pairs).toHaveLength(4);
    expect(info.options.beta).toBe(0.5); // most records are StructureCoder's
    const batches = readJsonLines<Batch>(path.join(run, 'batches.jsonl'));
    expect(batches.map((b) => b.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const trained = batches.flatMap((b) => b.pair_ids.flat());
    const expected = records.map((x) => x.metadata.pair_id).filter((id) => !info.heldout_pairs.includes(id));
    expect(info.train_records).toBe(expected.length);
    // 8 steps of 2 over the training records in file order, wrapping around after one pass.
    expect(trained).toEqual([...expected, ...expected].slice(0, 16));
    for (const id of info.heldout_pairs) expect(trained).not.toContain(id);

    const held = readJsonLines<Record<string, unknown>>(path.join(run, 'heldout_tokens.jsonl'));
    expect(held[0]).toMatchObject({ type: 'run', beta: 0.5, family: 'qwen2.5-coder', step: 8, policy_model: 'model', adapter: false });
    const sides = held.filter((h) => h.type === 'side') as unknown as SideLine[];
    expect(sides.map((s) => `${s.pair_id}:${s.side}`)).toEqual(info.heldout_pairs.flatMap((id) => [`${id}:chosen`, `${id}:rejected`]));
    for (const s of sides) {
      const rec = records.find((x) => x.metadata.pair_id === s.pair_id)!;
      const text = s.side === 'chosen' ? rec.chosen : rec.rejected;
      const spans = s.side === 'chosen' ? rec.chosen_loss_spans : rec.rejected_loss_spans;
      const cps = [...text];
      expect(s.format).toBe(rec.metadata.format);
      expect(s.token_ids.length).toBe(s.char_ranges.length);
      expect(s.logp_policy.length).toBe(s.token_ids.length);
      expect(s.logp_ref.length).toBe(s.token_ids.length);
      // The ranges cover the response from its first to its last code point, in order.
      expect(s.char_ranges[0][0]).toBe(0);
      expect(s.char_ranges[s.char_ranges.length - 1][1]).toBe(cps.length);
      // The mask rule, recomputed here.
      expect(s.in_loss).toEqual(s.char_ranges.map(([a, b]) => (spans.some(([x, y]) => x < y && (a === b ? x <= a && a < y : a < y && x < b)) ? 1 : 0)));
      expect(s.logp_policy.every((v) => v <= 0)).toBe(true);
      expect(s.logp_policy.some((v, i) => Math.abs(v - s.logp_ref[i]) > 1e-6)).toBe(true);
      const beta = 0.5;
      const masked = beta * s.logp_policy.reduce((n, v, i) => n + (s.in_loss[i] ? v - s.logp_ref[i] : 0), 0);
      expect(s.masked_reward_sum).toBeCloseTo(masked, 9);
    }
    const summary = held[held.length - 1];
    expect(summary).toMatchObject({ type: 'summary', pairs: 4, sides: 8 });
    expect(existsSync(path.join(run, 'model', 'model.safetensors'))).toBe(true);
    expect(existsSync(path.join(run, 'model', 'tokenizer.json'))).toBe(true);
  }, 300_000);

  it('keeps the curriculum order of an export repeated over epochs, holding every record of a held-out pair out', () => {
    const out = path.join(dir, 'export-epochs');
    const e = runCli(cli, ['export', '--db', db, '--format', 'trl', '--include-pending', '--epochs', '2', '--out', out, '--json']);
    expect(e.status, e.stderr).toBe(0);
    const lines = readJsonLines<TrlLine>(path.join(out, 'pairs.trl.jsonl'));
    const order = lines.map((x) => x.metadata.pair_id);
    // The curriculum reorders pairs (not id order) and holds each twice.
    expect(order).not.toEqual([...order].sort((a, b) => a - b));
    expect(order.length).toBe(2 * new Set(order).size);
    const run = newRun(dir, out, { heldout_pairs: 3, max_steps: -1, num_train_epochs: 1, per_device_train_batch_size: 3 });
    const r = trainTiny(python, script, run);
    expect(r.status, r.stderr).toBe(0);
    const info = readJson<{ heldout_pairs: number[] }>(path.join(run, 'run.json'));
    expect(info.heldout_pairs).toHaveLength(3);
    const batches = readJsonLines<Batch>(path.join(run, 'batches.jsonl'));
    const keptLines = lines.map((x, i) => ({ id: x.metadata.pair_id, line: i + 1 })).filter((x) => !info.heldout_pairs.includes(x.id));
    expect(batches.flatMap((b) => b.lines.flat())).toEqual(keptLines.map((x) => x.line));
    expect(batches.flatMap((b) => b.pair_ids.flat())).toEqual(keptLines.map((x) => x.id));
    expect(batches.every((b) => b.pair_ids[0].length <= 3)).toBe(true);
  }, 300_000);

  it('LoRA: an adapter is saved, and the held-out reference is the untouched base model', () => {
    const full = newRun(dir, exportDir, { beta: 0.1 });
    const lora = newRun(dir, exportDir, { beta: 0.1, sft_weight: 0.5, lora: { r: 4, target_modules: ['q_proj', 'v_proj'] } });
    for (const run of [full, lora]) {
      const r = trainTiny(python, script, run);
      expect(r.status, r.stderr).toBe(0);
    }
    expect(existsSync(path.join(lora, 'model', 'adapter_config.json'))).toBe(true);
    expect(existsSync(path.join(lora, 'model', 'model.safetensors'))).toBe(false);
    const sidesOf = (run: string) => readJsonLines<SideLine>(path.join(run, 'heldout_tokens.jsonl')).filter((h) => h.type === 'side');
    const a = sidesOf(full);
    const b = sidesOf(lora);
    expect(b.map((s) => s.pair_id)).toEqual(a.map((s) => s.pair_id));
    let maxRefDiff = 0;
    let trainedMoved = 0;
    a.forEach((s, i) => {
      expect(b[i].token_ids).toEqual(s.token_ids);
      s.logp_ref.forEach((v, j) => (maxRefDiff = Math.max(maxRefDiff, Math.abs(v - b[i].logp_ref[j]))));
      trainedMoved = Math.max(trainedMoved, ...b[i].logp_policy.map((v, j) => Math.abs(v - b[i].logp_ref[j])));
    });
    expect(maxRefDiff).toBeLessThan(1e-5);
    expect(trainedMoved).toBeGreaterThan(1e-6);
    const metrics = readJsonLines(path.join(lora, 'metrics.jsonl')).filter((m) => 'loss' in m);
    // The SFT term (weight 0.5) keeps the loss far above DPO's log 2 at step 1.
    expect(metrics[0].loss as number).toBeGreaterThan(Math.log(2) + 1);
  }, 300_000);

  it('SIGTERM stops at a step boundary with a checkpoint; the same command resumes and logs each step once', async () => {
    const run = newRun(dir, exportDir, { num_train_epochs: 10, save_steps: 1, save_total_limit: 1 });
    const first = await trainTinyAndSignal(python, script, run, 'SIGTERM');
    expect(first.code, first.stderr).toBe(143);
    const stopped = readJson<{ state: string; step: number; max_steps: number; message: string }>(path.join(run, 'status.json'));
    expect(stopped.state).toBe('interrupted');
    expect(stopped.step).toBeLessThan(stopped.max_steps);
    expect(stopped.message).toMatch(/^SIGTERM: training stopped at step \d+ of \d+; checkpoint-\d+ saved/);
    expect(first.stderr).toContain(stopped.message);
    expect(existsSync(path.join(run, 'model'))).toBe(false);

    const second = trainTiny(python, script, run);
    expect(second.status, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/resuming from checkpoint-\d+/);
    const status = readJson<{ state: string; step: number; max_steps: number }>(path.join(run, 'status.json'));
    expect(status.state).toBe('done');
    const steps = readJsonLines(path.join(run, 'metrics.jsonl')).map((m) => m.step);
    expect(steps).toEqual([...Array.from({ length: status.max_steps }, (_, i) => i + 1), status.max_steps]);
    const batches = readJsonLines<Batch>(path.join(run, 'batches.jsonl'));
    expect(batches.map((b) => b.step)).toEqual(Array.from({ length: status.max_steps }, (_, i) => i + 1));
    const info = readJson<{ heldout_pairs: number[] }>(path.join(run, 'run.json'));
    const once = records.map((x) => x.metadata.pair_id).filter((id) => !info.heldout_pairs.includes(id));
    expect(batches.flatMap((b) => b.pair_ids.flat())).toEqual(Array.from({ length: 10 }, () => once).flat());

    // A finished run is never trained over.
    const third = trainTiny(python, script, run);
    expect(third.status).toBe(2);
    expect(third.stderr).toMatch(/holds a finished run/);
  }, 300_000);

  it('kill -9 mid-run: the same command resumes from the newest complete checkpoint; each step is logged and trained once', async () => {
    const run = newRun(dir, exportDir, { num_train_epochs: 10, save_steps: 1, save_total_limit: 2 });
    const first = await trainTinyAndSignal(python, script, run, 'SIGKILL', 3);
    expect(first.code).toBeNull();
    expect(readJson<{ state: string }>(path.join(run, 'status.json')).state).toBe('training');
    // A checkpoint the kill cut short (no trainer_state.json, written last) is passed over and removed.
    const partial = path.join(run, 'checkpoints', 'checkpoint-999');
    mkdirSync(partial, { recursive: true });
    writeFileSync(path.join(partial, 'model.safetensors'), 'cut short');
    const second = trainTiny(python, script, run);
    expect(second.status, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/resuming from checkpoint-\d+ \(step \d+\)/);
    expect(second.stdout).not.toContain('checkpoint-999');
    expect(existsSync(partial)).toBe(false);
    const status = readJson<{ state: string; max_steps: number }>(path.join(run, 'status.json'));
    expect(status.state).toBe('done');
    const all = Array.from({ length: status.max_steps }, (_, i) => i + 1);
    expect(readJsonLines(path.join(run, 'metrics.jsonl')).map((m) => m.step)).toEqual([...all, status.max_steps]);
    const batches = readJsonLines<Batch>(path.join(run, 'batches.jsonl'));
    expect(batches.map((b) => b.step)).toEqual(all);
    const info = readJson<{ heldout_pairs: number[] }>(path.join(run, 'run.json'));
    const once = records.map((x) => x.metadata.pair_id).filter((id) => !info.heldout_pairs.includes(id));
    expect(batches.flatMap((b) => b.pair_ids.flat())).toEqual(Array.from({ length: 10 }, () => once).flat());
  }, 300_000);

  describe('bad input names the file, line and field', () => {
    const check = (run: string) => runTrainer(python, [script, 'check', '--run-dir', run, '--tiny'], { timeoutMs: 60_000 });
    const withRecords = (edit: (lines: string[]) => string[]) => {
      const run = newRun(dir, exportDir);
      const file = path.join(run, 'export', 'pairs.trl.jsonl');
      writeFileSync(file, edit(readFileSync(file, 'utf8').trimEnd().split('\n')).join('\n') + '\n');
      return { run, file };
    };
    const editManifest = (edit: (m: Record<string, unknown>) => void) => {
      const run = newRun(dir, exportDir);
      const file = path.join(run, 'export', 'manifest.json');
      const m = readJson<Record<string, unknown>>(file);
      edit(m);
      writeFileSync(file, JSON.stringify(m));
      return { run, file };
    };

    it('check accepts the export and prints the plan', () => {
      const r = check(newRun(dir, exportDir));
      expect(r.status, r.stderr).toBe(0);
      const plan = JSON.parse(r.stdout);
      expect(plan).toMatchObject({ records: records.length, family: 'qwen2.5-coder', train_records: records.length - 4 });
      expect(plan.heldout_pairs).toHaveLength(4);
      expect(plan.notes.join('\n')).toMatch(/beta 0.5 \(the structurecoder default: the export mixes \d+ structurecoder and \d+ iterpref records/);
    });

    it('a missing data file or manifest', () => {
      const a = newRun(dir, exportDir);
      rmSync(path.join(a, 'export', 'pairs.trl.jsonl'));
      expect(check(a).stderr).toContain(`${path.join(a, 'export', 'pairs.trl.jsonl')}: not found`);
      const b = newRun(dir, exportDir);
      rmSync(path.join(b, 'export', 'manifest.json'));
      const r = check(b);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(`${path.join(b, 'export', 'manifest.json')}: not found`);
    });

    it('a span past the end of its response', () => {
      const { run, file } = withRecords((lines) =>
        lines.map((l, i) => {
          if (i !== 2) return l;
          const o = JSON.parse(l);
          o.rejected_loss_spans = [[0, [...o.rejected].length + 5]];
          return JSON.stringify(o);
        }),
      );
      const n = [...(JSON.parse(readFileSync(file, 'utf8').split('\n')[2]).rejected as string)].length;
      const r = check(run);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(`${file} line 3: rejected_loss_spans[0] = [0, ${n + 5}] ends past the rejected response (${n} characters)`);
    });

    it('a record without its pair id, a line that is not JSON, a reversed span', () => {
      const noId = withRecords((lines) => lines.map((l, i) => (i === 1 ? l.replace(/"pair_id":\d+,/, '') : l)));
      expect(check(noId.run).stderr).toContain(`${noId.file} line 2: metadata: missing field 'pair_id'`);
      const broken = withRecords((lines) => lines.map((l, i) => (i === 4 ? l.slice(0, 40) : l)));
      expect(check(broken.run).stderr).toContain(`${broken.file} line 5: not valid JSON`);
      const reversed = withRecords((lines) => lines.map((l, i) => (i === 0 ? l.replace(/"chosen_loss_spans":\[\[0,(\d+)\]\]/, '"chosen_loss_spans":[[$1,0]]') : l)));
      expect(check(reversed.run).stderr).toMatch(new RegExp(`line 1: chosen_loss_spans\\[0\\] = \\[\\d+, 0\\] is not a range`));
    });

    it('a data file changed after the export, and manifests that do not fit', () => {
      const changed = withRecords((lines) => lines.map((l, i) => (i === 0 ? l.replace('"chosen":"', '"chosen":" ') : l)));
      expect(check(changed.run).stderr).toMatch(/pairs\.trl\.jsonl: differs from what .*manifest\.json records \(files: pairs\.trl\.jsonl sha256 .*: it was changed after the export/);
      const fewer = withRecords((lines) => lines.slice(0, -1));
      expect(check(fewer.run).stderr).toContain(`holds ${records.length - 1} records but`);
      const sc = editManifest((m) => ((m.options as Record<string, unknown>).format = 'structurecoder'));
      expect(check(sc.run).stderr).toContain(`${sc.file}: options.format is 'structurecoder'; the trainer reads the TRL export`);
      const noFiles = editManifest((m) => (m.files = []));
      expect(check(noFiles.run).stderr).toContain(`${noFiles.file}: files lists no 'pairs.trl.jsonl'`);
      const notJson = newRun(dir, exportDir);
      writeFileSync(path.join(notJson, 'export', 'manifest.json'), '{"pairforge": ');
      expect(check(notJson).stderr).toContain(`${path.join(notJson, 'export', 'manifest.json')}: not valid JSON`);
    });

    it('config.json: an unknown key or a wrong type; train reports it in status.json', () => {
      const unknown = newRun(dir, exportDir, { beta: 0.2, learning_rte: 1e-5 });
      expect(check(unknown).stderr).toContain(`${path.join(unknown, 'config.json')}: unknown key 'learning_rte'`);
      const wrong = newRun(dir, exportDir, { per_device_train_batch_size: '4' });
      expect(check(wrong).stderr).toContain(`${path.join(wrong, 'config.json')}: per_device_train_batch_size should be a positive integer, not "4"`);
      const owned = newRun(dir, exportDir, { trl: { train_sampling_strategy: 'random' } });
      const r = trainTiny(python, script, owned);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(`trl.train_sampling_strategy is not accepted (the export order is kept)`);
      const status = readJson<{ state: string; message: string; exit_code: number }>(path.join(owned, 'status.json'));
      expect(status).toMatchObject({ state: 'failed', exit_code: 2 });
      expect(status.message).toContain('trl.train_sampling_strategy');
    }, 120_000);
  });
});
