// The local server's own tokenizer: deterministic, data-independent and reversible
// (`decode(encode(s)) === s` for every string), with the FIM and chat control tokens of every
// family in docs/published.md "StructureCoder" as single tokens.
//
// Layout (ids are sparse, like a real model's vocabulary):
//   0 <unk>, 1 <s>, 2 </s>                       (Llama / CodeLlama control tokens)
//   3..258   <0x00>..<0xFF>                      byte fallback, as in Llama's SentencePiece
//   259..    fixed text pieces (Python keywords, builtins, indentation, operators, digits)
//   32007..32010  <PRE> <SUF> <MID> <EOT>        CodeLlama's real ids
//   32013..32017  DeepSeek-Coder's BOS/EOS/FIM    their real ids
//   49152..49157  StarCoder2's <fim_*> tokens     NOT their real ids (0..6 collide with the above)
//   151643..151664 Qwen2.5-Coder's control tokens their real ids
// so the stop token ids a client computes for Qwen2.5-Coder, DeepSeek-Coder and CodeLlama mean
// the same tokens here. The vocabulary never depends on the project, so servers built from
// different data (policy vs reference) agree on every token id.

export interface SpecialToken {
  id: number;
  text: string;
  /** Dropped from output text when `skip_special_tokens` is true (Qwen's FIM tokens are not). */
  special: boolean;
}

export const SPECIAL_TOKENS: readonly SpecialToken[] = [
  { id: 0, text: '<unk>', special: true },
  { id: 1, text: '<s>', special: true },
  { id: 2, text: '</s>', special: true },
  { id: 32007, text: '<PRE>', special: false },
  { id: 32008, text: '<SUF>', special: false },
  { id: 32009, text: '<MID>', special: false },
  { id: 32010, text: '<EOT>', special: false },
  { id: 32013, text: '<｜begin▁of▁sentence｜>', special: true },
  { id: 32014, text: '<｜end▁of▁sentence｜>', special: true },
  { id: 32015, text: '<｜fim▁hole｜>', special: false },
  { id: 32016, text: '<｜fim▁begin｜>', special: false },
  { id: 32017, text: '<｜fim▁end｜>', special: false },
  { id: 49152, text: '<fim_prefix>', special: true },
  { id: 49153, text: '<fim_middle>', special: true },
  { id: 49154, text: '<fim_suffix>', special: true },
  { id: 49155, text: '<fim_pad>', special: true },
  { id: 49156, text: '<repo_name>', special: true },
  { id: 49157, text: '<file_sep>', special: true },
  { id: 151643, text: '<|endoftext|>', special: true },
  { id: 151644, text: '<|im_start|>', special: true },
  { id: 151645, text: '<|im_end|>', special: true },
  { id: 151659, text: '<|fim_prefix|>', special: false },
  { id: 151660, text: '<|fim_middle|>', special: false },
  { id: 151661, text: '<|fim_suffix|>', special: false },
  { id: 151662, text: '<|fim_pad|>', special: false },
  { id: 151663, text: '<|repo_name|>', special: false },
  { id: 151664, text: '<|file_sep|>', special: false },
];

/** Tokens that end generation like a model's EOS (finish_reason "stop", stop_reason null). */
export const EOS_IDS: ReadonlySet<number> = new Set([2, 32014, 151643, 151645]);

const BYTE_BASE = 3;
const PIECE_BASE = 259;

