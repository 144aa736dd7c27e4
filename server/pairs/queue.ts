// The review queue: pairs filtered, searched and sorted in SQL, one page at a time, so a project
// of 100k pairs is never loaded whole. Per-pair rewards belong to the scoring stage, which passes
// its margin as a join (ScoreJoin) when the queue is filtered or sorted by it.
import type { PairQueueQuery, PairQueueRow, PairCounts, PairFlag, PairStatus } from '../protocol';
import { PAIR_FLAGS, PAIR_STATUSES } from '../protocol';
import { sampleOfJobSql } from '../sampling/queries';
import type { Project } from '../store/db';

/** How the scoring stage adds a margin to the queue: a LEFT JOIN on `p` (the pairs row) and the
 * SQL expression of the margin (NULL for a pair without a score in the run). */
export interface ScoreJoin {
  join: string;
  params: (string | number)[];
  margin: string;
}

/** A condition a later stage adds on the pairs row `p` (e.g. the pairs of one export:
 * server/export/store.ts exportedPairsFilter), with its bound values. */
export interface QueueFilter {
  sql: string;
  params: (string | number)[];
}

/** The rejected side's verdict, from the provenance the pairing run wrote (a FIM pair lists its
 * rejected samples' verdicts, a history pair its rejected version's). */
const REJECTED_VERDICT = `COALESCE(json_extract(p.provenance, '$.rejected.verdict'), json_extract(p.provenance, '$.rejected.verdicts[0]'))`;

/** A search text as an FTS5 query: every word must occur, as a word or a word prefix. Quotes and
 * operators in the text are words, never syntax. */
export function searchQuery(text: string): string | undefined {
  const words = text.match(/[\p{L}\p{N}_]+/gu);
  if (!words) return undefined;
  return words.map((w) => `"${w}"*`).join(' AND ');
}

interface Where {
  sql: string;
  params: (string | number)[];
}

function whereOf(q: PairQueueQuery, score: ScoreJoin | undefined, only?: QueueFilter): Where {
  const parts: string[] = [];
  const params: (string | number)[] = [];
  if (only) {
    parts.push(`(${only.sql})`);
    params.push(...only.params);
  }
  const inList = (expr: string, values: readonly (string | number)[] | undefined) => {
    if (!values || values.length === 0) return;
    parts.push(`${expr} IN (${values.map(() => '?').join(',')})`);
    params.push(...values);
  };
  inList('p.kind', q.kinds);
  inList('p.block_kind', q.blockKinds);
  inList('p.depth', q.depths);
  inList('p.status', q.statuses);
  inList(REJECTED_VERDICT, q.rejectedVerdicts);
  if (q.rejectedSampleJob) {
    // A FIM pair's rejected side lists the samples it was (provenance.rejected.samples, written
    // by server/pairs/build.ts); history pairs have none, so never match.
    parts.push(`EXISTS (SELECT 1 FROM json_each(p.provenance, '$.rejected.samples') j WHERE ${sampleOfJobSql('j.value', '?', '?')})`);
    params.push(q.rejectedSampleJob.jobId, q.rejectedSampleJob.model);
  }
  if (q.flags === 'none') parts.push(`p.flags = '[]'`);
  else if (q.flags === 'any') parts.push(`p.flags <> '[]'`);
  else if (Array.isArray(q.flags) && q.flags.length > 0) {
    const known = q.flags.filter((f): f is PairFlag => (PAIR_FLAGS as readonly string[]).includes(f));
    parts.push(`EXISTS (SELECT 1 FROM json_each(p.flags) WHERE value IN (${known.map(() => '?').join(',') || "''"}))`);
    params.push(...known);
  }
  if (q.pairIds && q.pairIds.length > 0) inList('p.id', q.pairIds);
  if (q.reviewedOn !== undefined) {
    // A day's decisions as the dashboard counts them (server/pairs/aggregates.ts reviewProgress):
    // statuses set and not undone, their UTC timestamps in [day, day + '~') (a range of the index).
    if (!/^\d{4}-\d{2}-\d{2}$/.test(q.reviewedOn)) parts.push('0');
    else {
      parts.push(`p.id IN (SELECT r.pair_id FROM pair_reviews r WHERE r.undone_at IS NULL AND r.action = 'status' AND r.at >= ? AND r.at < ?)`);
      params.push(q.reviewedOn, `${q.reviewedOn}~`);
    }
  }
  const search = q.search ? searchQuery(q.search) : undefined;
  if (q.search && !search) parts.push('0');
  if (search) {
    parts.push('p.id IN (SELECT rowid FROM pairs_search WHERE pairs_search MATCH ?)');
    params.push(search);
  }
  if (score && (q.marginMin !== undefined || q.marginMax !== undefined)) {
    if (q.marginMin !== undefined) {
      parts.push(`${score.margin} >= ?`);
      params.push(q.marginMin);
    }
    if (q.marginMax !== undefined) {
      parts.push(`${score.margin} <= ?`);
      params.push(q.marginMax);
    }
  }
  return { sql: parts.length ? `WHERE ${parts.join(' AND ')}` : '', params };
}

