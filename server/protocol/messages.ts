// Every message between the extension (client) and the engine server, with who sends it and which
// stage answers it. The wire names (`pairforge/...`) are the contract; the TypeScript names are
// how both sides refer to them. Long-running requests take an LSP work-done token (created by the
// client) on which the server reports progress, and honour the request's cancellation.
//
//   message                     direction          answered by (server/<stage>/feature.ts)
//   ConfigureNotification       client -> server   server.ts (settings for every feature)
//   BlocksNotification          server -> client   blocks
//   DatasetChildrenRequest      client -> server   import
//   DocumentContentRequest      client -> server   import
//   ImportRequest               client -> server   import        (progress, cancel)
//   LinkedProblemRequest        client -> server   import
//   CutTargetsRequest           client -> server   targets       (progress, cancel)
//   SandboxStatusNotification   server -> client   exec
//   RunTestsRequest             client -> server   exec          (progress, cancel)
//   EndpointHealthRequest       client -> server   sampling      (cancel)
//   SampleRequest               client -> server   sampling      (progress, cancel)
//   BlockSamplesRequest         client -> server   sampling
//   CandidateTextRequest        client -> server   pairs
//   PairsTreeRequest            client -> server   pairs
//   SetPairStatusRequest        client -> server   pairs
//   QueuePageRequest            client -> server   review        (the review room's queue)
//   QueueIndexRequest           client -> server   review        (where a pair sits in it)
//   QueueNextRequest            client -> server   review        (the next row of a status)
//   PairDetailRequest           client -> server   review
//   ReviewDecisionRequest       client -> server   review
//   UndoReviewRequest           client -> server   review
//   RunPairTestsRequest         client -> server   review        (progress, cancel)
//   SavePairEditRequest         client -> server   review
//   BuildPairsRequest           client -> server   review        (progress, cancel)
//   ExportPairsRequest          client -> server   review        (progress, cancel)
//   ScorePairsRequest           client -> server   scoring       (progress, cancel)
//   PairRewardsRequest          client -> server   scoring
//   ScoringRunsRequest          client -> server   scoring
//   StatsRequest                client -> server   pipeline
//   TrainingStartRequest        client -> server   training      (progress, cancel)
//   TrainingFollowRequest       client -> server   training      (cancel = stop following)
//   TrainingLogNotification     server -> client   training      (a followed run's log)
//   TrainingRunChangedNotification server -> client training     (status, step, metrics)
//   TrainingStopRequest         client -> server   training
//   TrainingRunsRequest         client -> server   training
//   TrainingMetricsRequest      client -> server   training
//   PrepareHostRequest          client -> server   training      (progress, cancel)
//   DashboardRequest            client -> server   dashboard     (the dashboard's figures)
//   DashboardItemsRequest       client -> server   dashboard     (the items behind a mark)
// Standard LSP requests the server answers: hover (blocks), code lenses (sampling); it asks the
// client for workspace/codeLens/refresh when stored data behind the lenses changed.
import { NotificationType, RequestType } from 'vscode-languageserver-protocol';
import type { ExecSettings, SamplingParams, TrainingSettings } from './settings';
import type {
  BlockKind,
  Comparator,
  DatasetFormat,
  FimFamily,
  Isolation,
  PairFlag,
  PairKind,
  PairMode,
  PairStatus,
  Preset,
  Span,
  TestKind,
  TrainingLauncher,
  TrainingStatus,
  Verdict,
} from './vocabulary';

/** An LSP work-done token the client created for a long-running request. */
export type WorkDoneToken = string | number;

/** Client commands the server puts into code lenses, with the arguments it passes
 * (extension/commands.ts registers them under these ids). */
export const LENS_COMMANDS = {
  /** (uri) */
  runTests: 'pairforge.runTests',
  /** (uri, targetId) */
  sampleBlock: 'pairforge.sampleBlock',
  /** (uri) */
  sampleFile: 'pairforge.sampleFile',
  /** (uri, targetId) */
  showSamples: 'pairforge.showSamples',
  /** () */
  cutTargets: 'pairforge.cutTargets',
} as const;

// ---- settings (client -> server) ----------------------------------------------------------------

export interface EngineSettings {
  /** Absolute path of the project SQLite file ('' when none can be resolved). */
  dbPath: string;
  /** Block rules used for highlighting in the editor. */
  preset: Preset;
  /** `clean` preset: extra kinds to highlight. */
  extraKinds: BlockKind[];
  /** `vscode.workspace.isTrusted`. Absent = untrusted: the server then runs no code at all
   * (the client also refuses; this is the second lock). */
  trusted?: boolean;
  /** Absent fields take the defaults of server/protocol/settings.ts. */
  exec?: Partial<ExecSettings>;
  /** `pairforge.sampling.n`, shown in the "Sample xN" lenses. */
  sampleN?: number;
}
/** Client -> server, once after the server started and after every change of a setting the
 * engine uses (extension/config.ts `affectsEngine`). */
