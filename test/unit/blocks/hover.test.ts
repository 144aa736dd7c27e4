// Hover text of the blocks that start on a line.
import { describe, expect, it } from 'vitest';
import { type BlockInfo } from '../../../server/protocol';
import { blockHoverLine, hoverText } from '../../../server/blocks/hover';

const b = (kind: BlockInfo['kind'], depth: number, startLine: number, endLine: number, startCharacter = 0): BlockInfo => ({
  kind,
  depth,
  startLine,
  startCharacter,
  endLine,
  endCharacter: 1,
});

describe('hover text', () => {
  it('is exactly "<kind> block · depth <d> · lines <a>–<b>", 1-based, innermost first', () => {
    expect(blockHoverLine(b('for', 2, 4, 8, 4))).toBe('for block \u00b7 depth 2 \u00b7 lines 5\u20139');
    const blocks = [b('class', 2, 0, 5), b('with', 1, 0, 5, 9), b('if', 1, 3, 4)];
    expect(hoverText(blocks, 0)).toBe('with block · depth 1 · lines 1–6\nclass block · depth 2 · lines 1–6');
    expect(hoverText(blocks, 1)).toBeUndefined();
  });
});
