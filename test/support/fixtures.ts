// Rows for tests: the one place in test/ that knows each table's columns. A test says what matters
// to it ("a sample of this target with this middle, judged wrong_answer") and every other column
// gets a default that satisfies the schema. When a migration changes a table, fix its builder
// here and the tests keep working (test/support/tables.ts lets no other file of test/ INSERT).
//
// Where a stage exports the write it does itself, the builder calls it, so the rows are the ones
// the pipeline makes: verdicts go through writeExecutions (server/exec/store.ts), pairs through
// upsertPairs (server/pairs/store.ts) and a reviewer's status through decide
// (server/pairs/review.ts). Datasets, problems, tests, solutions, histories, targets, sample jobs
// and samples have no such write short of a whole import, cut or sampling run, so they are written
// here with SQL.
//
// Each builder takes the project and a spec whose fields are named after the columns' meaning,
// and returns the new row's id. Parents (the dataset of a problem, the target of a sample) are
// always given, never guessed.
import { createHash } from 'node:crypto';
import type { Statement } from 'better-sqlite3';
import { codeSha256, REFERENCE_SOURCES, writeExecutions, type Candidate, type CandidateSource, type ExecutionRecord } from '../../server/exec/store';
import { SAMPLE_CANDIDATES } from '../../server/sampling/candidates';
import { DEFAULT_EXEC_LIMITS, type SandboxInfo } from '../../server/exec/types';
import { lineCount } from '../../server/pairs/build';
import { iterPrefSpans } from '../../server/pairs/iterpref';
import { wholeSpan } from '../../server/pairs/lcs';
import { decide } from '../../server/pairs/review';
import { upsertPairs, type PairDraft } from '../../server/pairs/store';
import { addRunPairs, createRun, finishRun, sideWriter, type NewRun, type SideRow } from '../../server/scoring/store';
import type { CandidateKind, Comparator, DatasetFormat, EndpointConfig, PairStatus, SamplingFamily, TestResult, Verdict } from '../../server/protocol';
import type { Project } from '../../server/store/db';

/** The time every builder stamps rows with unless told otherwise (tests compare rows across runs). */
export const FIXTURE_TIME = '2026-01-01T00:00:00.000Z';

/** Where fixture samples say they came from: port 9 (discard) answers nothing, so nothing can
 * mistake it for a live server. */
export const FIXTURE_ENDPOINT: Readonly<EndpointConfig> = { url: 'http://127.0.0.1:9/v1', model: 'fixture-model' };

// Prepared once per open database: a test that builds thousands of rows (the kill tests) pays
// for each statement once.
const statements = new WeakMap<Project['db'], Map<string, Statement>>();
function sql(p: Project, text: string): Statement {
  let cache = statements.get(p.db);
  if (!cache) statements.set(p.db, (cache = new Map()));
  let s = cache.get(text);
  if (!s) cache.set(text, (s = p.db.prepare(text)));
  return s;
}

const insert = (p: Project, text: string, row: Record<string, unknown>): number => Number(sql(p, text).run(row).lastInsertRowid);

/** The number `text` computes for a new row (a free ordinal, the next id), as `n`. */
const nextFree = (p: Project, text: string, ...params: unknown[]): number => (sql(p, text).get(...params) as { n: number }).n;

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

// ---- import: datasets, problems, solutions, histories -------------------------------------

export interface DatasetSpec {
  /** Unique in a project; default `dataset-N`, N the dataset's id-to-be. */
  name?: string;
  /** Default `<name>.jsonl`. */
  sourceFile?: string;
  format?: DatasetFormat;
  importedAt?: string;
}

export function addDataset(p: Project, s: DatasetSpec = {}): number {
  const name = s.name ?? `dataset-${nextFree(p, 'SELECT COALESCE(MAX(id), 0) + 1 AS n FROM datasets')}`;
  return insert(p, 'INSERT INTO datasets (name, source_file, format, imported_at) VALUES (@name, @sourceFile, @format, @importedAt)', {
    name,
    sourceFile: s.sourceFile ?? `${name}.jsonl`,
    format: s.format ?? 'apps',
    importedAt: s.importedAt ?? FIXTURE_TIME,
  });
}

