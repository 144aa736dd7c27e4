// Domain types of preference pairs. Pure data, no I/O. Modes, kinds, statuses, flags and spans are
// vocabulary (server/protocol/vocabulary.ts).
import type { Verdict } from '../protocol';

/** The verdicts a structurecoder pair may reject: only wrong_answer by default (docs/published.md "StructureCoder"). */
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
