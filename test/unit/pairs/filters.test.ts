// Each filter on its own: identical ASTs (tree-sitter, comments and whitespace ignored), critical
// lines that are only comments, too many critical lines, too many tokens, exact duplicates.
import { beforeAll, describe, expect, it } from 'vitest';
import { loadPython, type PythonGrammar } from '../../../server/blocks/parser';
import { astFingerprint, identicalAst } from '../../../server/pairs/ast';
import { criticalLineFlags, DEFAULT_FILTER_LIMITS, duplicateKey, isCommentOrBlank, sortFlags, tokenFlags } from '../../../server/pairs/filters';
import { lineDiff } from '../../../server/pairs/lcs';
import { estimateTokens } from '../../../server/pairs/tokens';
import { PAIR_FLAGS } from '../../../server/protocol';

let grammar: PythonGrammar;
beforeAll(async () => {
  grammar = await loadPython();
});

describe('identical AST', () => {
  it('ignores comments, spacing, blank lines and indentation width', () => {
    expect(identicalAst(grammar, 'x = 1  # one\n', 'x=1\n')).toBe(true);
    expect(identicalAst(grammar, 'if a:\n    b()\n\n\n', '# lead\nif a:\n  b()\n')).toBe(true);
    expect(identicalAst(grammar, 'x = 1 + \\\n    2\n', 'x = 1 + 2\n')).toBe(true);
  });
  it('sees any changed token', () => {
    expect(identicalAst(grammar, 'x = 1\n', 'x = 2\n')).toBe(false);
    expect(identicalAst(grammar, 'x = a < b\n', 'x = a <= b\n')).toBe(false);
    expect(identicalAst(grammar, "s = 'a b'\n", "s = 'a  b'\n")).toBe(false);
    expect(identicalAst(grammar, 'if a:\n    b()\nc()\n', 'if a:\n    b()\n    c()\n')).toBe(false);
    // The concrete tree keeps parentheses (Python's ast would not).
    expect(identicalAst(grammar, 'x = (1)\n', 'x = 1\n')).toBe(false);
  });
  it('a fingerprint names node types and leaf text', () => {
    const f = astFingerprint(grammar, 'x = 1\n');
    expect(f).toContain('identifier=x');
    expect(f).toContain('integer=1');
    expect(f).not.toContain('comment');
  });
});

describe('critical-line flags (IterPref)', () => {
  it('comment-only critical lines', () => {
    const d = lineDiff('a = 1\nprint(a)\n', 'a = 1\n# debug\n\nprint(a)\n');
    expect(d.rejectedCritical).toEqual([1, 2]);
    expect(criticalLineFlags(d.rejectedLines, d.rejectedCritical, DEFAULT_FILTER_LIMITS)).toEqual(['comment_only']);
  });
  it('a code line with a trailing comment is not comment-only', () => {
    expect(isCommentOrBlank('x = 1  # note')).toBe(false);
    expect(isCommentOrBlank('   # note')).toBe(true);
    const d = lineDiff('a = 1\n', 'a = 2  # fix\n');
    expect(criticalLineFlags(d.rejectedLines, d.rejectedCritical, DEFAULT_FILTER_LIMITS)).toEqual([]);
  });
  it('no critical line at all', () => {
    const d = lineDiff('a = 1\nb = 2\n', 'a = 1\n');
    expect(criticalLineFlags(d.rejectedLines, d.rejectedCritical, DEFAULT_FILTER_LIMITS)).toEqual(['no_critical_lines']);
  });
  it('more than 20 critical lines, and exactly 20', () => {
    const body = (n: number, v: string) => Array.from({ length: n }, (_, i) => `x${i} = ${v}\n`).join('');
    const d21 = lineDiff(body(21, '1'), body(21, '2'));
    expect(criticalLineFlags(d21.rejectedLines, d21.rejectedCritical, DEFAULT_FILTER_LIMITS)).toEqual(['too_many_critical']);
    const d20 = lineDiff(body(20, '1'), body(20, '2'));
    expect(criticalLineFlags(d20.rejectedLines, d20.rejectedCritical, DEFAULT_FILTER_LIMITS)).toEqual([]);
    expect(criticalLineFlags(d20.rejectedLines, d20.rejectedCritical, { ...DEFAULT_FILTER_LIMITS, maxCriticalLines: 5 })).toEqual(['too_many_critical']);
  });
});

describe('token and duplicate filters', () => {
  it('too_long when either side is over the limit', () => {
    expect(tokenFlags({ chosen: 2048, rejected: 2048, method: 'tokenize' }, DEFAULT_FILTER_LIMITS)).toEqual([]);
    expect(tokenFlags({ chosen: 10, rejected: 2049, method: 'tokenize' }, DEFAULT_FILTER_LIMITS)).toEqual(['too_long']);
    expect(tokenFlags({ chosen: 2049, rejected: 1, method: 'estimate' }, DEFAULT_FILTER_LIMITS)).toEqual(['too_long']);
  });
  it('the estimate is code points / 3, rounded up', () => {
    expect(estimateTokens('')).toBe(0);
    expect(estimateTokens('abcd')).toBe(2);
    expect(estimateTokens('😀😀😀')).toBe(1);
  });
  it('duplicate keys: equal parts equal, and field boundaries matter', () => {
    const base = { kind: 'fim', question: 'q', pre: 'p\n', suf: '\ns', chosen: 'c', rejected: 'r' };
    expect(duplicateKey(base)).toBe(duplicateKey({ ...base }));
    expect(duplicateKey(base)).not.toBe(duplicateKey({ ...base, rejected: 'r2' }));
    expect(duplicateKey({ ...base, chosen: 'ab', rejected: 'c' })).not.toBe(duplicateKey({ ...base, chosen: 'a', rejected: 'bc' }));
  });
  it('flags come out in a fixed order without repeats', () => {
    expect(sortFlags(['too_long', 'identical_ast', 'too_long'], PAIR_FLAGS)).toEqual(['identical_ast', 'too_long']);
  });
});
