// What a run brings back: its metrics lines (metrics.jsonl, read as they come) and, when it ends,
// the held-out per-token log-probs (heldout_tokens.jsonl), imported as a scoring run of the trained
// policy through the scoring stage's store (docs/training.md "Held-out pairs"), so the review
// room shows them like any scoring run.
import { readFileSync } from 'node:fs';
import { problemInfo } from '../import/browse';
import { renderForTraining, type TrainFormat } from '../pairs/render';
import { getPair } from '../pairs/store';
import { sideSums } from '../scoring/rewards';
import { addRunPairs, createRun, finishRun, sideWriter, textSha, type SideRow } from '../scoring/store';
import { FIM_FAMILIES, type FimFamily, type TrainingMetricRow } from '../protocol';
import type { Project } from '../store/db';
import type { MetricsLine } from './store';

/** Complete lines of a piece of metrics.jsonl: each parsed line, how many bytes they take (a last
 * line without its newline is left for the next read), and the lines that are not JSON objects. */
export function splitMetrics(bytes: Buffer): { lines: MetricsLine[]; consumed: number; bad: string[] } {
  const end = bytes.lastIndexOf(0x0a);
  if (end < 0) return { lines: [], consumed: 0, bad: [] };
  const lines: MetricsLine[] = [];
  const bad: string[] = [];
  for (const text of bytes.subarray(0, end).toString('utf8').split('\n')) {
    const t = text.trim();
    if (t === '') continue;
    let v: unknown;
    try {
      v = JSON.parse(t);
    } catch {
      bad.push(t.slice(0, 200));
      continue;
    }
    if (!v || typeof v !== 'object' || Array.isArray(v)) {
      bad.push(t.slice(0, 200));
      continue;
    }
    const step = (v as Record<string, unknown>).step;
    lines.push({ step: typeof step === 'number' && Number.isInteger(step) ? step : null, data: t });
  }
  return { lines, consumed: end + 1, bad };
}

/** A stored metrics line as a row of numbers (other values are left out; null stays null: the
 * trainer writes values that are not finite as null). */
export function metricRow(data: string): TrainingMetricRow {
  const out: TrainingMetricRow = {};
  const v = JSON.parse(data) as Record<string, unknown>;
  for (const [k, x] of Object.entries(v)) {
    if (typeof x === 'number' && Number.isFinite(x)) out[k] = x;
    else if (x === null) out[k] = null;
  }
  return out;
}

// ---- heldout_tokens.jsonl -----------------------------------------------------------------------

interface RunLine {
  type: 'run';
  beta: number;
  policy_model: string;
  reference_model: string;
  step: number;
  family: string;
  training_sentence: boolean;
  add_special_tokens: boolean;
  export_sha256: string;
}

interface SideLine {
  type: 'side';
  pair_id: number;
  pair_key: string;
  side: 'chosen' | 'rejected';
  format: TrainFormat;
  text_sha256: string;
  prompt_tokens: number;
  token_ids: number[];
  char_ranges: [number, number][];
  in_loss: number[];
  logp_policy: number[];
  logp_ref: number[];
}

export interface HeldoutImport {
  scoreRunId: number;
  sides: number;
  skipped: { pairId: number; side: string; reason: string }[];
}

function fail(file: string, line: number, message: string): never {
  throw new Error(`${file} line ${line}: ${message}`);
}

function numbers(file: string, n: number, field: string, v: unknown, length?: number): number[] {
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'number')) fail(file, n, `${field} is not a list of numbers`);
  if (length !== undefined && v.length !== length) fail(file, n, `${field} has ${v.length} entries, token_ids ${length}`);
  return v as number[];
}

/** Reads heldout_tokens.jsonl; errors name the file, line and field. */
export function readHeldout(file: string): { run: RunLine; sides: { line: number; side: SideLine }[] } {
  const text = readFileSync(file, 'utf8');
  let run: RunLine | undefined;
  const sides: { line: number; side: SideLine }[] = [];
  text.split('\n').forEach((raw, i) => {
    const n = i + 1;
    if (raw.trim() === '') return;
    let v: Record<string, unknown>;
    try {
      v = JSON.parse(raw) as Record<string, unknown>;
    } catch (e) {
      fail(file, n, `not JSON (${(e as Error).message})`);
    }
    if (v.type === 'run') {
      for (const k of ['beta', 'step'] as const) if (typeof v[k] !== 'number') fail(file, n, `${k} is not a number`);
      for (const k of ['policy_model', 'reference_model', 'family', 'export_sha256'] as const) if (typeof v[k] !== 'string') fail(file, n, `${k} is not a string`);
      run = v as unknown as RunLine;
    } else if (v.type === 'side') {
      if (!Number.isInteger(v.pair_id)) fail(file, n, 'pair_id is not an integer');
      if (v.side !== 'chosen' && v.side !== 'rejected') fail(file, n, `side is ${JSON.stringify(v.side)}`);
      if (v.format !== 'fim' && v.format !== 'chat') fail(file, n, `format is ${JSON.stringify(v.format)}`);
      if (typeof v.text_sha256 !== 'string' || typeof v.pair_key !== 'string') fail(file, n, 'text_sha256 or pair_key missing');
      const ids = numbers(file, n, 'token_ids', v.token_ids);
      numbers(file, n, 'in_loss', v.in_loss, ids.length);
      numbers(file, n, 'logp_policy', v.logp_policy, ids.length);
      numbers(file, n, 'logp_ref', v.logp_ref, ids.length);
      if (!Array.isArray(v.char_ranges) || v.char_ranges.length !== ids.length || !v.char_ranges.every((r) => Array.isArray(r) && r.length === 2)) fail(file, n, 'char_ranges is not one [start, end] per token');
      sides.push({ line: n, side: v as unknown as SideLine });
    }
  });
  if (!run) throw new Error(`${file}: no "run" line`);
  return { run, sides };
}