export const ConfigureNotification = new NotificationType<EngineSettings>('pairforge/configure');

// ---- blocks in open documents (server -> client) ------------------------------------------------

/** A block in an open document; 0-based lines/characters, endLine inclusive. */
export interface BlockInfo {
  kind: BlockKind;
  depth: number;
  startLine: number;
  startCharacter: number;
  endLine: number;
  endCharacter: number;
}
export interface BlocksParams {
  uri: string;
  version: number;
  preset: Preset;
  blocks: BlockInfo[];
  /** True when the tree has syntax errors (blocks are still reported where found). */
  hasErrors: boolean;
}
/** Server -> client after every open / change of a Python document. */
export const BlocksNotification = new NotificationType<BlocksParams>('pairforge/blocks');

// ---- datasets (client -> server, answered by import) --------------------------------------------

export type DatasetNodeKind = 'dataset' | 'problem' | 'solution' | 'history' | 'version';
export interface DatasetNode {
  /** Opaque id, passed back as `parent` to list the children. */
  id: string;
  kind: DatasetNodeKind;
  label: string;
  description?: string;
  tooltip?: string;
  /** For solutions and versions: a `pairforge:` URI whose content the server serves. */
  uri?: string;
  hasChildren: boolean;
}
export interface DatasetChildrenParams {
  parent?: string;
}
/** Client -> server: the Datasets view's children of `parent` (the datasets when absent). */
export const DatasetChildrenRequest = new RequestType<DatasetChildrenParams, DatasetNode[], void>('pairforge/datasetChildren');

export interface DocumentContentParams {
  uri: string;
}
/** Client -> server: the stored code a `pairforge:` URI names. */
export const DocumentContentRequest = new RequestType<DocumentContentParams, { text: string }, void>('pairforge/documentContent');

export interface BadLine {
  file: string;
  /** 1-based line number in the (decompressed) file. */
  line: number;
  reason: string;
}
export interface FileImportSummary {
  file: string;
  format: DatasetFormat;
  datasetId: number;
  /** Non-empty records read. */
  records: number;
  /** Problems newly stored. */
  imported: number;
  /** Problems already stored with identical content (re-import). */
  unchanged: number;
  bad: BadLine[];
}
export interface ImportSummary {
  files: FileImportSummary[];
  cancelled: boolean;
}
export interface ImportParams {
  files: string[];
  workDoneToken?: WorkDoneToken;
  format?: DatasetFormat;
}
/** Client -> server: imports dataset files into the project (created if needed). Long-running. */
export const ImportRequest = new RequestType<ImportParams, ImportSummary, void>('pairforge/import');

/** A document's problem: a stored solution / version (`pairforge:` URI) or a file whose first
 * lines carry the header comment of vocabulary.ts `problemHeader`. */
export interface ProblemRef {
  problemId: number;
  dataset: string;
  /** The problem's id in its dataset (`HumanEval/0`, `9001`). */
  externalId: string;
  /** How the link was found. */
  via: 'store' | 'header';
  solutionId?: number;
  versionId?: number;
  tests: number;
}
/** Client -> server: the problem an open document is linked to, or null. */
export const LinkedProblemRequest = new RequestType<{ uri: string }, ProblemRef | null, void>('pairforge/linkedProblem');

// ---- stats (client -> server, answered by pipeline) ---------------------------------------------

export interface ProjectStats {
  datasets: number;
  problems: number;
  tests: number;
  solutions: number;
  histories: number;
  versions: number;
  targets: number;
  samples: number;
  executions: number;
  pairs: number;
  /** Pairs with both sides scored in at least one scoring run. */
  scoredPairs: number;
}
/** Client -> server: counts of what the project holds, every stage's. */
export const StatsRequest = new RequestType<Record<string, never>, ProjectStats, void>('pairforge/stats');

// ---- targets (client -> server) -----------------------------------------------------------------

export interface CutTargetsResult {
  preset: string;
  cut: number;
  targets: number;
  cancelled: boolean;
}
/** Client -> server: cuts the project's solutions not yet cut under the current preset
 * (resumable, idempotent). Long-running. */
export const CutTargetsRequest = new RequestType<{ workDoneToken?: WorkDoneToken }, CutTargetsResult, void>('pairforge/cutTargets');

// ---- run tests (client -> server, answered by exec) ---------------------------------------------

