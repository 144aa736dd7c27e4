// Pure helpers of the extension (no `vscode`): block styling, import report texts.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { depthStyle, depthTints, gutterMarks } from '../../../extension/blockStyles';
import { badLineReport, importSummaryText } from '../../../extension/importReport';
import { resolveProjectPath } from '../../../extension/settingsValues';
import { type BlockInfo, type ImportSummary } from '../../../server/protocol';

const b = (kind: BlockInfo['kind'], depth: number, startLine: number, endLine: number, startCharacter = 0): BlockInfo => ({
  kind,
  depth,
  startLine,
  startCharacter,
  endLine,
  endCharacter: 1,
});

describe('block styles', () => {
  it('clamps depths to the four theme colours', () => {
    expect([0, 1, 2, 3, 4, 5, 17].map(depthStyle)).toEqual([1, 1, 2, 3, 4, 4, 4]);
  });

  it('tints each line with its innermost block and merges runs', () => {
    // def 2..9 (depth 3) > for 4..7 (depth 2) > if 5..6 (depth 1); while 11..12 (depth 1)
    const blocks = [b('def', 3, 2, 9), b('for', 2, 4, 7, 4), b('if', 1, 5, 6, 8), b('while', 1, 11, 12)];
    expect(depthTints(blocks)).toEqual([
      [{ start: 5, end: 6 }, { start: 11, end: 12 }],
      [{ start: 4, end: 4 }, { start: 7, end: 7 }],
      [{ start: 2, end: 3 }, { start: 8, end: 9 }],
      [],
    ]);
    expect(depthTints([])).toEqual([[], [], [], []]);
  });

  it('puts deep blocks in the fourth style and does not depend on input order', () => {
    const blocks = [b('if', 1, 4, 4, 16), b('def', 5, 0, 6), b('for', 4, 1, 5, 4), b('while', 3, 2, 5, 8), b('if', 2, 3, 5, 12)];
    const tints = depthTints(blocks);
    expect(tints[3]).toEqual([{ start: 0, end: 1 }, { start: 6, end: 6 }]);
    expect(depthTints([...blocks].reverse())).toEqual(tints);
  });

  it('marks first lines by kind, the innermost kind when several blocks start on one line', () => {
    const blocks = [b('class', 2, 0, 5), b('def', 1, 0, 5, 0), b('if', 1, 3, 4, 4), b('for', 1, 7, 8)];
    // class and def both "start" on line 0 (decorated class in a recovered tree): the shallower wins.
    const marks = gutterMarks(blocks);
    expect(Object.fromEntries(marks)).toEqual({ def: [0], if: [3], for: [7] });
  });
});

describe('settings values', () => {

  it('resolves the project path against the first folder, ~ and absolute paths', () => {
    expect(resolveProjectPath(undefined, '/ws')).toBe(path.join('/ws', '.pairforge/project.sqlite'));
    expect(resolveProjectPath('  ', '/ws')).toBe(path.join('/ws', '.pairforge/project.sqlite'));
    expect(resolveProjectPath('data/p.sqlite', '/ws')).toBe('/ws/data/p.sqlite');
    expect(resolveProjectPath('/abs/../p.sqlite', '/ws')).toBe('/p.sqlite');
    expect(resolveProjectPath('~/p.sqlite', undefined, '/home/u')).toBe('/home/u/p.sqlite');
    expect(resolveProjectPath('rel.sqlite', undefined)).toBeUndefined();
  });
});

describe('import report', () => {
  const summary: ImportSummary = {
    cancelled: false,
    files: [
      { file: '/d/a.jsonl', format: 'apps', datasetId: 1, records: 3, imported: 2, unchanged: 0, bad: [{ file: '/d/a.jsonl', line: 2, reason: 'not JSON' }] },
      { file: '/d/b.jsonl.gz', format: 'humaneval', datasetId: 2, records: 1, imported: 0, unchanged: 1, bad: [] },
    ],
  };
  it('summarises and lists bad lines as file:line: reason', () => {
    expect(importSummaryText(summary)).toBe('PairForge: Import finished: 2 files, 2 new problems, 1 unchanged, 1 bad line.');
    expect(importSummaryText({ ...summary, cancelled: true })).toMatch(/^PairForge: Import cancelled:/);
    expect(badLineReport(summary)).toEqual(['/d/a.jsonl:2: not JSON']);
  });
});
