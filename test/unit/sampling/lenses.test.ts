// The code lenses of a Python document, from its problem link, targets and sample counts. Pure.
import { describe, expect, it } from 'vitest';
import { buildCodeLenses, type LensInput } from '../../../server/sampling/lenses';
import { type ProblemRef, LENS_COMMANDS } from '../../../server/protocol';

describe('code lenses', () => {
  const problem: ProblemRef = { problemId: 7, dataset: 'demo', externalId: '9001', via: 'store', solutionId: 3, tests: 2 };
  const base: LensInput = { uri: 'pairforge:/demo/9001/solution-1.py?solution=3', problem, targets: [], needsCut: false, presetKey: 'structurecoder', counts: new Map(), n: 5 };
  const titles = (i: LensInput) => buildCodeLenses(i).map((l) => `${l.range.start.line}: ${l.command?.title} -> ${l.command?.command}`);

  it('puts Run Tests, Sample all blocks and one "Sample xN" per target, with sample counts where there are samples', () => {
    const targets = [
      { targetId: 11, kind: 'for' as const, depth: 2, startLine: 3, endLine: 6, mid: '' },
      { targetId: 12, kind: 'if' as const, depth: 1, startLine: 4, endLine: 6, mid: '' },
    ];
    const counts = new Map([[12, { samples: 5, tested: 4, pass: 3 }]]);
    expect(titles({ ...base, targets, counts, n: 8 })).toEqual([
      `0: $(beaker) Run Tests (2 tests) -> ${LENS_COMMANDS.runTests}`,
      `0: $(sparkle) Sample all blocks (2 targets × 8) -> ${LENS_COMMANDS.sampleFile}`,
      `3: Sample x8 -> ${LENS_COMMANDS.sampleBlock}`,
      `4: Sample x8 -> ${LENS_COMMANDS.sampleBlock}`,
      `4: 5 samples · 3 pass, 1 untested -> ${LENS_COMMANDS.showSamples}`,
    ]);
    expect(buildCodeLenses({ ...base, targets, counts })[3].command?.arguments).toEqual([base.uri, 12]);
  });

  it('offers a cut when the solution was not cut, nothing without a problem, and the reason when a link is broken', () => {
    expect(titles({ ...base, needsCut: true })).toEqual([
      `0: $(beaker) Run Tests (2 tests) -> ${LENS_COMMANDS.runTests}`,
      `0: $(split-horizontal) Cut into targets (structurecoder) -> ${LENS_COMMANDS.cutTargets}`,
    ]);
    expect(buildCodeLenses({ ...base, problem: null })).toEqual([]);
    expect(titles({ ...base, problem: null, linkError: "line 1: no problem 'x' in dataset 'y'" })).toEqual(["0: PairForge: line 1: no problem 'x' in dataset 'y' -> "]);
    expect(titles({ ...base, problem: { ...problem, tests: 0, via: 'header', solutionId: undefined } })).toEqual([`0: $(beaker) Run Tests (no tests stored) -> ${LENS_COMMANDS.runTests}`]);
  });
});
