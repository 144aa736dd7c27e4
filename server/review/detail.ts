// Everything the review room shows of one pair, gathered from the stages that own it: the pair and
// its marks (pairs), the problem (import), the runs that judged each side (exec), the other
// candidates of the same target (sampling).
import { executionById, latestVerdicts, type StoredExecution } from '../exec/store';
import { problemInfo } from '../import/browse';
import { rejectedMarks } from '../pairs/critical';
import { getPair, type PairRecord } from '../pairs/store';
import { ISOLATIONS, type CandidateView, type Comparator, type PairDetail, type SideRun } from '../protocol';
import { samplesOfTarget } from '../sampling/documentSamples';
import type { Project } from '../store/db';

/** The execution ids the pairing run recorded for a side: a FIM pair lists its samples'
 * executions, a history pair its version's execution. */
function executionsOf(provenance: Record<string, unknown>, side: 'chosen' | 'rejected'): number[] {
  const s = provenance[side] as { executions?: unknown; execution?: unknown } | undefined;
  if (!s) return [];
  if (Array.isArray(s.executions)) return s.executions.filter((x): x is number => Number.isInteger(x));
  return Number.isInteger(s.execution) ? [s.execution as number] : [];
}

function samplesOf(provenance: Record<string, unknown>, side: 'chosen' | 'rejected'): number[] {
  const s = provenance[side] as { samples?: unknown } | undefined;
  return s && Array.isArray(s.samples) ? s.samples.filter((x): x is number => Number.isInteger(x)) : [];
}

export function sideRun(e: StoredExecution): SideRun {
  const failing = e.details.find((t) => t.verdict !== 'pass') ?? e.details[0];
  return { verdict: e.verdict, testsRun: e.testsRun, testsTotal: e.testsTotal, ...(failing ? { test: failing } : {}), comparator: e.comparator, executedAt: e.executedAt };
}

function run(p: Project, pair: PairRecord, side: 'chosen' | 'rejected'): SideRun | undefined {
  const id = executionsOf(pair.provenance, side)[0];
  const e = id === undefined ? undefined : executionById(p, id);
  return e ? sideRun(e) : undefined;
}

/** The role of each sample in the pair: its chosen side's samples are `replaced` once a reviewer's
 * edit is the chosen side (the pairing's provenance.chosen still names them). */
function candidates(p: Project, pair: PairRecord, comparator: Comparator, edited: boolean): CandidateView[] {
  if (pair.targetId === null) return [];
  const rows = samplesOfTarget(p, pair.targetId);
  const verdicts = latestVerdicts(p, 'sample', rows.map((r) => r.id), comparator);
  const chosen = new Set(samplesOf(pair.provenance, 'chosen'));
  const rejected = new Set(samplesOf(pair.provenance, 'rejected'));
  const chosenRole = edited ? ('replaced' as const) : ('chosen' as const);
  return rows.map((r, i) => ({
    sampleId: r.id,
    ordinal: i + 1,
    verdict: verdicts.get(r.id) ?? null,
    middle: r.middle,
    model: r.model,
    ...(chosen.has(r.id) ? { role: chosenRole } : rejected.has(r.id) ? { role: 'rejected' as const } : {}),
  }));
}

/** provenance.reviewerEdit as the room shows it; an edit saved by an older engine lacks the
 * replaced samples and the isolation mode. */
function editOf(provenance: Record<string, unknown>): PairDetail['edit'] {
  const e = provenance.reviewerEdit as Partial<NonNullable<PairDetail['edit']>> | undefined;
  if (!e) return undefined;
  return {
    id: e.id ?? 0,
    reviewer: e.reviewer ?? 'unknown',
    at: e.at ?? '',
    replaced: e.replaced ?? '',
    replacedSamples: Array.isArray(e.replacedSamples) ? e.replacedSamples.filter((x) => Number.isInteger(x)) : [],
    verdict: e.verdict ?? null,
    isolation: e.isolation && (ISOLATIONS as readonly string[]).includes(e.isolation) ? e.isolation : null,
  };
}

export function pairDetail(p: Project, pairId: number): PairDetail {
  const pair = getPair(p, pairId);
  if (!pair) throw new Error(`no pair ${pairId} in ${p.file}`);
  const problem = problemInfo(p, [pair.problemId]).get(pair.problemId) ?? { label: `problem ${pair.problemId}`, question: '' };
  const comparator = ((pair.provenance.pairing as { comparator?: Comparator } | undefined)?.comparator ?? 'strict') as Comparator;
  const edit = editOf(pair.provenance);
  const rejectedRun = run(p, pair, 'rejected');
  const chosenRun = edit ? undefined : run(p, pair, 'chosen');
  return {
    pairId: pair.id,
    pairKey: pair.pairKey,
    mode: pair.mode,
    kind: pair.kind,
    status: pair.status,
    note: pair.note,
    flags: pair.flags,
    problem: { id: pair.problemId, ...problem },
    blockKind: pair.blockKind,
    depth: pair.depth,
    editDistance: pair.editDistance,
    pre: pair.pre,
    suf: pair.suf,
    chosen: pair.chosen,
    rejected: pair.rejected,
    chosenSpans: pair.chosenSpans,
    rejectedSpans: pair.rejectedSpans,
    marks: rejectedMarks(pair.chosen, pair.rejected),
    ...(rejectedRun ? { rejectedRun } : {}),
    ...(chosenRun ? { chosenRun } : {}),
    candidates: candidates(p, pair, comparator, edit !== undefined),
    ...(edit ? { edit } : {}),
  };
}
