// The one typed protocol between the extension (client) and the engine server.
// Both sides import this module; it must not import `vscode`.
import { NotificationType, RequestType } from 'vscode-languageserver-protocol';
import type { BlockKind, Preset } from './blocks/types';
import type { Comparator, TestResult, Verdict } from './exec/types';
import type { EndpointConfig as SamplingEndpoint, Health } from './sampling/client';
import type { Family } from './sampling/prompts';

export type { BlockKind, Preset } from './blocks/types';
export type { Comparator, Verdict } from './exec/types';

/** Dataset formats the importer understands (README "Dataset formats"). */
export type DatasetFormat = 'apps' | 'humaneval' | 'mbpp' | 'history';
export const DATASET_FORMATS: readonly DatasetFormat[] = ['apps', 'humaneval', 'mbpp', 'history'];

/** URI scheme of solutions and history versions stored in a project, opened read-only. */
export const STORE_SCHEME = 'pairforge';

// ---- settings pushed from the client -------------------------------------------------

/** Sandbox limits and choices for running tests (settings `pairforge.exec.*`). */
export interface ExecSettings {
  /** Wall clock per test. */
  testTimeoutMs: number;
  /** Address-space limit of a test process, MiB. */
  memoryMB: number;
  /** stdout / stderr kept per test, KiB; more is `output_limit`. */
  outputKB: number;
  comparator: Comparator;
  /** Warm sandbox workers; 0 = one per core. */
  workers: number;
  /** Run without bubblewrap when it is unavailable (no isolation at all; logged loudly). */
  allowUnsandboxed: boolean;
}

export interface EngineSettings {
  /** Absolute path of the project SQLite file. */
  dbPath: string;
  /** Block rules used for highlighting in the editor. */
  preset: Preset;
  /** `clean` preset: extra kinds to highlight. */
  extraKinds: BlockKind[];
  /** `vscode.workspace.isTrusted`. Absent = untrusted: the server then runs no code at all
   * (the client also refuses; this is the second lock). */
  trusted?: boolean;
  /** Absent fields take the engine's defaults (5 s, 2 GiB, 1 MiB, strict). */
  exec?: Partial<ExecSettings>;
  /** `pairforge.sampling.n`, shown in the "Sample xN" lenses (default 5). */
  sampleN?: number;
}
export const ConfigureNotification = new NotificationType<EngineSettings>('pairforge/configure');

// ---- blocks in open documents ---------------------------------------------------------

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

// ---- datasets tree --------------------------------------------------------------------

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
export const DatasetChildrenRequest = new RequestType<DatasetChildrenParams, DatasetNode[], void>('pairforge/datasetChildren');

export interface DocumentContentParams {
  uri: string;
}
export const DocumentContentRequest = new RequestType<DocumentContentParams, { text: string }, void>('pairforge/documentContent');

// ---- import ---------------------------------------------------------------------------

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
  /** LSP work-done token (client-created) on which the server reports import progress. */
  workDoneToken?: string | number;
  format?: DatasetFormat;
}
/** Long-running: the client passes a work-done token for progress and may cancel. */
export const ImportRequest = new RequestType<ImportParams, ImportSummary, void>('pairforge/import');

// ---- stats ----------------------------------------------------------------------------

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
}
export const StatsRequest = new RequestType<Record<string, never>, ProjectStats, void>('pairforge/stats');

// ---- problems linked to documents -----------------------------------------------------------

/** A document's problem: a stored solution / version (`pairforge:` URI) or a file whose first
 * lines carry `# pairforge-problem: <dataset>/<problem id>` (see server/lsp/problemLink.ts). */
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
export const LinkedProblemRequest = new RequestType<{ uri: string }, ProblemRef | null, void>('pairforge/linkedProblem');

// ---- run tests -------------------------------------------------------------------------------

