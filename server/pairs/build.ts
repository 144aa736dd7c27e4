// `pairforge pairs`: reads verdicts from the store, pairs them (structurecoder or iterpref), runs
// the filters and writes the pairs idempotently.
//
// Verdicts: attempt 0 of the chosen comparator; candidates listed in flaky_candidates are left
// out (their re-runs disagreed). Work goes in chunks of targets / histories, each written in one
// transaction, so a kill loses at most the chunk in hand and a re-run redoes it without
// duplicating anything (pair_key is unique).

import { createHash } from 'node:crypto';
import type { PythonGrammar } from '../blocks/parser';
import { codeSha256, firstVerdicts, flakyAmong, hasVerdicts } from '../exec/store';
import { historyIds, historyVersionsBetween, problemsById, testCount } from '../import/queries';
import { sampledTargetIds, samplesOfTargetsBetween } from '../sampling/queries';
import { targetsBetween, targetsUnderPreset } from '../targets/queries';
import type { Project } from '../store/db';
import { identicalAst } from './ast';
import { criticalLineFlags, DEFAULT_FILTER_LIMITS, duplicateKey, tokenFlags, type FilterLimits } from './filters';
import { pairHistory, type HistoryVersion, type LineMode, type RejectedPick } from './iterpref';
import { wholeSpan } from './lcs';
import { isWholeProgram, renderPair } from './render';
import { markStale, refreshDuplicates, upsertPairs, type PairDraft, type WriteCounts } from './store';
import { pairStructureCoder, type ScCandidate, type StructureCoderSelection } from './structurecoder';
import { estimatingCounter, limitConcurrency, type TokenCounter } from './tokens';
import { DEFAULT_REJECT, type TokenCounts } from './types';
import type { TargetRecord } from '../store/rows';
import type { Comparator, Verdict, FimFamily, PairFlag, PairKind, PairMode } from '../protocol';

