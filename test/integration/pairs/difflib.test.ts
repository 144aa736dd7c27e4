// The difflib mode against CPython's difflib.ndiff itself: random line sequences built from
// similar lines (so the character-ratio pairing inside replaced blocks matters) and long ones
// (so the 200-line "popular element" heuristic does), classified by python3 and by ndiffMarks.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ndiffMarks } from '../../../server/pairs/difflib';
import { lineDiff } from '../../../server/pairs/lcs';

const PY = `
import difflib, json, sys
out = []
for a, b in json.load(sys.stdin):
    ai = bi = 0
    ca, cb = [], []
    for d in difflib.ndiff(a, b):
        if d.startswith('  '):
            ai += 1; bi += 1
        elif d.startswith('- '):
            ca.append(ai); ai += 1
        elif d.startswith('+ '):
            cb.append(bi); bi += 1
    out.append([ca, cb])
json.dump(out, sys.stdout)
`;

function pythonMarks(cases: [string[], string[]][]): [number[], number[]][] {
  const r = spawnSync('python3', ['-c', PY], { input: JSON.stringify(cases), encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`python3 failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as [number[], number[]][];
}

const VOCAB = [
  'x = 1',
  'x = 2',
  'x == 1',
  'y = x + 1',
  '    y = x + 1',
  '\ty = x + 1',
  'for i in range(n):',
  'for i in range(m):',
  'for j in range(n):',
  '    total += i',
  '    total += j',
  '    total = total + i',
  'return total',
  '    return total',
  '',
  '# note',
  'print(total)',
  'print(total + 1)',
  'if a < b:',
  'if a <= b:',
  'if a < b or c:',
  'café = "é"',
  'cafe = "e"',
];

function rng(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

describe('ndiffMarks reproduces difflib.ndiff', () => {
  it('on 400 random pairs of short programs', () => {
    const r = rng(7);
    const pick = () => VOCAB[Math.floor(r() * VOCAB.length)];
    const cases: [string[], string[]][] = [];
    for (let t = 0; t < 400; t++) {
      const a = Array.from({ length: Math.floor(r() * 12) }, pick);
      // b: a with random edits, so the two share structure as successive versions do
      const b: string[] = [];
      for (const line of a) {
        const x = r();
        if (x < 0.15) continue;
        if (x < 0.35) b.push(pick());
        else b.push(line);
        if (r() < 0.15) b.push(pick());
      }
      cases.push([a, b]);
    }
    const expected = pythonMarks(cases);
    cases.forEach(([a, b], i) => {
      const m = ndiffMarks(a, b);
      expect([m.chosenCritical, m.rejectedCritical], JSON.stringify([a, b])).toEqual(expected[i]);
    });
  });

  it('on long programs (200+ lines, popular lines junked)', () => {
    const r = rng(99);
    const cases: [string[], string[]][] = [];
    for (let t = 0; t < 20; t++) {
      const a = Array.from({ length: 200 + Math.floor(r() * 80) }, () => (r() < 0.3 ? '' : r() < 0.5 ? '    pass' : `v${Math.floor(r() * 60)} = ${Math.floor(r() * 3)}`));
      const b = a.filter(() => r() > 0.05).map((l) => (r() < 0.1 ? `${l} + 1` : l));
      cases.push([a, b]);
    }
    const expected = pythonMarks(cases);
    cases.forEach(([a, b], i) => {
      const m = ndiffMarks(a, b);
      expect([m.chosenCritical, m.rejectedCritical]).toEqual(expected[i]);
    });
  });

  it('differs from the exact LCS where difflib is not one', () => {
    // SequenceMatcher takes the first longest matching block (chosen 'x = 1' at line 0 with the
    // rejected line 1), after which rejected 'y = x + 1' can no longer match; the LCS keeps both
    // rejected lines (chosen lines 1 and 3).
    const a = ['x = 1', 'y = x + 1', 'x = 2', 'x = 1'];
    const b = ['y = x + 1', 'x = 1'];
    const expected = pythonMarks([[a, b]])[0];
    const m = ndiffMarks(a, b);
    expect([m.chosenCritical, m.rejectedCritical]).toEqual(expected);
    expect(m.rejectedCritical).toHaveLength(1);
    const lcs = lineDiff(a.map((l) => `${l}\n`).join(''), b.map((l) => `${l}\n`).join(''));
    expect(lcs.rejectedCritical).toEqual([]);
  });
});
