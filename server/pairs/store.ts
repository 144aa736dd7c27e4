// The `pairs` table (migration 004): idempotent writes by pair_key, filter flags, and the review
// API the editor's Pairs view calls (setPairStatus, listPairs, pairGroups, getPair).
//
// A pair_key names what a pair was made from, never its current text: a re-run that produces the
// same pair finds its row and changes nothing (not even updated_at) unless a computed field
// (spans, flags, provenance) differs, and never touches chosen/rejected, status or note.

import { historyOrdinals, problemsById } from '../import/queries';
import type { Project } from '../store/db';
import { inChunks } from '../store/inList';
import { sortFlags } from './filters';
import { PAIR_FLAGS, type PairFlag, type PairKind, type PairMode, type PairStatus, type Span } from '../protocol';
import { decide } from './review';
import { cutCodeOf } from '../targets/lineAlign';
import { targetsByIds } from '../targets/queries';

/** What a pairing run computes for one pair, before it is stored. */
export interface PairDraft {
  pairKey: string;
  mode: PairMode;
  kind: PairKind;
  problemId: number;
  targetId: number | null;
  historyId: number | null;
  pre: string;
  suf: string;
  blockKind: string | null;
  depth: number | null;
  goldenLines: number;
  chosen: string;
  rejected: string;
  chosenSpans: Span[];
  rejectedSpans: Span[];
  provenance: Record<string, unknown>;
  editDistance: number | null;
  /** Filter flags computed by this run (duplicate and stale are managed here, not by the run). */
  flags: PairFlag[];
  dupKey: string;
}

/** A stored pair as the editor and export read it: what was computed, plus the review. */
export interface PairRecord extends PairDraft {
  id: number;
  status: PairStatus;
  note: string | null;
  createdAt: string;
  updatedAt: string;
}

interface PairRowDb {
  id: number;
  pair_key: string;
  mode: PairMode;
  kind: PairKind;
  problem_id: number;
  target_id: number | null;
  history_id: number | null;
  pre: string;
  suf: string;
  block_kind: string | null;
  depth: number | null;
  golden_lines: number;
  chosen: string;
  rejected: string;
  chosen_loss_spans: string;
  rejected_loss_spans: string;
  provenance: string;
  edit_distance: number | null;
  flags: string;
  dup_key: string;
  status: PairStatus;
  note: string | null;
  created_at: string;
  updated_at: string;
}

function parseJson<T>(text: string, where: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new Error(`${where}: stored JSON does not parse: ${(e as Error).message}`);
  }
}