const KEYWORDS = (
  'False None True and as assert async await break class continue def del elif else except finally for from global if import in is ' +
  'lambda nonlocal not or pass raise return try while with yield match case self'
).split(' ');
const WORDS = (
  'print input int str float bool list dict set tuple len range enumerate zip map filter sorted reversed sum min max abs all any ' +
  'open sys stdin stdout readline read readlines write strip rstrip lstrip split join append extend pop popleft appendleft insert ' +
  'remove index count keys values items get sort format isdigit isalpha lower upper replace find startswith endswith ord chr ' +
  'math sqrt gcd lcm inf floor ceil log collections defaultdict Counter deque heapq heappush heappop bisect bisect_left ' +
  'bisect_right itertools functools lru_cache cache permutations combinations product accumulate setrecursionlimit ' +
  'main solve n m k i j x y z s t a b c d e f g h l r q p u v w res ans result total cnt count arr nums num lst dp memo idx ' +
  'val key value left right mid lo hi low high start end cur curr prev nxt node root graph adj visited seen queue stack grid ' +
  'row col rows cols size length width height word words line lines text char ch string number numbers first last temp tmp ' +
  'flag found ok best mod MOD INF case cases tc T N M K A B C X Y S data out output cost dist parent child children edges ' +
  'other pos neg odd even diff prefix suffix window target path new old __name__ __main__ args self'
).split(' ');
const OPERATORS = [
  '==', '!=', '<=', '>=', '+=', '-=', '*=', '/=', '//=', '%=', '//', '**', '->', '<<', '>>', '&=', '|=', '^=',
  '()', '[]', '{}', '():', '):', '),', '],', '))', '((', ')]', '[0]', '[1]', '[-1]', '[i]', '[j]', '(n)', '()]', '())',
  '("', '")', "('", "')", '",', "',", ':]', '[:', '[::-1]', '.append(', '.split()', '.strip()', '(input())', 'input().split()',
  ' =', ' +', ' -', ' *', ' /', ' %', ' <', ' >', ' ==', ' !=', ' <=', ' >=', ' +=', ' -=', ' *=', ' //', ' **', ' //=',
  ' %=', ' (', ' [', ' {', ' -1', ' +1', ', ', ': ',
];

/** `pieces`: the tokenizer described above. `chars`: one token per printable ASCII character,
 * newline or tab (the same ids for them), the same byte fallback and control tokens: a different
 * tokenizer over a shared id space, as two unrelated models have (tests of the scoring stage's
 * check that a policy and a reference tokenize alike). */
export type TokenizerKind = 'pieces' | 'chars';
export const TOKENIZER_KINDS: readonly TokenizerKind[] = ['pieces', 'chars'];

function buildPieces(kind: TokenizerKind): string[] {
  const pieces: string[] = [];
  const add = (p: string) => {
    if (p.length > 0) pieces.push(p);
  };
  for (let c = 32; c < 127; c++) add(String.fromCharCode(c));
  add('\n');
  add('\t');
  if (kind === 'chars') return pieces;
  add('\r\n');
  for (let k = 2; k <= 16; k++) add(' '.repeat(k));
  for (let k = 1; k <= 32; k++) add('\n' + ' '.repeat(k));
  add('\n\n');
  add('\t\t');
  for (const w of [...KEYWORDS, ...WORDS]) {
    add(w);
    add(' ' + w);
  }
  for (const o of OPERATORS) add(o);
  for (let d = 0; d <= 255; d++) {
    add(String(d));
    add(' ' + String(d));
  }
  for (let d = 0; d < 10; d++) add('0' + String(d));
  for (let d = 0; d < 100; d++) add(String(d).padStart(3, '0'));
  // Deterministic order, duplicates dropped (e.g. ' ' + 'n' also arises nowhere else, but ' 1' does).
  return [...new Set(pieces)];
}