export interface ProblemSpec {
  datasetId: number;
  /** The dataset's own id for the problem; default `pN`, N the problem's id-to-be. */
  externalId?: string;
  question?: string;
  starterCode?: string | null;
  difficulty?: string | null;
  url?: string | null;
  entryPoint?: string | null;
  /** Default: sha256 of the external id and question (a distinct record). */
  contentHash?: string;
  /** The record as read from the file. */
  raw?: string;
}

export function addProblem(p: Project, s: ProblemSpec): number {
  const externalId = s.externalId ?? `p${nextFree(p, 'SELECT COALESCE(MAX(id), 0) + 1 AS n FROM problems')}`;
  const question = s.question ?? `Problem ${externalId}.`;
  return insert(
    p,
    `INSERT INTO problems (dataset_id, external_id, question, starter_code, difficulty, url, entry_point, content_hash, raw)
     VALUES (@datasetId, @externalId, @question, @starterCode, @difficulty, @url, @entryPoint, @contentHash, @raw)`,
    {
      datasetId: s.datasetId,
      externalId,
      question,
      starterCode: s.starterCode ?? null,
      difficulty: s.difficulty ?? null,
      url: s.url ?? null,
      entryPoint: s.entryPoint ?? null,
      contentHash: s.contentHash ?? sha256(`${externalId}\0${question}`),
      raw: s.raw ?? '{}',
    },
  );
}

export interface StdioTestSpec {
  problemId: number;
  /** Standard input and the expected standard output of one test. */
  input: string;
  expected: string;
  /** Default: after the problem's last test. */
  ordinal?: number;
}

/** A stdio test of a problem (as an APPS import stores one); the engine runs a problem's tests in
 * ordinal order. */
export function addStdioTest(p: Project, s: StdioTestSpec): number {
  return insert(p, "INSERT INTO tests (problem_id, ordinal, kind, input, expected) VALUES (@problemId, @ordinal, 'stdio', @input, @expected)", {
    problemId: s.problemId,
    ordinal: s.ordinal ?? nextFree(p, 'SELECT COALESCE(MAX(ordinal) + 1, 0) AS n FROM tests WHERE problem_id = ?', s.problemId),
    input: s.input,
    expected: s.expected,
  });
}

export interface SolutionSpec {
  problemId: number;
  code?: string;
  /** Default: after the problem's last solution. */
  ordinal?: number;
}

export function addSolution(p: Project, s: SolutionSpec): number {
  return insert(p, 'INSERT INTO solutions (problem_id, ordinal, code) VALUES (@problemId, @ordinal, @code)', {
    problemId: s.problemId,
    ordinal: s.ordinal ?? nextFree(p, 'SELECT COALESCE(MAX(ordinal) + 1, 0) AS n FROM solutions WHERE problem_id = ?', s.problemId),
    code: s.code ?? 'print(0)\n',
  });
}

export interface HistorySpec {
  problemId: number;
  /** The programs of the iteration history, oldest first. */
  versions?: readonly string[];
  /** Default: after the problem's last history. */
  ordinal?: number;
  /** Default: distinct per history of the problem. */
  contentHash?: string;
  raw?: string;
}

/** A history and its versions; returns both ids, the versions' in the order given. */
export function addHistory(p: Project, s: HistorySpec): { id: number; versionIds: number[] } {
  const ordinal = s.ordinal ?? nextFree(p, 'SELECT COALESCE(MAX(ordinal) + 1, 0) AS n FROM histories WHERE problem_id = ?', s.problemId);
  const versions = s.versions ?? [];
  const id = insert(p, 'INSERT INTO histories (problem_id, ordinal, content_hash, raw) VALUES (@problemId, @ordinal, @contentHash, @raw)', {
    problemId: s.problemId,
    ordinal,
    contentHash: s.contentHash ?? sha256(`${ordinal}\0${versions.join('\0')}`),
    raw: s.raw ?? '{}',
  });
  const versionIds = versions.map((code, i) => insert(p, 'INSERT INTO history_versions (history_id, ordinal, code) VALUES (@id, @i, @code)', { id, i, code }));
  return { id, versionIds };
}

// ---- targets ------------------------------------------------------------------------------

