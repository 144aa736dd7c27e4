// The pairs stage's figures for the dashboard (docs/dashboard.md): pairs by kind, block kind,
// depth, status and filter flags (read from the pairs_groups index alone), and the review's
// decisions per day. Read-only.
import { PAIR_FLAGS, type PairFlag, type PairGroupView, type PairKind, type PairStatus, type ReviewDayView } from '../protocol';
import type { Project } from '../store/db';

/** Pairs counted per (kind, block kind, depth, status, flags). */
export function pairGroupCounts(p: Project): PairGroupView[] {
  const parsed = new Map<string, PairFlag[]>();
  const flagsOf = (text: string): PairFlag[] => {
    let f = parsed.get(text);
    if (!f) {
      try {
        f = (JSON.parse(text) as string[]).filter((x): x is PairFlag => (PAIR_FLAGS as readonly string[]).includes(x));
      } catch {
        f = [];
      }
      parsed.set(text, f);
    }
    return f;
  };
  return p.db
    .prepare<[], { kind: PairKind; block_kind: string | null; depth: number | null; status: PairStatus; flags: string; n: number }>(
      'SELECT kind, block_kind, depth, status, flags, COUNT(*) AS n FROM pairs GROUP BY kind, block_kind, depth, status, flags',
    )
    .all()
    .map((r) => ({ kind: r.kind, blockKind: r.block_kind, depth: r.depth, status: r.status, flags: flagsOf(r.flags), count: r.n }));
}

/** Review decisions per day (UTC) by the status they set, oldest day first; undone ones and
 * edits of the chosen side are left out. */
export function reviewProgress(p: Project): ReviewDayView[] {
  const days = new Map<string, ReviewDayView>();
  for (const r of p.db
    .prepare<[], { day: string; status: PairStatus; n: number }>(
      `SELECT substr(at, 1, 10) AS day, new_status AS status, COUNT(*) AS n FROM pair_reviews
       WHERE undone_at IS NULL AND action = 'status' GROUP BY day, new_status ORDER BY day`,
    )
    .all()) {
    let d = days.get(r.day);
    if (!d) days.set(r.day, (d = { day: r.day, accepted: 0, rejected: 0, flagged: 0, pending: 0 }));
    d[r.status] += r.n;
  }
  return [...days.values()];
}
