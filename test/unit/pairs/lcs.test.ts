// Critical lines by exact line LCS: insertions, deletions, changes, repeated lines, CRLF and a
// missing final newline, plus a check against a plain dynamic-programming LCS.
import { describe, expect, it } from 'vitest';
import { lineDiff, lineSpans, splitLines, wholeSpan } from '../../../server/pairs/lcs';
import { iterPrefSpans } from '../../../server/pairs/iterpref';

const texts = (s: string) => splitLines(s).map((l) => l.text);

describe('splitLines', () => {
  it('splits at \\n and \\r\\n; a final terminator starts no line', () => {
    expect(splitLines('a\nb')).toEqual([
      { text: 'a', start: 0, end: 2 },
      { text: 'b', start: 2, end: 3 },
    ]);
    expect(splitLines('a\r\nb\r\n')).toEqual([
      { text: 'a', start: 0, end: 3 },
      { text: 'b', start: 3, end: 6 },
    ]);
    expect(splitLines('')).toEqual([]);
    expect(texts('a\n\n')).toEqual(['a', '']);
    expect(texts('\n')).toEqual(['']);
  });
});

describe('lineDiff / critical spans', () => {
  it('an inserted line is critical on the rejected side only', () => {
    const { diff, rejectedSpans, chosenSpans } = iterPrefSpans('a\nb\nc\n', 'a\nb\nX\nc\n');
    expect(diff.rejectedCritical).toEqual([2]);
    expect(diff.chosenCritical).toEqual([]);
    expect(rejectedSpans).toEqual([[4, 6]]);
    expect(chosenSpans).toEqual([[0, 6]]);
  });

  it('a deleted line leaves the rejected side without critical lines', () => {
    const { diff, rejectedSpans } = iterPrefSpans('a\nb\nc\n', 'a\nc\n');
    expect(diff.rejectedCritical).toEqual([]);
    expect(diff.chosenCritical).toEqual([1]);
    expect(rejectedSpans).toEqual([]);
  });

  it('a changed line is critical on both sides; the span covers its terminator', () => {
    const { diff, rejectedSpans } = iterPrefSpans('a\nb\nc\n', 'a\nB\nc\n');
    expect(diff.rejectedCritical).toEqual([1]);
    expect(diff.chosenCritical).toEqual([1]);
    expect(rejectedSpans).toEqual([[2, 4]]);
    expect('a\nB\nc\n'.slice(2, 4)).toBe('B\n');
  });

  it('adjacent critical lines merge into one span', () => {
    const { rejectedSpans } = iterPrefSpans('a\nc\n', 'a\nX\nY\nc\n');
    expect(rejectedSpans).toEqual([[2, 6]]);
  });

  it('repeated lines: exactly n - LCS lines are critical', () => {
    const d = lineDiff('a\na\na\n', 'a\nb\na\na\na\n');
    expect(d.common).toBe(3);
    expect(d.rejectedCritical).toHaveLength(2);
    expect(d.rejectedCritical).toContain(1);
    const kept = d.rejectedLines.filter((_, i) => !d.rejectedCritical.includes(i)).map((l) => l.text);
    expect(kept).toEqual(['a', 'a', 'a']);
    const d2 = lineDiff('x\ny\nx\ny\n', 'x\nx\ny\n');
    expect(d2.common).toBe(3);
    expect(d2.rejectedCritical).toEqual([]);
    expect(d2.chosenCritical).toHaveLength(1);
  });

  it('CRLF against LF is no difference; a changed CRLF line spans its \\r\\n', () => {
    expect(lineDiff('a\nb\n', 'a\r\nb\r\n').rejectedCritical).toEqual([]);
    const { rejectedSpans } = iterPrefSpans('a\nb\n', 'a\r\nB\r\n');
    expect(rejectedSpans).toEqual([[3, 6]]);
  });

  it('a missing final newline is no difference; a changed last line without one spans to the end', () => {
    expect(lineDiff('a\nb\n', 'a\nb').rejectedCritical).toEqual([]);
    expect(lineDiff('a\nb', 'a\nb\n').chosenCritical).toEqual([]);
    const { rejectedSpans } = iterPrefSpans('a\nb\n', 'a\nc');
    expect(rejectedSpans).toEqual([[2, 3]]);
  });

  it('empty programs', () => {
    expect(iterPrefSpans('', 'x\n').rejectedSpans).toEqual([[0, 2]]);
    expect(iterPrefSpans('x\n', '').rejectedSpans).toEqual([]);
    expect(wholeSpan('')).toEqual([]);
  });

  it('lineSpans rejects an index out of range', () => {
    expect(() => lineSpans(splitLines('a\n'), [3])).toThrow(/no line 3/);
  });

  it('agrees with a dynamic-programming LCS on random line sequences (exact, not difflib)', () => {
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const dp = (a: string[], b: string[]) => {
      const t = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
      for (let i = 1; i <= a.length; i++) for (let j = 1; j <= b.length; j++) t[i][j] = a[i - 1] === b[j - 1] ? t[i - 1][j - 1] + 1 : Math.max(t[i - 1][j], t[i][j - 1]);
      return t[a.length][b.length];
    };
    for (let trial = 0; trial < 300; trial++) {
      const gen = () => Array.from({ length: Math.floor(rnd() * 9) }, () => ['x = 1', 'y = 2', 'return x', ''][Math.floor(rnd() * 4)]);
      const a = gen();
      const b = gen();
      const d = lineDiff(a.map((l) => `${l}\n`).join(''), b.map((l) => `${l}\n`).join(''));
      const lcs = dp(a, b);
      expect(d.common).toBe(lcs);
      expect(d.rejectedCritical.length).toBe(b.length - lcs);
      expect(d.chosenCritical.length).toBe(a.length - lcs);
      const keptA = a.filter((_, i) => !d.chosenCritical.includes(i));
      const keptB = b.filter((_, i) => !d.rejectedCritical.includes(i));
      expect(keptB).toEqual(keptA);
    }
  });
});
