// StructureCoder pairing: hand-computed cases for de-duplication, verdict classes, the nearest
// passing middle and the documented tie-breaks.
import { describe, expect, it } from 'vitest';
import { levenshtein } from '../../../server/pairs/levenshtein';
import { pairStructureCoder, stripNewlines, type ScCandidate } from '../../../server/pairs/structurecoder';
import { ADMIT_ERRORS_REJECT, DEFAULT_REJECT } from '../../../server/pairs/types';
import type { Verdict } from '../../../server/protocol';

let nextId = 1;
function cand(middle: string, verdict: Verdict): ScCandidate {
  const id = nextId++;
  return { sampleId: id, executionId: 100 + id, middle, verdict };
}

describe('levenshtein', () => {
  it('textbook distances', () => {
    expect(levenshtein('kitten', 'sitting')).toBe(3);
    expect(levenshtein('flaw', 'lawn')).toBe(2);
    expect(levenshtein('', 'abc')).toBe(3);
    expect(levenshtein('abc', '')).toBe(3);
    expect(levenshtein('same', 'same')).toBe(0);
    expect(levenshtein('ab', 'ba')).toBe(2);
  });
  it('counts code points, as Python does (an emoji is one edit)', () => {
    expect(levenshtein('😀a', 'a')).toBe(1);
    expect(levenshtein('x😀y', 'x😁y')).toBe(1);
  });
  it('is symmetric and agrees with a plain DP on shared prefix/suffix inputs', () => {
    const plain = (a: string, b: string) => {
      const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)] as number[]);
      for (let j = 0; j <= b.length; j++) d[0][j] = j;
      for (let i = 1; i <= a.length; i++)
        for (let j = 1; j <= b.length; j++) d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      return d[a.length][b.length];
    };
    const words = ['for i in range(n):', 'for i in range(n + 1):', 'while i < n:', 'for j in range(n):', 'if x:\n    y()'];
    for (const a of words) for (const b of words) {
      expect(levenshtein(a, b)).toBe(plain(a, b));
      expect(levenshtein(a, b)).toBe(levenshtein(b, a));
    }
  });
});

describe('stripNewlines is Python str.strip("\\n")', () => {
  it('strips only newlines, both ends', () => {
    expect(stripNewlines('\n\na\n\r\n')).toBe('a\n\r');
    expect(stripNewlines('  a  \n')).toBe('  a  ');
    expect(stripNewlines('\n\n')).toBe('');
  });
});