/** A target belongs to a solution or to a history version (exactly one). */
export type TargetSpec = ({ solutionId: number; versionId?: undefined } | { versionId: number; solutionId?: undefined }) & {
  preset?: string;
  /** Default: after the owner's last target under the preset. */
  ordinal?: number;
  kind?: string;
  depth?: number;
  pre?: string;
  mid?: string;
  suf?: string;
  /** Default: where the middle stands in pre + mid + suf (0-based, end inclusive, as cutting
   * stores them). */
  startLine?: number;
  endLine?: number;
};

export function addTarget(p: Project, s: TargetSpec): number {
  const pre = s.pre ?? '';
  const mid = s.mid ?? 'for x in xs:\n    pass';
  const preset = s.preset ?? 'structurecoder';
  // The structurecoder cut gives a block on line 0 the prefix "\n" (docs/datasets.md "Presets").
  const startLine = s.startLine ?? (preset === 'structurecoder' && pre === '\n' ? 0 : pre.split('\n').length - 1);
  const ordinal =
    s.ordinal ??
    (s.solutionId !== undefined
      ? nextFree(p, 'SELECT COALESCE(MAX(ordinal) + 1, 0) AS n FROM targets WHERE solution_id = ? AND preset = ?', s.solutionId, preset)
      : nextFree(p, 'SELECT COALESCE(MAX(ordinal) + 1, 0) AS n FROM targets WHERE version_id = ? AND preset = ?', s.versionId, preset));
  return insert(
    p,
    `INSERT INTO targets (solution_id, version_id, preset, ordinal, kind, depth, start_line, end_line, pre, mid, suf)
     VALUES (@solutionId, @versionId, @preset, @ordinal, @kind, @depth, @startLine, @endLine, @pre, @mid, @suf)`,
    {
      solutionId: s.solutionId ?? null,
      versionId: s.versionId ?? null,
      preset,
      ordinal,
      kind: s.kind ?? 'for',
      depth: s.depth ?? 1,
      startLine,
      endLine: s.endLine ?? startLine + lineCount(mid.replace(/\n$/, '')) - 1,
      pre,
      mid,
      suf: s.suf ?? '',
    },
  );
}

// ---- sampling -----------------------------------------------------------------------------

export interface SampleJobSpec {
  preset?: string;
  /** Stored as JSON. */
  selection?: Record<string, unknown>;
  family?: SamplingFamily;
  /** The sampling values, stored as JSON. */
  params?: Record<string, unknown>;
  endpoints?: readonly EndpointConfig[];
  status?: 'running' | 'done' | 'stopped' | 'failed';
  message?: string | null;
  createdAt?: string;
  finishedAt?: string | null;
  specKey?: string | null;
  seed?: number | null;
}

/** A finished job by default. */
export function addSampleJob(p: Project, s: SampleJobSpec = {}): number {
  return insert(
    p,
    `INSERT INTO sample_jobs (preset, selection, family, params, endpoints, status, message, created_at, finished_at, spec_key, seed)
     VALUES (@preset, @selection, @family, @params, @endpoints, @status, @message, @createdAt, @finishedAt, @specKey, @seed)`,
    {
      preset: s.preset ?? 'structurecoder',
      selection: JSON.stringify(s.selection ?? {}),
      family: s.family ?? 'qwen2.5-coder',
      params: JSON.stringify(s.params ?? {}),
      endpoints: JSON.stringify(s.endpoints ?? [FIXTURE_ENDPOINT]),
      status: s.status ?? 'done',
      message: s.message ?? null,
      createdAt: s.createdAt ?? FIXTURE_TIME,
      finishedAt: s.finishedAt ?? null,
      specKey: s.specKey ?? null,
      seed: s.seed ?? null,
    },
  );
}

export interface SampleSpec {
  jobId: number;
  targetId: number;
  /** The post-processed middle: the candidate program is the target's pre + middle + suf. */
  middle: string;
  /** The model's text as returned; default the middle. */
  raw?: string;
  /** Default: after the job's last sample of the target. */
  sampleIndex?: number;
  finishReason?: string | null;
  stopReason?: string | null;
  /** Default FIXTURE_ENDPOINT's. */
  endpoint?: string;
  model?: string;
  /** Stored as JSON. */
  params?: Record<string, unknown>;
  seed?: number | null;
  promptTokens?: number | null;
  completionTokens?: number | null;
  latencyMs?: number;
  /** Requests it took. */
  attempts?: number;
  createdAt?: string;
}