/** Per-test details as the engine reports them; every text field is an excerpt (capped). */
export interface TestResult {
  /** 0-based position of the test in the list that ran. */
  ordinal: number;
  verdict: Verdict;
  durationMs: number;
  input?: string;
  expected?: string;
  output?: string;
  stderrTail?: string;
  message?: string;
}
/** A test's result plus what the editor needs. */
export interface TestRunView extends TestResult {
  kind: TestKind;
  /** 0-based document line the failure points at (the candidate's last traceback frame). */
  line?: number;
}
export interface RunTestsParams {
  uri: string;
  /** Run every test (default true: a person wants to see all failures). */
  allResults?: boolean;
  workDoneToken?: WorkDoneToken;
}
export interface RunTestsResult {
  problem: ProblemRef;
  /** Document version whose text ran. */
  version: number;
  verdict: Verdict;
  testsTotal: number;
  durationMs: number;
  comparator: Comparator;
  isolation: Isolation;
  tests: TestRunView[];
}
/** How the sandbox runs programs, once the engine has started one. */
export interface SandboxStatus {
  mode: Isolation;
  /** The strongest mode for the engine's user: `bwrap-nobody` as root, `bwrap-user` otherwise. */
  preferred: Isolation;
  /** Why the mode is not the preferred one (a failed start's message, or the pinned mode). */
  reason?: string;
  /** The mode is weaker than the preferred one. */
  warning: boolean;
}
/** Server -> client, when the execution engine started (and after it was replaced): the mode its
 * workers run in, shown in the status bar (a weaker mode than the machine allows is a warning). */
export const SandboxStatusNotification = new NotificationType<SandboxStatus>('pairforge/sandboxStatus');

/** Client -> server: runs an open document against its problem's tests in the sandbox (trusted
 * workspaces only). Long-running. */
export const RunTestsRequest = new RequestType<RunTestsParams, RunTestsResult, void>('pairforge/runTests');

// ---- sampling (client -> server) ----------------------------------------------------------------

/** One vLLM-compatible endpoint. In the editor the API key comes from SecretStorage with each
 * request and is never written to settings, the store or a log. */
export interface EndpointConfig {
  url: string;
  model: string;
  /** Never stored or logged; from PAIRFORGE_API_KEY (CLI) or the editor's SecretStorage. */
  apiKey?: string;
}
/** An endpoint's health (GET /health, then /v1/models). */
export interface EndpointHealth {
  url: string;
  model: string;
  ok: boolean;
  served?: string[];
  maxModelLen?: number;
  error?: string;
  latencyMs: number;
}
/** Client -> server: checks each endpoint (status bar, Check Endpoints). Cancellable. */
export const EndpointHealthRequest = new RequestType<{ endpoints: EndpointConfig[] }, EndpointHealth[], void>('pairforge/endpointHealth');

export interface SampleParams {
  uri: string;
  /** Targets to sample; absent = every target of the document. */
  targetIds?: number[];
  endpoints: EndpointConfig[];
  params: SamplingParams;
  /** Run the new samples' tests right after sampling (the client sends false when untrusted). */
  runTests: boolean;
  workDoneToken?: WorkDoneToken;
}
export interface SampleSummary {
  jobId: number | null;
  targets: number;
  samples: number;
  skipped: number;
  /** Samples whose tests ran, by verdict. */
  verdicts: Partial<Record<Verdict, number>>;
  cancelled: boolean;
  /** Why the tests did not run, or why the job stopped. */
  message?: string;
}
/** Client -> server: samples blocks of an open stored solution, then runs the samples' tests.
 * Long-running. */
export const SampleRequest = new RequestType<SampleParams, SampleSummary, void>('pairforge/sample');

export interface SampleView {
  id: number;
  /** The number a sample is shown with everywhere (Samples view, review room, dashboard): its
   * 1-based position among its target's samples, oldest job first (sampling/documentSamples). */
  ordinal: number;
  jobId: number;
  middle: string;
  finishReason: string | null;
  model: string;
  endpoint: string;
  verdict: Verdict | null;
  createdAt: string;
}
export interface TargetSamples {
  targetId: number;
  kind: BlockKind;
  depth: number;
  /** 0-based lines in the open document (mapped from the cut code). */
  startLine: number;
  endLine: number;
  golden: string;
  samples: SampleView[];
}
/** Client -> server: the samples of every target of an open document (the Samples view). */
export const BlockSamplesRequest = new RequestType<{ uri: string }, TargetSamples[], void>('pairforge/blockSamples');

export type CandidateTextKind = 'sample' | 'target' | 'pair-chosen' | 'pair-rejected';
export const CANDIDATE_TEXT_KINDS: readonly CandidateTextKind[] = ['sample', 'target', 'pair-chosen', 'pair-rejected'];
/** Full program text of a stored candidate, for read-only views and diffs. */
export interface CandidateTextParams {
  kind: CandidateTextKind;
  id: number;
}
/** Client -> server: a sample's, a target's or a pair side's whole program. */
export const CandidateTextRequest = new RequestType<CandidateTextParams, { text: string }, void>('pairforge/candidateText');

