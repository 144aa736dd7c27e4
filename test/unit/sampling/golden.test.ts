// Golden-broken targets: the golden middle written back after the preset's start does not come
// out of post-processing as it went in (server/sampling/golden.ts).
import { describe, expect, it } from 'vitest';
import { describeGoldenBroken, goldenAfterSampling, goldenBroken, samplingPreset } from '../../../server/sampling/golden';
import { PROGRAM_KIND } from '../../../server/protocol';

describe('golden-broken targets', () => {
  it('structurecoder: a tab in the first line, in the body only (column-0 def, mixed indentation), or a continuation line at the block\'s level', () => {
    const cases: [string, string, string][] = [
      // [kind, golden middle, what post-processing makes of it under structurecoder]
      ['if', '\tif root is None: \r\n\t\treturn 0\r', 'if root is None:'],
      ['def', 'def g(a, b):\r\n\treturn math.gcd(a, b)', 'def g(a, b):'],
      ['for', "  for w in s.split(' '):\r\n  \tif len(w) > k:\r\n  \t\tout.append(w)\r", "  for w in s.split(' '):"],
      ['if', '    if (a and f(\n    x)):\n        return True', '    if (a and f('],
    ];
    for (const [kind, mid, after] of cases) {
      expect(goldenAfterSampling(kind, mid, 'structurecoder'), mid).toBe(after);
      expect(goldenBroken({ kind, mid }, 'structurecoder'), mid).toBe(true);
      // clean keeps tabs and continuation lines (its cut normalises CR line endings)
      expect(goldenBroken({ kind, mid: mid.replace(/\r/g, '') }, 'clean'), mid).toBe(false);
    }
  });

  it('survives when only trailing whitespace is lost (the right-trim every sample gets)', () => {
    expect(goldenBroken({ kind: 'if', mid: '    if s: \r\n        return s[::-1]\r' }, 'structurecoder')).toBe(false);
    expect(goldenBroken({ kind: 'def', mid: 'def rev(s):\n    if s:\n        return s[::-1]\n    return s' }, 'structurecoder')).toBe(false);
    // a for ... else loses its else under the published rule (kept for if blocks only)
    expect(goldenBroken({ kind: 'for', mid: '    for x in y:\n        pass\n    else:\n        z = 1' }, 'structurecoder')).toBe(true);
    expect(goldenBroken({ kind: 'for', mid: '    for x in y:\n        pass\n    else:\n        z = 1' }, 'clean')).toBe(false);
  });

  it('clean: a decorated definition has no start keyword and cannot be prompted; whole programs are never broken', () => {
    expect(goldenAfterSampling('def', '@cache\ndef f(n):\n    return n', 'clean')).toBeUndefined();
    expect(goldenBroken({ kind: 'def', mid: '@cache\ndef f(n):\n    return n' }, 'clean')).toBe(true);
    expect(goldenBroken({ kind: PROGRAM_KIND, mid: 'def f():\n\treturn 1\n' }, 'structurecoder')).toBe(false);
  });

  it('names the preset a key samples with, and the warning says what the count is', () => {
    expect(['structurecoder', 'structurecoder+black', 'clean', 'clean[class,with]+black'].map(samplingPreset)).toEqual(['structurecoder', 'structurecoder', 'clean', 'clean']);
    expect(describeGoldenBroken('8 of the 10 targets cut now', 'structurecoder')).toMatch(
      /^8 of the 10 targets cut now have a golden middle that does not survive the published start and post-processing \(preset structurecoder: only spaces count as indentation/,
    );
  });
});