export function addSample(p: Project, s: SampleSpec): number {
  return insert(
    p,
    `INSERT INTO samples (job_id, target_id, sample_index, raw, middle, finish_reason, endpoint, model, params, seed, prompt_tokens,
                          completion_tokens, latency_ms, created_at, stop_reason, attempts)
     VALUES (@jobId, @targetId, @sampleIndex, @raw, @middle, @finishReason, @endpoint, @model, @params, @seed, @promptTokens,
             @completionTokens, @latencyMs, @createdAt, @stopReason, @attempts)`,
    {
      jobId: s.jobId,
      targetId: s.targetId,
      sampleIndex: s.sampleIndex ?? nextFree(p, 'SELECT COALESCE(MAX(sample_index) + 1, 0) AS n FROM samples WHERE job_id = ? AND target_id = ?', s.jobId, s.targetId),
      raw: s.raw ?? s.middle,
      middle: s.middle,
      finishReason: s.finishReason ?? 'stop',
      endpoint: s.endpoint ?? FIXTURE_ENDPOINT.url,
      model: s.model ?? FIXTURE_ENDPOINT.model,
      params: JSON.stringify(s.params ?? {}),
      seed: s.seed ?? null,
      promptTokens: s.promptTokens ?? null,
      completionTokens: s.completionTokens ?? null,
      latencyMs: s.latencyMs ?? 1,
      createdAt: s.createdAt ?? FIXTURE_TIME,
      stopReason: s.stopReason ?? null,
      attempts: s.attempts ?? 1,
    },
  );
}

// ---- exec: verdicts -----------------------------------------------------------------------

export interface ExecutionSpec {
  /** The candidate: a solution, a history version or a sample, by id. */
  kind: CandidateKind;
  id: number;
  verdict: Verdict;
  /** 0 is the verdict; 1.. are --confirm re-runs. */
  attempt?: number;
  comparator?: Comparator;
  /** The program judged; default the candidate's program now. Any other text makes the verdict
   * stale (its code_sha256 no longer matches). */
  code?: string;
  /** Tests that ran (a failing verdict is the last one's). */
  testsRun?: number;
  /** Default testsRun. */
  testsTotal?: number;
  executedAt?: string;
}

/** The sandbox a fixture verdict says it ran in. */
const FIXTURE_SANDBOX: SandboxInfo = { isolation: 'bwrap-nobody', limits: { ...DEFAULT_EXEC_LIMITS } };

/** Every kind's candidates, as the command table wires them. */
export const CANDIDATE_SOURCES: Record<CandidateKind, CandidateSource> = { solution: REFERENCE_SOURCES[0], version: REFERENCE_SOURCES[1], sample: SAMPLE_CANDIDATES };

/** A verdict, written as the engine writes one; its problem and program are the candidate's. */
export function addExecution(p: Project, s: ExecutionSpec): number {
  return addExecutions(p, [s])[0];
}

/** Verdicts in one write (one transaction, as a run stores a batch); ids in the order given. */
export function addExecutions(p: Project, specs: readonly ExecutionSpec[]): number[] {
  // Each kind's candidates read at once, over the span of ids asked for.
  const known = new Map<CandidateKind, Map<number, Candidate>>();
  for (const kind of new Set(specs.map((s) => s.kind))) {
    const ids = specs.filter((s) => s.kind === kind).map((s) => s.id);
    const lo = ids.reduce((a, b) => Math.min(a, b));
    const hi = ids.reduce((a, b) => Math.max(a, b));
    known.set(kind, new Map(CANDIDATE_SOURCES[kind].page(p, {}, lo - 1, hi - lo + 1).map((c) => [c.id, c])));
  }
  const records: ExecutionRecord[] = specs.map((s) => {
    const candidate = known.get(s.kind)!.get(s.id);
    if (!candidate) throw new Error(`addExecution: no ${s.kind} ${s.id} in ${p.file}`);
    const testsRun = s.testsRun ?? 1;
    const tests: TestResult[] = Array.from({ length: testsRun }, (_, i) => ({ ordinal: i, verdict: i === testsRun - 1 ? s.verdict : 'pass', durationMs: 1 }));
    return {
      kind: s.kind,
      id: s.id,
      problemId: candidate.problemId,
      attempt: s.attempt ?? 0,
      codeSha256: codeSha256(s.code ?? candidate.code),
      result: { verdict: s.verdict, tests, testsTotal: s.testsTotal ?? testsRun, durationMs: testsRun, comparator: s.comparator ?? 'strict', sandbox: FIXTURE_SANDBOX },
      executedAt: s.executedAt ?? FIXTURE_TIME,
    };
  });
  // The engine keeps the first of two verdicts for one key; a fixture asked for twice is a mistake.
  if (writeExecutions(p, records).duplicates > 0) throw new Error('addExecutions: a verdict for one of these candidates, comparators and attempts is already stored');
  const id = sql(p, 'SELECT id FROM executions WHERE candidate_kind = ? AND candidate_id = ? AND comparator = ? AND attempt = ?');
  return records.map((r) => (id.get(r.kind, r.id, r.result.comparator, r.attempt) as { id: number }).id);
}