/**
 * Imports a run's held-out per-token log-probs as a new scoring run of the trained policy against
 * its reference: one side row per held-out side whose pair is still the one that was exported (its
 * pair_key and rendered text unchanged; a pair edited since is skipped, with why), margins by the
 * scoring stage's rule. All in one transaction with `onImported` (which records the scoring run on
 * the training run), so an import is whole or absent.
 */
export function importHeldout(
  p: Project,
  file: string,
  about: { trainingRunId: number; runName: string; host: string; runDir: string; exportSha256: string | null },
  onImported: (scoreRunId: number) => void,
  now: string,
): HeldoutImport {
  const { run, sides } = readHeldout(file);
  if (about.exportSha256 && run.export_sha256 !== about.exportSha256) {
    throw new Error(`${file}: the run trained on an export with sha256 ${run.export_sha256.slice(0, 12)}…, not the one sent (${about.exportSha256.slice(0, 12)}…)`);
  }
  const family = (FIM_FAMILIES as readonly string[]).includes(run.family) ? (run.family as FimFamily) : undefined;
  if (!family) throw new Error(`${file}: family '${run.family}' is not one PairForge renders`);
  const pairIds = [...new Set(sides.map((s) => s.side.pair_id))];
  const questions = problemInfo(p, [...new Set(pairIds.map((id) => getPair(p, id)?.problemId).filter((x): x is number => x !== undefined))]);
  const where = `ssh://${about.host}${about.runDir}`;
  return p.db.transaction((): HeldoutImport => {
    const formats = new Set(sides.map((s) => s.side.format));
    const scoreRunId = createRun(
      p,
      {
        specKey: `training-run:${about.trainingRunId}`,
        policy: [{ url: `${where}/${run.policy_model}`, model: `${about.runName} (step ${run.step})` }],
        reference: [{ url: where, model: run.reference_model }],
        beta: run.beta,
        topK: 0,
        // The rendering of each side is its own (a record is FIM or chat); the run says FIM when any is.
        format: formats.has('fim') ? 'fim' : 'chat',
        family,
        trainingSentence: run.training_sentence === true,
        addSpecialTokens: run.add_special_tokens !== false,
        selection: pairIds,
        tokenizer: { source: 'trainer', file: 'heldout_tokens.jsonl' },
      },
      now,
    );
    const present = pairIds.filter((id) => getPair(p, id) !== undefined);
    addRunPairs(p, scoreRunId, present);
    const writer = sideWriter(p, scoreRunId, run.beta, 0);
    const rows: SideRow[] = [];
    const skipped: HeldoutImport['skipped'] = [];
    for (const { side: s } of sides) {
      const pair = getPair(p, s.pair_id);
      const skip = (reason: string) => {
        skipped.push({ pairId: s.pair_id, side: s.side, reason });
        if (pair) writer.skip(s.pair_id, s.side, reason, now);
      };
      if (!pair) {
        skip('the pair is no longer in the project');
        continue;
      }
      if (pair.pairKey !== s.pair_key) {
        skip(`the pair was rebuilt from other candidates since the export (pair_key ${s.pair_key})`);
        continue;
      }
      const rendered = renderForTraining({ ...pair, question: questions.get(pair.problemId)?.question ?? '' }, s.format, { family, trainingSentence: run.training_sentence === true });
      if (textSha(rendered.prompt, s.side === 'chosen' ? rendered.chosen : rendered.rejected) !== s.text_sha256) {
        skip('the pair was edited since the export: its text is not what the run scored');
        continue;
      }
      const logpPolicy = Float32Array.from(s.logp_policy);
      const logpRef = Float32Array.from(s.logp_ref);
      const mask = Uint8Array.from(s.in_loss.map((x) => (x ? 1 : 0)));
      const sums = sideSums(logpPolicy, logpRef, mask, run.beta);
      rows.push({
        pairId: s.pair_id,
        side: s.side,
        format: s.format,
        textSha256: s.text_sha256,
        promptTokens: s.prompt_tokens,
        spelling: 'tokenizer offsets',
        tokenIds: s.token_ids,
        charRanges: s.char_ranges.flat(),
        lossMask: mask,
        logpPolicy,
        logpRef,
        topPolicy: null,
        topRef: null,
        maskedTokens: sums.maskedTokens,
        maskedLogpPolicy: sums.maskedLogpPolicy,
        maskedLogpRef: sums.maskedLogpRef,
        rewardSum: sums.rewardSum,
        maskedRewardSum: sums.maskedRewardSum,
        attempts: 1,
        createdAt: now,
      });
    }
    const stored = writer.write(rows, new Map());
    finishRun(p, scoreRunId, 'done', skipped.length ? `${skipped.length} side(s) skipped: ${skipped[0].reason}` : null, now);
    onImported(scoreRunId);
    return { scoreRunId, sides: stored, skipped };
  }).immediate();
}
