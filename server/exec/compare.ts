// Comparators for stdin/stdout tests (docs/execution.md "Comparators"). Pure functions: the program's captured
// stdout against the expected text.
//
// - strict (the default): line by line; trailing whitespace of each line and trailing blank lines
//   are ignored; a line also matches when it has the same whitespace-separated tokens, where two
//   numeric tokens of which at least one is a decimal/exponent number match within an absolute or
//   relative error of 1e-6 (integers must match exactly).
// - apps: the APPS harness's lenient cascade (docs/published.md "Datasets and their harnesses"), reproduced step by step with
//   Python's string semantics (str.splitlines, str.strip, str.split, float(), round(x, 3)).
import type { Comparator } from '../protocol';

export interface Comparison {
  equal: boolean;
  /** Why they differ, for the test's message (strict only names a line). */
  reason?: string;
}

export function compareStdout(comparator: Comparator, actual: string, expected: string): Comparison {
  return comparator === 'apps' ? { equal: appsEqual(actual, expected) } : strictCompare(actual, expected);
}

// ---- Python string semantics -------------------------------------------------------------

/** Characters for which Python's str.isspace() is true. */
const PY_SPACE = new Set(
  [0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000]
    .concat(Array.from({ length: 11 }, (_, i) => 0x2000 + i)),
);
/** Line boundaries of Python's str.splitlines() (besides \r\n). */
const PY_LINE_BREAK = new Set([0x0a, 0x0b, 0x0c, 0x0d, 0x1c, 0x1d, 0x1e, 0x85, 0x2028, 0x2029]);

function isPySpace(ch: string): boolean {
  return PY_SPACE.has(ch.charCodeAt(0));
}

export function pyStrip(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isPySpace(s[a])) a++;
  while (b > a && isPySpace(s[b - 1])) b--;
  return s.slice(a, b);
}

export function pyRstrip(s: string): string {
  let b = s.length;
  while (b > 0 && isPySpace(s[b - 1])) b--;
  return s.slice(0, b);
}

/** str.split() without arguments: runs of whitespace separate, no empty tokens. */
export function pySplitWs(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (const ch of s) {
    if (isPySpace(ch)) {
      if (cur) out.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (cur) out.push(cur);
  return out;
}

/** str.splitlines(): no trailing empty line for a final line break. */
export function pySplitlines(s: string): string[] {
  const out: string[] = [];
  let start = 0;
  let i = 0;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (PY_LINE_BREAK.has(c)) {
      out.push(s.slice(start, i));
      i += c === 0x0d && s.charCodeAt(i + 1) === 0x0a ? 2 : 1;
      start = i;
    } else i++;
  }
  if (start < s.length) out.push(s.slice(start));
  return out;
}

const PY_FLOAT = /^[+-]?(?:(?:\d(?:_?\d)*)?(?:\.(?:\d(?:_?\d)*)?)?(?:[eE][+-]?\d(?:_?\d)*)?|inf|infinity|nan)$/i;

/** Python's float(str); throws like it (ValueError) on anything else. */
export function pyFloat(s: string): number {
  const t = pyStrip(s);
  if (!PY_FLOAT.test(t) || !/\d|inf|nan/i.test(t) || /^[+-]?\.?(?:[eE]|$)/.test(t)) {
    throw new Error(`could not convert string to float: '${s}'`);
  }
  const lower = t.toLowerCase().replace(/_/g, '');
  const sign = lower.startsWith('-') ? -1 : 1;
  const body = lower.replace(/^[+-]/, '');
  if (body === 'inf' || body === 'infinity') return sign * Infinity;
  if (body === 'nan') return NaN;
  return Number(lower);
}

/** numpy.allclose with its defaults (rtol 1e-5, atol 1e-8, NaN never close). */
export function npAllclose(a: readonly number[], b: readonly number[]): boolean {
  return a.every((x, i) => {
    const y = b[i];
    if (Number.isNaN(x) || Number.isNaN(y)) return false;
    if (!Number.isFinite(x) || !Number.isFinite(y)) return x === y;
    return Math.abs(x - y) <= 1e-8 + 1e-5 * Math.abs(y);
  });
}

/** Python's round(x, 3): the exact binary value rounded half to even, then back to a double. */
export function pyRound3(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  const negative = x < 0;
  const { mantissa, exponent } = decompose(Math.abs(x));
  if (exponent >= 0) return x;
  const num = mantissa * 1000n;
  const den = 1n << BigInt(-exponent);
  let q = num / den;
  const twice = 2n * (num % den);
  if (twice > den || (twice === den && q % 2n === 1n)) q += 1n;
  const r = Number(`${q}e-3`);
  return negative ? -r : r;
}

/** x = mantissa * 2^exponent exactly, for a finite positive double. */
function decompose(x: number): { mantissa: bigint; exponent: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & ((1n << 52n) - 1n);
  return biased === 0 ? { mantissa: fraction, exponent: -1074 } : { mantissa: fraction | (1n << 52n), exponent: biased - 1075 };
}

// ---- apps ------------------------------------------------------------------------------------

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** A set of sets as comparable keys (each inner set sorted and joined). */
function setOfSets(lines: readonly (readonly string[])[]): Set<string> {
  return new Set(lines.map((tokens) => [...new Set(tokens)].sort().join('\u0000')));
}

function sameSet(a: Set<string>, b: Set<string>): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x));
}

