// The items behind a dashboard mark that has no pairs (docs/dashboard.md): the problems, reference
// solutions, targets or samples it counts, each with a label and what opens it. Each stage lists its
// own rows (server/<stage>/queries.ts); this names them as the Datasets view does and links them.
import { referencesByVerdict, referenceVerdicts, type ReferenceVerdict } from '../exec/queries';
import { countReferences, problemList, referencePage } from '../import/queries';
import type { Comparator, DashboardItem, DashboardItemsQuery, DashboardItemsResult } from '../protocol';
import { sampleList, targetsWithSamples } from '../sampling/queries';
import type { Project } from '../store/db';
import { targetList, targetsByIds, type ProblemTarget } from '../targets/queries';
import { referenceLabels } from './data';

/** The most items one request returns. */
export const ITEMS_LIMIT = 1000;

const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;

function verdictText(v: ReferenceVerdict | undefined): string {
  return v ? `${v.verdict} (${v.testsRun}/${v.testsTotal} tests)` : 'not run';
}

export function dashboardItems(p: Project, query: DashboardItemsQuery, comparator: Comparator, limit: number): DashboardItemsResult {
  const n = Math.max(0, Math.min(ITEMS_LIMIT, Math.floor(limit)));
  switch (query.what) {
    case 'problems': {
      const r = problemList(p, n);
      const labels = referenceLabels(p, r.items.flatMap((x) => (x.program ? [x.program] : [])));
      return {
        total: r.total,
        items: r.items.map((x): DashboardItem => {
          const uri = x.program ? labels.get(`${x.program.kind}:${x.program.id}`)?.uri : undefined;
          return { label: `${x.dataset}/${x.externalId}`, description: plural(x.solutions, 'reference solution'), ...(uri ? { open: { kind: 'document', uri } } : {}) };
        }),
      };
    }
    case 'references': {
      let total: number;
      let rows: { id: number; verdict?: ReferenceVerdict }[];
      if (query.tests) {
        const r = referencesByVerdict(p, comparator, query.tests, n);
        total = r.total;
        rows = r.items.map((v) => ({ id: v.id, verdict: v }));
      } else {
        total = countReferences(p, 'solution');
        const ids = referencePage(p, 'solution', 0, n).map((x) => x.id);
        const verdicts = referenceVerdicts(p, comparator, ids);
        rows = ids.map((id) => ({ id, verdict: verdicts.get(id) }));
      }
      const labels = referenceLabels(p, rows.map((r) => ({ kind: 'solution' as const, id: r.id })));
      return {
        total,
        items: rows.map((r): DashboardItem => {
          const info = labels.get(`solution:${r.id}`);
          return { label: info?.label ?? `solution ${r.id}`, description: verdictText(r.verdict), ...(info ? { open: { kind: 'document', uri: info.uri } } : {}) };
        }),
      };
    }
    case 'targets': {
      let total: number;
      let targets: ProblemTarget[];
      if (query.samples !== undefined) {
        const r = targetsWithSamples(p, query.samples, n);
        total = r.total;
        const byId = targetsByIds(p, r.ids);
        targets = r.ids.flatMap((id) => (byId.has(id) ? [byId.get(id)!] : []));
      } else {
        ({ total, items: targets } = targetList(p, n));
      }
      const owner = (t: ProblemTarget) => (t.solution_id !== null ? { kind: 'solution' as const, id: t.solution_id } : { kind: 'version' as const, id: t.version_id! });
      const labels = referenceLabels(p, targets.map(owner));
      return {
        total,
        items: targets.map((t): DashboardItem => {
          const o = owner(t);
          const info = labels.get(`${o.kind}:${o.id}`);
          const lines = `lines ${t.start_line + 1}-${t.end_line + 1}`;
          return {
            label: `target ${t.id}: ${t.kind}, depth ${t.depth}`,
            description: `${info?.label ?? `${o.kind} ${o.id}`}, ${lines}`,
            ...(info ? { open: { kind: 'document', uri: info.uri } } : {}),
          };
        }),
      };
    }
    case 'samples': {
      const r = sampleList(p, { jobId: query.jobId, model: query.model, verdict: query.verdict }, comparator, n);
      return {
        total: r.total,
        items: r.items.map((s): DashboardItem => ({
          label: `sample ${s.id} (target ${s.targetId} #${s.ordinal}, job ${s.jobId})`,
          description: `${s.model} · ${s.verdict ?? 'not run'}`,
          open: { kind: 'sample', targetId: s.targetId, sampleId: s.id, ordinal: s.ordinal },
        })),
      };
    }
  }
}
