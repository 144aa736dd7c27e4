// The local vLLM stand-in's pure parts: tokenizer round trip and control tokens, FIM prompt parsing
// for every family, mutants, the n-gram model and fault specs.
import { describe, expect, it } from 'vitest';
import { FaultInjector, faultSpec, parseFaultSpec } from '../../../server/localvllm/faults';
import { questionAsComments } from '../../../server/sampling/prompts';
import { FIM_TOKENS, candidatesPre, parseChatPrompt, parseFimPrompt, programContinuation } from '../../../server/localvllm/fim';
import { codeMask, dropLine, flipComparisons, offByOne, reformats, swapBranches, variants } from '../../../server/localvllm/mutants';
import { NgramModel } from '../../../server/localvllm/ngram';
import { rngFrom } from '../../../server/localvllm/rng';
import { EOS_IDS, SPECIAL_TOKENS, localTokenizer } from '../../../server/localvllm/tokenizer';
import { FIM_FAMILIES, type FimFamily } from '../../../server/protocol';

const tok = localTokenizer();

/** A FIM prompt as the families write it (docs/published.md "StructureCoder"), with StructureCoder's question header. */
export function fimPrompt(family: FimFamily, question: string, pre: string, suf: string, start: string): string {
  const t = FIM_TOKENS[family];
  const head = `${questionAsComments(question)}\n\n${pre}`;
  if (family === 'codellama') return `${t.prefix} ${head} ${t.suffix}${suf} ${t.middle}${start}`;
  return `${t.prefix}${head}${t.suffix}${suf}${t.middle}${start}`;
}

describe('tokenizer', () => {
  it('round-trips any text, including unicode, control characters and special tokens', () => {
    const rng = rngFrom(42);
    const alphabet = ['a', 'Z', '_', '0', '9', ' ', '  ', '\n', '\t', '\r', '#', '"', "'", '(', ')', ':', '==', 'é', 'ß', '中', '😀', '\u0000', '\ufffd', '<|fim_prefix|>', '<|endoftext|>', '<PRE>', '<｜fim▁hole｜>', '<fim_middle>', '<|', '|>', 'for', ' if', 'print'];
    for (let n = 0; n < 500; n++) {
      let s = '';
      const len = Math.floor(rng() * 40);
      for (let i = 0; i < len; i++) s += alphabet[Math.floor(rng() * alphabet.length)];
      expect(tok.decode(tok.encode(s))).toBe(s);
    }
    const code = 'import sys\n\ndef main():\n    data = sys.stdin.read().split()\n    for i in range(len(data)):\n        if data[i] >= "x":  # ≥ comment\n            print(i)\n';
    expect(tok.decode(tok.encode(code))).toBe(code);
    expect(tok.decode(tok.encode(''))).toBe('');
  });

  it('keeps every family control token as one token with its real id where it does not collide', () => {
    for (const s of SPECIAL_TOKENS) expect(tok.encode(s.text)).toEqual([s.id]);
    expect(tok.encode('<|fim_prefix|>a<|fim_suffix|>b<|fim_middle|>')).toEqual([151659, ...tok.encode('a'), 151661, ...tok.encode('b'), 151660]);
    expect(tok.special('<|endoftext|>')).toBe(151643);
    expect(tok.special('<｜fim▁begin｜>')).toBe(32016);
    expect(tok.special('<EOT>')).toBe(32010);
    expect(EOS_IDS.has(151643)).toBe(true);
  });

  it('is compact on code: indentation and keywords are single tokens, and deterministic', () => {
    const ids = tok.encode('\n    for i in range(n):');
    expect(tok.decode([ids[0]])).toBe('\n    ');
    expect(ids.length).toBeLessThanOrEqual(9);
    expect(tok.encode('\n    for i in range(n):')).toEqual(ids);
  });

  it('skips special tokens on request and rejects unknown ids', () => {
    expect(tok.decode(tok.encode('x<|endoftext|>'), { skipSpecialTokens: true })).toBe('x');
    // Qwen's FIM tokens are not special: they stay in the text.
    expect(tok.decode(tok.encode('x<|fim_pad|>'), { skipSpecialTokens: true })).toBe('x<|fim_pad|>');
    expect(() => tok.decode([99999])).toThrow(/99999 is out of vocabulary/);
  });

  it('decodes byte tokens of a split character only together', () => {
    const ids = tok.encode('€');
    expect(ids.length).toBe(3);
    expect(tok.decode(ids)).toBe('€');
    expect(tok.tokenString(ids[0])).toBe('<0xE2>');
  });
});