function orderOf(q: PairQueueQuery, score: ScoreJoin | undefined): string {
  const dir = q.descending ? 'DESC' : 'ASC';
  switch (q.sort) {
    case 'edit_distance':
      return `ORDER BY p.edit_distance IS NULL, p.edit_distance ${dir}, p.id`;
    case 'margin':
      // Lowest margin first: the pairs the policy still prefers the rejected side of; unscored last.
      return score ? `ORDER BY ${score.margin} IS NULL, ${score.margin} ${dir}, p.id` : `ORDER BY p.id ${dir}`;
    default:
      return `ORDER BY p.id ${dir}`;
  }
}

function needsScore(q: PairQueueQuery): boolean {
  return q.sort === 'margin' || q.marginMin !== undefined || q.marginMax !== undefined;
}

/** One page of the queue, with how many pairs match in all. */
export function queuePage(p: Project, q: PairQueueQuery, offset: number, limit: number, score?: ScoreJoin, only?: QueueFilter): { total: number; rows: PairQueueRow[] } {
  // With a scoring run the rows carry its margin; the count needs the join only to filter by it.
  const s = score;
  const w = whereOf(q, s, only);
  const join = s ? s.join : '';
  const joinParams = s ? s.params : [];
  const countJoin = s && needsScore(q);
  const total = p.db.prepare<unknown[], { n: number }>(`SELECT COUNT(*) AS n FROM pairs p ${countJoin ? join : ''} ${w.sql}`).get(...(countJoin ? joinParams : []), ...w.params)!.n;
  const rows = p.db
    .prepare<unknown[], { id: number; status: PairStatus; kind: PairQueueRow['kind']; mode: PairQueueRow['mode']; block_kind: string | null; depth: number | null; edit_distance: number | null; flags: string; problem_id: number; rejected_head: string; rejected_verdict: string | null; margin: number | null; note: string | null }>(
      `SELECT p.id, p.status, p.kind, p.mode, p.block_kind, p.depth, p.edit_distance, p.flags, p.problem_id, substr(p.rejected, 1, 200) AS rejected_head,
              ${REJECTED_VERDICT} AS rejected_verdict, ${s ? s.margin : 'NULL'} AS margin, p.note
       FROM pairs p ${join} ${w.sql} ${orderOf(q, s)} LIMIT ? OFFSET ?`,
    )
    .all(...joinParams, ...w.params, limit, offset);
  return {
    total,
    rows: rows.map((r) => ({
      pairId: r.id,
      status: r.status,
      kind: r.kind,
      mode: r.mode,
      blockKind: r.block_kind,
      depth: r.depth,
      editDistance: r.edit_distance,
      flags: JSON.parse(r.flags) as PairFlag[],
      problemId: r.problem_id,
      problem: '',
      rejectedLine: firstCodeLine(r.rejected_head),
      rejectedVerdict: r.rejected_verdict,
      margin: r.margin,
      note: r.note,
    })),
  };
}

/** How many pairs of the filtered queue have each status. */
export function queueCounts(p: Project, q: PairQueueQuery, score?: ScoreJoin, only?: QueueFilter): PairCounts {
  const w = whereOf(q, score, only);
  const join = score && needsScore(q) ? score.join : '';
  const rows = p.db
    .prepare<unknown[], { status: PairStatus; n: number }>(`SELECT p.status, COUNT(*) AS n FROM pairs p ${join} ${w.sql} GROUP BY p.status`)
    .all(...(join ? score!.params : []), ...w.params);
  const out = Object.fromEntries(PAIR_STATUSES.map((s) => [s, 0])) as PairCounts;
  for (const r of rows) out[r.status] = r.n;
  return out;
}

/** The first position (0-based) in the queue's order of a row matching `cond` (over `id` and
 * `status`), or -1: one window over the queue's order in SQL, no rows read in between. */
function firstPosition(p: Project, q: PairQueueQuery, cond: string, condParams: unknown[], score?: ScoreJoin, only?: QueueFilter): number {
  const w = whereOf(q, score, only);
  const join = score ? score.join : '';
  const row = p.db
    .prepare<unknown[], { rn: number }>(
      `SELECT rn FROM (SELECT p.id AS id, p.status AS status, ROW_NUMBER() OVER (${orderOf(q, score)}) - 1 AS rn FROM pairs p ${join} ${w.sql})
       WHERE ${cond} ORDER BY rn LIMIT 1`,
    )
    .get(...(score ? score.params : []), ...w.params, ...condParams);
  return row ? row.rn : -1;
}

/** The position of a pair in the queue (0-based), or -1 when the filters leave it out. */
export function queueIndexOf(p: Project, q: PairQueueQuery, pairId: number, score?: ScoreJoin, only?: QueueFilter): number {
  return firstPosition(p, q, 'id = ?', [pairId], score, only);
}

/** The position (0-based) of the first pair after position `after` in the queue whose status is
 * `status`, or -1: the room's "next pending" without reading the rows in between. */
export function queueNextIndex(p: Project, q: PairQueueQuery, after: number, status: PairStatus, score?: ScoreJoin, only?: QueueFilter): number {
  return firstPosition(p, q, 'rn > ? AND status = ?', [after, status], score, only);
}

/** The first line of a side that is not blank, for list rows. */
function firstCodeLine(s: string): string {
  return s.split('\n').find((l) => l.trim() !== '')?.trim() ?? '';
}