// Chunks never cross these boundaries, so a token is a word, a number (up to 3 digits), a run of
// punctuation, a newline with its indentation, or a run of spaces: like GPT-style pre-tokenizers.
const CHUNK = /\n[ \t]*|[ \t]*[A-Za-z_][A-Za-z0-9_]*|[ \t]*[0-9]{1,3}|[ \t]*[^\s\w]+|[ \t]+|[\s\S]/gu;

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export class LocalTokenizer {
  /** Every id, in ascending order; `dense(id)` is its index here (the n-gram model's array index). */
  readonly ids: readonly number[];
  private readonly text = new Map<number, string>();
  private readonly pieceId = new Map<string, number>();
  private readonly specialId = new Map<string, number>();
  private readonly specialIds = new Set<number>();
  private readonly denseIndex = new Map<number, number>();
  private readonly maxPiece: number;
  private readonly specialSplit: RegExp;

  constructor(readonly kind: TokenizerKind = 'pieces') {
    const ids: number[] = [];
    for (const s of SPECIAL_TOKENS) {
      this.text.set(s.id, s.text);
      this.specialId.set(s.text, s.id);
      if (s.special) this.specialIds.add(s.id);
      ids.push(s.id);
    }
    for (let b = 0; b < 256; b++) {
      this.text.set(BYTE_BASE + b, `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
      ids.push(BYTE_BASE + b);
    }
    const pieces = buildPieces(kind);
    if (PIECE_BASE + pieces.length > 32007) throw new Error('localvllm tokenizer: too many pieces for the id layout');
    let max = 1;
    pieces.forEach((p, i) => {
      this.text.set(PIECE_BASE + i, p);
      this.pieceId.set(p, PIECE_BASE + i);
      ids.push(PIECE_BASE + i);
      max = Math.max(max, p.length);
    });
    this.maxPiece = max;
    ids.sort((a, b) => a - b);
    this.ids = ids;
    ids.forEach((id, i) => this.denseIndex.set(id, i));
    const alternatives = [...SPECIAL_TOKENS].map((s) => s.text).sort((a, b) => b.length - a.length).map(escapeRegex);
    this.specialSplit = new RegExp(`(${alternatives.join('|')})`, 'u');
  }

  /** Number of tokens in the vocabulary (not the largest id). */
  get size(): number {
    return this.ids.length;
  }

  has(id: number): boolean {
    return this.text.has(id);
  }

  isSpecial(id: number): boolean {
    return this.specialIds.has(id);
  }

  dense(id: number): number {
    const d = this.denseIndex.get(id);
    if (d === undefined) throw new Error(`token id ${id} is out of vocabulary`);
    return d;
  }

  /** The id of a control token by its text (`<|endoftext|>`), or undefined. */
  special(text: string): number | undefined {
    return this.specialId.get(text);
  }

  encode(s: string): number[] {
    const out: number[] = [];
    const parts = s.split(this.specialSplit);
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i];
      if (part === '') continue;
      if (i % 2 === 1) {
        out.push(this.specialId.get(part) as number);
        continue;
      }
      for (const m of part.matchAll(CHUNK)) this.encodeChunk(m[0], out);
    }
    return out;
  }

  private encodeChunk(chunk: string, out: number[]): void {
    const whole = this.pieceId.get(chunk);
    if (whole !== undefined) {
      out.push(whole);
      return;
    }
    // Greedy longest match; characters outside the pieces fall back to their UTF-8 bytes.
    let p = 0;
    while (p < chunk.length) {
      let taken = false;
      for (let len = Math.min(this.maxPiece, chunk.length - p); len >= 1; len--) {
        const id = this.pieceId.get(chunk.slice(p, p + len));
        if (id !== undefined) {
          out.push(id);
          p += len;
          taken = true;
          break;
        }
      }
      if (taken) continue;
      const cp = chunk.codePointAt(p) as number;
      const ch = String.fromCodePoint(cp);
      for (const byte of Buffer.from(ch, 'utf8')) out.push(BYTE_BASE + byte);
      p += ch.length;
    }
  }

  /** Text of a token sequence; byte tokens are joined before UTF-8 decoding, so split characters survive. */
  decode(ids: readonly number[], opts: { skipSpecialTokens?: boolean } = {}): string {
    const bytes: number[] = [];
    let out = '';
    const flush = () => {
      if (bytes.length > 0) {
        out += Buffer.from(bytes).toString('utf8');
        bytes.length = 0;
      }
    };
    for (const id of ids) {
      if (id >= BYTE_BASE && id < BYTE_BASE + 256) {
        bytes.push(id - BYTE_BASE);
        continue;
      }
      flush();
      const t = this.text.get(id);
      if (t === undefined) throw new Error(`token id ${id} is out of vocabulary`);
      if (opts.skipSpecialTokens && this.specialIds.has(id)) continue;
      out += t;
    }
    flush();
    return out;
  }

  /** The vocabulary entry of a token (`<0xE2>` for a byte), as /tokenize's `token_strs` shows it. */
  tokenString(id: number): string {
    const t = this.text.get(id);
    if (t === undefined) throw new Error(`token id ${id} is out of vocabulary`);
    return t;
  }
}

const shared = new Map<TokenizerKind, LocalTokenizer>();
/** The tokenizer is immutable; one instance of each kind serves every server in the process. */
export function localTokenizer(kind: TokenizerKind = 'pieces'): LocalTokenizer {
  let t = shared.get(kind);
  if (!t) shared.set(kind, (t = new LocalTokenizer(kind)));
  return t;
}