describe('FIM prompt parsing', () => {
  const question = 'Given N, print the sum.\n\nInput: N';
  const pre = 'n = int(input())\ntotal = 0\n';
  const suf = '\nprint(total)\n';
  it.each(FIM_FAMILIES)('%s: recovers the prefix text, suffix and start', (family) => {
    const p = parseFimPrompt(fimPrompt(family, question, pre, suf, 'for'));
    expect(p).not.toBeNull();
    expect(p?.family).toBe(family);
    expect(p?.prefixText).toBe(`${questionAsComments(question)}\n\n${pre}`);
    expect(p?.suf).toBe(suf);
    expect(p?.start).toBe('for');
    expect(candidatesPre(p?.prefixText ?? '')).toContain(pre);
  });

  it('question header: comments, blank lines kept blank; pre may be "\\n" or empty', () => {
    expect(questionAsComments('a\n\n  b')).toBe('# a\n\n#   b');
    const p = parseFimPrompt(fimPrompt('qwen2.5-coder', 'q', '\n', suf, '    if'));
    expect(candidatesPre(p?.prefixText ?? '')).toEqual(expect.arrayContaining(['\n', '']));
    expect(p?.start).toBe('    if');
  });

  it('is null for a plain prompt and reads chat prompts', () => {
    expect(parseFimPrompt('def f():\n    return 1')).toBeNull();
    const chat = '<|im_start|>system\nYou are...<|im_end|>\n<|im_start|>user\nSum N numbers<|im_end|>\n<|im_start|>assistant\n```python\nn = 1\n';
    expect(parseChatPrompt(chat)).toEqual({ family: 'chat', question: 'Sum N numbers', code: 'n = 1\n' });
  });
});

describe('programContinuation (whole-program chat prompts)', () => {
  const prog = 'class Solution:\n    def f(self, s):\n        return s[::-1]';
  it('continues the code already written', () => {
    expect(programContinuation(prog, '')).toBe(prog);
    expect(programContinuation(prog, 'class Solution:\n    def f(self, s):')).toBe('\n        return s[::-1]');
  });
  it('takes a starter code that heads the program up to annotations and arguments', () => {
    expect(programContinuation(prog, 'class Solution:\n    def f(self, s: str) -> str:')).toBe('\n        return s[::-1]');
    expect(programContinuation(prog, 'class Solution:')).toBe('\n    def f(self, s):\n        return s[::-1]');
  });
  it('is null when the starter code is not the program\'s head', () => {
    expect(programContinuation(prog, 'class Solution:\n    def g(self, s: str) -> str:')).toBeNull();
    expect(programContinuation(prog, 'class Solution:\n  def f(self, s):')).toBeNull(); // other indentation
    expect(programContinuation('x = 1', 'import sys\nx = 2')).toBeNull();
    expect(programContinuation(prog, `${prog}\nprint(1)`)).toBeNull();
  });
});