describe('pairStructureCoder', () => {
  it('one-per-target: first wrong text, nearest pass, ties to the earliest pass; duplicates merged', () => {
    const s1 = cand('    x = 1\n', 'wrong_answer');
    const s2 = cand('\n    x = 2', 'pass');
    const s3 = cand('    x = 1', 'wrong_answer'); // same text as s1 after stripping newlines
    const s4 = cand('    y = 1', 'pass');
    const s5 = cand('    x = 3', 'runtime_error');
    const r = pairStructureCoder([s1, s2, s3, s4, s5], { selection: 'one-per-target', reject: DEFAULT_REJECT });
    expect(r.passing).toBe(2);
    expect(r.rejectable).toBe(1);
    expect(r.excluded).toBe(1);
    expect(r.pairs).toHaveLength(1);
    const p = r.pairs[0];
    // d('    x = 2', '    x = 1') = 1 = d('    y = 1', '    x = 1'): the earlier pass (s2) wins.
    expect(p.chosen.text).toBe('    x = 2');
    expect(p.chosen.sampleIds).toEqual([s2.sampleId]);
    expect(p.rejected.text).toBe('    x = 1');
    expect(p.rejected.sampleIds).toEqual([s1.sampleId, s3.sampleId]);
    expect(p.rejected.executionIds).toEqual([s1.executionId, s3.executionId]);
    expect(p.distance).toBe(1);
    expect(p.golden).toBe(false);
  });

  it('the tie-break follows sampling order: swapping the passes swaps the choice', () => {
    const w = cand('    x = 1', 'wrong_answer');
    const a = cand('    y = 1', 'pass');
    const b = cand('    x = 2', 'pass');
    const r = pairStructureCoder([w, a, b], { selection: 'one-per-target', reject: DEFAULT_REJECT });
    expect(r.pairs[0].chosen.text).toBe('    y = 1');
  });

  it('a strictly nearer pass beats an earlier one', () => {
    const w = cand('total += x', 'wrong_answer');
    const far = cand('total = total + x * 2', 'pass');
    const near = cand('total += x * 2', 'pass');
    const r = pairStructureCoder([w, far, near], { selection: 'one-per-target', reject: DEFAULT_REJECT });
    expect(r.pairs[0].chosen.text).toBe('total += x * 2');
    expect(r.pairs[0].distance).toBe(4);
  });

  it('one-per-target picks the FIRST wrong text in sampling order, not the nearest', () => {
    const w1 = cand('abcdef', 'wrong_answer');
    const w2 = cand('abcdeX', 'wrong_answer');
    const ok = cand('abcdeY', 'pass');
    const r = pairStructureCoder([w1, w2, ok], { selection: 'one-per-target', reject: DEFAULT_REJECT });
    expect(r.pairs.map((p) => p.rejected.text)).toEqual(['abcdef']);
  });

  it('one-per-wrong: one pair per distinct rejectable text; --admit-errors admits runtime errors and timeouts', () => {
    const cs = [cand('x = 1', 'wrong_answer'), cand('x = 2', 'pass'), cand('x = 3', 'runtime_error'), cand('x = 4', 'timeout'), cand('x = ', 'compile_error'), cand('y = 9', 'pass')];
    const faithful = pairStructureCoder(cs, { selection: 'one-per-wrong', reject: DEFAULT_REJECT });
    expect(faithful.pairs.map((p) => p.rejected.text)).toEqual(['x = 1']);
    expect(faithful.excluded).toBe(3);
    const admitted = pairStructureCoder(cs, { selection: 'one-per-wrong', reject: ADMIT_ERRORS_REJECT });
    expect(admitted.pairs.map((p) => [p.rejected.text, p.chosen.text, p.distance])).toEqual([
      ['x = 1', 'x = 2', 1],
      ['x = 3', 'x = 2', 1],
      ['x = 4', 'x = 2', 1],
    ]);
    expect(admitted.excluded).toBe(1); // the compile error is never rejected
  });

  it('no pass: no pair, unless the golden fallback is on', () => {
    const cs = [cand('for i in range(n):\n    pass', 'wrong_answer')];
    expect(pairStructureCoder(cs, { selection: 'one-per-target', reject: DEFAULT_REJECT }).pairs).toEqual([]);
    const g = pairStructureCoder(cs, { selection: 'one-per-target', reject: DEFAULT_REJECT, golden: 'for i in range(n):\n    s += i\n' });
    expect(g.pairs).toHaveLength(1);
    expect(g.pairs[0].golden).toBe(true);
    expect(g.pairs[0].chosen.text).toBe('for i in range(n):\n    s += i');
    expect(g.pairs[0].chosen.sampleIds).toEqual([]);
  });

  it('no rejectable candidate: no pair even with passes', () => {
    const cs = [cand('a', 'pass'), cand('b', 'runtime_error')];
    const r = pairStructureCoder(cs, { selection: 'one-per-target', reject: DEFAULT_REJECT, golden: 'c' });
    expect(r.pairs).toEqual([]);
    expect(r.rejectable).toBe(0);
  });

  it('a text that both passed and failed (nondeterminism) pairs with itself at distance 0', () => {
    const cs = [cand('x = rand()', 'wrong_answer'), cand('x = rand()\n', 'pass'), cand('x = 1', 'pass')];
    const r = pairStructureCoder(cs, { selection: 'one-per-target', reject: DEFAULT_REJECT });
    expect(r.pairs[0].chosen.text).toBe('x = rand()');
    expect(r.pairs[0].distance).toBe(0);
  });
});