export interface FlakySpec {
  kind: CandidateKind;
  id: number;
  comparator?: Comparator;
  /** One per attempt, in attempt order. */
  verdicts?: readonly Verdict[];
  markedAt?: string;
}

/** Marks a candidate flaky without the disagreeing attempts that would make the engine mark it
 * (for tests of what a mark does, whatever its verdicts). */
export function markFlaky(p: Project, s: FlakySpec): void {
  sql(p, 'INSERT INTO flaky_candidates (candidate_kind, candidate_id, comparator, verdicts, marked_at) VALUES (@kind, @id, @comparator, @verdicts, @markedAt)').run({
    kind: s.kind,
    id: s.id,
    comparator: s.comparator ?? 'strict',
    verdicts: JSON.stringify(s.verdicts ?? []),
    markedAt: s.markedAt ?? FIXTURE_TIME,
  });
}

// ---- pairs --------------------------------------------------------------------------------

/** A pair to store: its problem and both sides; the rest of a PairDraft defaults (pairDraft), and
 * a review status other than pending is set as a reviewer sets it. */
export type PairSpec = Partial<PairDraft> & Pick<PairDraft, 'problemId' | 'chosen' | 'rejected'> & { status?: PairStatus; note?: string | null };

/** The draft a spec stands for. A pair with a history is IterPref (spans and edit distance from
 * the critical lines, as pairing computes them); otherwise a FIM pair whose spans cover each side
 * (no edit distance). The pair key defaults to one made of the pair's source and texts, the
 * duplicate key to the pair key (so no two fixture pairs are duplicates unless a test says so). */
export function pairDraft(s: PairSpec): PairDraft {
  const historyId = s.historyId ?? null;
  const targetId = s.targetId ?? null;
  const kind = s.kind ?? (historyId !== null ? 'iterpref' : 'fim');
  const mode = s.mode ?? (kind === 'iterpref' ? 'iterpref' : 'structurecoder');
  const critical = kind === 'iterpref' ? iterPrefSpans(s.chosen, s.rejected) : undefined;
  const pairKey = s.pairKey ?? `${mode}:${targetId ?? historyId ?? s.problemId}:${sha256(`${s.chosen}\0${s.rejected}`).slice(0, 16)}`;
  return {
    pairKey,
    mode,
    kind,
    problemId: s.problemId,
    targetId,
    historyId,
    pre: s.pre ?? '',
    suf: s.suf ?? '',
    blockKind: s.blockKind ?? null,
    depth: s.depth ?? null,
    goldenLines: s.goldenLines ?? lineCount(s.chosen),
    chosen: s.chosen,
    rejected: s.rejected,
    chosenSpans: s.chosenSpans ?? critical?.chosenSpans ?? wholeSpan(s.chosen),
    rejectedSpans: s.rejectedSpans ?? critical?.rejectedSpans ?? wholeSpan(s.rejected),
    provenance: s.provenance ?? {},
    editDistance: s.editDistance ?? (critical ? critical.diff.chosenCritical.length + critical.diff.rejectedCritical.length : null),
    flags: s.flags ?? [],
    dupKey: s.dupKey ?? pairKey,
  };
}

/** A FIM pair on a stored target: its problem, context, block kind and depth, and (unless given)
 * its middle as the chosen side, as pairing makes one with the golden middle. */
