// Seeded orderings: the published curriculum (buckets by golden line count, Random(42) shuffles,
// epochs in a row) and the FIM/chat draws (Random(3407)), against CPython's output.
import { describe, expect, it } from 'vitest';
import { curriculum, drawFormats } from '../../../server/export/curriculum';

// (id, golden lines), as fed to the published process.py logic in CPython 3.11, which printed
// [5, 3, 8, 1, 1, 8, 5, 3, 6, 2, 2, 6, 0, 4, 7, 4, 7, 0] for epoch = 2.
const ITEMS = [
  [0, 3],
  [1, 1],
  [2, 2],
  [3, 1],
  [4, 3],
  [5, 1],
  [6, 2],
  [7, 3],
  [8, 1],
].map(([id, goldenLines]) => ({ id, goldenLines, depth: (id % 3) + 1 }));

describe('curriculum', () => {
  it('lines: the published order, exactly', () => {
    expect(curriculum(ITEMS, { order: 'lines', epochs: 2, seed: 42 }).map((x) => x.id)).toEqual([5, 3, 8, 1, 1, 8, 5, 3, 6, 2, 2, 6, 0, 4, 7, 4, 7, 0]);
  });
  it('buckets come fewest lines first, every pair epochs times, input untouched', () => {
    const copy = ITEMS.map((x) => ({ ...x }));
    const out = curriculum(ITEMS, { order: 'lines', epochs: 3, seed: 7 });
    expect(out).toHaveLength(27);
    const lines = out.map((x) => x.goldenLines);
    expect([...lines].sort((a, b) => a - b)).toEqual(lines);
    expect(ITEMS).toEqual(copy);
  });
  it('depth buckets by depth; null depth (IterPref) first', () => {
    const items = [...ITEMS, { id: 9, goldenLines: 1, depth: null }];
    const out = curriculum(items, { order: 'depth', epochs: 1, seed: 42 });
    expect(out[0].id).toBe(9);
    const depths = out.slice(1).map((x) => x.depth!);
    expect([...depths].sort()).toEqual(depths);
  });
  it('random: a seeded permutation; same seed same order, another seed another', () => {
    const a = curriculum(ITEMS, { order: 'random', epochs: 1, seed: 1 }).map((x) => x.id);
    expect(curriculum(ITEMS, { order: 'random', epochs: 1, seed: 1 }).map((x) => x.id)).toEqual(a);
    expect(curriculum(ITEMS, { order: 'random', epochs: 1, seed: 2 }).map((x) => x.id)).not.toEqual(a);
    expect([...a].sort()).toEqual(ITEMS.map((x) => x.id));
  });
  it('none keeps the order; epochs must be positive', () => {
    expect(curriculum(ITEMS, { order: 'none', epochs: 2, seed: 0 }).map((x) => x.id)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(() => curriculum(ITEMS, { order: 'lines', epochs: 0, seed: 0 })).toThrow(/epochs/);
  });
});

describe('drawFormats', () => {
  it('Bernoulli(0.5) with Random(3407): CPython gives T T T T F T F F T T T T', () => {
    const f = drawFormats(new Array(12).fill(false), { fimRate: 0.5, seed: 3407 });
    expect(f).toEqual(['fim', 'fim', 'fim', 'fim', 'chat', 'fim', 'chat', 'chat', 'fim', 'fim', 'fim', 'fim']);
  });
  it('whole programs are chat but still consume a draw', () => {
    const f = drawFormats([true, false, false, false, false], { fimRate: 0.5, seed: 3407 });
    expect(f).toEqual(['chat', 'fim', 'fim', 'fim', 'chat']);
  });
  it('rates 0 and 1, and a bad rate', () => {
    expect(drawFormats([false, false], { fimRate: 0, seed: 1 })).toEqual(['chat', 'chat']);
    expect(drawFormats([false, true], { fimRate: 1, seed: 1 })).toEqual(['fim', 'chat']);
    expect(() => drawFormats([false], { fimRate: 1.5, seed: 1 })).toThrow(/fim_rate/);
  });
});