/** A test's result as the engine reports it (excerpts capped), plus what the editor needs. */
export interface TestRunView extends TestResult {
  /** tests.kind of the row (stdio, call, humaneval, assert). */
  kind: string;
  /** 0-based document line the failure points at (the candidate's last traceback frame). */
  line?: number;
}
export interface RunTestsParams {
  uri: string;
  /** Run every test (default true: a person wants to see all failures). */
  allResults?: boolean;
  workDoneToken?: string | number;
}
export interface RunTestsResult {
  problem: ProblemRef;
  /** Document version whose text ran. */
  version: number;
  verdict: Verdict;
  testsTotal: number;
  durationMs: number;
  comparator: Comparator;
  isolation: 'bwrap-nobody' | 'bwrap-root' | 'bwrap-user' | 'none';
  tests: TestRunView[];
}
export const RunTestsRequest = new RequestType<RunTestsParams, RunTestsResult, void>('pairforge/runTests');

// ---- sampling --------------------------------------------------------------------------------

/** One vLLM-compatible endpoint ({url, model, apiKey?}, the sampling stage's type). In the editor
 * the API key comes from SecretStorage with each request and is never written to settings, the
 * store or a log. */
export type EndpointConfig = SamplingEndpoint;
export type SamplingFamily = Family;
/** The sampling stage's FAMILIES, listed here so the extension bundle does not pull the prompt
 * builders (and the parser they import) in; a unit test keeps the two lists equal. */
export const SAMPLING_FAMILIES: readonly SamplingFamily[] = ['qwen2.5-coder', 'deepseek-coder', 'starcoder2', 'codellama', 'custom', 'chat'];
export interface SamplingParams {
  family: SamplingFamily;
  n: number;
  temperature: number;
  topP: number;
  maxTokens: number;
  /** Requests in flight per endpoint. */
  concurrency: number;
  /** `custom` family: FIM token strings. */
  customTokens?: { prefix: string; suffix: string; middle: string; stop: string[] };
}
/** An endpoint's health (GET /health, then /v1/models), the sampling stage's type. */
export type EndpointHealth = Health;
export const EndpointHealthRequest = new RequestType<{ endpoints: EndpointConfig[] }, EndpointHealth[], void>('pairforge/endpointHealth');

export interface SampleParams {
  uri: string;
  /** Targets to sample; absent = every target of the document. */
  targetIds?: number[];
  endpoints: EndpointConfig[];
  params: SamplingParams;
  /** Run the new samples' tests right after sampling (the client sends false when untrusted). */
  runTests: boolean;
  workDoneToken?: string | number;
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
export const SampleRequest = new RequestType<SampleParams, SampleSummary, void>('pairforge/sample');

export interface SampleView {
  id: number;
  index: number;
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
export const BlockSamplesRequest = new RequestType<{ uri: string }, TargetSamples[], void>('pairforge/blockSamples');

/** Full program text of a stored candidate, for read-only views and diffs. */
export interface CandidateTextParams {
  kind: 'sample' | 'target' | 'pair-chosen' | 'pair-rejected';
  id: number;
}
export const CandidateTextRequest = new RequestType<CandidateTextParams, { text: string }, void>('pairforge/candidateText');

export interface CutTargetsResult {
  preset: string;
  cut: number;
  targets: number;
  cancelled: boolean;
}
/** Cuts the project's solutions not yet cut under the current preset (resumable, idempotent). */
export const CutTargetsRequest = new RequestType<{ workDoneToken?: string | number }, CutTargetsResult, void>('pairforge/cutTargets');

// ---- pairs -----------------------------------------------------------------------------------

export type PairStatus = 'pending' | 'accepted' | 'rejected' | 'flagged';
export const PAIR_STATUSES: readonly PairStatus[] = ['pending', 'accepted', 'rejected', 'flagged'];
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
export const PairsTreeRequest = new RequestType<{ parent?: string }, PairNode[], void>('pairforge/pairsTree');
export interface SetPairStatusParams {
  pairIds: number[];
  status: PairStatus;
  note?: string;
}
export const SetPairStatusRequest = new RequestType<SetPairStatusParams, { updated: number }, void>('pairforge/setPairStatus');