// ---- pairs (client -> server) -------------------------------------------------------------------

export type PairCounts = Record<PairStatus, number>;
export interface PairNode {
  /** Opaque; passed back as `parent`. */
  id: string;
  kind: 'problem' | 'group' | 'pair';
  label: string;
  description?: string;
  tooltip?: string;
  counts?: PairCounts;
  /** For pairs. */
  pairId?: number;
  status?: PairStatus;
  flags?: string[];
  hasChildren: boolean;
}
/** Client -> server: the Pairs view's children of `parent` (problems when absent). */
export const PairsTreeRequest = new RequestType<{ parent?: string }, PairNode[], void>('pairforge/pairsTree');

export interface SetPairStatusParams {
  pairIds: number[];
  status: PairStatus;
  note?: string;
}
/** Client -> server: a reviewer's decision on one or many pairs. */
export const SetPairStatusRequest = new RequestType<SetPairStatusParams, { updated: number }, void>('pairforge/setPairStatus');

// ---- the review room (client -> server, answered by server/review/feature.ts) -----------------

/** Which pairs the queue shows and in what order; every field optional (absent = no filter). */
export interface PairQueueQuery {
  kinds?: PairKind[];
  blockKinds?: string[];
  depths?: number[];
  statuses?: PairStatus[];
  /** The verdict of the rejected side's run. */
  rejectedVerdicts?: Verdict[];
  /** Only pairs whose rejected side is a sample of this sampling job and model (the dashboard's
   * verdict mix). */
  rejectedSampleJob?: { jobId: number; model: string };
  /** Pairs with any of these flags, with some flag ('any'), or with none ('none'). */
  flags?: PairFlag[] | 'any' | 'none';
  /** Words that must all occur (as words or word prefixes) in the problem, chosen or rejected. */
  search?: string;
  /** Only these pairs (the Pairs view's selection). */
  pairIds?: number[];
  /** The scoring run whose margins the queue shows, filters and sorts by. */
  runId?: number;
  /** Only the pairs of this export (the dashboard's "exported" and "trained" marks). */
  exportId?: number;
  /** Only pairs with a review decision (a status set, not undone) on this day, 'YYYY-MM-DD' UTC
   * (the dashboard's review progress). */
  reviewedOn?: string;
  marginMin?: number;
  marginMax?: number;
  /** id (default), edit_distance, or margin (lowest first: the policy still prefers the rejected side). */
  sort?: 'id' | 'edit_distance' | 'margin';
  descending?: boolean;
}

/** A pair as a row of the queue. */
export interface PairQueueRow {
  pairId: number;
  status: PairStatus;
  mode: PairMode;
  kind: PairKind;
  blockKind: string | null;
  depth: number | null;
  editDistance: number | null;
  flags: PairFlag[];
  problemId: number;
  /** dataset/problem id. */
  problem: string;
  /** The rejected side's first code line. */
  rejectedLine: string;
  rejectedVerdict: string | null;
  /** Reward margin in the query's scoring run, when scored. */
  margin: number | null;
  note: string | null;
}

export interface QueuePageParams {
  query: PairQueueQuery;
  offset: number;
  limit: number;
}
export interface QueuePage {
  /** Pairs matching the query. */
  total: number;
  offset: number;
  rows: PairQueueRow[];
  /** The matching pairs by status. */
  counts: PairCounts;
  /** Every pair of the project by status. */
  allCounts: PairCounts;
}
/** Client -> server: one page of the review queue. */
export const QueuePageRequest = new RequestType<QueuePageParams, QueuePage, void>('pairforge/queuePage');

export interface QueueIndexParams {
  query: PairQueueQuery;
  pairId: number;
}
/** Client -> server: the 0-based position of a pair in the queue under a query, -1 when the
 * query leaves it out (the room opened at a pair selects its row). */
export const QueueIndexRequest = new RequestType<QueueIndexParams, { index: number }, void>('pairforge/queueIndex');

export interface QueueNextParams {
  query: PairQueueQuery;
  /** A position in the queue (0-based); the answer is after it. */
  after: number;
  status: PairStatus;
}
/** Client -> server: the position of the first pair after `after` with that status, -1 when none
 * (the room's `n`, next pending). */
export const QueueNextRequest = new RequestType<QueueNextParams, { index: number }, void>('pairforge/queueNext');

/** A test run of one side, for the review room: the first failing test, or the run's summary. */
export interface SideRun {
  verdict: Verdict;
  testsRun: number;
  testsTotal: number;
  /** The first test that did not pass (or the first test when all passed). */
  test?: TestResult;
  comparator: Comparator;
  executedAt: string;
}

