// Hover text for blocks in an open document. Pure: blocks in, text out.
import type { BlockInfo } from '../protocol';

/** `<kind> block · depth <d> · lines <a>–<b>` with 1-based inclusive lines (the e2e test asserts
 * this exact text: U+00B7 middle dots, U+2013 en dash). */
export function blockHoverLine(b: BlockInfo): string {
  return `${b.kind} block \u00b7 depth ${b.depth} \u00b7 lines ${b.startLine + 1}\u2013${b.endLine + 1}`;
}

/** The blocks whose first line is `line`, innermost first: a block that starts later on the line
 * sits inside one that starts earlier; at the same start, the shallower (smaller depth) one is
 * nested in the other. */
export function blocksStartingOn(blocks: readonly BlockInfo[], line: number): BlockInfo[] {
  return blocks
    .filter((b) => b.startLine === line)
    .sort((a, b) => b.startCharacter - a.startCharacter || a.depth - b.depth || a.endLine - b.endLine);
}

/** Hover lines for `line` (one per block, innermost first), or undefined when no block starts there. */
export function hoverText(blocks: readonly BlockInfo[], line: number): string | undefined {
  const here = blocksStartingOn(blocks, line);
  return here.length ? here.map(blockHoverLine).join('\n') : undefined;
}
