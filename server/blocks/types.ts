// Domain types for AST blocks and fill-in-the-middle targets. Pure data, no I/O. The block kinds
// and presets themselves are vocabulary (server/protocol/vocabulary.ts).
import type { BlockKind, Preset } from '../protocol';

export interface PresetOptions {
  preset: Preset;
  /** `clean` only: extra block kinds to target besides if/for/while/def. */
  extraKinds?: readonly BlockKind[];
}

/** A block as found in a source text. Lines and columns are 0-based; endLine is inclusive. */
export interface Block {
  kind: BlockKind;
  /** 1 + the largest depth of target blocks nested inside; a leaf block has depth 1. */
  depth: number;
  startLine: number;
  startColumn: number;
  endLine: number;
  endColumn: number;
}

/** A block cut into prefix / middle / suffix. Lines refer to the code that was cut
 * (for `structurecoder`, the comment-stripped code), so `pre + mid + suf === code` — except that
 * `structurecoder` reproduces Python's `'\n'.join([]) + '\n'`: `pre` is `"\n"` for a block on the
 * first line and `suf` is `"\n"` for one on the last line (see server/blocks/cut.ts). */
export interface Target {
  kind: BlockKind;
  depth: number;
  startLine: number;
  endLine: number;
  pre: string;
  mid: string;
  suf: string;
}

/** Result of cutting one solution: the code actually cut, its targets, or why there are none. */
export interface CutResult {
  code: string;
  targets: Target[];
  /** Set when the (prepared) code does not parse; then `targets` is empty. */
  error?: string;
}