/** Another candidate of the same target (a sample), openable against the chosen side. */
export interface CandidateView {
  sampleId: number;
  /** The number a sample is shown with everywhere (Samples view, review room, dashboard): its
   * 1-based position among its target's samples, oldest job first (sampling/documentSamples). */
  ordinal: number;
  verdict: Verdict | null;
  middle: string;
  model: string;
  /** This candidate is the pair's chosen or rejected side, or was its chosen side until a
   * reviewer's edit replaced it. */
  role?: 'chosen' | 'rejected' | 'replaced';
}

/** A range [start, end) of the rejected side (UTF-16 code units of the JS string) and why it is marked. */
export interface MarkedRange {
  start: number;
  end: number;
  /** line: a critical line (outside the LCS); token: a token inside it that differs from chosen. */
  kind: 'line' | 'token';
}

export interface PairDetail {
  pairId: number;
  pairKey: string;
  mode: PairMode;
  kind: PairKind;
  status: PairStatus;
  note: string | null;
  flags: PairFlag[];
  problem: { id: number; label: string; question: string };
  blockKind: string | null;
  depth: number | null;
  editDistance: number | null;
  /** The shared context of a FIM pair ('' for whole programs). */
  pre: string;
  suf: string;
  chosen: string;
  rejected: string;
  chosenSpans: Span[];
  rejectedSpans: Span[];
  /** The rejected side's critical lines and the tokens in them that differ from the chosen side. */
  marks: MarkedRange[];
  rejectedRun?: SideRun;
  chosenRun?: SideRun;
  candidates: CandidateView[];
  /** Set when the chosen side is a reviewer's edit: who and when, the side it replaced and the
   * samples that side was (none for a golden, history or earlier edited side), the verdict of its
   * tests and the isolation mode they ran in (null: not run, or saved by an older engine). */
  edit?: { id: number; reviewer: string; at: string; replaced: string; replacedSamples: number[]; verdict: string | null; isolation: Isolation | null };
}
/** Client -> server: everything the room shows of one pair. */
export const PairDetailRequest = new RequestType<{ pairId: number; runId?: number }, PairDetail, void>('pairforge/pairDetail');

export interface ReviewDecisionParams {
  pairIds: number[];
  status: PairStatus;
  note?: string;
}
/** Client -> server: a decision, recorded for undo (also across reloads). */
export const ReviewDecisionRequest = new RequestType<ReviewDecisionParams, { updated: number; batch: number | null }, void>('pairforge/reviewDecision');

export interface UndoResult {
  action: 'status' | 'edit';
  pairs: { pairId: number; status: PairStatus }[];
}
/** Client -> server: reverts the newest decision or edit not undone yet (null: nothing to undo). */
export const UndoReviewRequest = new RequestType<Record<string, never>, UndoResult | null, void>('pairforge/undoReview');

export interface EditParams {
  pairId: number;
  /** The new chosen side: a FIM pair's middle, or the whole program of a history / full pair. */
  chosen: string;
  workDoneToken?: WorkDoneToken;
}
export interface EditRun {
  verdict: Verdict;
  testsTotal: number;
  tests: TestResult[];
  isolation: Isolation;
}
/** Client -> server: runs the tests of a pair with an edited chosen side (trusted workspaces only). */
export const RunPairTestsRequest = new RequestType<EditParams, EditRun, void>('pairforge/runPairTests');
/** Client -> server: saves an edited chosen side (tests run first), recomputes the spans. */
export const SavePairEditRequest = new RequestType<EditParams, PairDetail, void>('pairforge/savePairEdit');

export interface BuildPairsParams {
  mode: PairMode | 'both';
  /** structurecoder: which verdicts may be rejected (default wrong_answer only). */
  rejectVerdicts?: Verdict[];
  /** iterpref: exact LCS (default) or the lines difflib marks. */
  lines?: 'lcs' | 'difflib';
  seed?: number;
  workDoneToken?: WorkDoneToken;
}
export interface BuildPairsResult {
  modes: { mode: PairMode; inserted: number; updated: number; unchanged: number; stale: number; total: number }[];
  cancelled: boolean;
}
/** Client -> server: builds pairs from the project's verdicts (the CLI's `pairforge pairs`). */
export const BuildPairsRequest = new RequestType<BuildPairsParams, BuildPairsResult, void>('pairforge/buildPairs');

