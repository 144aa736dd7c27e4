// Code lenses of a Python document, built from what the server already knows: the document's
// problem link and its stored targets placed on the document's lines. Pure: data in, lenses out.
//
// Where lenses appear (docs/editor.md "Sampling from the editor"):
// - "Run Tests" on the first line of any document linked to a problem (stored solutions and
//   versions, files with a `# pairforge-problem:` header);
// - "Sample xN" on every block that is a stored target, and "Sample all blocks" once per file, on
//   solutions opened from the project: sampling needs a target row (the prompt's pre / suf and
//   the key the samples are stored under), which only stored code has;
// - "K samples · P pass" beside a block's "Sample" lens once it has samples (opens the Samples view);
// - "Cut into targets" on a stored solution that has not been cut under the current preset.
import type { CodeLens } from 'vscode-languageserver';
import { LENS_COMMANDS, type ProblemRef } from '../protocol';
import type { DocTarget } from '../targets/documentTargets';
import type { SampleCounts } from './documentSamples';

export interface LensInput {
  uri: string;
  problem: ProblemRef | null;
  /** Why the link header could not be resolved (shown as a lens without a command). */
  linkError?: string;
  targets: DocTarget[];
  /** True when the document is stored but not yet cut under the current preset. */
  needsCut: boolean;
  presetKey: string;
  counts: Map<number, SampleCounts>;
  n: number;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function at(line: number): CodeLens['range'] {
  return { start: { line, character: 0 }, end: { line, character: 0 } };
}

export function buildCodeLenses(i: LensInput): CodeLens[] {
  const lenses: CodeLens[] = [];
  if (i.linkError) {
    lenses.push({ range: at(0), command: { title: `PairForge: ${i.linkError}`, command: '' } });
    return lenses;
  }
  if (!i.problem) return lenses;
  const p = i.problem;
  const testsTitle = p.tests > 0 ? `$(beaker) Run Tests (${plural(p.tests, 'test')})` : '$(beaker) Run Tests (no tests stored)';
  lenses.push({ range: at(0), command: { title: testsTitle, command: LENS_COMMANDS.runTests, arguments: [i.uri] } });
  if (i.needsCut) {
    lenses.push({ range: at(0), command: { title: `$(split-horizontal) Cut into targets (${i.presetKey})`, command: LENS_COMMANDS.cutTargets, arguments: [] } });
  }
  if (i.targets.length > 0) {
    lenses.push({
      range: at(0),
      command: { title: `$(sparkle) Sample all blocks (${plural(i.targets.length, 'target')} × ${i.n})`, command: LENS_COMMANDS.sampleFile, arguments: [i.uri] },
    });
  }
  for (const t of i.targets) {
    lenses.push({
      range: at(t.startLine),
      command: { title: `Sample x${i.n}`, command: LENS_COMMANDS.sampleBlock, arguments: [i.uri, t.targetId] },
    });
    const c = i.counts.get(t.targetId);
    if (c) {
      const verdicts = c.tested === c.samples ? `${c.pass} pass` : `${c.pass} pass, ${c.samples - c.tested} untested`;
      lenses.push({
        range: at(t.startLine),
        command: { title: `${plural(c.samples, 'sample')} · ${verdicts}`, command: LENS_COMMANDS.showSamples, arguments: [i.uri, t.targetId] },
      });
    }
  }
  return lenses;
}