describe('mutants', () => {
  const mid = '    for i in range(n):\n        if a[i] < b:\n            x += 1\n        else:\n            y = "a < b"  # c < d\n            z = 2';
  it('never touches strings or comments', () => {
    const mask = codeMask(mid);
    expect(mask[mid.indexOf('"a < b"') + 3]).toBe(false);
    expect(mask[mid.indexOf('# c') + 4]).toBe(false);
    for (const m of flipComparisons(mid)) {
      expect(m).toContain('"a < b"');
      expect(m).toContain('# c < d');
    }
  });

  it('makes each kind, all starting like the reference', () => {
    expect(flipComparisons(mid)).toEqual([mid.replace('a[i] < b', 'a[i] >= b')]);
    for (const [op, flipped] of [['<', '>='], ['>', '<='], ['<=', '>'], ['>=', '<'], ['==', '!='], ['!=', '==']]) {
      expect(flipComparisons(`if a ${op} b:`)).toEqual([`if a ${flipped} b:`]);
    }
    expect(flipComparisons('x = a << 2 >> 1\ny -> z')).toEqual([]);
    expect(offByOne(mid)).toEqual(expect.arrayContaining([mid.replace('a[i] < b', 'a[i] <= b'), mid.replace('x += 1', 'x += 2'), mid.replace('range(n)', 'range(n + 1)')]));
    const swapped = swapBranches(mid);
    expect(swapped).toHaveLength(1);
    expect(swapped[0].split('\n')[2]).toBe('            y = "a < b"  # c < d');
    expect(dropLine(mid)).toEqual(expect.arrayContaining([mid.replace('\n            z = 2', '')]));
    // `x += 1` is the only statement of its branch: dropping it would leave an empty block.
    expect(dropLine(mid).some((m) => !m.includes('x += 1'))).toBe(false);
    expect(reformats(mid)).toEqual(expect.arrayContaining([mid.replace('if a[i] < b:', 'if (a[i] < b):'), mid.replace('x += 1', 'x = x + 1')]));
    const v = variants(mid);
    for (const [kind, xs] of Object.entries(v)) {
      for (const x of xs) {
        expect(x.startsWith('    for')).toBe(true);
        if (kind !== 'reference') expect(x).not.toBe(mid);
      }
    }
  });
});