export interface ExportPairsParams {
  format: 'trl' | 'structurecoder' | 'llamafactory';
  /** Absolute folder to write into (created). */
  out: string;
  includePending?: boolean;
  family?: FimFamily;
  trainingSentence?: boolean;
  workDoneToken?: WorkDoneToken;
}
export interface ExportPairsResult {
  dir: string;
  pairs: number;
  records: number;
  files: string[];
  /** Stopped from the progress notification: nothing was written (pairs, records, files empty). */
  cancelled?: boolean;
}
/** Client -> server: exports the curated pairs (the CLI's `pairforge export`). */
export const ExportPairsRequest = new RequestType<ExportPairsParams, ExportPairsResult, void>('pairforge/exportPairs');

// ---- scoring (client -> server) ---------------------------------------------------------------

export interface ScorePairsParams {
  /** The Pairs view's selection, or every pair of the project. */
  pairIds?: number[];
  policy: EndpointConfig;
  reference: EndpointConfig;
  beta?: number;
  topK?: number;
  concurrency?: number;
  /** The FIM tokens pairs are rendered with (pairforge.training.family: what is trained). */
  family?: FimFamily;
  workDoneToken?: WorkDoneToken;
}
export interface ScorePairsResult {
  runId: number;
  status: 'running' | 'done' | 'stopped' | 'failed';
  pairs: number;
  scoredPairs: number;
  prefersChosen: number;
  meanMargin: number | null;
  skippedSides: number;
  failed: number;
  cancelled: boolean;
  message?: string;
}
/** Client -> server: scores pairs with a policy and a reference model (per-token DPO rewards). */
export const ScorePairsRequest = new RequestType<ScorePairsParams, ScorePairsResult, void>('pairforge/scorePairs');

/** A scored token of a side; offsets are UTF-16 code units of the side's response (the editor's
 * unit), converted from the code points the store keeps. */
export interface TokenRewardView {
  text: string;
  start: number;
  end: number;
  logpPolicy: number;
  logpRef: number;
  reward: number;
  inLoss: boolean;
  top?: { text: string; logp: number }[];
}
export interface SideRewardsView {
  tokens: TokenRewardView[];
  rewardSum: number;
  maskedRewardSum: number;
  /** Why this side has no scores in the run (a prompt over the context, an interrupted run). */
  skipped?: string;
}
export interface PairRewardsView {
  pairId: number;
  runId: number;
  beta: number;
  /** null when a side was not scored (its `skipped` says why): no margin without both. */
  margin: number | null;
  prefersChosen: boolean | null;
  chosen: SideRewardsView;
  rejected: SideRewardsView;
}
/** Client -> server: a pair's per-token rewards in a run (null when the run has not scored it). */
export const PairRewardsRequest = new RequestType<{ pairId: number; runId?: number }, PairRewardsView | null, void>('pairforge/pairRewards');

export interface ScoringRunView {
  id: number;
  label: string;
  beta: number;
  createdAt: string;
  scoredPairs: number;
}
/** Client -> server: the project's scoring runs, newest first. */
export const ScoringRunsRequest = new RequestType<Record<string, never>, ScoringRunView[], void>('pairforge/scoringRuns');

// ---- training (client -> server, answered by server/training/feature.ts) -----------------------

/** A training run as the editor lists it (docs/training.md "Runs"). */
export interface TrainingRunView {
  id: number;
  name: string;
  host: string;
  /** The folder of run folders on the host, as given (`~/pairforge-runs`). */
  remoteDir: string;
  /** The run's folder on the host (absolute), once made. */
  runDir: string | null;
  launcher: TrainingLauncher;
  /** config.json's model; null with `tiny`. */
  model: string | null;
  tiny: boolean;
  status: TrainingStatus;
  /** Why it failed, or what it is doing. */
  message: string | null;
  /** The trainer's own state (status.json: loading, training, saving, done...). */
  trainerState: string | null;
  step: number | null;
  maxSteps: number | null;
  exitCode: number | null;
  /** Pairs and records sent. */
  pairs: number | null;
  records: number | null;
  exportSha256: string | null;
  /** Bytes rsync sent as new data for the upload (unchanged files send none). */
  uploadLiteralBytes: number | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /** Metrics lines stored so far. */
  metrics: number;
  /** The scoring run the held-out per-token log-probs were imported as. */
  scoreRunId: number | null;
  /** The local folder with the run's export, log copy and fetched results. */
  localDir: string;
}

export interface TrainingStartParams {
  settings: TrainingSettings;
  /** The run (and its folder's) name; default: a timestamp and the run id. */
  name?: string;
  workDoneToken?: WorkDoneToken;
}
/** Client -> server: exports the curated pairs, copies them with the trainer to the host over
 * ssh/rsync and starts the run there (detached). Answers once it runs; TrainingFollowRequest
 * streams its log. Long-running. */
export const TrainingStartRequest = new RequestType<TrainingStartParams, TrainingRunView, void>('pairforge/trainingStart');

