// Curriculum order and format mixing at export (docs/published.md "StructureCoder" "Curriculum"). Pure.
//
// `lines` is the published order: pairs bucketed by the golden middle's line count, fewest lines
// first; one generator seeded 42 runs through the buckets in that order and, for each bucket,
// shuffles it in place and appends a copy `epochs` times (each repetition is a fresh shuffle of
// the previous one, as `rng.shuffle(out)` inside the epoch loop does). `depth` buckets by the
// target's depth instead; `random` is one bucket of everything; `none` keeps the given order.
// Within a bucket the starting order is the order given (pair id), as the published code starts
// from its file order.

import { PyRandom } from './pyrandom';

export type CurriculumOrder = 'lines' | 'depth' | 'random' | 'none';
export const CURRICULUM_ORDERS: readonly CurriculumOrder[] = ['lines', 'depth', 'random', 'none'];

export interface CurriculumOptions {
  order: CurriculumOrder;
  epochs: number;
  seed: number;
}

export interface CurriculumKeys {
  /** The golden middle's line count (IterPref: the chosen program's). */
  goldenLines: number;
  /** The target's depth; null (IterPref) sorts first, as depth 0. */
  depth: number | null;
}

export function curriculum<T extends CurriculumKeys>(items: readonly T[], opts: CurriculumOptions): T[] {
  if (!Number.isInteger(opts.epochs) || opts.epochs < 1) throw new Error(`curriculum: epochs must be a positive integer (got ${opts.epochs})`);
  if (opts.order === 'none') {
    const out: T[] = [];
    for (let e = 0; e < opts.epochs; e++) out.push(...items);
    return out;
  }
  const keyOf = (x: T): number => (opts.order === 'lines' ? x.goldenLines : opts.order === 'depth' ? (x.depth ?? 0) : 0);
  const buckets = new Map<number, T[]>();
  for (const x of items) {
    const k = keyOf(x);
    let b = buckets.get(k);
    if (!b) buckets.set(k, (b = []));
    b.push(x);
  }
  const rng = new PyRandom(opts.seed);
  const out: T[] = [];
  for (const k of [...buckets.keys()].sort((a, b) => a - b)) {
    const bucket = buckets.get(k)!;
    for (let e = 0; e < opts.epochs; e++) {
      rng.shuffle(bucket);
      out.push(...bucket);
    }
  }
  return out;
}

/** FIM or chat per record, in order: one seeded draw per record (Bernoulli(fimRate)), whole
 * programs forced to chat after the draw, as the published trainer does (seed 3407). */
export function drawFormats(wholeProgram: readonly boolean[], opts: { fimRate: number; seed: number }): ('fim' | 'chat')[] {
  if (!(opts.fimRate >= 0 && opts.fimRate <= 1)) throw new Error(`fim_rate must be between 0 and 1 (got ${opts.fimRate})`);
  const rng = new PyRandom(opts.seed);
  return wholeProgram.map((whole) => {
    const fim = rng.random() < opts.fimRate;
    return fim && !whole ? 'fim' : 'chat';
  });
}
