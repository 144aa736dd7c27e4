// The review room's message contract between the extension (host) and its webview. It imports
// nothing else of ours: the shapes here are what the room shows, and the extension's engine
// answers are checked against them by the compiler where the host passes them on
// (extension/reviewRequests.ts, for the panel in extension/review.ts). Every message is plain JSON.
//
// Requests from the webview carry an id; the host answers each with a `response` of the same id
// (result or error). Notifications go either way without an answer.

// ---- the data the room shows ------------------------------------------------------------------

export type Status = 'pending' | 'accepted' | 'rejected' | 'flagged';
export const STATUSES: readonly Status[] = ['pending', 'accepted', 'rejected', 'flagged'];
export type Counts = Record<Status, number>;
/** The block kinds a pair can have (a whole-program pair's is `program`): the toolbar's choices;
 * the engine's vocabulary (server/protocol/vocabulary.ts) says the same, checked by a test. */
export const BLOCK_KINDS: readonly string[] = ['if', 'for', 'while', 'def', 'async_def', 'with', 'try', 'class', 'program'];
/** The verdicts a rejected side can have (every verdict but pass), worst last. */
export const REJECTED_VERDICTS: readonly string[] = ['wrong_answer', 'output_limit', 'runtime_error', 'memory_limit', 'timeout', 'compile_error'];
export type SpanRange = [number, number];

/** Filters and order of the queue (absent fields: no filter). */
export interface QueueQuery {
  kinds?: ('fim' | 'iterpref' | 'full')[];
  blockKinds?: string[];
  depths?: number[];
  statuses?: Status[];
  rejectedVerdicts?: string[];
  /** Only pairs whose rejected side is a sample of this job and model. */
  rejectedSampleJob?: { jobId: number; model: string };
  flags?: string[] | 'any' | 'none';
  search?: string;
  pairIds?: number[];
  runId?: number;
  /** Only the pairs of this export. */
  exportId?: number;
  /** Only pairs with a review decision on this day ('YYYY-MM-DD', UTC). */
  reviewedOn?: string;
  marginMin?: number;
  marginMax?: number;
  sort?: 'id' | 'edit_distance' | 'margin';
  descending?: boolean;
}

export interface QueueRow {
  pairId: number;
  status: Status;
  kind: 'fim' | 'iterpref' | 'full';
  blockKind: string | null;
  depth: number | null;
  editDistance: number | null;
  flags: string[];
  problem: string;
  rejectedLine: string;
  rejectedVerdict: string | null;
  margin: number | null;
  note: string | null;
}

export interface QueuePage {
  total: number;
  offset: number;
  rows: QueueRow[];
  counts: Counts;
  allCounts: Counts;
}

export interface TestView {
  ordinal: number;
  verdict: string;
  durationMs: number;
  input?: string;
  expected?: string;
  output?: string;
  stderrTail?: string;
  message?: string;
}

export interface SideRun {
  verdict: string;
  testsRun: number;
  testsTotal: number;
  test?: TestView;
  comparator: string;
  executedAt: string;
}

export interface Candidate {
  sampleId: number;
  /** 1-based position among the target's samples, oldest job first: the number shown everywhere. */
  ordinal: number;
  verdict: string | null;
  middle: string;
  model: string;
  /** `replaced`: the chosen side until a reviewer's edit replaced it. */
  role?: 'chosen' | 'rejected' | 'replaced';
}

export interface Mark {
  start: number;
  end: number;
  kind: 'line' | 'token';
}

export interface Pair {
  pairId: number;
  mode: 'structurecoder' | 'iterpref';
  kind: 'fim' | 'iterpref' | 'full';
  status: Status;
  note: string | null;
  flags: string[];
  problem: { id: number; label: string; question: string };
  blockKind: string | null;
  depth: number | null;
  editDistance: number | null;
  pre: string;
  suf: string;
  chosen: string;
  rejected: string;
  chosenSpans: SpanRange[];
  rejectedSpans: SpanRange[];
  marks: Mark[];
  rejectedRun?: SideRun;
  chosenRun?: SideRun;
  candidates: Candidate[];
  /** The chosen side is a reviewer's edit; `isolation`: the sandbox mode its tests ran in. */
  edit?: { id: number; reviewer: string; at: string; replaced: string; replacedSamples: number[]; verdict: string | null; isolation: string | null };
}

/** One scored token of a side: [start, end) in the side's response text (JS string offsets). */
export interface ScoredToken {
  text: string;
  start: number;
  end: number;
  logpPolicy: number;
  logpRef: number;
  reward: number;
  inLoss: boolean;
  /** Top alternatives under the policy, when stored. */
  top?: { text: string; logp: number }[];
}

export interface SideRewards {
  tokens: ScoredToken[];
  rewardSum: number;
  maskedRewardSum: number;
  /** Why this side has no scores in the run. */
  skipped?: string;
}

