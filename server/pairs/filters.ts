// The filters (docs/pairs.md "Filters"; docs/published.md "IterPref"), as pure predicates. They only ever set flags on a pair; what a
// flag means is listed with PairFlag (types.ts). Limits default to the papers' values.

import { createHash } from 'node:crypto';
import type { Line } from './lcs';
import type { TokenCounts } from './types';
import type { PairFlag } from '../protocol';

export interface FilterLimits {
  /** IterPref: more critical rejected lines than this sets too_many_critical (paper: 20). */
  maxCriticalLines: number;
  /** Either side (prompt + response) over this many tokens sets too_long (2048 in both papers). */
  maxTokens: number;
}

export const DEFAULT_FILTER_LIMITS: Readonly<FilterLimits> = Object.freeze({ maxCriticalLines: 20, maxTokens: 2048 });

/** A line that carries no code: blank, or a comment (after leading whitespace). */
export function isCommentOrBlank(text: string): boolean {
  const t = text.trim();
  return t === '' || t.startsWith('#');
}

/** Flags of the critical rejected lines (IterPref): none at all, only comments/blank, too many. */
export function criticalLineFlags(lines: readonly Line[], critical: readonly number[], limits: FilterLimits): PairFlag[] {
  const flags: PairFlag[] = [];
  if (critical.length === 0) flags.push('no_critical_lines');
  else if (critical.every((i) => isCommentOrBlank(lines[i].text))) flags.push('comment_only');
  if (critical.length > limits.maxCriticalLines) flags.push('too_many_critical');
  return flags;
}

export function tokenFlags(tokens: TokenCounts, limits: FilterLimits): PairFlag[] {
  return tokens.chosen > limits.maxTokens || tokens.rejected > limits.maxTokens ? ['too_long'] : [];
}

/** What makes two pairs exact duplicates: same kind, question, context and both responses. */
export function duplicateKey(parts: { kind: string; question: string; pre: string; suf: string; chosen: string; rejected: string }): string {
  const h = createHash('sha256');
  for (const v of [parts.kind, parts.question, parts.pre, parts.suf, parts.chosen, parts.rejected]) {
    h.update(String(Buffer.byteLength(v)));
    h.update(':');
    h.update(v);
  }
  return h.digest('hex');
}

/** Flags in the fixed order of PAIR_FLAGS, without repeats. */
export function sortFlags(flags: Iterable<PairFlag>, order: readonly PairFlag[]): PairFlag[] {
  const set = new Set(flags);
  return order.filter((f) => set.has(f));
}
