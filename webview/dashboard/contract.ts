// The dashboard's contract: the figures it draws (the same data `pairforge report` embeds in its
// HTML file) and the messages between the dashboard webview and the extension. It imports nothing
// else of ours; the extension passes the engine's answer on as `DashboardData` and a mark's
// filters on as the review room's query, so the compiler checks the shapes agree
// (extension/dashboard.ts). Every message is plain JSON.

// ---- the figures ------------------------------------------------------------------------------

export type FunnelKey = 'problems' | 'references' | 'targets' | 'samples' | 'verdicts' | 'pairs' | 'accepted' | 'exported' | 'trained';

export interface FunnelStep {
  key: FunnelKey;
  count: number | null;
  of?: number;
  note?: string;
}

export interface SampleGroup {
  jobId: number;
  model: string;
  kind: string;
  depth: number;
  samples: number;
  verdicts: Partial<Record<string, number>>;
}

export interface SampleJob {
  id: number;
  family: string;
  status: string;
  createdAt: string;
}

export interface PairGroup {
  kind: 'fim' | 'iterpref' | 'full';
  blockKind: string | null;
  depth: number | null;
  status: 'pending' | 'accepted' | 'rejected' | 'flagged';
  flags: string[];
  count: number;
}

export interface ReviewDay {
  day: string;
  accepted: number;
  rejected: number;
  flagged: number;
  pending: number;
}

export interface MarginRun {
  runId: number;
  label: string;
  policyModel: string;
  referenceModel: string;
  beta: number;
  createdAt: string;
  scoredPairs: number;
  prefersChosen: number;
  meanMargin: number | null;
  counts: number[];
}

export interface MarginHistograms {
  lo: number;
  hi: number;
  width: number;
  runs: MarginRun[];
  before?: number;
  after?: number;
}

export interface FailingReference {
  kind: 'solution' | 'version';
  id: number;
  label: string;
  verdict: string;
  testsRun: number;
  testsTotal: number;
  uri: string;
}

export interface FlakyCandidate {
  kind: 'solution' | 'version' | 'sample';
  id: number;
  label: string;
  verdicts: string[];
  uri?: string;
  sample?: { targetId: number; ordinal: number };
}

export interface ExportInfo {
  id: number;
  dir: string;
  format: string;
  pairs: number;
  records: number;
  createdAt: string;
}

export interface TrainingRun {
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
  computeMs: number;
  comparator: string;
  funnel: FunnelStep[];
  jobs: SampleJob[];
  sampleGroups: SampleGroup[];
  samplesPerTarget: { samples: number; targets: number }[];
  pairGroups: PairGroup[];
  review: ReviewDay[];
  margins: MarginHistograms;
  failingReferences: { total: number; items: FailingReference[] };
  flaky: { total: number; items: FlakyCandidate[] };
  exports: ExportInfo[];
  training: TrainingRun[];
}

// ---- what a mark opens ------------------------------------------------------------------------

/** The review room's filters a mark stands for (a subset of the room's queue query). */
export interface RoomFilter {
  kinds?: ('fim' | 'iterpref' | 'full')[];
  blockKinds?: string[];
  depths?: number[];
  statuses?: ('pending' | 'accepted' | 'rejected' | 'flagged')[];
  rejectedVerdicts?: string[];
  /** Pairs whose rejected side is a sample of this job and model. */
  rejectedSampleJob?: { jobId: number; model: string };
  flags?: string[] | 'any' | 'none';
  runId?: number;
  marginMin?: number;
  marginMax?: number;
  sort?: 'id' | 'edit_distance' | 'margin';
  exportId?: number;
  /** Pairs with a review decision on this day ('YYYY-MM-DD', UTC). */
  reviewedOn?: string;
}

/** The problems, reference solutions, targets or samples a mark without pairs stands for (the
 * engine's DashboardItemsQuery). Verdicts are attempt-0 verdicts under the dashboard's comparator. */
export type ItemsQuery =
  | { what: 'problems' }
  /** Reference solutions: all, or those whose own tests pass / fail. */
  | { what: 'references'; tests?: 'pass' | 'fail' }
  /** Targets: all, or those with exactly `samples` samples. */
  | { what: 'targets'; samples?: number }
  /** Samples: of one job and model when given; with this verdict, none ('not run') or any ('run'). */
  | { what: 'samples'; jobId?: number; model?: string; verdict?: string };

export type OpenTarget =
  /** The review room with these filters. */
  | { kind: 'room'; query: RoomFilter }
  /** The Datasets view (problems, solutions, targets and samples live there). */
  | { kind: 'datasets' }
  /** A list of the items the mark counts (a quick pick in the editor), titled after the mark. */
  | { kind: 'items'; title: string; query: ItemsQuery }
  /** A stored solution or history version. */
  | { kind: 'document'; uri: string }
  /** A sample's program (the Samples view's command). */
  | { kind: 'sample'; targetId: number; sampleId: number; ordinal: number };

// ---- messages ---------------------------------------------------------------------------------

export type FromDashboard =
  | { type: 'ready' }
  /** A mark or a list row was clicked. */
  | { type: 'open'; target: OpenTarget }
  /** A chart's "PNG" / "SVG" button: the host asks where to save it. `content` is a data: URL
   * (png) or the SVG text. */
  | { type: 'save'; name: string; format: 'png' | 'svg'; content: string }
  /** Compute the figures again now. */
  | { type: 'refresh' };

export type ToDashboard =
  /** New figures (null: no project file yet, `error` says why when computing failed). */
  | { type: 'data'; data: DashboardData | null; error?: string }
  /** Where a chart was saved (or why not). */
  | { type: 'saved'; file?: string; error?: string };