export function pairOnTarget(p: Project, targetId: number, s: Omit<PairSpec, 'problemId' | 'chosen'> & { chosen?: string }): PairSpec {
  const t = sql(
    p,
    `SELECT t.pre, t.mid, t.suf, t.kind, t.depth, COALESCE(s.problem_id, h.problem_id) AS problem_id
     FROM targets t LEFT JOIN solutions s ON s.id = t.solution_id
     LEFT JOIN history_versions v ON v.id = t.version_id LEFT JOIN histories h ON h.id = v.history_id WHERE t.id = ?`,
  ).get(targetId) as { pre: string; mid: string; suf: string; kind: string; depth: number; problem_id: number } | undefined;
  if (!t) throw new Error(`pairOnTarget: no target ${targetId} in ${p.file}`);
  return { problemId: t.problem_id, targetId, pre: t.pre, suf: t.suf, blockKind: t.kind, depth: t.depth, goldenLines: lineCount(t.mid), ...s, chosen: s.chosen ?? t.mid };
}

/** Stores the pairs with the pairs stage's own write (upsertPairs), then sets each status other
 * than pending (and each note) as a reviewer does, all stamped `now`. Returns the pairs' ids in the
 * order given. */
export function addPairs(p: Project, specs: readonly PairSpec[], now = FIXTURE_TIME): number[] {
  const drafts = specs.map(pairDraft);
  upsertPairs(p, drafts, now);
  const ids = drafts.map((d) => (sql(p, 'SELECT id FROM pairs WHERE pair_key = ?').get(d.pairKey) as { id: number }).id);
  specs.forEach((s, i) => {
    const status = s.status ?? 'pending';
    if (status !== 'pending' || s.note !== undefined) decide(p, { pairIds: [ids[i]], status, note: s.note, reviewer: 'fixture', now });
  });
  return ids;
}

// ---- scoring ----------------------------------------------------------------------------------

export interface ScoringRunSpec {
  /** The policy's model name; the reference is always `ref`. */
  policyModel?: string;
  /** Each scored pair's margin (beta 1: the chosen side's masked policy log-prob is the margin,
   * every other masked sum 0). Pairs not named are in the run but not scored. */
  margins: ReadonlyMap<number, number>;
  /** Pairs in the run besides the scored ones. */
  alsoPairs?: readonly number[];
  createdAt?: string;
}

/** A finished scoring run written by the scoring stage's own writer (sideWriter), with the given
 * margins and no tokens. Returns the run's id. */
export function addScoringRun(p: Project, s: ScoringRunSpec): number {
  const model = s.policyModel ?? 'policy';
  const at = s.createdAt ?? FIXTURE_TIME;
  const run: NewRun = {
    specKey: `${model}:${nextFree(p, 'SELECT COALESCE(MAX(id), 0) + 1 AS n FROM score_runs')}`,
    policy: [{ url: 'http://x', model }],
    reference: [{ url: 'http://x', model: 'ref' }],
    beta: 1,
    topK: 0,
    format: 'chat',
    family: 'qwen2.5-coder',
    trainingSentence: false,
    addSpecialTokens: true,
    selection: 'all',
    tokenizer: null,
  };
  const runId = createRun(p, run, at);
  addRunPairs(p, runId, [...s.margins.keys(), ...(s.alsoPairs ?? [])]);
  const side = (pairId: number, which: 'chosen' | 'rejected', policy: number): SideRow => ({
    pairId,
    side: which,
    format: 'chat',
    textSha256: 'x',
    promptTokens: 1,
    spelling: '',
    tokenIds: [],
    charRanges: [],
    lossMask: [],
    logpPolicy: new Float32Array(0),
    logpRef: new Float32Array(0),
    topPolicy: null,
    topRef: null,
    maskedTokens: 0,
    maskedLogpPolicy: policy,
    maskedLogpRef: 0,
    rewardSum: 0,
    maskedRewardSum: policy,
    attempts: 1,
    createdAt: at,
  });
  sideWriter(p, runId, 1, 0).write(
    [...s.margins].flatMap(([id, margin]) => [side(id, 'chosen', margin), side(id, 'rejected', 0)]),
    new Map(),
  );
  finishRun(p, runId, 'done', null, at);
  return runId;
}