export interface TrainingFollowParams {
  runId: number;
  /** The client's name for this log stream: TrainingLogNotification carries it. */
  stream: string;
}
/** Client -> server: streams a run's log (from its start) as TrainingLogNotification until the run
 * ends, and answers with the ended run. Cancelling stops following, never the run. */
export const TrainingFollowRequest = new RequestType<TrainingFollowParams, TrainingRunView, void>('pairforge/trainingFollow');

export interface TrainingLogParams {
  stream: string;
  text: string;
}
/** Server -> client: the next piece of a followed run's log (or of a host's preparation). */
export const TrainingLogNotification = new NotificationType<TrainingLogParams>('pairforge/trainingLog');

/** Server -> client: a run's status, step or metrics changed. */
export const TrainingRunChangedNotification = new NotificationType<TrainingRunView>('pairforge/trainingRunChanged');

/** Client -> server: asks the run's wrapper on the host to stop it (SIGTERM: the trainer stops at
 * the next step boundary). Answers the run as it is then; the followers see it end. */
export const TrainingStopRequest = new RequestType<{ runId: number }, TrainingRunView, void>('pairforge/trainingStop');

/** Client -> server: the project's training runs, newest first (`refresh`: ask the hosts of the
 * unfinished ones where they are first). */
export const TrainingRunsRequest = new RequestType<{ refresh?: boolean }, TrainingRunView[], void>('pairforge/trainingRuns');

/** One metrics line of a run (docs/training.md "metrics.jsonl"): TRL's names, step, epoch, time. */
export type TrainingMetricRow = Record<string, number | null>;
/** Client -> server: a run and its metrics so far, in order. */
export const TrainingMetricsRequest = new RequestType<{ runId: number }, { run: TrainingRunView; rows: TrainingMetricRow[] }, void>('pairforge/trainingMetrics');

export interface PrepareHostParams {
  settings: TrainingSettings;
  /** A log stream for pip's output (TrainingLogNotification). */
  stream?: string;
  workDoneToken?: WorkDoneToken;
}
/** What `train.py env` found on a host (docs/training.md "Command line"). */
export interface HostEnvironment {
  host: string;
  /** The venv was made now (else it existed). */
  created: boolean;
  python: string;
  executable: string;
  packages: Record<string, string | null>;
  cudaAvailable: boolean;
  cudaVersion: string | null;
  gpuCount: number;
  gpus: { index: number; name: string; memoryMb: number }[];
  mismatches: string[];
  missing: string[];
}
/** Client -> server: makes the trainer's venv on the host from requirements.txt (when missing),
 * installs the pinned packages and reports torch, CUDA and the GPUs. Long-running. */
export const PrepareHostRequest = new RequestType<PrepareHostParams, HostEnvironment, void>('pairforge/prepareHost');
// ---- the dashboard (client -> server, answered by server/dashboard/feature.ts) -----------------
// Every figure of the dashboard and of `pairforge report`, summed up in SQL by the stage that owns
// the rows (docs/dashboard.md). Counts are exact; lists (failing references, flaky candidates) are
// cut to their first items, with the total beside them.

/** The funnel's steps, in pipeline order. */
export type FunnelKey = 'problems' | 'references' | 'targets' | 'samples' | 'verdicts' | 'pairs' | 'accepted' | 'exported' | 'trained';
export const FUNNEL_KEYS: readonly FunnelKey[] = ['problems', 'references', 'targets', 'samples', 'verdicts', 'pairs', 'accepted', 'exported', 'trained'];

export interface FunnelStep {
  key: FunnelKey;
  /** null: the project has nothing to count here yet (no export, no training run). */
  count: number | null;
  /** What the step is out of, when it is a part of something (references: of the solutions). */
  of?: number;
  note?: string;
}

/** Samples of one sampling job and model whose target has this block kind and depth. */
export interface SampleGroupView {
  jobId: number;
  model: string;
  kind: string;
  depth: number;
  samples: number;
  /** Attempt-0 verdicts under the dashboard's comparator; samples minus their sum are not run yet. */
  verdicts: Partial<Record<Verdict, number>>;
}

export interface SampleJobView {
  id: number;
  family: string;
  status: string;
  createdAt: string;
}

/** Pairs with the same kind, block kind, depth, status and flags. */
export interface PairGroupView {
  kind: PairKind;
  blockKind: string | null;
  depth: number | null;
  status: PairStatus;
  flags: PairFlag[];
  count: number;
}

/** Review decisions made on one day (UTC), by the status they set; undone ones left out. */
export interface ReviewDayView {
  day: string;
  accepted: number;
  rejected: number;
  flagged: number;
  pending: number;
}

