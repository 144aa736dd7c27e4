// Character codes, keyword lists and keyword tests shared by the two text scanners of Python
// source: chunks.ts (where the editor may split a document into separately parsed chunks) and
// indentation.ts (CPython's layout rules for the structurecoder cut).

export const TAB = 9;
export const LF = 10;
export const FORM_FEED = 12;
export const CR = 13;
export const SPACE = 32;
export const HASH = 35;
export const DOT = 46;
export const COLON = 58;
export const AT = 64;
export const BACKSLASH = 92;

/** Compound statements: their header ends with `:` (3.11; `match` / `case` are soft keywords,
 * `async` leads `async def` / `for` / `with`). */
export const COMPOUND_KEYWORDS = ['if', 'elif', 'else', 'for', 'while', 'with', 'try', 'except', 'finally', 'def', 'class', 'async', 'match', 'case'];

/** Identifier characters, with every non-ASCII code unit counted as one (Python identifiers may be
 * unicode), so `elseé` or `define` is not read as a keyword. */
export function isIdentChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c >= 128;
}

/** Whether `text` has the keyword `word` at `at`, not followed by an identifier character. */
export function keywordAt(text: string, at: number, word: string): boolean {
  return text.startsWith(word, at) && !isIdentChar(text.charCodeAt(at + word.length));
}

/** Whether one of `words` is at `at` as a keyword. */
export function startsWithAny(text: string, at: number, words: readonly string[]): boolean {
  const c = text.charCodeAt(at);
  for (const w of words) if (w.charCodeAt(0) === c && keywordAt(text, at, w)) return true;
  return false;
}
