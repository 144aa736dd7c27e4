// Domain types for AST blocks and fill-in-the-middle targets. Pure data, no I/O.

/** Which rules decide the target blocks (REFERENCE.md section 1; README "Presets"). */
export type Preset = 'structurecoder' | 'clean';
export const PRESETS: readonly Preset[] = ['structurecoder', 'clean'];

/** `structurecoder` only ever yields the first four; `clean` may add the others when asked. */
export type BlockKind = 'if' | 'for' | 'while' | 'def' | 'async_def' | 'with' | 'try' | 'class';
export const CORE_KINDS: readonly BlockKind[] = ['if', 'for', 'while', 'def'];
export const EXTRA_KINDS: readonly BlockKind[] = ['async_def', 'with', 'try', 'class'];

/** `targets.kind` of a whole-program target (`pairforge targets --whole-programs`): depth 0,
 * `pre` and `suf` empty, `mid` the whole prepared code. Not a block: the editor shows no lens for
 * it, and it is always sampled with the chat prompt (REFERENCE.md section 1). */
export const PROGRAM_KIND = 'program';

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
