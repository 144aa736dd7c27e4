// Offsets in exported data are Unicode code points (as Python indexes strings), not the UTF-16
// units JavaScript and the pairs table use: checked on IterPref and FIM exports whose texts hold
// characters outside the Basic Multilingual Plane (emoji), by reading the spans back the way a
// Python trainer does (code point slices).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_EXPORT, exportPairs } from '../../../server/export/export';
import type { LlamaFactoryRecord, TrlRecord } from '../../../server/export/records';
import { codePointLength, codePointSpans } from '../../../server/pairs/codepoints';
import { renderForTraining } from '../../../server/pairs/render';
import { openProject, type Project } from '../../../server/store/db';
import { addDataset, addHistory, addPairs, addProblem, addSolution, addTarget, pairOnTarget } from '../../support/fixtures';

/** Python's s[a:b] and len(s) (code points). */
const pySlice = (s: string, a: number, b: number) => Array.from(s).slice(a, b).join('');
const pyLen = (s: string) => Array.from(s).length;

describe('code point offsets', () => {
  it('counts an astral character once, a BMP one once, and maps offsets after it', () => {
    const s = 'a😀b€c'; // 😀 is two UTF-16 units
    expect(s.length).toBe(6);
    expect(codePointLength(s)).toBe(5);
    expect(codePointLength('')).toBe(0);
    expect(codePointSpans(s, [[0, 1], [3, 4], [5, 6]])).toEqual([[0, 1], [2, 3], [4, 5]]);
    // between the halves of the surrogate pair: the character's end
    expect(codePointSpans(s, [[2, 2], [0, 2]])).toEqual([[2, 2], [0, 2]]);
    expect(codePointSpans(s, [[0, 6], [3, 5], [1, 3]])).toEqual([[0, 5], [2, 4], [1, 2]]);
    expect(codePointSpans('', [])).toEqual([]);
    // a lone surrogate is one code point, as in Python
    expect(codePointLength('\ud83dx')).toBe(2);
    expect(codePointSpans('\ud83dx', [[1, 2]])).toEqual([[1, 2]]);
    // past the end (a text edited without its spans): the end, as a Python slice reads it
    expect(codePointSpans(s, [[3, 7]])).toEqual([[2, 5]]);
    expect(() => codePointSpans(s, [[-1, 2]])).toThrow(RangeError);
    expect(() => codePointSpans(s, [[0, 1.5]])).toThrow(RangeError);
  });

  it("the issue's case: a 35-code-point response with one emoji spans [[0, 35]], not [[0, 36]]", () => {
    const response = 'print("done! 😀")\nx = compute(1, 2)\n';
    expect(codePointLength(response)).toBe(35);
    expect(pyLen(response)).toBe(35);
    expect(response.length).toBe(36);
    const r = renderForTraining(
      { question: 'Q', pre: '', suf: '', chosen: response, rejected: response.replace('1, 2', '2, 1'), chosenSpans: [[0, 36]], rejectedSpans: [[18, 36]] },
      'chat',
      { family: 'qwen2.5-coder', trainingSentence: false },
    );
    expect(r.chosenSpans).toEqual([[0, 35]]);
    expect(response.indexOf('x =')).toBe(18);
    expect(r.rejectedSpans).toEqual([[17, 35]]);
    expect(pySlice(r.rejected, 17, 35)).toBe('x = compute(2, 1)\n');
  });
});

describe('exports with astral characters', () => {
  let dir: string;
  let p: Project;
  let targetId: number;
  let historyId: number;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'export-cp-'));
    p = openProject(path.join(dir, 'p.sqlite'));
    const problemId = addProblem(p, { datasetId: addDataset(p, { name: 'demo' }), externalId: 'p1', question: 'Print 🎉 n times.' });
    targetId = addTarget(p, { solutionId: addSolution(p, { problemId, code: 'x' }), pre: 'n = 3\n', mid: 'for i in range(n):\n    print("🎉")', suf: '\n' });
    historyId = addHistory(p, { problemId }).id;
  });
  afterEach(() => {
    p.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const chosenProgram = 'n = int(input())\nprint("🎉" * n)  # 🐍 party\nprint("done")\n';
  const rejectedProgram = 'n = int(input())\nprint("🎉" * (n - 1))  # 🐍 party\nprint("done")\n';
  function seed(): void {
    // A FIM pair on the target (spans over each whole side) and an IterPref pair (spans from the
    // critical lines), both accepted.
    addPairs(p, [
      { ...pairOnTarget(p, targetId, { rejected: 'for i in range(n + 1):\n    print("🎉🎉")' }), pairKey: 'sc:1', editDistance: 1, status: 'accepted' },
      { pairKey: 'ip:1:1:2', problemId: 1, historyId, chosen: chosenProgram, rejected: rejectedProgram, editDistance: 1, status: 'accepted' },
    ]);
  }

  it('trl (FIM and IterPref): every span is a code point range; Python slices give the intended text', async () => {
    seed();
    const out = path.join(dir, 'trl');
    await exportPairs(p, out, { ...DEFAULT_EXPORT, format: 'trl', order: 'none', fimRate: 1 });
    const recs = readFileSync(path.join(out, 'pairs.trl.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as TrlRecord);
    const [fim, ip] = recs;
    expect(fim.metadata.format).toBe('fim');
    // FIM: the whole middle and the end token, counted in code points
    expect(fim.chosen_loss_spans).toEqual([[0, pyLen(fim.chosen)]]);
    expect(fim.rejected_loss_spans).toEqual([[0, pyLen(fim.rejected)]]);
    expect(fim.rejected_loss_spans[0][1]).toBe(fim.rejected.length - 2); // one unit fewer per emoji
    expect(pySlice(fim.rejected, ...fim.rejected_loss_spans[0])).toBe(fim.rejected);
    // IterPref: only the critical line of the rejected side, after an emoji on an earlier line
    expect(ip.metadata.format).toBe('chat');
    expect(ip.chosen_loss_spans).toEqual([[0, pyLen(chosenProgram)]]);
    expect(ip.rejected_loss_spans).toHaveLength(1);
    const [a, b] = ip.rejected_loss_spans[0];
    expect(pySlice(ip.rejected, a, b)).toBe('print("🎉" * (n - 1))  # 🐍 party\n');
    // the UTF-16 span would cut the line short for a Python reader
    expect(b).toBe(pyLen('n = int(input())\nprint("🎉" * (n - 1))  # 🐍 party\n'));
  });

  it('llamafactory carries the same code point spans', async () => {
    seed();
    const out = path.join(dir, 'lf');
    await exportPairs(p, out, { ...DEFAULT_EXPORT, format: 'llamafactory', order: 'none', fimRate: 1 });
    const recs = JSON.parse(readFileSync(path.join(out, 'pairforge_dpo.json'), 'utf8')) as LlamaFactoryRecord[];
    const ip = recs[1];
    const [a, b] = ip.rejected_loss_spans[0];
    expect(pySlice(ip.rejected, a, b)).toBe('print("🎉" * (n - 1))  # 🐍 party\n');
    expect(recs[0].chosen_loss_spans).toEqual([[0, pyLen(recs[0].chosen)]]);
  });
});
