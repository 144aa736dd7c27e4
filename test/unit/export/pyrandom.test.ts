// PyRandom against values printed by CPython 3.11 (`random.Random(seed)`), hard-coded here so
// the test does not need Python.
import { describe, expect, it } from 'vitest';
import { PyRandom } from '../../../server/export/pyrandom';

describe('PyRandom reproduces CPython random.Random', () => {
  it('random() for seed 42 and 3407', () => {
    const r = new PyRandom(42);
    expect([r.random(), r.random(), r.random()]).toEqual([0.6394267984578837, 0.025010755222666936, 0.27502931836911926]);
    const s = new PyRandom(3407);
    expect([s.random(), s.random(), s.random(), s.random()]).toEqual([0.056836637998436745, 0.13270277776504658, 0.21491599383387472, 0.30476402183804263]);
  });

  it('a seed over 32 bits uses every 32-bit word', () => {
    expect(new PyRandom(2 ** 40 + 5).random()).toBe(0.5043802970418443);
  });

  it('shuffle, repeated on the same list, as random.Random(42).shuffle', () => {
    const r = new PyRandom(42);
    const x = [...Array(10).keys()];
    r.shuffle(x);
    expect(x).toEqual([7, 3, 2, 8, 5, 6, 9, 4, 0, 1]);
    r.shuffle(x);
    expect(x).toEqual([8, 6, 2, 5, 3, 0, 4, 7, 9, 1]);
  });

  it('shuffle of 100 with seed 0', () => {
    const y = [...Array(100).keys()];
    new PyRandom(0).shuffle(y);
    expect(y.slice(0, 10)).toEqual([23, 8, 11, 7, 48, 13, 1, 91, 94, 54]);
  });

  it('rejects a non-integer seed', () => {
    expect(() => new PyRandom(1.5)).toThrow(/integer/);
  });
});
