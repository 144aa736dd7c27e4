// IterPref pairing of a history: which version is chosen, which are rejected, the seeded pick.
import { describe, expect, it } from 'vitest';
import { pairHistory, seededIndex, type HistoryVersion } from '../../../server/pairs/iterpref';
import type { Verdict } from '../../../server/protocol';

function v(ordinal: number, verdict: Verdict | null, code = `v${ordinal} = ${ordinal}\n`): HistoryVersion {
  return { versionId: 10 + ordinal, ordinal, code, executionId: verdict ? 100 + ordinal : null, verdict };
}

describe('pairHistory', () => {
  it('chosen = the final passing version; all earlier failing versions with --rejected all', () => {
    const r = pairHistory(1, [v(3, null), v(2, 'pass'), v(0, 'wrong_answer'), v(1, 'runtime_error')], { pick: 'all', seed: 42 });
    expect(r.skipped).toBeUndefined();
    expect(r.pairs.map((p) => [p.chosen.ordinal, p.rejected.ordinal])).toEqual([
      [2, 0],
      [2, 1],
    ]);
    expect(r.pairs[0].chosenSpans).toEqual([[0, 'v2 = 2\n'.length]]);
    expect(r.pairs[0].rejectedSpans).toEqual([[0, 'v0 = 0\n'.length]]);
  });

  it('a regression after a pass: the latest pass is chosen, later versions are ignored', () => {
    const r = pairHistory(1, [v(0, 'wrong_answer'), v(1, 'pass'), v(2, 'wrong_answer')], { pick: 'all', seed: 42 });
    expect(r.pairs.map((p) => [p.chosen.ordinal, p.rejected.ordinal])).toEqual([[1, 0]]);
  });

  it('an unexecuted earlier version is never rejected', () => {
    const r = pairHistory(1, [v(0, null), v(1, 'pass')], { pick: 'all', seed: 42 });
    expect(r.skipped).toBe('no_failing_version');
  });

  it('no passing version', () => {
    expect(pairHistory(1, [v(0, 'wrong_answer'), v(1, 'timeout')], { pick: 'one', seed: 42 }).skipped).toBe('no_passing_version');
  });

  it('--rejected one: the pick is a pure function of (seed, history id)', () => {
    const versions = [v(0, 'wrong_answer'), v(1, 'wrong_answer'), v(2, 'wrong_answer'), v(3, 'pass')];
    const a = pairHistory(7, versions, { pick: 'one', seed: 42 });
    const b = pairHistory(7, [...versions].reverse(), { pick: 'one', seed: 42 });
    expect(a.pairs).toHaveLength(1);
    expect(a.pairs[0].rejected.ordinal).toBe(b.pairs[0].rejected.ordinal);
    expect(a.pairs[0].rejected.ordinal).toBe(seededIndex(42, 'history:7', 3));
    // Over many seeds every failing version gets picked sometimes.
    const picked = new Set<number>();
    for (let s = 0; s < 60; s++) picked.add(pairHistory(7, versions, { pick: 'one', seed: s }).pairs[0].rejected.ordinal);
    expect([...picked].sort()).toEqual([0, 1, 2]);
  });

  it('seededIndex is stable (sha256 of "seed:key")', () => {
    // The first 32-bit word of sha256("42:history:7"), modulo n (computed once with node:crypto).
    expect(seededIndex(42, 'history:7', 1000)).toBe(345);
    expect(seededIndex(42, 'history:7', 3)).toBe(1);
    expect(seededIndex(1, 'k', 1)).toBe(0);
  });
});

describe('--lines difflib', () => {
  it('uses ndiff marks instead of the LCS, with the same span rules', () => {
    const chosen = 'x = 1\ny = x + 1\nx = 2\nx = 1\n';
    const rejected = 'y = x + 1\nx = 1\n';
    const lcs = pairHistory(1, [v(0, 'wrong_answer', rejected), v(1, 'pass', chosen)], { pick: 'all', seed: 0 });
    expect(lcs.pairs[0].rejectedSpans).toEqual([]);
    const d = pairHistory(1, [v(0, 'wrong_answer', rejected), v(1, 'pass', chosen)], { pick: 'all', seed: 0, lines: 'difflib' });
    expect(d.pairs[0].diff.rejectedCritical).toEqual([0]);
    expect(d.pairs[0].rejectedSpans).toEqual([[0, 10]]);
    expect(d.pairs[0].diff.common).toBe(1);
  });
});