export interface BuildOptions {
  mode: PairMode;
  /** Default: strict when the project has strict verdicts, else apps. */
  comparator?: Comparator;
  /** structurecoder */
  selection?: StructureCoderSelection;
  reject?: readonly Verdict[];
  goldenFallback?: boolean;
  /** Only targets of this preset key (default: all). */
  preset?: string;
  /** iterpref */
  pick?: RejectedPick;
  seed?: number;
  /** Critical lines by exact LCS (default) or as Python's difflib.ndiff marks them. */
  lines?: LineMode;
  /** filters */
  limits?: Partial<FilterLimits>;
  tokens?: TokenCounter;
  /** The prompt family the too_long filter renders FIM prompts with. */
  family?: FimFamily;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

export interface BuildSummary extends WriteCounts {
  mode: PairMode;
  comparator: Comparator;
  /** Targets (structurecoder) or histories (iterpref) looked at. */
  sources: number;
  /** ... of which produced at least one pair. */
  paired: number;
  pairs: number;
  /** Why sources gave no pair. */
  skipped: Record<string, number>;
  /** Candidates without a verdict yet (not executed) and flaky ones, left out. */
  unexecuted: number;
  flaky: number;
  stale: number;
  duplicates: number;
  flags: Partial<Record<PairFlag, number>>;
  /** How this run's counter counted (method) and how the pairs' token counts came about: counted
   * with the endpoint's tokenizer, estimated, or kept from an earlier run's tokenizer count when
   * this run could only estimate (the best count a pair has is kept; see keepBestCounts). */
  tokens: { method: 'tokenize' | 'estimate'; fallbackReason?: string; counted: { tokenize: number; estimate: number; kept: number } };
  /** The filter limits of this run (maxTokens for too_long, maxCriticalLines). */
  limits: FilterLimits;
  cancelled: boolean;
}

const CHUNK = 200;

function sha(s: string): string {
  return createHash('sha256').update(s).digest('hex').slice(0, 16);
}

export function lineCount(s: string): number {
  return s.split('\n').length;
}

/** strict unless the project only has apps verdicts. */
export function defaultComparator(p: Project): Comparator {
  return hasVerdicts(p, 'strict') || !hasVerdicts(p, 'apps') ? 'strict' : 'apps';
}

async function countTokens(counter: TokenCounter, family: FimFamily, d: { question: string; pre: string; suf: string; chosen: string; rejected: string }): Promise<TokenCounts> {
  // A FIM pair is counted in FIM format (its prompt holds both pre and suf, so it is the longer of
  // the two formats); a whole program in chat format, as it is always trained.
  const r = renderPair({ ...d, chosenSpans: [], rejectedSpans: [] }, isWholeProgram(d.pre, d.suf) ? 'chat' : 'fim', family);
  const [c, rj] = await Promise.all([counter.count(r.prompt + r.chosen), counter.count(r.prompt + r.rejected)]);
  return { chosen: c, rejected: rj, method: counter.method, family };
}

/** Token counts in flight at once per run. */
const TOKEN_REQUESTS = 16;

/** The counts a pair keeps: a tokenizer's count is better than an estimate, so when this run can
 * only estimate (no endpoint, or it stopped answering) a pair keeps the tokenizer count stored by
 * an earlier run for the same prompt family; a new tokenizer count replaces an older one. */
export function keepBestCounts(now: TokenCounts, stored: TokenCounts | undefined, family: FimFamily): { tokens: TokenCounts; kept: boolean } {
  if (now.method === 'estimate' && stored?.method === 'tokenize' && (stored.family ?? 'qwen2.5-coder') === family) return { tokens: stored, kept: true };
  return { tokens: now, kept: false };
}

/** Puts each draft's token counts (drafts[i] <- counts[i], or the better stored ones) into its
 * provenance and flags, and counts how they came about. */
async function settleTokens(p: Project, summary: BuildSummary, drafts: PairDraft[], counts: Promise<TokenCounts>[], limits: FilterLimits, family: FimFamily): Promise<void> {
  const settled = await Promise.all(counts);
  const storedOf = p.db.prepare<[string], { provenance: string }>('SELECT provenance FROM pairs WHERE pair_key = ?');
  settled.forEach((counted, i) => {
    const row = counted.method === 'estimate' ? storedOf.get(drafts[i].pairKey) : undefined;
    const stored = row ? ((JSON.parse(row.provenance) as { tokens?: TokenCounts }).tokens ?? undefined) : undefined;
    const { tokens, kept } = keepBestCounts(counted, stored, family);
    if (kept) summary.tokens.counted.kept++;
    else summary.tokens.counted[tokens.method]++;
    drafts[i].provenance.tokens = tokens;
    drafts[i].flags.push(...tokenFlags(tokens, limits));
  });
}

/** Stores one chunk's pairs (once their token counts are in), counts them, and flags as stale
 * the pairs of the chunk's targets / histories that this run no longer produces. */
async function writeChunk(
  p: Project,
  summary: BuildSummary,
  chunk: { drafts: PairDraft[]; pendingTokens: Promise<TokenCounts>[]; produced: ReadonlySet<string>; limits: FilterLimits; family: FimFamily; scope: { column: 'target_id' | 'history_id'; ids: number[] } },
): Promise<void> {
  await settleTokens(p, summary, chunk.drafts, chunk.pendingTokens, chunk.limits, chunk.family);
  const w = upsertPairs(p, chunk.drafts);
  summary.inserted += w.inserted;
  summary.updated += w.updated;
  summary.unchanged += w.unchanged;
  summary.pairs += chunk.drafts.length;
  for (const d of chunk.drafts) for (const f of d.flags) summary.flags[f] = (summary.flags[f] ?? 0) + 1;
  summary.stale += markStale(p, summary.mode, chunk.scope, chunk.produced);
}

type TargetRow = Pick<TargetRecord, 'id' | 'preset' | 'kind' | 'depth' | 'start_line' | 'end_line' | 'pre' | 'mid' | 'suf' | 'solution_id' | 'version_id'> & {
  problem_id: number;
  question: string;
  golden_verdict: Verdict | null;
};

interface SampleRow {
  sample_id: number;
  target_id: number;
  middle: string;
  endpoint: string;
  model: string;
  job_id: number;
  execution_id: number | null;
  verdict: Verdict | null;
  code_sha256: string | null;
  flaky: boolean;
}

async function buildStructureCoder(p: Project, grammar: PythonGrammar, opts: BuildOptions, comparator: Comparator, summary: BuildSummary): Promise<void> {
  const selection = opts.selection ?? 'one-per-target';
  const reject = opts.reject ?? DEFAULT_REJECT;
  const limits = { ...DEFAULT_FILTER_LIMITS, ...opts.limits };
  const counter = limitConcurrency(opts.tokens ?? estimatingCounter(), TOKEN_REQUESTS);
  const family = opts.family ?? 'qwen2.5-coder';
  const sampled = sampledTargetIds(p);
  const targetIds = opts.preset === undefined ? sampled : targetsUnderPreset(p, sampled, opts.preset);
  summary.sources = targetIds.length;
  // A chunk's targets with their problem's question and their reference's verdict (the golden one).
  const targetsOf = (lo: number, hi: number): TargetRow[] => {
    const rows = targetsBetween(p, lo, hi);
    const problems = problemsById(p, rows.map((t) => t.problem_id));
    const golden = {
      solution: firstVerdicts(p, 'solution', rows.flatMap((t) => (t.solution_id !== null ? [t.solution_id] : [])), comparator),
      version: firstVerdicts(p, 'version', rows.flatMap((t) => (t.solution_id === null && t.version_id !== null ? [t.version_id] : [])), comparator),
    };
    return rows.flatMap((t) => {
      const problem = problems.get(t.problem_id);
      if (!problem) return [];
      const ref = t.solution_id !== null ? golden.solution.get(t.solution_id) : t.version_id !== null ? golden.version.get(t.version_id) : undefined;
      return [{ ...t, question: problem.question, golden_verdict: ref?.verdict ?? null }];
    });
  };
  // A chunk's samples in draw order, with their first verdict under the comparator.
  const samplesOf = (lo: number, hi: number): SampleRow[] => {
    const rows = samplesOfTargetsBetween(p, lo, hi);
    const ids = rows.map((s) => s.id);
    const verdicts = firstVerdicts(p, 'sample', ids, comparator);
    const flaky = flakyAmong(p, 'sample', ids, comparator);
    return rows.map((s) => {
      const v = verdicts.get(s.id);
      return {
        sample_id: s.id,
        target_id: s.targetId,
        middle: s.middle,
        endpoint: s.endpoint,
        model: s.model,
        job_id: s.jobId,
        execution_id: v?.executionId ?? null,
        verdict: v?.verdict ?? null,
        code_sha256: v?.codeSha256 ?? null,
        flaky: flaky.has(s.id),
      };
    });
  };
  for (let i = 0; i < targetIds.length; i += CHUNK) {
    if (opts.signal?.aborted) {
      summary.cancelled = true;
      break;
    }
    const ids = targetIds.slice(i, i + CHUNK);
    const lo = ids[0];
    const hi = ids[ids.length - 1];
    const targets = new Map(targetsOf(lo, hi).map((t) => [t.id, t]));
    const byTarget = new Map<number, SampleRow[]>();
    const inChunk = new Set(ids);
    for (const s of samplesOf(lo, hi)) {
      if (!inChunk.has(s.target_id)) continue; // another preset's target inside the id range
      const t = targets.get(s.target_id);
      // A verdict for other code than pre + middle + suf is stale (server/exec/store.ts replaces it): unexecuted.
      if (s.verdict === null || !t || s.code_sha256 !== codeSha256(t.pre + s.middle + t.suf)) summary.unexecuted++;
      else if (s.flaky) summary.flaky++;
      else {
        let list = byTarget.get(s.target_id);
        if (!list) byTarget.set(s.target_id, (list = []));
        list.push(s);
      }
    }
    const drafts: PairDraft[] = [];
    const pendingTokens: Promise<TokenCounts>[] = [];
    const produced = new Set<string>();
    for (const tid of ids) {
      const t = targets.get(tid);
      if (!t) continue;
      const rows = byTarget.get(tid) ?? [];
      // StructureCoder only cuts references that pass their tests: a target of a reference that
      // fails them would pair middles against tests the reference itself does not meet.
      if (t.golden_verdict !== null && t.golden_verdict !== 'pass') {
        summary.skipped.reference_fails = (summary.skipped.reference_fails ?? 0) + 1;
        continue;
      }
      const cands: ScCandidate[] = rows.map((r) => ({ sampleId: r.sample_id, executionId: r.execution_id!, middle: r.middle, verdict: r.verdict! }));
      const goldenOk = opts.goldenFallback === true && t.golden_verdict === 'pass';
      const res = pairStructureCoder(cands, { selection, reject, ...(goldenOk ? { golden: t.mid } : {}) });
      if (res.pairs.length === 0) {
        // Every sample failing to compile is said as such (tab-indented code under the published
        // preset comes out this way): "no sample that may be rejected" would hide why.
        const why =
          rows.length === 0
            ? 'no_executed_samples'
            : rows.every((r) => r.verdict === 'compile_error') && res.rejectable === 0
              ? 'all_compile_error'
              : res.rejectable === 0
                ? 'no_rejectable_sample'
                : 'no_passing_sample';
        summary.skipped[why] = (summary.skipped[why] ?? 0) + 1;
        continue;
      }
      summary.paired++;
      const kind: PairKind = isWholeProgram(t.pre, t.suf) ? 'full' : 'fim';
      const bySample = new Map(rows.map((r) => [r.sample_id, r]));
      for (const pr of res.pairs) {
        const pairKey = `sc:${t.id}:${sha(pr.rejected.text)}:${pr.golden ? 'golden' : sha(pr.chosen.text)}`;
        produced.add(pairKey);
        const chosen = pr.chosen.text;
        const rejected = pr.rejected.text;
        const flags: PairFlag[] = [];
        if (identicalAst(grammar, t.pre + chosen + t.suf, t.pre + rejected + t.suf)) flags.push('identical_ast');
        // Counted concurrently (the endpoint's /tokenize), awaited once the chunk is paired.
        const tokens = countTokens(counter, family, { question: t.question, pre: t.pre, suf: t.suf, chosen, rejected });
        const used = [...pr.chosen.sampleIds, ...pr.rejected.sampleIds].map((id) => bySample.get(id)!);
        drafts.push({
          pairKey,
          mode: 'structurecoder',
          kind,
          problemId: t.problem_id,
          targetId: t.id,
          historyId: null,
          pre: t.pre,
          suf: t.suf,
          blockKind: t.kind,
          depth: t.depth,
          goldenLines: lineCount(t.mid),
          chosen,
          rejected,
          chosenSpans: wholeSpan(chosen),
          rejectedSpans: wholeSpan(rejected),
          provenance: {
            pairing: { mode: 'structurecoder', selection, reject: [...reject], goldenFallback: opts.goldenFallback === true, comparator },
            target: { id: t.id, preset: t.preset, kind: t.kind, depth: t.depth, startLine: t.start_line, endLine: t.end_line, solutionId: t.solution_id, versionId: t.version_id },
            chosen: pr.golden
              ? { golden: true, solutionId: t.solution_id, versionId: t.version_id, verdict: 'pass' }
              : { samples: pr.chosen.sampleIds, executions: pr.chosen.executionIds, verdicts: ['pass'] },
            rejected: {
              samples: pr.rejected.sampleIds,
              executions: pr.rejected.executionIds,
              verdicts: [...new Set(pr.rejected.sampleIds.map((id) => bySample.get(id)!.verdict))],
            },
            endpoints: [...new Set(used.map((u) => u.endpoint))].sort(),
            models: [...new Set(used.map((u) => u.model))].sort(),
            jobs: [...new Set(used.map((u) => u.job_id))].sort((a, b) => a - b),
            candidates: { passing: res.passing, rejectable: res.rejectable, excluded: res.excluded },
            tokens: undefined as TokenCounts | undefined,
            limits,
          },
          editDistance: pr.distance,
          flags,
          dupKey: duplicateKey({ kind, question: t.question, pre: t.pre, suf: t.suf, chosen, rejected }),
        });
        pendingTokens.push(tokens);
      }
    }
    await writeChunk(p, summary, { drafts, pendingTokens, produced, limits, family, scope: { column: 'target_id', ids } });
    opts.onProgress?.(Math.min(i + CHUNK, targetIds.length), targetIds.length);
  }
}

interface VersionRow {
  version_id: number;
  history_id: number;
  ordinal: number;
  code: string;
  execution_id: number | null;
  verdict: Verdict | null;
  code_sha256: string | null;
  flaky: boolean;
  problem_id: number;
  question: string;
  history_ordinal: number;
}

async function buildIterPref(p: Project, grammar: PythonGrammar, opts: BuildOptions, comparator: Comparator, summary: BuildSummary): Promise<void> {
  const pick = opts.pick ?? 'one';
  const seed = opts.seed ?? 42;
  const lines = opts.lines ?? 'lcs';
  const limits = { ...DEFAULT_FILTER_LIMITS, ...opts.limits };
  const counter = limitConcurrency(opts.tokens ?? estimatingCounter(), TOKEN_REQUESTS);
  const family = opts.family ?? 'qwen2.5-coder';
  const histories = historyIds(p);
  summary.sources = histories.length;
  // A chunk's versions with their problem's question and their first verdict under the comparator.
  const versionsOf = (lo: number, hi: number): VersionRow[] => {
    const rows = historyVersionsBetween(p, lo, hi);
    const ids = rows.map((v) => v.versionId);
    const problems = problemsById(p, rows.map((v) => v.problemId));
    const verdicts = firstVerdicts(p, 'version', ids, comparator);
    const flaky = flakyAmong(p, 'version', ids, comparator);
    return rows.flatMap((v) => {
      const problem = problems.get(v.problemId);
      if (!problem) return [];
      const e = verdicts.get(v.versionId);
      return [
        {
          version_id: v.versionId,
          history_id: v.historyId,
          ordinal: v.ordinal,
          code: v.code,
          execution_id: e?.executionId ?? null,
          verdict: e?.verdict ?? null,
          code_sha256: e?.codeSha256 ?? null,
          flaky: flaky.has(v.versionId),
          problem_id: v.problemId,
          question: problem.question,
          history_ordinal: v.historyOrdinal,
        },
      ];
    });
  };
  for (let i = 0; i < histories.length; i += CHUNK) {
    if (opts.signal?.aborted) {
      summary.cancelled = true;
      break;
    }
    const ids = histories.slice(i, i + CHUNK);
    const byHistory = new Map<number, VersionRow[]>();
    for (const v of versionsOf(ids[0], ids[ids.length - 1])) {
      if (v.verdict !== null && v.code_sha256 !== codeSha256(v.code)) v.verdict = null; // stale verdict
      if (v.verdict === null) summary.unexecuted++;
      else if (v.flaky) summary.flaky++;
      let list = byHistory.get(v.history_id);
      if (!list) byHistory.set(v.history_id, (list = []));
      list.push(v);
    }
    const drafts: PairDraft[] = [];
    const pendingTokens: Promise<TokenCounts>[] = [];
    const produced = new Set<string>();
    for (const hid of ids) {
      const rows = byHistory.get(hid) ?? [];
      if (rows.length === 0) continue;
      const versions: HistoryVersion[] = rows.map((r) => ({
        versionId: r.version_id,
        ordinal: r.ordinal,
        code: r.code,
        executionId: r.execution_id,
        verdict: r.flaky ? null : r.verdict,
      }));
      const res = pairHistory(hid, versions, { pick, seed, lines });
      if (res.skipped) {
        const unrun = versions.every((v) => v.verdict === null);
        const why = unrun ? (testCount(p, rows[0].problem_id) === 0 ? 'no_tests' : 'not_executed') : res.skipped;
        summary.skipped[why] = (summary.skipped[why] ?? 0) + 1;
        continue;
      }
      summary.paired++;
      const { problem_id, question, history_ordinal } = rows[0];
      for (const pr of res.pairs) {
        const pairKey = `ip:${hid}:${pr.rejected.versionId}:${pr.chosen.versionId}`;
        produced.add(pairKey);
        const chosen = pr.chosen.code;
        const rejected = pr.rejected.code;
        const flags: PairFlag[] = [];
        if (identicalAst(grammar, chosen, rejected)) flags.push('identical_ast');
        flags.push(...criticalLineFlags(pr.diff.rejectedLines, pr.diff.rejectedCritical, limits));
        const tokens = countTokens(counter, family, { question, pre: '', suf: '', chosen, rejected });
        drafts.push({
          pairKey,
          mode: 'iterpref',
          kind: 'iterpref',
          problemId: problem_id,
          targetId: null,
          historyId: hid,
          pre: '',
          suf: '',
          blockKind: null,
          depth: null,
          goldenLines: lineCount(chosen),
          chosen,
          rejected,
          chosenSpans: pr.chosenSpans,
          rejectedSpans: pr.rejectedSpans,
          provenance: {
            pairing: { mode: 'iterpref', pick, seed, comparator, lines },
            history: { id: hid, ordinal: history_ordinal, versions: rows.length },
            chosen: { versionId: pr.chosen.versionId, ordinal: pr.chosen.ordinal, execution: pr.chosen.executionId, verdict: pr.chosen.verdict },
            rejected: { versionId: pr.rejected.versionId, ordinal: pr.rejected.ordinal, execution: pr.rejected.executionId, verdict: pr.rejected.verdict },
            critical: { chosenLines: pr.diff.chosenCritical, rejectedLines: pr.diff.rejectedCritical, commonLines: pr.diff.common },
            tokens: undefined as TokenCounts | undefined,
            limits,
          },
          editDistance: pr.diff.rejectedCritical.length + pr.diff.chosenCritical.length,
          flags,
          dupKey: duplicateKey({ kind: 'iterpref', question, pre: '', suf: '', chosen, rejected }),
        });
        pendingTokens.push(tokens);
      }
    }
    await writeChunk(p, summary, { drafts, pendingTokens, produced, limits, family, scope: { column: 'history_id', ids } });
    opts.onProgress?.(Math.min(i + CHUNK, histories.length), histories.length);
  }
}

/** Pairs every target (structurecoder) or history (iterpref) the store has verdicts for. */
export async function buildPairs(p: Project, grammar: PythonGrammar, opts: BuildOptions): Promise<BuildSummary> {
  const comparator = opts.comparator ?? defaultComparator(p);
  const summary: BuildSummary = {
    mode: opts.mode,
    comparator,
    sources: 0,
    paired: 0,
    pairs: 0,
    inserted: 0,
    updated: 0,
    unchanged: 0,
    skipped: {},
    unexecuted: 0,
    flaky: 0,
    stale: 0,
    duplicates: 0,
    flags: {},
    tokens: { method: 'estimate', counted: { tokenize: 0, estimate: 0, kept: 0 } },
    limits: { ...DEFAULT_FILTER_LIMITS, ...opts.limits },
    cancelled: false,
  };
  if (opts.mode === 'structurecoder') await buildStructureCoder(p, grammar, opts, comparator, summary);
  else await buildIterPref(p, grammar, opts, comparator, summary);
  summary.duplicates = refreshDuplicates(p);
  const counter = opts.tokens ?? estimatingCounter();
  summary.tokens = { ...summary.tokens, method: counter.method, ...(counter.fallbackReason ? { fallbackReason: counter.fallbackReason } : {}) };
  return summary;
}