describe('n-gram model', () => {
  const docs = ['n = int(input())\nfor i in range(n):\n    print(i)\n', 'x = int(input())\nif x > 0:\n    print(x)\nelse:\n    print(-x)\n'];
  const train = (m: NgramModel) => docs.forEach((d) => m.train([...tok.encode(d), 151643]));
  it('gives a normalised distribution and finite log-probabilities, seen tokens likelier', () => {
    const m = new NgramModel(tok, { order: 3 });
    train(m);
    const h = tok.encode('n = int(');
    const d = m.distribution(h);
    expect(d.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
    const seen = m.logprob(h, tok.encode('input')[0]);
    const unseen = m.logprob(h, tok.encode('while')[0]);
    expect(Number.isFinite(unseen)).toBe(true);
    expect(seen).toBeGreaterThan(unseen);
    expect(m.logprob(h, tok.encode('input')[0])).toBeCloseTo(Math.log(d[tok.dense(tok.encode('input')[0])]), 12);
    expect(m.rank(h, m.top(h, 1)[0].id)).toBe(1);
  });

  it('differs between orders and smoothings', () => {
    const a = new NgramModel(tok, { order: 3, smoothing: 'witten-bell' });
    const b = new NgramModel(tok, { order: 2, smoothing: 'add-k', k: 0.5 });
    train(a);
    train(b);
    const ids = tok.encode('x = int(input())\nfor i in range(x):\n    print(i)\n');
    let differ = 0;
    for (let i = 1; i < ids.length; i++) if (Math.abs(a.logprob(ids, ids[i], i) - b.logprob(ids, ids[i], i)) > 1e-6) differ++;
    expect(differ).toBe(ids.length - 1);
    const d = b.distribution(ids, 5);
    expect(d.reduce((x, y) => x + y, 0)).toBeCloseTo(1, 9);
  });

  it('samples reproducibly from a seed; temperature 0 is greedy', () => {
    const m = new NgramModel(tok);
    train(m);
    const h = tok.encode('for i in');
    const draw = (seed: number) => {
      const r = rngFrom(seed);
      return Array.from({ length: 20 }, () => m.sample(h, r, 1.0, 0.95));
    };
    expect(draw(3)).toEqual(draw(3));
    expect(m.sample(h, rngFrom(1), 0, 1)).toBe(m.top(h, 1)[0].id);
    // A tiny top_p keeps only the likeliest token; at T=1, top_p=1 frequencies follow the distribution.
    const r = rngFrom(9);
    const best = m.top(h, 2);
    for (let i = 0; i < 50; i++) expect(m.sample(h, r, 1, 0.01)).toBe(best[0].id);
    const n = 4000;
    let hits = 0;
    let second = 0;
    for (let i = 0; i < n; i++) {
      const id = m.sample(h, r, 1, 1);
      if (id === best[0].id) hits++;
      if (id === best[1].id) second++;
    }
    expect(hits / n).toBeCloseTo(Math.exp(best[0].logprob), 1);
    expect(second / n).toBeCloseTo(Math.exp(best[1].logprob), 1);
  });

  it.each([
    ['witten-bell', 3],
    ['add-k', 2],
  ] as const)('%s: sparse top-k and rank agree with the dense distribution', (smoothing, order) => {
    const m = new NgramModel(tok, { order, smoothing, k: 0.3 });
    train(m);
    const ids = tok.encode('x = int(input())\nfor i in range(n):\n    print(x)\nwhile True: pass');
    for (let i = 1; i < ids.length; i++) {
      const d = m.distribution(ids, i);
      const dense = Array.from(d, (p, j) => ({ id: tok.ids[j], p })).sort((a, b) => b.p - a.p || a.id - b.id);
      const top = m.top(ids, 5, i);
      expect(top.map((t) => t.id)).toEqual(dense.slice(0, 5).map((t) => t.id));
      top.forEach((t, j) => expect(t.logprob).toBeCloseTo(Math.log(dense[j].p), 10));
      const p = d[tok.dense(ids[i])];
      expect(m.rank(ids, ids[i], i)).toBe(1 + Array.from(d).filter((x) => x > p * (1 + 1e-12)).length);
      expect(m.logprob(ids, ids[i], i)).toBeCloseTo(Math.log(p), 10);
    }
  });

  it('rejects bad options', () => {
    expect(() => new NgramModel(tok, { order: 0 })).toThrow(/order/);
    expect(() => new NgramModel(tok, { smoothing: 'kn' as never })).toThrow(/smoothing/);
    expect(() => new NgramModel(tok, { k: 0 })).toThrow(/k > 0/);
  });
});

describe('faults', () => {
  it('parses the CLI spec and rejects nonsense', () => {
    expect(parseFaultSpec('500=0.1,reset=0.05,malformed=0.02,restart-every=100,restart-down-ms=50,seed=7,unhealthy')).toEqual({
      error500: 0.1,
      reset: 0.05,
      malformed: 0.02,
      restartEvery: 100,
      restartDownMs: 50,
      seed: 7,
      unhealthy: true,
    });
    expect(parseFaultSpec('pattern=ok/500/reset').pattern).toEqual(['ok', '500', 'reset']);
    for (const plan of [{ error500: 0.1, reset: 0.2, malformed: 0.05, restartEvery: 7, restartDownMs: 20, seed: 3, unhealthy: true }, { pattern: ['ok', 'reset'] as ('ok' | 'reset')[] }, {}]) {
      expect(parseFaultSpec(faultSpec(plan))).toEqual(plan);
    }
    expect(() => parseFaultSpec('500=2')).toThrow(/fraction/);
    expect(() => parseFaultSpec('boom=1')).toThrow(/unknown fault 'boom'/);
    expect(() => parseFaultSpec('pattern=ok/fire')).toThrow(/unknown fault 'fire'/);
    expect(() => parseFaultSpec('500=0.6,reset=0.6')).toThrow(/more than 1/);
  });

  it('draws fractions reproducibly and cycles patterns', () => {
    const f = new FaultInjector({ error500: 0.2, reset: 0.1, seed: 5 });
    const kinds = Array.from({ length: 2000 }, () => f.next());
    const share = (k: string) => kinds.filter((x) => x === k).length / kinds.length;
    expect(share('500')).toBeGreaterThan(0.15);
    expect(share('500')).toBeLessThan(0.25);
    expect(share('reset')).toBeGreaterThan(0.06);
    expect(share('reset')).toBeLessThan(0.14);
    const g = new FaultInjector({ error500: 0.2, reset: 0.1, seed: 5 });
    expect(Array.from({ length: 2000 }, () => g.next())).toEqual(kinds);
    const p = new FaultInjector({ pattern: ['ok', 'malformed'] });
    expect([p.next(), p.next(), p.next()]).toEqual(['ok', 'malformed', 'ok']);
  });
});
