// StructureCoder pairing of one target's sampled middles (docs/published.md "StructureCoder", "Testing and pairing"). Pure.
//
// Faithful rules: candidates are de-duplicated after stripping newlines from both ends (Python's
// `c.strip('\n')`); only `pass` may be chosen and only the rejectable verdicts (wrong_answer by
// default) rejected; a pair is a wrong candidate with the passing candidate at the smallest
// character-level Levenshtein distance. The same text may sit on both sides (the published code
// keeps two sets); the identical-AST filter flags such a pair.
//
// Deterministic choices where the published code is not (it indexes a Python set, which crashes):
// - candidates are taken in sampling order (job, sample index, sample id), and a de-duplicated
//   text is represented by its first occurrence;
// - one-per-target rejects the FIRST distinct rejectable text in that order;
// - among passing texts at the same smallest distance, the one that occurs FIRST wins.

import { levenshtein } from './levenshtein';
import type { Verdict } from '../protocol';

export type StructureCoderSelection = 'one-per-target' | 'one-per-wrong';
export const SC_SELECTIONS: readonly StructureCoderSelection[] = ['one-per-target', 'one-per-wrong'];

/** One executed sample of a target, in sampling order. */
export interface ScCandidate {
  sampleId: number;
  executionId: number;
  middle: string;
  verdict: Verdict;
}

export interface ScOptions {
  selection: StructureCoderSelection;
  /** Verdicts that may be rejected (default wrong_answer only). */
  reject: readonly Verdict[];
  /** The golden middle: used as chosen only when no candidate passes (off when undefined). */
  golden?: string;
}

/** A distinct (newline-stripped) text and every candidate that produced it. */
export interface ScText {
  text: string;
  sampleIds: number[];
  executionIds: number[];
}

export interface ScPair {
  chosen: ScText;
  rejected: ScText;
  /** True when chosen is the golden middle (then chosen.sampleIds is empty). */
  golden: boolean;
  distance: number;
}

export interface ScTargetResult {
  pairs: ScPair[];
  /** Distinct passing / rejectable texts, and candidates whose verdict is neither. */
  passing: number;
  rejectable: number;
  excluded: number;
}

/** Python's `s.strip('\n')`: newlines only, both ends (not \r, not spaces). */
export function stripNewlines(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && s.charCodeAt(a) === 10) a++;
  while (b > a && s.charCodeAt(b - 1) === 10) b--;
  return s.slice(a, b);
}

function group(cands: ScCandidate[]): ScText[] {
  const byText = new Map<string, ScText>();
  for (const c of cands) {
    const text = stripNewlines(c.middle);
    let g = byText.get(text);
    if (!g) {
      g = { text, sampleIds: [], executionIds: [] };
      byText.set(text, g);
    }
    g.sampleIds.push(c.sampleId);
    g.executionIds.push(c.executionId);
  }
  return [...byText.values()]; // Map keeps insertion order: first occurrence first
}

/** The passing text nearest to `w`; ties go to the earliest. */
function nearest(w: string, passing: ScText[]): { text: ScText; distance: number } {
  let best = passing[0];
  let bestD = levenshtein(best.text, w);
  for (let i = 1; i < passing.length && bestD > 0; i++) {
    const d = levenshtein(passing[i].text, w);
    if (d < bestD) {
      best = passing[i];
      bestD = d;
    }
  }
  return { text: best, distance: bestD };
}

/** Pairs one target's candidates. `cands` must be in sampling order. */
export function pairStructureCoder(cands: readonly ScCandidate[], opts: ScOptions): ScTargetResult {
  const passing = group(cands.filter((c) => c.verdict === 'pass'));
  const wrong = group(cands.filter((c) => c.verdict !== 'pass' && opts.reject.includes(c.verdict)));
  const excluded = cands.filter((c) => c.verdict !== 'pass' && !opts.reject.includes(c.verdict)).length;
  const result: ScTargetResult = { pairs: [], passing: passing.length, rejectable: wrong.length, excluded };
  if (wrong.length === 0) return result;
  let golden = false;
  let pool = passing;
  if (pool.length === 0) {
    if (opts.golden === undefined) return result;
    golden = true;
    pool = [{ text: stripNewlines(opts.golden), sampleIds: [], executionIds: [] }];
  }
  const rejected = opts.selection === 'one-per-target' ? wrong.slice(0, 1) : wrong;
  for (const w of rejected) {
    const { text, distance } = nearest(w.text, pool);
    result.pairs.push({ chosen: text, rejected: w, golden, distance });
  }
  return result;
}