let nanCounter = 0;
function roundedKeys(tokens: readonly string[]): string[] {
  return tokens.map((t) => {
    const r = pyRound3(pyFloat(t));
    // NaN is never equal to another NaN object in a Python set; 0.0 and -0.0 are the same element.
    if (Number.isNaN(r)) return `nan#${nanCounter++}`;
    return String(r === 0 ? 0 : r);
  });
}

/**
 * The APPS harness's stdin/stdout check, in its order: stripped whole text; stripped lines; the
 * output as one line; the expected split into stripped non-empty lines; output without empty
 * lines; all lines as floats (numpy.allclose); the set of lines as sets of tokens; the same with
 * every token rounded to 3 decimals.
 */
export function appsEqual(stdout: string, expected: string): boolean {
  const output = pySplitlines(stdout);
  if (pyStrip(output.join('\n')) === pyStrip(expected)) return true;
  if (pyStrip(output.map(pyStrip).join('\n')) === pyStrip(expected)) return true;
  if (output.length === 1 && output[0] === expected) return true;
  const gt = expected.split('\n').filter((x) => x.length > 0).map(pyStrip);
  if (sameList(output, gt)) return true;
  const nonEmpty = output.filter((x) => x.length > 0);
  if (sameList(nonEmpty, gt)) return true;
  try {
    const of = nonEmpty.map(pyFloat);
    const gf = gt.map(pyFloat);
    if (of.length === gf.length && npAllclose(of, gf)) return true;
  } catch {
    // float() failed: the harness moves on.
  }
  const gtTokens = gt.map(pySplitWs);
  const outTokens = nonEmpty.map(pySplitWs).filter((t) => t.length > 0);
  if (sameSet(setOfSets(outTokens), setOfSets(gtTokens))) return true;
  try {
    return sameSet(setOfSets(outTokens.map(roundedKeys)), setOfSets(gtTokens.map(roundedKeys)));
  } catch {
    return false;
  }
}

// ---- strict ----------------------------------------------------------------------------------

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INTEGER = /^[+-]?\d+$/;
export const STRICT_TOLERANCE = 1e-6;

function tokenEqual(a: string, b: string): boolean {
  if (a === b) return true;
  if (!NUMBER.test(a) || !NUMBER.test(b)) return false;
  if (INTEGER.test(a) && INTEGER.test(b)) return BigInt(a) === BigInt(b);
  const x = Number(a);
  const y = Number(b);
  if (!Number.isFinite(x) || !Number.isFinite(y)) return x === y;
  return Math.abs(x - y) <= STRICT_TOLERANCE * Math.max(1, Math.abs(y));
}

function strictLines(text: string): string[] {
  const lines = text.split('\n').map(pyRstrip);
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function clip(s: string): string {
  return JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}...` : s);
}

export function strictCompare(stdout: string, expected: string): Comparison {
  const out = strictLines(stdout);
  const exp = strictLines(expected);
  const n = Math.max(out.length, exp.length);
  for (let i = 0; i < n; i++) {
    const a = out[i];
    const b = exp[i];
    if (a === undefined) return { equal: false, reason: `output ends at line ${i + 1}; expected ${exp.length} lines` };
    if (b === undefined) return { equal: false, reason: `output has ${out.length} lines; expected ${exp.length}` };
    if (a === b) continue;
    // Leading whitespace matters; between tokens any run of blanks is one separator.
    const lead = (s: string) => s.slice(0, s.length - s.trimStart().length);
    const ta = a.trim().split(/\s+/);
    const tb = b.trim().split(/\s+/);
    if (lead(a) === lead(b) && ta.length === tb.length && ta.every((t, k) => tokenEqual(t, tb[k]))) continue;
    return { equal: false, reason: `line ${i + 1}: expected ${clip(b)}, got ${clip(a)}` };
  }
  return { equal: true };
}
