// Which lines get which block tint and gutter mark. Pure (no `vscode`): blocks in, line ranges out.
import type { BlockInfo, BlockKind } from '../server/protocol';

/** Depths 1..4 have their own theme colour; deeper blocks share the fourth. */
export const DEPTH_STYLES = 4;

export function depthStyle(depth: number): number {
  return Math.min(DEPTH_STYLES, Math.max(1, Math.floor(depth)));
}

/** Inclusive 0-based line range. */
export interface LineRange {
  start: number;
  end: number;
}

/** Outer blocks before the blocks nested in them: earlier start first; at the same start, the
 * deeper one (which contains the other) first. */
function outerFirst(a: BlockInfo, b: BlockInfo): number {
  return a.startLine - b.startLine || a.startCharacter - b.startCharacter || b.depth - a.depth || b.endLine - a.endLine;
}

/** Tinted line ranges per depth style (index 0 = depth 1). Each line takes the tint of the
 * innermost block covering it, so nesting shows as bands instead of stacked translucency. */
export function depthTints(blocks: readonly BlockInfo[]): LineRange[][] {
  const out: LineRange[][] = Array.from({ length: DEPTH_STYLES }, () => []);
  if (blocks.length === 0) return out;
  const last = Math.max(...blocks.map((b) => b.endLine));
  const style = new Uint8Array(last + 1); // 0 = no block
  for (const b of [...blocks].sort(outerFirst)) style.fill(depthStyle(b.depth), Math.max(0, b.startLine), b.endLine + 1);
  let line = 0;
  while (line <= last) {
    const s = style[line];
    let end = line;
    while (end + 1 <= last && style[end + 1] === s) end++;
    if (s) out[s - 1].push({ start: line, end });
    line = end + 1;
  }
  return out;
}

/** First lines of blocks per kind; a line where several blocks start shows the innermost's kind. */
export function gutterMarks(blocks: readonly BlockInfo[]): Map<BlockKind, number[]> {
  const byLine = new Map<number, BlockInfo>();
  for (const b of [...blocks].sort(outerFirst)) byLine.set(b.startLine, b);
  const out = new Map<BlockKind, number[]>();
  for (const [line, b] of [...byLine].sort((x, y) => x[0] - y[0])) {
    const lines = out.get(b.kind) ?? [];
    lines.push(line);
    out.set(b.kind, lines);
  }
  return out;
}
