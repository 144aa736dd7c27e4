// The character-span -> token mask rule on hard cases, and the margin against a direct computation.
import { describe, expect, it } from 'vitest';
import { localTokenizer } from '../../../server/localvllm/tokenizer';
import { iterPrefSpans } from '../../../server/pairs/iterpref';
import { renderForTraining } from '../../../server/pairs/render';
import type { Span } from '../../../server/protocol';
import { float32Blob, readFloat32 } from '../../../server/scoring/blobs';
import { tokenRanges } from '../../../server/scoring/offsets';
import { inLoss, lossMask, pairMargin, sideSums, tokenReward } from '../../../server/scoring/rewards';

const mask = (ranges: number[][], spans: Span[]) => Array.from(lossMask(Int32Array.from(ranges.flat()), spans));

describe('which tokens are in the loss', () => {
  it('a token counts when its range overlaps a span: a span ending inside a token takes it, touching does not', () => {
    const tokens = [
      [0, 3],
      [3, 7],
      [7, 9],
    ];
    expect(mask(tokens, [[0, 5]])).toEqual([1, 1, 0]); // ends inside token 2
    expect(mask(tokens, [[5, 6]])).toEqual([0, 1, 0]); // strictly inside one token
    expect(mask(tokens, [[3, 7]])).toEqual([0, 1, 0]); // exactly one token
    expect(mask(tokens, [[7, 9]])).toEqual([0, 0, 1]); // starts where token 2 ends
    expect(mask(tokens, [[0, 3], [7, 9]])).toEqual([1, 0, 1]);
    expect(mask(tokens, [[4, 4]])).toEqual([0, 0, 0]); // an empty span covers nothing
  });

  it('an empty rejected span list puts nothing in the loss, and the masked sum is 0', () => {
    const ranges = [
      [0, 2],
      [2, 5],
    ];
    expect(mask(ranges, [])).toEqual([0, 0]);
    const s = sideSums(Float32Array.of(-1, -2), Float32Array.of(-3, -1), lossMask(Int32Array.from(ranges.flat()), []), 0.1);
    expect(s).toMatchObject({ maskedTokens: 0, maskedLogpPolicy: 0, maskedLogpRef: 0, maskedRewardSum: 0, tokens: 2 });
    expect(s.rewardSum).toBeCloseTo(0.1 * (-3 - -4), 12);
  });

  it('tokens that split a multi-byte character share it: both count when a span covers it, neither when not', () => {
    // 'x😀y': byte tokens of the emoji both sit on code point 1
    const ranges = [
      [0, 1],
      [1, 2],
      [1, 2],
      [2, 3],
    ];
    expect(mask(ranges, [[1, 2]])).toEqual([0, 1, 1, 0]);
    expect(mask(ranges, [[2, 3]])).toEqual([0, 0, 0, 1]);
    expect(mask(ranges, [[0, 1]])).toEqual([1, 0, 0, 0]);
  });

  it('a token with no characters (a dummy prefix) counts when a span holds its position', () => {
    expect(inLoss(0, 0, [[0, 4]])).toBe(true);
    expect(inLoss(4, 4, [[0, 4]])).toBe(false);
    expect(inLoss(2, 2, [[0, 1], [3, 5]])).toBe(false);
  });

  it('CRLF: a critical line span (text and terminator) takes its line ending; a span that ends between \\r and \\n takes a \\r\\n token', () => {
    const chosen = 'a = 1\r\nprint(a)\r\n';
    const rejected = 'a = 2\r\nprint(a)\r\n';
    const ip = iterPrefSpans(chosen, rejected);
    const r = renderForTraining({ question: 'q', pre: '', suf: '', chosen, rejected, chosenSpans: ip.chosenSpans, rejectedSpans: ip.rejectedSpans }, 'chat', {
      family: 'qwen2.5-coder',
      trainingSentence: false,
    });
    expect(r.rejectedSpans).toEqual([[0, 7]]); // 'a = 2\r\n'
    const tok = localTokenizer();
    const ids = tok.encode(r.rejected);
    const strs = ids.map((id) => tok.tokenString(id));
    expect(strs).toContain('<0x0D>'); // this tokenizer spells \r as a byte
    const ranges = tokenRanges(r.rejected, strs)!.ranges;
    const m = Array.from(lossMask(ranges, r.rejectedSpans));
    const expected = strs.map((_, i) => (ranges[2 * i + 1] <= 7 ? 1 : 0));
    expect(m).toEqual(expected);
    expect(tok.decode(ids.filter((_, i) => m[i]))).toBe('a = 2\r\n');
    // a tokenizer with one '\r\n' token [5, 7): a span over the line's text only, [0, 5) or [0, 6),
    // ends at or inside it
    const crlfTokens = [
      [0, 1],
      [1, 3],
      [3, 5],
      [5, 7],
      [7, 12],
    ];
    expect(mask(crlfTokens, [[0, 5]])).toEqual([1, 1, 1, 0, 0]);
    expect(mask(crlfTokens, [[0, 6]])).toEqual([1, 1, 1, 1, 0]);
  });

  it('IterPref with an emoji before the critical line: the span (in code points) takes exactly that line’s tokens', () => {
    const chosen = 'print("🎉")\nn = int(input())\nprint(n)\n';
    const rejected = 'print("🎉")\nn = input()\nprint(n)\n';
    const ip = iterPrefSpans(chosen, rejected);
    const r = renderForTraining({ question: 'q', pre: '', suf: '', chosen, rejected, chosenSpans: ip.chosenSpans, rejectedSpans: ip.rejectedSpans }, 'chat', {
      family: 'qwen2.5-coder',
      trainingSentence: false,
    });
    const tok = localTokenizer();
    const strs = tok.encode(r.rejected).map((id) => tok.tokenString(id));
    const ranges = tokenRanges(r.rejected, strs)!.ranges;
    const m = lossMask(ranges, r.rejectedSpans);
    const chars = Array.from(r.rejected);
    const inLossText = strs.map((_, i) => (m[i] ? chars.slice(ranges[2 * i], ranges[2 * i + 1]).join('') : '')).join('');
    expect(inLossText).toBe('n = input()\n');
  });
});

