// A reviewer's decisions on pairs, remembered so that undo works, also after a reload: every
// status change is a row of pair_reviews (a key press on several pairs is one batch), and a
// reviewer-made chosen side is a row of pair_edits holding what it replaced. Undo reverts the
// newest batch that is not undone yet. Synchronous SQLite, each call one transaction.
import os from 'node:os';
import { PAIR_STATUSES, type EditRun, type Isolation, type PairFlag, type PairStatus, type Span, type Verdict } from '../protocol';
import type { Project } from '../store/db';

/** Who decided: the account the engine runs under (the reviewer's own machine). */
export function reviewerName(): string {
  try {
    return os.userInfo().username;
  } catch {
    return 'unknown';
  }
}

export interface Decision {
  pairIds: readonly number[];
  status: PairStatus;
  /** A note for every pair of the decision; undefined keeps each pair's note, null clears it. */
  note?: string | null;
  reviewer?: string;
  now?: string;
}

export interface DecisionResult {
  /** Pairs that exist and were set (ids that do not exist are skipped). */
  updated: number;
  /** The batch undo would revert; null when nothing changed. */
  batch: number | null;
}

function nextBatch(p: Project): number {
  return (p.db.prepare<[], { b: number | null }>('SELECT MAX(batch) AS b FROM pair_reviews').get()?.b ?? 0) + 1;
}

/** Sets the status (and note) of pairs, recording each change for undo. */
export function decide(p: Project, d: Decision): DecisionResult {
  if (!(PAIR_STATUSES as readonly string[]).includes(d.status)) {
    throw new Error(`status must be one of ${PAIR_STATUSES.join(', ')} (got '${String(d.status)}')`);
  }
  const now = d.now ?? new Date().toISOString();
  const reviewer = d.reviewer ?? reviewerName();
  const read = p.db.prepare<[number], { status: PairStatus; note: string | null }>('SELECT status, note FROM pairs WHERE id = ?');
  const write = p.db.prepare<[string, string | null, string, number]>('UPDATE pairs SET status = ?, note = ?, updated_at = ? WHERE id = ?');
  const log = p.db.prepare(
    `INSERT INTO pair_reviews (batch, pair_id, action, old_status, new_status, old_note, new_note, reviewer, at)
     VALUES (?, ?, 'status', ?, ?, ?, ?, ?, ?)`,
  );
  return p.db.transaction((): DecisionResult => {
    const batch = nextBatch(p);
    let updated = 0;
    for (const id of d.pairIds) {
      const old = read.get(id);
      if (!old) continue;
      const note = d.note === undefined ? old.note : d.note;
      write.run(d.status, note, now, id);
      log.run(batch, id, old.status, d.status, old.note, note, reviewer, now);
      updated++;
    }
    return { updated, batch: updated > 0 ? batch : null };
  }).immediate();
}

export interface ChosenEdit {
  pairId: number;
  /** The new chosen side (a FIM pair's middle, or a whole program for IterPref and full pairs). */
  text: string;
  chosenSpans: Span[];
  rejectedSpans: Span[];
  provenance: Record<string, unknown>;
  editDistance: number | null;
  flags: PairFlag[];
  /** The edited program's test run, when it ran: its verdict, the engine's per-test details and
   * the isolation mode the sandbox used (stored with the verdict, as every verdict is). */
  run?: Pick<EditRun, 'verdict' | 'tests' | 'isolation'>;
  reviewer?: string;
  now?: string;
}

/** What `provenance.reviewerEdit` of an edited pair holds. */
export interface ReviewerEditProvenance {
  /** The pair_edits row. */
  id: number;
  reviewer: string;
  at: string;
  /** The chosen side the edit replaced. */
  replaced: string;
  /** The samples that side was (provenance.chosen.samples of a FIM pair's sampled side); empty for
   * a golden or history side and for a side that was itself an edit (then `replacedEdit`). */
  replacedSamples: number[];
  /** The earlier edit whose side this one replaced, or null. */
  replacedEdit: number | null;
  verdict: Verdict | null;
  /** The isolation mode the edit's tests ran in (null when they did not run). */
  isolation: Isolation | null;
}

/** The sample ids a pair's chosen side came from, per its provenance (none when it is golden, a
 * history version or a reviewer's edit). */
function chosenSamples(provenance: Record<string, unknown>): number[] {
  if (provenance.reviewerEdit) return [];
  const chosen = provenance.chosen as { samples?: unknown } | undefined;
  return chosen && Array.isArray(chosen.samples) ? chosen.samples.filter((x): x is number => Number.isInteger(x)) : [];
}

/** Replaces a pair's chosen side with a reviewer-made one, keeping what it replaced for undo. The
 * status does not change (the decision is the reviewer's next key press). Returns the edit id. */
