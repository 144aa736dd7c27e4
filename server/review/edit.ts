// A reviewer's new chosen side: the program its tests run on, and the pair's fields recomputed for
// it (spans, edit distance, critical-line flags), as the pairing run would have computed them.
import { criticalLineFlags, DEFAULT_FILTER_LIMITS, type FilterLimits } from '../pairs/filters';
import { iterPrefSpans, type LineMode } from '../pairs/iterpref';
import { levenshtein } from '../pairs/levenshtein';
import { wholeSpan } from '../pairs/lcs';
import type { PairRecord } from '../pairs/store';
import type { PairFlag, Span } from '../protocol';

/** The program a side is tested as: a FIM pair's middle between its prefix and suffix (as the
 * sample was run), a whole program as it is. */
export function sideProgram(pair: Pick<PairRecord, 'pre' | 'suf'>, side: string): string {
  return pair.pre + side + pair.suf;
}

const CRITICAL_FLAGS: readonly PairFlag[] = ['no_critical_lines', 'comment_only', 'too_many_critical'];

export interface Recomputed {
  chosenSpans: Span[];
  rejectedSpans: Span[];
  editDistance: number | null;
  flags: PairFlag[];
}

/** The pair's computed fields with `chosen` as its chosen side. */
export function recompute(pair: PairRecord, chosen: string): Recomputed {
  if (pair.mode === 'iterpref') {
    const pairing = pair.provenance.pairing as { lines?: LineMode } | undefined;
    const limits = { ...DEFAULT_FILTER_LIMITS, ...((pair.provenance.limits as Partial<FilterLimits> | undefined) ?? {}) };
    const s = iterPrefSpans(chosen, pair.rejected, pairing?.lines ?? 'lcs');
    const critical = criticalLineFlags(s.diff.rejectedLines, s.diff.rejectedCritical, limits);
    return {
      chosenSpans: s.chosenSpans,
      rejectedSpans: s.rejectedSpans,
      editDistance: s.diff.rejectedCritical.length + s.diff.chosenCritical.length,
      flags: [...pair.flags.filter((f) => !CRITICAL_FLAGS.includes(f)), ...critical],
    };
  }
  return { chosenSpans: wholeSpan(chosen), rejectedSpans: pair.rejectedSpans, editDistance: levenshtein(chosen, pair.rejected), flags: pair.flags };
}
