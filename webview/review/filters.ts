// The queue's filters that the toolbar's controls do not show (a dashboard mark can set any of
// them), as one line of text for the room's filter chip. Pure.
import type { QueueQuery } from '../contract';

export function hiddenFilters(q: QueueQuery): string[] {
  const out: string[] = [];
  const list = (name: string, values: readonly (string | number)[] | undefined, shownAlone: boolean) => {
    // A single status / kind is what the toolbar's select shows; more than one is not.
    if (values && values.length > 0 && !(shownAlone && values.length === 1)) out.push(`${name} ${values.join(', ')}`);
  };
  list('kind', q.kinds, true);
  list('status', q.statuses, true);
  list('block', q.blockKinds, true);
  list('depth', q.depths, true);
  list('rejected verdict', q.rejectedVerdicts, true);
  if (Array.isArray(q.flags) && q.flags.length > 0) out.push(`flag ${q.flags.join(', ')}`);
  if (q.pairIds && q.pairIds.length > 0) out.push(q.pairIds.length === 1 ? `pair ${q.pairIds[0]}` : `${q.pairIds.length} chosen pairs`);
  if (q.exportId !== undefined) out.push(`export ${q.exportId}`);
  if (q.rejectedSampleJob) out.push(`rejected from job ${q.rejectedSampleJob.jobId} · ${q.rejectedSampleJob.model}`);
  if (q.reviewedOn !== undefined) out.push(`reviewed on ${q.reviewedOn}`);
  return out;
}

/** The query without the filters hiddenFilters lists (sort, run, search and the toolbar's single
 * status / kind / flag choice stay). */
export function withoutHiddenFilters(q: QueueQuery): QueueQuery {
  const keep: QueueQuery = {};
  if (q.search) keep.search = q.search;
  if (q.sort) keep.sort = q.sort;
  if (q.descending) keep.descending = q.descending;
  if (q.runId !== undefined) keep.runId = q.runId;
  if (q.statuses?.length === 1) keep.statuses = q.statuses;
  if (q.kinds?.length === 1) keep.kinds = q.kinds;
  if (typeof q.flags === 'string') keep.flags = q.flags;
  if (q.blockKinds?.length === 1) keep.blockKinds = q.blockKinds;
  if (q.depths?.length === 1) keep.depths = q.depths;
  if (q.rejectedVerdicts?.length === 1) keep.rejectedVerdicts = q.rejectedVerdicts;
  if (q.marginMin !== undefined) keep.marginMin = q.marginMin;
  if (q.marginMax !== undefined) keep.marginMax = q.marginMax;
  return keep;
}
