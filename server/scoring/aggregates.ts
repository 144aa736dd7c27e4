// The scoring stage's figures for the dashboard (docs/dashboard.md): each scoring run's reward
// margins as a histogram, every run in the same bins so two runs (before and after training) can
// be laid over each other. Read from the pair_scores (run_id, margin) index. Read-only.
import type { MarginHistogramsView, MarginRunView } from '../protocol';
import type { Project } from '../store/db';

/** Bins per histogram. */
export const MARGIN_BINS = 40;
/** The shared range leaves out this share of each run's margins at either end (they count in the
 * edge bins), so one extreme pair does not squeeze every other into a single bin. */
const TAIL = 0.01;

/** A round bin width (1, 2 or 5 times a power of ten) of at least (hi - lo) / bins, and the range
 * [lo, hi] widened to whole bins. Pure. */
export function marginBinning(lo: number, hi: number, bins: number): { lo: number; hi: number; width: number } {
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || hi < lo) return { lo: -1, hi: 1, width: 2 / bins };
  const span = hi - lo || Math.max(Math.abs(lo), 1);
  const raw = span / bins;
  const power = 10 ** Math.floor(Math.log10(raw));
  // The smallest round width whose bins, starting at a multiple of it, still reach `hi`.
  for (const m of [1, 2, 5, 10, 20, 50]) {
    const width = m * power;
    if (width < raw * (1 - 1e-9)) continue;
    const from = hi === lo ? lo - (width * bins) / 2 : Math.floor(lo / width) * width;
    if (from + width * bins >= hi) return { lo: from, hi: from + width * bins, width };
  }
  return { lo, hi: lo + span, width: span / bins };
}

interface RunRow {
  id: number;
  policy_model: string;
  reference_model: string;
  beta: number;
  format: string;
  created_at: string;
}

/** Every run's margins in MARGIN_BINS shared bins, oldest run first, and the pair of runs the
 * before/after overlay shows by default: the newest run and the newest older one with the same
 * reference model. */
export function marginHistograms(p: Project, bins = MARGIN_BINS): MarginHistogramsView {
  const runs = p.db
    .prepare<[], RunRow>('SELECT id, policy_model, reference_model, beta, format, created_at FROM score_runs ORDER BY id')
    .all();
  const scored = new Map(p.db.prepare<[], { run_id: number; n: number }>('SELECT run_id, COUNT(*) AS n FROM pair_scores GROUP BY run_id').all().map((r) => [r.run_id, r.n]));
  const at = (dir: 'ASC' | 'DESC') =>
    p.db.prepare<[number, number], { margin: number }>(`SELECT margin FROM pair_scores WHERE run_id = ? ORDER BY margin ${dir} LIMIT 1 OFFSET ?`);
  const low = at('ASC');
  const high = at('DESC');
  let lo = Infinity;
  let hi = -Infinity;
  for (const r of runs) {
    const n = scored.get(r.id) ?? 0;
    if (n === 0) continue;
    const skip = Math.floor(n * TAIL);
    lo = Math.min(lo, low.get(r.id, skip)!.margin);
    hi = Math.max(hi, high.get(r.id, skip)!.margin);
  }
  const b = marginBinning(lo, hi, bins);
  // One pass over a run's part of the (run_id, margin) index: its bins, their sums and how many
  // margins are above 0 (prefers_chosen is margin > 0, migration 006).
  const perBin = p.db.prepare<[number, number, number, number], { bin: number; n: number; total: number; prefers: number }>(
    `SELECT MIN(MAX(CAST((margin - ?) / ? AS INTEGER), 0), ?) AS bin, COUNT(*) AS n, SUM(margin) AS total, SUM(margin > 0) AS prefers
     FROM pair_scores WHERE run_id = ? GROUP BY bin`,
  );
  const out: MarginRunView[] = runs.map((r) => {
    const counts = new Array<number>(bins).fill(0);
    let n = 0;
    let total = 0;
    let prefers = 0;
    if (scored.has(r.id)) {
      for (const x of perBin.all(b.lo, b.width, bins - 1, r.id)) {
        counts[x.bin] = x.n;
        n += x.n;
        total += x.total;
        prefers += x.prefers;
      }
    }
    return {
      runId: r.id,
      label: `run ${r.id}: ${r.policy_model} vs ${r.reference_model}, beta ${r.beta}, ${r.format}`,
      policyModel: r.policy_model,
      referenceModel: r.reference_model,
      beta: r.beta,
      createdAt: r.created_at,
      scoredPairs: n,
      prefersChosen: prefers,
      meanMargin: n > 0 ? total / n : null,
      counts,
    };
  });
  const withScores = out.filter((r) => r.scoredPairs > 0);
  const after = withScores.at(-1);
  const before = after ? withScores.slice(0, -1).reverse().find((r) => r.referenceModel === after.referenceModel) : undefined;
  return { lo: b.lo, hi: b.hi, width: b.width, runs: out, ...(before && after ? { before: before.runId, after: after.runId } : {}) };
}