describe('rewards and margin', () => {
  /** A small seeded generator, so the cases are the same on every run. */
  function rng(seed: number): () => number {
    let s = seed >>> 0;
    return () => {
      s = (s * 1664525 + 1013904223) >>> 0;
      return s / 2 ** 32;
    };
  }

  it('margin = beta * ((sum lp_c - sum lr_c) - (sum lp_r - sum lr_r)) over masked tokens, on 200 random cases', () => {
    const r = rng(7);
    for (let k = 0; k < 200; k++) {
      const beta = [0.1, 0.5, 1, 0.05][k % 4];
      const side = () => {
        const n = 1 + Math.floor(r() * 40);
        const lp = Float32Array.from({ length: n }, () => -r() * 12);
        const lr = Float32Array.from({ length: n }, () => -r() * 12);
        const m = Uint8Array.from({ length: n }, () => (r() < 0.6 ? 1 : 0));
        return { lp, lr, m };
      };
      const c = side();
      const j = side();
      // direct: loops over the masked tokens only
      let slpC = 0;
      let slrC = 0;
      let slpR = 0;
      let slrR = 0;
      c.m.forEach((x, i) => {
        if (x) {
          slpC += c.lp[i];
          slrC += c.lr[i];
        }
      });
      j.m.forEach((x, i) => {
        if (x) {
          slpR += j.lp[i];
          slrR += j.lr[i];
        }
      });
      const direct = beta * (slpC - slrC - (slpR - slrR));
      const sc = sideSums(c.lp, c.lr, c.m, beta);
      const sr = sideSums(j.lp, j.lr, j.m, beta);
      expect(pairMargin(beta, sc, sr)).toBeCloseTo(direct, 9);
      // the masked reward sums are the per-token rewards of masked tokens, summed
      const tokenSum = Array.from(c.lp).reduce((a, lp, i) => a + (c.m[i] ? tokenReward(beta, lp, c.lr[i]) : 0), 0);
      expect(sc.maskedRewardSum).toBeCloseTo(tokenSum, 9);
      expect(pairMargin(beta, sc, sr)).toBeCloseTo(sc.maskedRewardSum - sr.maskedRewardSum, 9);
    }
  });

  it('sums of the stored float32 values equal a recomputation from the blobs', () => {
    const lp = Float32Array.from([-0.1234567, -3.3333333, -9999]);
    const lr = Float32Array.from([-1.1, -0.2, -5.5]);
    const m = Uint8Array.of(1, 0, 1);
    const a = sideSums(lp, lr, m, 0.1);
    const b = sideSums(readFloat32(float32Blob(lp)), readFloat32(float32Blob(lr)), m, 0.1);
    expect(b).toEqual(a);
    expect(a.maskedLogpPolicy).toBe(lp[0] + lp[2]);
    expect(() => sideSums(lp, lr, Uint8Array.of(1), 0.1)).toThrow(/3 policy, 3 reference log-probs and 1 mask/);
  });

  it('a positive margin means the policy already prefers the chosen side, relative to the reference', () => {
    const chosen = sideSums(Float32Array.of(-1, -1), Float32Array.of(-2, -2), Uint8Array.of(1, 1), 0.1); // policy raised it
    const rejected = sideSums(Float32Array.of(-3), Float32Array.of(-1), Uint8Array.of(1), 0.1); // policy lowered it
    expect(chosen.maskedRewardSum).toBeCloseTo(0.2, 12);
    expect(rejected.maskedRewardSum).toBeCloseTo(-0.2, 12);
    expect(pairMargin(0.1, chosen, rejected)).toBeCloseTo(0.4, 12);
    expect(pairMargin(0.1, rejected, chosen)).toBeCloseTo(-0.4, 12);
  });
});
