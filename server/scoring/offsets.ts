// Where each token of a response sits in its text, in Unicode code points. Pure.
//
// A tokenizer's token strings (vLLM's /tokenize `token_strs`: the vocabulary entries, as
// `convert_ids_to_tokens` gives them) are not the text: they are spelled in one of three ways,
// and one token may hold only part of a character's UTF-8 bytes. Each spelling gives every token
// its bytes; the first spelling (in the order below) whose bytes, joined, are exactly the
// response's UTF-8 is the one used (docs/scoring.md, "Token positions"):
//
// - byte-level BPE (GPT-2, Qwen2.5-Coder, DeepSeek-Coder, StarCoder2): every byte is one printable
//   character of GPT-2's byte alphabet (a space is `Ġ`, a newline `Ċ`, byte 0xF0 `ð`), so a token
//   that holds half of a character is spelled with the bytes it holds;
// - plain: the token is its own text, `<0xNN>` a byte (the project's local stand-in server);
// - SentencePiece (Llama, CodeLlama): `▁` is a space, `<0xNN>` a byte (the byte fallback), and
//   anything else is its own UTF-8; a leading `▁` the tokenizer adds to the first word (its dummy
//   prefix) belongs to no character of the text.
// Added (control) tokens are their own text in every spelling.
//
// From bytes to characters: a token's range is the smallest range of whole code points that holds
// its bytes, so the tokens that split one character between them share it; a token with no bytes
// (a dummy-prefix `▁`) is an empty range at its position.

export type Spelling = 'byte-level' | 'plain' | 'sentencepiece';
/** Tried in this order; the first whose bytes are the text wins. */
export const SPELLINGS: readonly Spelling[] = ['byte-level', 'plain', 'sentencepiece'];

/** GPT-2's bytes_to_unicode, read backwards: printable character -> byte. */
const BYTE_LEVEL: Map<string, number> = (() => {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n);
      n++;
    }
  }
  const toByte = new Map<string, number>();
  bs.forEach((b, i) => toByte.set(String.fromCodePoint(cs[i]), b));
  return toByte;
})();

const BYTE_TOKEN = /^<0x([0-9A-Fa-f]{2})>$/;

/** The bytes a token string stands for under `spelling`, or null when it cannot be spelled so.
 * An added token (a control token such as DeepSeek-Coder's `<｜end▁of▁sentence｜>`) is its own
 * text in every spelling: under byte-level, a string with characters outside the byte alphabet
 * and no whitespace is one (a byte-level vocabulary never holds a raw space or newline). */
export function tokenBytes(token: string, spelling: Spelling): number[] | null {
  if (spelling === 'byte-level') {
    const out: number[] = [];
    for (const ch of token) {
      const b = BYTE_LEVEL.get(ch);
      if (b === undefined) return /\s/u.test(token) ? null : [...Buffer.from(token, 'utf8')];
      out.push(b);
    }
    return out;
  }
  const m = BYTE_TOKEN.exec(token);
  if (m) return [parseInt(m[1], 16)];
  return [...Buffer.from(spelling === 'sentencepiece' ? token.replace(/\u2581/g, ' ') : token, 'utf8')];
}

export interface TokenRanges {
  spelling: Spelling;
  /** [start, end) of token i at 2i, 2i+1, in code points of the text. */
  ranges: Int32Array;
}

/** Each token's code point range in `text`, given the token strings of its tokenization; null
 * when no spelling reproduces the text (the caller records why and leaves the side unscored). */
export function tokenRanges(text: string, tokens: readonly string[]): TokenRanges | null {
  const target = Buffer.from(text, 'utf8');
  for (const spelling of SPELLINGS) {
    const spelled = tokens.map((t) => tokenBytes(t, spelling));
    if (spelled.some((b) => b === null)) continue;
    const bytes = spelled as number[][];
    const total = bytes.reduce((n, b) => n + b.length, 0);
    // SentencePiece's dummy prefix: one leading space that is not in the text.
    let skip = 0;
    if (spelling === 'sentencepiece' && total === target.length + 1 && bytes.length > 0 && bytes[0][0] === 0x20 && tokens[0].startsWith('\u2581')) skip = 1;
    if (total - skip !== target.length) continue;
    let pos = -skip;
    let same = true;
    for (const b of bytes) {
      for (const x of b) {
        if (pos >= 0 && target[pos] !== x) {
          same = false;
          break;
        }
        pos++;
      }
      if (!same) break;
    }
    if (!same) continue;
    return { spelling, ranges: byteRangesToCodePoints(target, bytes.map((b) => b.length), skip) };
  }
  return null;
}

/** Token byte lengths over `utf8` (the first `skip` bytes are not in the text) -> code point ranges. */
function byteRangesToCodePoints(utf8: Buffer, lengths: readonly number[], skip: number): Int32Array {
  // cpAt[b] = the code point that byte b belongs to; cpAt[length] = the number of code points.
  const cpAt = new Int32Array(utf8.length + 1);
  let cp = -1;
  for (let b = 0; b < utf8.length; b++) {
    if ((utf8[b] & 0xc0) !== 0x80) cp++; // not a continuation byte: a new character
    cpAt[b] = cp;
  }
  cpAt[utf8.length] = cp + 1;
  const out = new Int32Array(lengths.length * 2);
  let pos = -skip;
  lengths.forEach((n, i) => {
    const from = Math.max(0, pos);
    const to = Math.max(0, pos + n);
    pos += n;
    const start = from >= utf8.length ? cpAt[utf8.length] : cpAt[from];
    const end = to <= from ? start : cpAt[to - 1] + 1;
    out[2 * i] = start;
    out[2 * i + 1] = end;
  });
  return out;
}
