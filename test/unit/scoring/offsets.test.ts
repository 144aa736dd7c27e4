// Token strings -> character ranges (code points) of the response, for the three spellings real
// tokenizers use: GPT-2 byte-level BPE (Qwen2.5-Coder, DeepSeek-Coder, StarCoder2), SentencePiece
// with byte fallback (CodeLlama), and plain (the local stand-in). Hard cases: multi-byte and astral
// characters, a token that holds half of a character, CRLF, control tokens, SentencePiece's dummy
// prefix, and token strings that spell another text.
import { describe, expect, it } from 'vitest';
import { localTokenizer } from '../../../server/localvllm/tokenizer';
import { tokenBytes, tokenRanges } from '../../../server/scoring/offsets';

/** GPT-2's bytes_to_unicode, written out again here so the table in offsets.ts is checked, not reused. */
function gpt2ByteChar(b: number): string {
  const printable = (x: number) => (x >= 0x21 && x <= 0x7e) || (x >= 0xa1 && x <= 0xac) || (x >= 0xae && x <= 0xff);
  if (printable(b)) return String.fromCharCode(b);
  let n = 0;
  for (let x = 0; x < b; x++) if (!printable(x)) n++;
  return String.fromCharCode(256 + n);
}
/** Byte-level token strings for raw UTF-8 byte groups. */
const spell = (groups: number[][]) => groups.map((g) => g.map(gpt2ByteChar).join(''));
const utf8 = (s: string) => [...Buffer.from(s, 'utf8')];
const pairs = (r: Int32Array) => Array.from({ length: r.length / 2 }, (_, i) => [r[2 * i], r[2 * i + 1]]);
const cpSlice = (s: string, a: number, b: number) => Array.from(s).slice(a, b).join('');

describe('byte-level (GPT-2) spellings', () => {
  it('reads the alphabet as GPT-2 writes it: Ġ is a space, Ċ a newline, ĠÃ© is " é"', () => {
    expect(tokenBytes('Ġfor', 'byte-level')).toEqual(utf8(' for'));
    expect(tokenBytes('ĊĠĠĠ', 'byte-level')).toEqual(utf8('\n   '));
    expect(tokenBytes('ĠÃ©', 'byte-level')).toEqual(utf8(' é'));
    expect(tokenBytes('ĠÃ©Ċ', 'byte-level')).toEqual(utf8(' é\n'));
    // the table written out here spells as GPT-2 does
    expect(spell([utf8(' é\n')])).toEqual(['ĠÃ©Ċ']);
    for (let b = 0; b < 256; b++) expect(tokenBytes(gpt2ByteChar(b), 'byte-level')).toEqual([b]);
  });

  it('places tokens in code points; a token holding half of an emoji shares it with the other half', () => {
    const text = 'def f():\n    return "é😀"\n';
    const emoji = utf8('😀'); // F0 9F 98 80
    const groups = [utf8('def'), utf8(' f'), utf8('():'), utf8('\n   '), utf8(' return'), utf8(' "'), utf8('é'), emoji.slice(0, 2), emoji.slice(2), utf8('"\n')];
    const r = tokenRanges(text, spell(groups))!;
    expect(r.spelling).toBe('byte-level');
    const ranges = pairs(r.ranges);
    const emojiAt = Array.from(text).indexOf('😀');
    expect(ranges).toEqual([
      [0, 3],
      [3, 5],
      [5, 8],
      [8, 12],
      [12, 19],
      [19, 21],
      [21, 22],
      [emojiAt, emojiAt + 1],
      [emojiAt, emojiAt + 1],
      [23, 25],
    ]);
    expect(Array.from(text)).toHaveLength(25); // code points, not the 26 UTF-16 units
    expect(cpSlice(text, ranges[9][0], ranges[9][1])).toBe('"\n');
  });

  it('a token that ends in the middle of a character and the next one that starts there both cover it', () => {
    const text = 'a€b'; // € = E2 82 AC
    const b = utf8(text);
    const r = tokenRanges(text, spell([b.slice(0, 2), b.slice(2, 4), b.slice(4)]))!;
    expect(pairs(r.ranges)).toEqual([
      [0, 2],
      [1, 2],
      [2, 3],
    ]);
  });

  it('control tokens are their own text (DeepSeek-Coder’s end token is not in the byte alphabet)', () => {
    const text = '    x = 1<｜end▁of▁sentence｜>';
    const r = tokenRanges(text, [...spell([utf8('   '), utf8(' x'), utf8(' ='), utf8(' 1')]), '<｜end▁of▁sentence｜>'])!;
    expect(r.spelling).toBe('byte-level');
    expect(pairs(r.ranges).at(-1)).toEqual([9, 9 + Array.from('<｜end▁of▁sentence｜>').length]);
    const q = tokenRanges('x<|endoftext|>', [...spell([utf8('x')]), '<|endoftext|>'])!;
    expect(pairs(q.ranges)).toEqual([
      [0, 1],
      [1, 14],
    ]);
  });

  it('CRLF: one token for \\r\\n covers two code points', () => {
    const text = 'a\r\nb';
    const r = tokenRanges(text, spell([utf8('a'), utf8('\r\n'), utf8('b')]))!;
    expect(pairs(r.ranges)).toEqual([
      [0, 1],
      [1, 3],
      [3, 4],
    ]);
  });
});

