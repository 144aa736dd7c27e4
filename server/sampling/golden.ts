// Does a target's own golden middle survive sampling? A model that writes the golden middle back
// continues the prompt's start (startOf: the first line's indentation, as the preset keeps it,
// plus its keyword) with the rest of the middle; that text then goes through the preset's
// post-processing (postProcess) like every sample. When what comes out is not the golden middle
// (up to the trailing whitespace post-processing always trims), the target is **golden-broken**:
// a sample written like the golden middle comes back cut, so the block cannot be learnt as it
// is. Under `structurecoder` this is the published behaviour on tab-indented code (the start and
// the cut count only spaces: a tab in the first line's indentation or in the block's body) and
// on continuation lines at or left of the block's indentation (inside brackets or strings, after
// a backslash); such candidates fail to compile as a rule. Under `clean` it is rare (a decorated
// definition: its first line has no keyword, so it gets no prompt).
//
// Pure and cheap (string work only), so it is computed where it is needed — when targets are cut
// (the `targets` summary and warning) and when a job prompts them (the `sample` summary) — from
// the code that samples, never stored: a stored flag would go stale when post-processing changes.
import { pyRstrip } from '../blocks/cut';
import { PROGRAM_KIND } from '../protocol';
import { postProcess } from './postprocess';
import { startOf } from './prompts';

/** The preset a target key samples with (`structurecoder+black` -> structurecoder, `clean[with]` -> clean). */
export function samplingPreset(key: string): 'structurecoder' | 'clean' {
  return key.startsWith('clean') ? 'clean' : 'structurecoder';
}

/** What post-processing makes of the golden middle `mid` of a block target of kind `kind` when
 * the model writes it back after the preset's start; undefined when the middle gets no start
 * (its first line has no keyword, so it cannot be prompted). */
export function goldenAfterSampling(kind: string, mid: string, preset: 'structurecoder' | 'clean'): string | undefined {
  let start: string;
  try {
    start = startOf(mid, preset);
  } catch {
    return undefined;
  }
  // The golden continuation: everything after the first line's keyword (the keyword ends `start`;
  // the indentation before it is the middle's own, whatever part of it the start kept).
  const keyword = /[A-Za-z_][A-Za-z0-9_]*$/.exec(start)![0];
  let i = 0;
  while (i < mid.length && mid[i] === '\n') i++;
  const at = mid.indexOf(keyword, i);
  return postProcess(kind, start, mid.slice(at + keyword.length), { preset });
}

/** True when a block target's golden middle does not survive its preset's start and
 * post-processing (see the top of the file). Whole-program targets are never cut by indentation
 * and are not golden-broken. */
export function goldenBroken(t: { kind: string; mid: string }, preset: 'structurecoder' | 'clean'): boolean {
  if (t.kind === PROGRAM_KIND) return false;
  const back = goldenAfterSampling(t.kind, t.mid, preset);
  return back === undefined || back !== pyRstrip(t.mid);
}

/** A phrase every such warning holds (to tell whether a summary already has one). */
export const GOLDEN_BROKEN_MARK = 'golden middle that does not survive';

/** The warning about golden-broken targets; `which` says how many of what, e.g. "7 of the 10
 * targets cut now". */
export function describeGoldenBroken(which: string, preset: 'structurecoder' | 'clean'): string {
  if (preset === 'clean') {
    return `${which} have a golden middle that does not survive the start and post-processing of preset clean (e.g. a decorated definition: its first line has no start keyword, so it gets no prompt)`;
  }
  return (
    `${which} have a golden middle that does not survive the published start and post-processing (preset structurecoder: only spaces count as indentation, ` +
    `and a block ends at the first line indented no deeper than its first, even inside brackets or strings), e.g. tab-indented blocks or tabs in a block's body: ` +
    `samples written like it come back cut and fail, as a rule to compile; --preset clean keeps tabs and continuation lines`
  );
}