export function saveChosenEdit(p: Project, e: ChosenEdit): number {
  const now = e.now ?? new Date().toISOString();
  const reviewer = e.reviewer ?? reviewerName();
  return p.db.transaction((): number => {
    const old = p.db
      .prepare<[number], { chosen: string; chosen_loss_spans: string; rejected_loss_spans: string; provenance: string; edit_distance: number | null; flags: string; status: PairStatus; note: string | null }>(
        'SELECT chosen, chosen_loss_spans, rejected_loss_spans, provenance, edit_distance, flags, status, note FROM pairs WHERE id = ?',
      )
      .get(e.pairId);
    if (!old) throw new Error(`no pair ${e.pairId} in ${p.file}`);
    const editId = Number(
      p.db
        .prepare(
          `INSERT INTO pair_edits (pair_id, new_text, old_text, old_chosen_spans, old_rejected_spans, old_provenance, old_edit_distance, old_flags, verdict, details, isolation, reviewer, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          e.pairId,
          e.text,
          old.chosen,
          old.chosen_loss_spans,
          old.rejected_loss_spans,
          old.provenance,
          old.edit_distance,
          old.flags,
          e.run?.verdict ?? null,
          e.run ? JSON.stringify(e.run.tests) : null,
          e.run?.isolation ?? null,
          reviewer,
          now,
        ).lastInsertRowid,
    );
    const oldProvenance = JSON.parse(old.provenance) as Record<string, unknown>;
    const previous = oldProvenance.reviewerEdit as { id?: unknown } | undefined;
    const reviewerEdit: ReviewerEditProvenance = {
      id: editId,
      reviewer,
      at: now,
      replaced: old.chosen,
      replacedSamples: chosenSamples(oldProvenance),
      replacedEdit: previous && Number.isInteger(previous.id) ? (previous.id as number) : null,
      verdict: e.run?.verdict ?? null,
      isolation: e.run?.isolation ?? null,
    };
    const provenance = { ...e.provenance, reviewerEdit };
    p.db
      .prepare(
        `UPDATE pairs SET chosen = ?, chosen_loss_spans = ?, rejected_loss_spans = ?, provenance = ?, edit_distance = ?, flags = ?, updated_at = ? WHERE id = ?`,
      )
      .run(e.text, JSON.stringify(e.chosenSpans), JSON.stringify(e.rejectedSpans), JSON.stringify(provenance), e.editDistance, JSON.stringify(e.flags), now, e.pairId);
    p.db
      .prepare(
        `INSERT INTO pair_reviews (batch, pair_id, action, old_status, new_status, old_note, new_note, edit_id, reviewer, at)
         VALUES (?, ?, 'edit', ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(nextBatch(p), e.pairId, old.status, old.status, old.note, old.note, editId, reviewer, now);
    return editId;
  }).immediate();
}

export interface Undone {
  batch: number;
  action: 'status' | 'edit';
  /** The pairs it touched, with the status each has again. */
  pairs: { pairId: number; status: PairStatus }[];
}

/** Reverts the newest decision or edit not undone yet; null when there is nothing to undo. */
export function undoLast(p: Project, now = new Date().toISOString()): Undone | null {
  return p.db.transaction((): Undone | null => {
    const last = p.db.prepare<[], { batch: number }>('SELECT MAX(batch) AS batch FROM pair_reviews WHERE undone_at IS NULL').get();
    if (!last || last.batch === null) return null;
    const rows = p.db
      .prepare<[number], { id: number; pair_id: number; action: 'status' | 'edit'; old_status: PairStatus; old_note: string | null; edit_id: number | null }>(
        'SELECT id, pair_id, action, old_status, old_note, edit_id FROM pair_reviews WHERE batch = ? AND undone_at IS NULL ORDER BY id DESC',
      )
      .all(last.batch);
    for (const r of rows) {
      if (r.action === 'edit' && r.edit_id !== null) {
        const e = p.db
          .prepare<[number], { old_text: string; old_chosen_spans: string; old_rejected_spans: string; old_provenance: string; old_edit_distance: number | null; old_flags: string }>(
            'SELECT old_text, old_chosen_spans, old_rejected_spans, old_provenance, old_edit_distance, old_flags FROM pair_edits WHERE id = ?',
          )
          .get(r.edit_id)!;
        p.db
          .prepare('UPDATE pairs SET chosen = ?, chosen_loss_spans = ?, rejected_loss_spans = ?, provenance = ?, edit_distance = ?, flags = ?, updated_at = ? WHERE id = ?')
          .run(e.old_text, e.old_chosen_spans, e.old_rejected_spans, e.old_provenance, e.old_edit_distance, e.old_flags, now, r.pair_id);
        p.db.prepare('UPDATE pair_edits SET undone_at = ? WHERE id = ?').run(now, r.edit_id);
      } else {
        p.db.prepare('UPDATE pairs SET status = ?, note = ?, updated_at = ? WHERE id = ?').run(r.old_status, r.old_note, now, r.pair_id);
      }
      p.db.prepare('UPDATE pair_reviews SET undone_at = ? WHERE id = ?').run(now, r.id);
    }
    const statusOf = p.db.prepare<[number], { status: PairStatus }>('SELECT status FROM pairs WHERE id = ?');
    return {
      batch: last.batch,
      action: rows[0].action,
      pairs: rows.map((r) => ({ pairId: r.pair_id, status: statusOf.get(r.pair_id)?.status ?? r.old_status })),
    };
  }).immediate();
}
