// Offsets in Unicode code points. Pure.
//
// The editor and every JavaScript string index text in UTF-16 code units, so the pairs table keeps
// its spans that way; Python (and so every trainer) indexes a string by code points. A character
// outside the Basic Multilingual Plane (an emoji, many CJK extension characters) is two UTF-16
// units but one code point, so every offset after it differs by one. Everything PairForge writes
// for others to read (exports, scoring data) is converted here to code points (docs/pairs.md,
// "Offsets").
import type { Span } from '../protocol';


const isHigh = (u: number) => u >= 0xd800 && u <= 0xdbff;
const isLow = (u: number) => u >= 0xdc00 && u <= 0xdfff;

/** Number of code points in `s` (Python's `len`: a lone surrogate is one). */
export function codePointLength(s: string): number {
  let n = s.length;
  for (let i = 0; i + 1 < s.length; i++) {
    if (isHigh(s.charCodeAt(i)) && isLow(s.charCodeAt(i + 1))) {
      n--;
      i++;
    }
  }
  return n;
}

/** Spans over `s` in UTF-16 units -> the same spans in code points. An offset between the two
 * halves of a surrogate pair belongs to that character, so it maps to the character's end. An
 * offset past the end (a text edited without its spans) becomes the end, as a Python slice would
 * read it. */
export function codePointSpans(s: string, spans: readonly Span[]): Span[] {
  // One pass over the text for all offsets (spans are short lists, the text may be long).
  const wanted = [...new Set(spans.flat())].sort((a, b) => a - b);
  for (const u of wanted) if (!Number.isInteger(u) || u < 0) throw new RangeError(`span offset ${u} is not a non-negative integer`);
  const map = new Map<number, number>();
  let cp = 0;
  let i = 0;
  for (const u of wanted) {
    while (i < Math.min(u, s.length)) {
      i += isHigh(s.charCodeAt(i)) && i + 1 < s.length && isLow(s.charCodeAt(i + 1)) ? 2 : 1;
      cp++;
    }
    map.set(u, cp);
  }
  return spans.map(([a, b]) => [map.get(a) as number, map.get(b) as number]);
}
