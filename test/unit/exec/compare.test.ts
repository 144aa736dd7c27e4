import { describe, expect, it } from 'vitest';
import { appsEqual, compareStdout, npAllclose, pyFloat, pyRound3, pySplitWs, pySplitlines, pyStrip, strictCompare } from '../../../server/exec/compare';
import { worstOf } from '../../../server/exec/verdict';
import { worseVerdict } from '../../../server/exec/types';
import { VERDICTS, VERDICT_SEVERITY } from '../../../server/protocol';

describe('Python string semantics', () => {
  it('splitlines like str.splitlines', () => {
    expect(pySplitlines('a\nb\n')).toEqual(['a', 'b']);
    expect(pySplitlines('a\r\nb\rc\x0bd\x1ce\u2028f')).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    expect(pySplitlines('')).toEqual([]);
    expect(pySplitlines('\n\n')).toEqual(['', '']);
  });
  it('strip and split on Python whitespace', () => {
    expect(pyStrip('\x1c\t a b \u3000\n')).toBe('a b');
    expect(pyStrip('\ufeffx')).toBe('\ufeffx'); // not whitespace for Python, unlike JS trim
    expect(pySplitWs('  1\t2\x1f3  ')).toEqual(['1', '2', '3']);
  });
  it('float() accepts what Python accepts and nothing else', () => {
    expect(pyFloat(' 1.5 ')).toBe(1.5);
    expect(pyFloat('1_000.5')).toBe(1000.5);
    expect(pyFloat('-Infinity')).toBe(-Infinity);
    expect(pyFloat('.5e1')).toBe(5);
    expect(pyFloat('1.')).toBe(1);
    expect(Number.isNaN(pyFloat('nan'))).toBe(true);
    for (const bad of ['', '.', 'e5', '1__0', '_1', '0x10', '1e', 'abc', '1.2.3']) expect(() => pyFloat(bad), bad).toThrow(/could not convert/);
  });
  it('round(x, 3) rounds the exact binary value half to even', () => {
    expect(pyRound3(0.0625)).toBe(0.062); // exact tie: Python keeps the even digit
    expect(pyRound3(0.0635)).toBe(0.064); // 0.0635 is slightly above the tie in binary
    expect(pyRound3(2.675)).toBe(2.675);
    expect(pyRound3(1.0005)).toBe(1.0); // 1.0005 is below the tie in binary: Python gives 1.0
    expect(pyRound3(-0.0625)).toBe(-0.062);
    expect(pyRound3(123456.78951)).toBe(123456.79);
  });
  it('numpy.allclose defaults', () => {
    expect(npAllclose([1, 1e-9], [1.000001, 0])).toBe(true);
    expect(npAllclose([1], [1.001])).toBe(false);
    expect(npAllclose([NaN], [NaN])).toBe(false);
    expect(npAllclose([Infinity], [Infinity])).toBe(true);
  });
});

describe('strict comparator', () => {
  it('ignores trailing whitespace and trailing blank lines only', () => {
    expect(strictCompare('1 2  \n3\n\n\n', '1 2\n3').equal).toBe(true);
    expect(strictCompare('1\r\n2\r\n', '1\n2\n').equal).toBe(true);
    expect(strictCompare(' 1\n', '1\n').equal).toBe(false);
    expect(strictCompare('1\n\n2', '1\n2').equal).toBe(false);
    expect(strictCompare('', '').equal).toBe(true);
    expect(strictCompare('', '0').reason).toMatch(/line 1/);
  });
  it('numbers within 1e-6 when one is a float; integers exactly', () => {
    expect(strictCompare('0.3333333\n', '0.333333333').equal).toBe(true);
    expect(strictCompare('1.0', '1').equal).toBe(true);
    expect(strictCompare('1.5', '1.4999').equal).toBe(false);
    expect(strictCompare('1000000.5', '1000000.4999').equal).toBe(true); // relative error 1e-10
    expect(strictCompare('2.0000001', '2').equal).toBe(true);
    expect(strictCompare('12345678901234567890', '12345678901234567891').equal).toBe(false);
    expect(strictCompare('007', '7').equal).toBe(true);
    expect(strictCompare('YES', 'yes').equal).toBe(false);
  });
  it('names the first differing line', () => {
    expect(strictCompare('1\n2\n4\n', '1\n2\n3\n')).toEqual({ equal: false, reason: 'line 3: expected "3", got "4"' });
    expect(strictCompare('1\n2\n3\n4', '1\n2\n3\n').reason).toMatch(/4 lines; expected 3/);
  });
});

describe('apps comparator (the APPS cascade)', () => {
  it('accepts what APPS accepts', () => {
    expect(appsEqual('  hello  \n', 'hello')).toBe(true); // stripped text
    expect(appsEqual(' a \n b \n', 'a\nb')).toBe(true); // stripped lines
    expect(appsEqual('a\n\nb\n', 'a\nb\n')).toBe(true); // empty output lines dropped
    expect(appsEqual('1.0000001\n2\n', '1\n2.0\n')).toBe(true); // allclose
    expect(appsEqual('3 1 2\n', '1 2 3\n')).toBe(true); // order-insensitive tokens of a line
    expect(appsEqual('b\na\n', 'a\nb\n')).toBe(true); // order-insensitive set of lines
    expect(appsEqual('1 1 2\n', '2 1\n')).toBe(true); // sets: duplicates collapse
    expect(appsEqual('0.12345\n', '0.1234\n')).toBe(true); // rounded to 3 decimals, as sets
    expect(appsEqual('x\r\ny\r\n', 'x\ny')).toBe(true);
  });
  it('rejects what APPS rejects', () => {
    expect(appsEqual('1 2\n', '1 2 3\n')).toBe(false);
    expect(appsEqual('1.0011\n', '1.0\n')).toBe(false);
    expect(appsEqual('YES\n', 'yes\n')).toBe(false);
    expect(appsEqual('a\nb\n', 'a b\n')).toBe(false);
    expect(appsEqual('', '1')).toBe(false);
    expect(appsEqual('nan\n', 'nan\n')).toBe(true); // equal text before any float step
    expect(appsEqual('nan 1\n', '1 nan x\n')).toBe(false);
  });
  it('is more lenient than strict on the same pairs', () => {
    expect(compareStdout('strict', '3 1 2', '1 2 3').equal).toBe(false);
    expect(compareStdout('apps', '3 1 2', '1 2 3').equal).toBe(true);
  });
});

describe('verdict order', () => {
  it('lists every verdict once and picks the worst', () => {
    expect([...VERDICT_SEVERITY].sort()).toEqual([...VERDICTS].sort());
    expect(worstOf([])).toBe('pass');
    expect(worstOf(['pass', 'wrong_answer', 'runtime_error', 'wrong_answer'])).toBe('runtime_error');
    expect(worstOf(['timeout', 'memory_limit'])).toBe('timeout');
    expect(worstOf(['output_limit', 'wrong_answer'])).toBe('output_limit');
    expect(worseVerdict('compile_error', 'timeout')).toBe('compile_error');
  });
});