describe('SentencePiece spellings', () => {
  it('▁ is a space, <0xNN> a byte; the dummy prefix of the first word belongs to no character', () => {
    const text = 'def f():\n   return "é"';
    const toks = ['▁def', '▁f', '():', '<0x0A>', '▁▁', '▁return', '▁"', '<0xC3>', '<0xA9>', '"'];
    const r = tokenRanges(text, toks)!;
    expect(r.spelling).toBe('sentencepiece');
    expect(pairs(r.ranges)).toEqual([
      [0, 3],
      [3, 5],
      [5, 8],
      [8, 9],
      [9, 11],
      [11, 18],
      [18, 20],
      [20, 21],
      [20, 21],
      [21, 22],
    ]);
    expect(Array.from(text)).toHaveLength(22);
  });

  it('a lone dummy-prefix token is an empty range at the start', () => {
    const r = tokenRanges('\nx', ['▁', '<0x0A>', 'x'])!;
    expect(r.spelling).toBe('sentencepiece');
    expect(pairs(r.ranges)).toEqual([
      [0, 0],
      [0, 1],
      [1, 2],
    ]);
  });
});

describe('plain spellings (the local stand-in)', () => {
  it('the stand-in tokenizer’s own token strings map back onto the text, astral characters included', () => {
    const tok = localTokenizer();
    const text = 'for i in range(n):\r\n\tprint("naïve 😀 中")  # ok\n<|endoftext|>';
    const ids = tok.encode(text);
    const strs = ids.map((id) => tok.tokenString(id));
    expect(strs.some((s) => /^<0x[0-9A-F]{2}>$/.test(s))).toBe(true); // byte fallback in play
    const r = tokenRanges(text, strs)!;
    expect(r.spelling).toBe('plain');
    const ranges = pairs(r.ranges);
    // consecutive, covering the text; a multi-byte character is covered by each of its byte tokens
    expect(ranges[0][0]).toBe(0);
    expect(ranges.at(-1)![1]).toBe(Array.from(text).length);
    for (let i = 1; i < ranges.length; i++) expect(ranges[i][0]).toBeGreaterThanOrEqual(ranges[i - 1][1] - 1);
    const emojiAt = Array.from(text).indexOf('😀');
    expect(ranges.filter(([a, b]) => a === emojiAt && b === emojiAt + 1)).toHaveLength(4);
    // every whole-character token reads back its own string
    ids.forEach((id, i) => {
      const s = strs[i];
      if (!/^<0x/.test(s)) expect(cpSlice(text, ranges[i][0], ranges[i][1])).toBe(s);
      else expect(tok.isSpecial(id)).toBe(false);
    });
  });
});

it('token strings that spell another text are refused (null), whatever the spelling', () => {
  expect(tokenRanges('abc', ['ab', 'd'])).toBeNull();
  expect(tokenRanges('abc', ['ab'])).toBeNull();
  expect(tokenRanges('a b', ['a', 'Ġc'])).toBeNull();
  expect(tokenRanges('', [])).toEqual({ spelling: 'byte-level', ranges: new Int32Array(0) });
});