/** A scoring run's reward margins in the shared bins of MarginHistogramsView. */
export interface MarginRunView {
  runId: number;
  label: string;
  policyModel: string;
  referenceModel: string;
  beta: number;
  createdAt: string;
  scoredPairs: number;
  prefersChosen: number;
  meanMargin: number | null;
  /** Pairs per bin; margins below `lo` count in the first bin, above `hi` in the last. */
  counts: number[];
}
export interface MarginHistogramsView {
  lo: number;
  hi: number;
  width: number;
  runs: MarginRunView[];
  /** The runs the before/after overlay compares (a training run's, else the two newest that share
   * a reference model); absent with fewer than two runs. */
  before?: number;
  after?: number;
}

/** A reference (solution or final history version) that fails its own tests. */
export interface FailingReferenceView {
  kind: 'solution' | 'version';
  id: number;
  /** dataset/problem, solution N or history N version K. */
  label: string;
  verdict: Verdict;
  testsRun: number;
  testsTotal: number;
  /** The stored document (a `pairforge:` URI the Datasets view opens). */
  uri: string;
}

/** A candidate whose confirmation runs disagreed with its first verdict. */
export interface FlakyCandidateView {
  kind: 'solution' | 'version' | 'sample';
  id: number;
  label: string;
  verdicts: Verdict[];
  /** Solutions and versions: their stored document. */
  uri?: string;
  /** Samples: what opens the sample's program (the Samples view's command arguments). */
  sample?: { targetId: number; ordinal: number };
}

export interface ExportView {
  id: number;
  dir: string;
  format: string;
  pairs: number;
  records: number;
  createdAt: string;
}

/** A training run as the dashboard shows it (the training stage sums it up: server/training/store.ts
 * trainingSummaries): the export it trained on and the scoring runs of its held-out pairs before
 * and after training. */
export interface TrainingRunSummary {
  id: number;
  label: string;
  status: string;
  exportId: number | null;
  pairs: number;
  beforeRunId: number | null;
  afterRunId: number | null;
  finishedAt: string | null;
}

export interface DashboardData {
  project: string;
  generatedAt: string;
  /** How long the figures took to compute in the engine, ms. */
  computeMs: number;
  comparator: Comparator;
  funnel: FunnelStep[];
  jobs: SampleJobView[];
  sampleGroups: SampleGroupView[];
  /** How many targets have exactly `samples` samples (0 included). */
  samplesPerTarget: { samples: number; targets: number }[];
  pairGroups: PairGroupView[];
  review: ReviewDayView[];
  margins: MarginHistogramsView;
  failingReferences: { total: number; items: FailingReferenceView[] };
  flaky: { total: number; items: FlakyCandidateView[] };
  exports: ExportView[];
  training: TrainingRunSummary[];
}

export interface DashboardParams {
  /** The `version` of the data the caller shows: unchanged data is not computed again. */
  since?: string;
}
export interface DashboardResult {
  /** Changes whenever the project file does (a write here or by another process). */
  version: string;
  /** null when `since` is still current, or when there is no project file yet. */
  data: DashboardData | null;
}
/** Client -> server: every figure of the dashboard, computed only when the project changed. */
export const DashboardRequest = new RequestType<DashboardParams, DashboardResult, void>('pairforge/dashboard');

/** The items behind a dashboard mark that has no pairs (the funnel's early steps, the samples per
 * target, the verdict mix's passing and not-run segments). Verdicts are attempt-0 verdicts under
 * the dashboard's comparator (the one the editor runs tests with). */
export type DashboardItemsQuery =
  /** Every problem. */
  | { what: 'problems' }
  /** Reference solutions: all, or those whose own tests pass / fail. */
  | { what: 'references'; tests?: 'pass' | 'fail' }
  /** Targets: all, or those with exactly `samples` samples (every job). */
  | { what: 'targets'; samples?: number }
  /** Samples: of one job and model when given; with this verdict, none ('not run') or any ('run'). */
  | { what: 'samples'; jobId?: number; model?: string; verdict?: Verdict | 'not run' | 'run' };

/** What opening an item does: a stored solution (or history version), or a sample's program. */
export type DashboardItemOpen = { kind: 'document'; uri: string } | { kind: 'sample'; targetId: number; sampleId: number; ordinal: number };

export interface DashboardItem {
  label: string;
  description: string;
  /** Absent when there is nothing to open (a problem without programs). */
  open?: DashboardItemOpen;
}

export interface DashboardItemsParams {
  query: DashboardItemsQuery;
  /** At most 1000. */
  limit: number;
}
export interface DashboardItemsResult {
  /** Every item matching the query. */
  total: number;
  /** The first `limit` of them, in id order. */
  items: DashboardItem[];
}
/** Client -> server: the problems, references, targets or samples a dashboard mark stands for. */
export const DashboardItemsRequest = new RequestType<DashboardItemsParams, DashboardItemsResult, void>('pairforge/dashboardItems');
