// Domain types of preference pairs (issue 5). Pure data, no I/O.

import type { Verdict } from '../exec/types';

export type PairMode = 'structurecoder' | 'iterpref';
export const PAIR_MODES: readonly PairMode[] = ['structurecoder', 'iterpref'];

/** fim: a block re-generated between a prefix and a suffix; full: a whole program with empty
 * prefix and suffix (always trained in chat format); iterpref: two versions of a whole program. */
export type PairKind = 'fim' | 'iterpref' | 'full';
export const PAIR_KINDS: readonly PairKind[] = ['fim', 'iterpref', 'full'];

export type ReviewStatus = 'pending' | 'accepted' | 'rejected' | 'flagged';
export const REVIEW_STATUSES: readonly ReviewStatus[] = ['pending', 'accepted', 'rejected', 'flagged'];

/** A character range [start, end) of a response that counts in the loss. */
export type Span = [number, number];

/**
 * Flags set by the filters (they never delete a pair):
 * - identical_ast: chosen and rejected programs have the same syntax tree once comments and
 *   whitespace are ignored (tree-sitter);
 * - comment_only: every critical rejected line is a comment or blank (IterPref);
 * - no_critical_lines: the rejected side has no line outside the LCS, so nothing of it counts;
 * - too_many_critical: more critical rejected lines than the limit (20);
 * - too_long: either side (prompt + response) is over the token limit (2048);
 * - duplicate: the same question, context, chosen and rejected as an older pair;
 * - stale: the latest pairing run over this pair's target or history no longer produces it.
 */
export type PairFlag = 'identical_ast' | 'comment_only' | 'no_critical_lines' | 'too_many_critical' | 'too_long' | 'duplicate' | 'stale';
export const PAIR_FLAGS: readonly PairFlag[] = [
  'identical_ast',
  'comment_only',
  'no_critical_lines',
  'too_many_critical',
  'too_long',
  'duplicate',
  'stale',
];

/** The verdicts a structurecoder pair may reject: only wrong_answer by default (REFERENCE §1). */
export const DEFAULT_REJECT: readonly Verdict[] = ['wrong_answer'];
/** `--admit-errors`: runtime errors and timeouts may be rejected too. */
export const ADMIT_ERRORS_REJECT: readonly Verdict[] = ['wrong_answer', 'runtime_error', 'timeout'];

/** Token counts of each side of a pair (prompt + response) and how they were obtained. */
export interface TokenCounts {
  chosen: number;
  rejected: number;
  /** 'tokenize': the endpoint's /tokenize; 'estimate': characters / 3, rounded up. */
  method: 'tokenize' | 'estimate';
  /** The prompt family the pair was rendered with for counting (absent in pairs stored before
   * it was recorded: qwen2.5-coder, the only family counted then by default). */
  family?: string;
}