export function toRecord(r: PairRowDb): PairRecord {
  const where = `pairs row ${r.id}`;
  return {
    id: r.id,
    pairKey: r.pair_key,
    mode: r.mode,
    kind: r.kind,
    problemId: r.problem_id,
    targetId: r.target_id,
    historyId: r.history_id,
    pre: r.pre,
    suf: r.suf,
    blockKind: r.block_kind,
    depth: r.depth,
    goldenLines: r.golden_lines,
    chosen: r.chosen,
    rejected: r.rejected,
    chosenSpans: parseJson<Span[]>(r.chosen_loss_spans, `${where} chosen_loss_spans`),
    rejectedSpans: parseJson<Span[]>(r.rejected_loss_spans, `${where} rejected_loss_spans`),
    provenance: parseJson<Record<string, unknown>>(r.provenance, `${where} provenance`),
    editDistance: r.edit_distance,
    flags: parseJson<PairFlag[]>(r.flags, `${where} flags`),
    dupKey: r.dup_key,
    status: r.status,
    note: r.note,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export interface WriteCounts {
  inserted: number;
  updated: number;
  unchanged: number;
}

/** Flags a run does not compute: kept from the stored row when updating. */
const MANAGED: readonly PairFlag[] = ['duplicate', 'stale'];

/** Inserts new pairs and refreshes the computed fields of known ones, in one transaction. A pair
 * produced again is no longer stale. */
export function upsertPairs(p: Project, drafts: readonly PairDraft[], now = new Date().toISOString()): WriteCounts {
  const counts: WriteCounts = { inserted: 0, updated: 0, unchanged: 0 };
  const find = p.db.prepare<[string], { id: number; chosen_loss_spans: string; rejected_loss_spans: string; provenance: string; edit_distance: number | null; flags: string; dup_key: string }>(
    'SELECT id, chosen_loss_spans, rejected_loss_spans, provenance, edit_distance, flags, dup_key FROM pairs WHERE pair_key = ?',
  );
  const insert = p.db.prepare(
    `INSERT INTO pairs (pair_key, mode, kind, problem_id, target_id, history_id, pre, suf, block_kind, depth, golden_lines,
       chosen, rejected, chosen_loss_spans, rejected_loss_spans, provenance, edit_distance, flags, dup_key, created_at, updated_at)
     VALUES (@pairKey, @mode, @kind, @problemId, @targetId, @historyId, @pre, @suf, @blockKind, @depth, @goldenLines,
       @chosen, @rejected, @chosenSpans, @rejectedSpans, @provenance, @editDistance, @flags, @dupKey, @now, @now)`,
  );
  const edited = p.db.prepare<[number], { 1: number }>('SELECT 1 FROM pair_edits WHERE pair_id = ? AND undone_at IS NULL');
  const update = p.db.prepare(
    `UPDATE pairs SET chosen_loss_spans = @chosenSpans, rejected_loss_spans = @rejectedSpans, provenance = @provenance,
       edit_distance = @editDistance, flags = @flags, dup_key = @dupKey, updated_at = @now WHERE id = @id`,
  );
  p.db.transaction(() => {
    for (const d of drafts) {
      const row = find.get(d.pairKey);
      const values = {
        chosenSpans: JSON.stringify(d.chosenSpans),
        rejectedSpans: JSON.stringify(d.rejectedSpans),
        provenance: JSON.stringify(d.provenance),
        editDistance: d.editDistance,
        dupKey: d.dupKey,
        now,
      };
      if (!row) {
        insert.run({
          ...d,
          ...values,
          flags: JSON.stringify(sortFlags(d.flags, PAIR_FLAGS)),
        });
        counts.inserted++;
        continue;
      }
      // A reviewer-made chosen side (review.ts) is the reviewer's: a re-run leaves the pair alone.
      if (edited.get(row.id)) {
        counts.unchanged++;
        continue;
      }
      const kept = parseJson<PairFlag[]>(row.flags, `pairs row ${row.id} flags`).filter((f) => f === 'duplicate');
      const flags = JSON.stringify(sortFlags([...d.flags.filter((f) => !MANAGED.includes(f)), ...kept], PAIR_FLAGS));
      if (
        row.chosen_loss_spans === values.chosenSpans &&
        row.rejected_loss_spans === values.rejectedSpans &&
        row.provenance === values.provenance &&
        row.edit_distance === values.editDistance &&
        row.flags === flags &&
        row.dup_key === values.dupKey
      ) {
        counts.unchanged++;
        continue;
      }
      update.run({ ...values, flags, id: row.id });
      counts.updated++;
    }
  }).immediate();
  return counts;
}

function setFlag(p: Project, id: number, flags: string, flag: PairFlag, on: boolean, now: string): boolean {
  const list = parseJson<PairFlag[]>(flags, `pairs row ${id} flags`);
  if (list.includes(flag) === on) return false;
  const next = on ? sortFlags([...list, flag], PAIR_FLAGS) : list.filter((f) => f !== flag);
  p.db.prepare('UPDATE pairs SET flags = ?, updated_at = ? WHERE id = ?').run(JSON.stringify(next), now, id);
  return true;
}

/** Pairs of `mode` made from the given targets (or histories) that this run did not produce
 * get the stale flag; they keep their review status and are never deleted. Returns how many
 * became stale. */
export function markStale(
  p: Project,
  mode: PairMode,
  scope: { column: 'target_id' | 'history_id'; ids: readonly number[] },
  produced: ReadonlySet<string>,
  now = new Date().toISOString(),
): number {
  let n = 0;
  const rows = p.db.prepare<[string, number], { id: number; pair_key: string; flags: string }>(
    `SELECT id, pair_key, flags FROM pairs WHERE mode = ? AND ${scope.column} = ?`,
  );
  p.db.transaction(() => {
    for (const sid of scope.ids) {
      for (const r of rows.all(mode, sid)) {
        if (!produced.has(r.pair_key) && setFlag(p, r.id, r.flags, 'stale', true, now)) n++;
      }
    }
  }).immediate();
  return n;
}

/** Recomputes the duplicate flag over the whole table: within a group of equal dup_keys every
 * pair but the oldest (lowest id) is a duplicate. Returns the number of duplicates. */
export function refreshDuplicates(p: Project, now = new Date().toISOString()): number {
  const rows = p.db
    // Only the rows that can change: members of a group of equal keys, and rows flagged before.
    .prepare<[], { id: number; dup_key: string; flags: string }>(
      `SELECT id, dup_key, flags FROM pairs
       WHERE dup_key IN (SELECT dup_key FROM pairs WHERE dup_key <> '' GROUP BY dup_key HAVING COUNT(*) > 1)
          OR flags LIKE '%"duplicate"%'
       ORDER BY dup_key, id`,
    )
    .all();
  let dups = 0;
  p.db.transaction(() => {
    let prevKey: string | undefined;
    for (const r of rows) {
      const isDup = r.dup_key !== '' && r.dup_key === prevKey;
      if (isDup) dups++;
      setFlag(p, r.id, r.flags, 'duplicate', isDup, now);
      prevKey = r.dup_key;
    }
  }).immediate();
  return dups;
}

// ---- review API (the editor's Pairs view) -------------------------------------------------

export function getPair(p: Project, id: number): PairRecord | undefined {
  return pairLookup(p)(id);
}

/** A lookup of one pair by id, its statement prepared once (for callers that read pair after pair). */
export function pairLookup(p: Project): (id: number) => PairRecord | undefined {
  const stmt = p.db.prepare<[number], PairRowDb>('SELECT * FROM pairs WHERE id = ?');
  return (id) => {
    const r = stmt.get(id);
    return r ? toRecord(r) : undefined;
  };
}

/** What a selection over many pairs needs of each (the texts are read one pair at a time later,
 * so a selection of millions holds only these small rows in memory). */
export interface PairOutline {
  id: number;
  pairKey: string;
  goldenLines: number;
  depth: number | null;
  /** A whole-program pair (no shared prefix or suffix). */
  whole: boolean;
}

const OUTLINE_COLUMNS = "id, pair_key AS pairKey, golden_lines AS goldenLines, depth, (pre = '' AND suf = '') AS whole";
type OutlineRow = Omit<PairOutline, 'whole'> & { whole: number };
const outline = (r: OutlineRow): PairOutline => ({ ...r, whole: r.whole === 1 });

/** The outlines of the pairs with the given keys (keys of no stored pair are absent). */
export function pairOutlinesByKey(p: Project, keys: readonly string[]): Map<string, PairOutline> {
  const out = new Map<string, PairOutline>();
  inChunks(keys, (slice, qs) => {
    for (const r of p.db.prepare<string[], OutlineRow>(`SELECT ${OUTLINE_COLUMNS} FROM pairs WHERE pair_key IN (${qs})`).all(...slice)) out.set(r.pairKey, outline(r));
  });
  return out;
}

/** The accepted pairs (with `includePending`, also the pending ones that carry no filter flag),
 * of one mode when given, in id order. */
export function reviewedPairOutlines(p: Project, opts: { includePending?: boolean; mode?: PairMode }): PairOutline[] {
  const where = [opts.includePending ? "(status = 'accepted' OR (status = 'pending' AND flags = '[]'))" : "status = 'accepted'"];
  const args: string[] = [];
  if (opts.mode) {
    where.push('mode = ?');
    args.push(opts.mode);
  }
  return p.db.prepare<string[], OutlineRow>(`SELECT ${OUTLINE_COLUMNS} FROM pairs WHERE ${where.join(' AND ')} ORDER BY id`).all(...args).map(outline);
}

/** The review status and filter flags of every pair not accepted (of one mode when given), streamed. */
export function* unacceptedPairs(p: Project, mode?: PairMode): Generator<{ status: PairStatus; flags: PairFlag[] }> {
  const rows = p.db
    .prepare<[string | null, string | null], { status: PairStatus; flags: string }>(`SELECT status, flags FROM pairs WHERE (? IS NULL OR mode = ?) AND status <> 'accepted'`)
    .iterate(mode ?? null, mode ?? null);
  for (const r of rows) yield { status: r.status, flags: r.flags === '[]' ? [] : parseJson<PairFlag[]>(r.flags, 'pairs flags') };
}

/** A pair side as a whole program: a block pair's side between its shared prefix and suffix (so a
 * diff reads as two programs); history pairs are whole programs already (empty pre / suf). */
export function pairProgram(p: Project, id: number, side: 'chosen' | 'rejected'): string {
  const pair = getPair(p, id);
  if (!pair) throw new Error(`no pair ${id} in ${p.file}`);
  return cutCodeOf({ pre: pair.pre, mid: side === 'chosen' ? pair.chosen : pair.rejected, suf: pair.suf, start_line: pair.pre === '\n' ? 0 : 1 });
}

/** Sets a pair's review status (and note, when given; `null` clears it), recorded for undo
 * (review.ts). Throws when the id or the status is unknown. Returns the updated pair. */
export function setPairStatus(p: Project, id: number, status: PairStatus, note?: string | null): PairRecord {
  const r = decide(p, { pairIds: [id], status, note });
  if (r.updated === 0) throw new Error(`setPairStatus: no pair ${id} in ${p.file}`);
  return getPair(p, id)!;
}

/** setPairStatus for many pairs in one transaction and one undo step (the Pairs view's
 * multi-select). Returns how many pairs exist and were set; ids that do not exist (e.g. a tree
 * shown before a re-run) are skipped, so the caller compares the count with what it asked for. */
export function setPairsStatus(p: Project, ids: readonly number[], status: PairStatus, note?: string | null): number {
  return decide(p, { pairIds: ids, status, note }).updated;
}

export interface PairQuery {
  problemId?: number;
  targetId?: number;
  historyId?: number;
  mode?: PairMode;
  status?: PairStatus;
  limit?: number;
  offset?: number;
}

/** Pairs in id order, filtered; at most `limit` (default 500). */
export function listPairs(p: Project, q: PairQuery = {}): PairRecord[] {
  const where: string[] = [];
  const args: (string | number)[] = [];
  const filters: [string, string | number | undefined][] = [
    ['problem_id', q.problemId],
    ['target_id', q.targetId],
    ['history_id', q.historyId],
    ['mode', q.mode],
    ['status', q.status],
  ];
  for (const [column, value] of filters) {
    if (value === undefined) continue;
    where.push(`${column} = ?`);
    args.push(value);
  }
  args.push(q.limit ?? 500, q.offset ?? 0);
  const sql = `SELECT * FROM pairs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id LIMIT ? OFFSET ?`;
  return p.db
    .prepare<(string | number)[], PairRowDb>(sql)
    .all(...args)
    .map(toRecord);
}

export type StatusCounts = Record<PairStatus, number> & { total: number; flagged_by_filters: number };

export interface PairGroup {
  /** 'problem' groups hold 'block' groups (a target) and 'history' groups. */
  level: 'problem' | 'block' | 'history';
  problemId: number;
  targetId?: number;
  historyId?: number;
  /** problem: dataset / external id; block: "for, depth 2, lines 4-7"; history: "history 1". */
  label: string;
  counts: StatusCounts;
}

const COUNT_COLUMNS = `COUNT(*) AS total,
  SUM(p.status = 'pending') AS pending, SUM(p.status = 'accepted') AS accepted,
  SUM(p.status = 'rejected') AS rejected, SUM(p.status = 'flagged') AS flagged,
  SUM(p.flags <> '[]') AS flagged_by_filters`;

function counts(r: Record<string, unknown>): StatusCounts {
  const n = (k: string) => Number(r[k] ?? 0);
  return { total: n('total'), pending: n('pending'), accepted: n('accepted'), rejected: n('rejected'), flagged: n('flagged'), flagged_by_filters: n('flagged_by_filters') };
}

/** The Pairs tree: problems with pairs (no argument), or one problem's blocks and histories. */
export function pairGroups(p: Project, problemId?: number): PairGroup[] {
  if (problemId === undefined) {
    const rows = p.db.prepare<[], Record<string, unknown> & { problem_id: number }>(`SELECT p.problem_id, ${COUNT_COLUMNS} FROM pairs p GROUP BY p.problem_id`).all();
    const problems = problemsById(p, rows.map((r) => r.problem_id));
    return rows
      .flatMap((r) => {
        const pr = problems.get(r.problem_id);
        return pr ? [{ r, pr }] : [];
      })
      .sort((a, b) => (a.pr.dataset < b.pr.dataset ? -1 : a.pr.dataset > b.pr.dataset ? 1 : a.r.problem_id - b.r.problem_id))
      .map(({ r, pr }) => ({ level: 'problem', problemId: r.problem_id, label: `${pr.dataset} / ${pr.externalId}`, counts: counts(r) }));
  }
  const blockRows = p.db
    .prepare<[number], Record<string, unknown> & { target_id: number }>(
      `SELECT p.target_id, ${COUNT_COLUMNS} FROM pairs p WHERE p.problem_id = ? AND p.target_id IS NOT NULL GROUP BY p.target_id ORDER BY p.target_id`,
    )
    .all(problemId);
  const targets = targetsByIds(p, blockRows.map((r) => r.target_id));
  const historyRows = p.db
    .prepare<[number], Record<string, unknown> & { history_id: number }>(
      `SELECT p.history_id, ${COUNT_COLUMNS} FROM pairs p WHERE p.problem_id = ? AND p.history_id IS NOT NULL GROUP BY p.history_id`,
    )
    .all(problemId);
  const ordinals = historyOrdinals(p, historyRows.map((r) => r.history_id));
  return [
    ...blockRows.flatMap((r): PairGroup[] => {
      const t = targets.get(r.target_id);
      if (!t) return [];
      return [{ level: 'block', problemId, targetId: r.target_id, label: `${t.kind}, depth ${t.depth}, lines ${t.start_line + 1}-${t.end_line + 1}`, counts: counts(r) }];
    }),
    ...historyRows
      .flatMap((r) => {
        const ordinal = ordinals.get(r.history_id);
        return ordinal === undefined ? [] : [{ r, ordinal }];
      })
      .sort((a, b) => a.ordinal - b.ordinal)
      .map(({ r, ordinal }): PairGroup => ({ level: 'history', problemId, historyId: r.history_id, label: `history ${ordinal + 1}`, counts: counts(r) })),
  ];
}

/** The ids of the pairs with a review status (every pair's when absent), in id order. */
export function pairIds(p: Project, status?: PairStatus): number[] {
  const rows =
    status === undefined
      ? p.db.prepare<[], { id: number }>('SELECT id FROM pairs ORDER BY id').all()
      : p.db.prepare<[string], { id: number }>('SELECT id FROM pairs WHERE status = ? ORDER BY id').all(status);
  return rows.map((r) => r.id);
}

/** Which of the ids are stored pairs. */
export function existingPairIds(p: Project, ids: readonly number[]): Set<number> {
  const out = new Set<number>();
  inChunks(ids, (slice, qs) => {
    for (const r of p.db.prepare<number[], { id: number }>(`SELECT id FROM pairs WHERE id IN (${qs})`).all(...slice)) out.add(r.id);
  });
  return out;
}

/** Stored pairs, every mode. */
export function pairCount(p: Project): number {
  return p.db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM pairs').get()!.n;
}