export interface Rewards {
  pairId: number;
  runId: number;
  beta: number;
  /** null when a side was not scored (its `skipped` says why). */
  margin: number | null;
  prefersChosen: boolean | null;
  chosen: SideRewards;
  rejected: SideRewards;
}

export interface ScoringRun {
  id: number;
  label: string;
  beta: number;
  createdAt: string;
  scoredPairs: number;
}

export interface EditResult {
  verdict: string;
  testsTotal: number;
  tests: TestView[];
  isolation: string;
}

export type HeatmapMode = 'reward' | 'policy' | 'reference' | 'mask' | 'off';
export const HEATMAP_MODES: readonly HeatmapMode[] = ['reward', 'policy', 'reference', 'mask', 'off'];

/** What the room remembers across reloads (the panel serializer hands it back). */
export interface RoomState {
  query: QueueQuery;
  /** The pair on screen and its index in the queue. */
  pairId?: number;
  index: number;
  heatmap: HeatmapMode;
  /** A second scoring run to compare with (heatmap of the change between the two). */
  compareRunId?: number;
  questionOpen: boolean;
}

// ---- requests from the webview (answered by the host) -------------------------------------------

export interface Requests {
  queuePage: { params: { query: QueueQuery; offset: number; limit: number }; result: QueuePage };
  /** The position of a pair in the queue under a query; -1 when the query leaves it out. */
  queueIndex: { params: { query: QueueQuery; pairId: number }; result: { index: number } };
  /** The position of the first pair after `after` with that status; -1 when none. */
  queueNext: { params: { query: QueueQuery; after: number; status: Status }; result: { index: number } };
  pair: { params: { pairId: number }; result: Pair };
  decide: { params: { pairIds: number[]; status: Status; note?: string }; result: { updated: number } };
  undo: { params: Record<string, never>; result: { pairs: { pairId: number; status: Status }[]; action: 'status' | 'edit' } | null };
  runTests: { params: { pairId: number; chosen: string }; result: EditResult };
  saveEdit: { params: { pairId: number; chosen: string }; result: Pair };
  scoringRuns: { params: Record<string, never>; result: ScoringRun[] };
  rewards: { params: { pairId: number; runId: number }; result: Rewards | null };
  /** Asks the host to run the editor's Score Pairs command on the given pairs (or all). */
  score: { params: { pairIds?: number[] }; result: { started: boolean } };
  /** Asks the host to run Send to Training (the accepted pairs, with the last settings). */
  sendToTraining: { params: Record<string, never>; result: { started: boolean } };
}
export type Method = keyof Requests;

export type FromWebview =
  | { type: 'ready' }
  | { type: 'request'; id: number; method: Method; params: unknown }
  /** The room's state changed (the host keeps it for "open at" and for tests). */
  | { type: 'state'; state: RoomState };

// ---- messages to the webview ------------------------------------------------------------------

export type ToWebview =
  /** `query`: open on these filters (the dashboard's marks), instead of the remembered ones. */
  | { type: 'init'; state?: RoomState; focusPairId?: number; query?: QueueQuery; trusted: boolean }
  | { type: 'response'; id: number; result?: unknown; error?: string }
  /** Show this pair (the Pairs view opened it). */
  | { type: 'focusPair'; pairId: number }
  /** Show the queue with these filters, from its first pair (a dashboard mark was clicked). */
  | { type: 'setQuery'; query: QueueQuery }
  /** The project changed outside the room (pairs built, statuses set elsewhere): reload. */
  | { type: 'refresh' };

/** Sends typed requests over a message channel and matches the responses by id. */
export class RequestClient {
  private next = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  constructor(private readonly post: (m: FromWebview) => void) {}

  request<M extends Method>(method: M, params: Requests[M]['params']): Promise<Requests[M]['result']> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.post({ type: 'request', id, method, params });
    });
  }

  /** Feeds a `response` message; returns false for messages of other types. */
  handle(m: ToWebview): boolean {
    if (m.type !== 'response') return false;
    const p = this.pending.get(m.id);
    if (!p) return true;
    this.pending.delete(m.id);
    if (m.error !== undefined) p.reject(new Error(m.error));
    else p.resolve(m.result);
    return true;
  }
}

// ---- the training metrics panel (extension/metricsPanel.ts <-> webview/metrics/) --------------

/** The run the panel shows. */
export interface MetricsRun {
  id: number;
  name: string;
  host: string;
  status: string;
  trainerState: string | null;
  step: number | null;
  maxSteps: number | null;
  pairs: number | null;
  exitCode: number | null;
  message: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  /** The scoring run of its held-out per-token results. */
  scoreRunId: number | null;
}

/** One metrics line of the trainer: TRL's names (loss, rewards/chosen, ...), step, epoch, time. */
export type MetricRow = Record<string, number | null>;

/** What the panel remembers across reloads (its serializer hands it back). */
export interface MetricsState {
  runId: number;
}

export type ToMetrics =
  | { type: 'metrics'; run: MetricsRun; rows: MetricRow[] }
  | { type: 'error'; message: string };

export type FromMetrics = { type: 'ready' };
