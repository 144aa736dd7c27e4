// Every figure of the dashboard and of `pairforge report` (docs/dashboard.md), put together from
// the stages that own the rows: each stage sums up its own tables (server/<stage>/aggregates.ts),
// and this only lays the numbers side by side, labels them and picks what links them (the funnel,
// the before/after-training overlay).
import { failingReferences, flakyCandidates, referenceCounts } from '../exec/aggregates';
import { listExports } from '../export/store';
import { importCounts, storeUri } from '../import/browse';
import { problemsById, referencePlaces } from '../import/queries';
import { pairGroupCounts, reviewProgress } from '../pairs/aggregates';
import type { Comparator, DashboardData, FlakyCandidateView, FunnelStep, ReferenceKind } from '../protocol';
import { sampleGroups, sampleJobs, samplesPerTarget, sampleRefs } from '../sampling/aggregates';
import { marginHistograms } from '../scoring/aggregates';
import type { Project } from '../store/db';
import { targetCount } from '../targets/queries';
import { trainingSummaries } from '../training/store';

/** Items listed of the failing references and of the flaky candidates (the totals are exact). */
export const LIST_LIMIT = 200;

export interface DashboardOptions {
  /** Whose verdicts count: the comparator the editor or the command line runs tests with. */
  comparator: Comparator;
  listLimit?: number;
  /** The clock, for tests. */
  now?: () => Date;
}

/** Reference solutions and history versions by kind and id: how the Datasets view names them
 * (`dataset/problem solution N`, `dataset/problem history N vK`) and the URI that opens them. */
export function referenceLabels(p: Project, refs: readonly { kind: ReferenceKind; id: number }[]): Map<string, { label: string; uri: string }> {
  const out = new Map<string, { label: string; uri: string }>();
  for (const kind of ['solution', 'version'] as const) {
    const places = referencePlaces(p, kind, refs.filter((r) => r.kind === kind).map((r) => r.id));
    const problems = problemsById(p, [...places.values()].map((x) => x.problemId));
    for (const [id, place] of places) {
      const pr = problems.get(place.problemId);
      if (!pr) continue;
      const name = `${pr.dataset}/${pr.externalId}`;
      const history = (place.historyOrdinal ?? 0) + 1;
      out.set(
        `${kind}:${id}`,
        kind === 'solution'
          ? { label: `${name} solution ${place.ordinal + 1}`, uri: storeUri(pr.dataset, pr.externalId, { solution: place.ordinal + 1, solutionId: id }) }
          : { label: `${name} history ${history} v${place.ordinal + 1}`, uri: storeUri(pr.dataset, pr.externalId, { history, version: place.ordinal + 1, versionId: id }) },
      );
    }
  }
  return out;
}

export function dashboardData(p: Project, opts: DashboardOptions): DashboardData {
  const started = performance.now();
  const limit = opts.listLimit ?? LIST_LIMIT;
  const counts = importCounts(p);
  const refs = referenceCounts(p, opts.comparator);
  const groups = sampleGroups(p, opts.comparator);
  const targets = targetCount(p);
  const perTarget = samplesPerTarget(p);
  const withSamples = perTarget.reduce((n, r) => n + r.targets, 0);
  const pairGroups = pairGroupCounts(p);
  const margins = marginHistograms(p);
  const exports = listExports(p);
  const training = trainingSummaries(p);

  const samples = groups.reduce((n, g) => n + g.samples, 0);
  const verdicts = groups.reduce((n, g) => n + Object.values(g.verdicts).reduce((a, b) => a + (b ?? 0), 0), 0);
  const pairs = pairGroups.reduce((n, g) => n + g.count, 0);
  const accepted = pairGroups.filter((g) => g.status === 'accepted').reduce((n, g) => n + g.count, 0);
  const newestExport = exports[0];
  const trained = training.find((t) => t.status === 'succeeded') ?? training[0];
  const funnel: FunnelStep[] = [
    { key: 'problems', count: counts.problems },
    { key: 'references', count: refs.passing, of: counts.solutions, note: `${refs.checked} of ${counts.solutions} reference solutions checked (${opts.comparator})` },
    { key: 'targets', count: targets },
    { key: 'samples', count: samples },
    { key: 'verdicts', count: verdicts, of: samples, note: `samples with a verdict (${opts.comparator})` },
    { key: 'pairs', count: pairs },
    { key: 'accepted', count: accepted, of: pairs },
    newestExport
      ? { key: 'exported', count: newestExport.pairs, note: `export ${newestExport.id} (${newestExport.format}) to ${newestExport.dir}` }
      : { key: 'exported', count: null, note: 'nothing exported yet' },
    trained
      ? { key: 'trained', count: trained.pairs, note: `${trained.label} (${trained.status})` }
      : { key: 'trained', count: null, note: 'no training run recorded' },
  ];

  // The overlay compares a training run's held-out scores before and after, when one has both.
  const compared = training.find((t) => t.beforeRunId !== null && t.afterRunId !== null);
  if (compared && margins.runs.some((r) => r.runId === compared.beforeRunId) && margins.runs.some((r) => r.runId === compared.afterRunId)) {
    margins.before = compared.beforeRunId!;
    margins.after = compared.afterRunId!;
  }

  const failing = failingReferences(p, opts.comparator, limit);
  const flaky = flakyCandidates(p, opts.comparator, limit);
  const refLabels = referenceLabels(p, [...failing.items, ...flaky.items.filter((f): f is typeof f & { kind: 'solution' | 'version' } => f.kind !== 'sample')]);
  const sampleLabels = sampleRefs(p, flaky.items.filter((f) => f.kind === 'sample').map((f) => f.id));

  const data: DashboardData = {
    project: p.file,
    generatedAt: (opts.now?.() ?? new Date()).toISOString(),
    computeMs: 0,
    comparator: opts.comparator,
    funnel,
    jobs: sampleJobs(p),
    sampleGroups: groups,
    samplesPerTarget: targets > withSamples ? [{ samples: 0, targets: targets - withSamples }, ...perTarget] : perTarget,
    pairGroups,
    review: reviewProgress(p),
    margins,
    failingReferences: {
      total: failing.total,
      items: failing.items.map((f) => {
        const info = refLabels.get(`${f.kind}:${f.id}`);
        return { kind: f.kind, id: f.id, label: info?.label ?? `${f.kind} ${f.id}`, verdict: f.verdict, testsRun: f.testsRun, testsTotal: f.testsTotal, uri: info?.uri ?? '' };
      }),
    },
    flaky: {
      total: flaky.total,
      items: flaky.items.map((f): FlakyCandidateView => {
        if (f.kind === 'sample') {
          const s = sampleLabels.get(f.id);
          return { kind: f.kind, id: f.id, label: s ? `sample ${f.id} (target ${s.targetId} #${s.ordinal}, job ${s.jobId})` : `sample ${f.id}`, verdicts: f.verdicts, ...(s ? { sample: { targetId: s.targetId, ordinal: s.ordinal } } : {}) };
        }
        const info = refLabels.get(`${f.kind}:${f.id}`);
        return { kind: f.kind, id: f.id, label: info?.label ?? `${f.kind} ${f.id}`, verdicts: f.verdicts, ...(info ? { uri: info.uri } : {}) };
      }),
    },
    exports,
    training,
  };
  data.computeMs = Math.round((performance.now() - started) * 10) / 10;
  return data;
}
