// What the pairing numbers mean, in words: why a target or history gave no pair, what each filter
// flag says. Summaries (`pairs`, `export`, `run`) use these so that every number that drops
// between stages is explained. Pure.
import type { PairFlag } from '../protocol';

/** Why a source (target / history) gave no pair: BuildSummary.skipped's keys. */
export const NO_PAIR_WORDS: Readonly<Record<string, string>> = {
  reference_fails: 'reference fails its own tests',
  no_executed_samples: 'no sample run yet',
  no_rejectable_sample: 'no sample that may be rejected (wrong answer)',
  all_compile_error: 'every sample fails to compile',
  no_passing_sample: 'no passing sample',
  no_passing_version: 'no version passes',
  no_failing_version: 'no earlier version fails',
  not_executed: 'versions not run yet',
  no_tests: 'no tests to run the versions on',
};

/** What each filter flag says about a pair (PairFlag). */
export function flagWords(flag: string, maxTokens: number): string {
  switch (flag as PairFlag) {
    case 'too_long':
      return `over ${maxTokens} tokens`;
    case 'duplicate':
      return 'same as an older pair';
    case 'identical_ast':
      return 'chosen and rejected parse the same';
    case 'comment_only':
      return 'only comment lines are critical';
    case 'no_critical_lines':
      return 'no critical line on the rejected side';
    case 'too_many_critical':
      return 'too many critical lines';
    case 'stale':
      return 'no longer produced by pairing';
    default:
      return flag;
  }
}

/** "88 too_long (over 2048 tokens), 38 duplicate (same as an older pair)", largest first. */
export function describeFlags(counts: Readonly<Record<string, number>>, maxTokens: number): string {
  return Object.entries(counts)
    .filter(([, n]) => n > 0)
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .map(([f, n]) => `${n} ${f} (${flagWords(f, maxTokens)})`)
    .join(', ');
}

/** "800 no passing sample, 300 no sample that may be rejected (wrong answer)", largest first. */
export function describeNoPair(counts: Readonly<Record<string, number>>): string {
  return Object.entries(counts)
    .filter(([, n]) => n > 0)
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .map(([k, n]) => `${n} ${NO_PAIR_WORDS[k] ?? k.replace(/_/g, ' ')}`)
    .join(', ');
}
