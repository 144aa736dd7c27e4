// The scoring requests and how their answers are read: every sampling value explicit; the
// boundary checks (ids echoed back, one entry per position, the sent token present) refuse an
// answer that does not line up; malformed answers are TypeErrors (retried); top-k ordering.
import { describe, expect, it } from 'vitest';
import { SamplingError } from '../../../server/sampling/client';
import { parsePromptLogprobs, parseTokenize, promptLogprobsBody, tokenizationDifference, tokenizeBody, tokenizerProbe } from '../../../server/scoring/vllm';

const entry = (logprob: number, rank: number, decoded = 'x') => ({ logprob, rank, decoded_token: decoded });

describe('request bodies', () => {
  it('/tokenize asks for token strings and says whether to add special tokens', () => {
    expect(tokenizeBody('m', 'def f', true)).toEqual({ model: 'm', prompt: 'def f', add_special_tokens: true, return_token_strs: true });
    expect(tokenizeBody('m', 'x', false).add_special_tokens).toBe(false);
  });

  it('/v1/completions: token ids, max_tokens 1, prompt_logprobs k, every sampling value explicit, ids echoed', () => {
    const b = promptLogprobsBody('m', [5, 6, 7], 3);
    expect(b).toMatchObject({ model: 'm', prompt: [5, 6, 7], n: 1, max_tokens: 1, prompt_logprobs: 3, return_token_ids: true, stream: false, echo: false });
    for (const k of ['temperature', 'top_p', 'top_k', 'min_p', 'seed', 'presence_penalty', 'frequency_penalty', 'repetition_penalty', 'stop', 'stop_token_ids', 'skip_special_tokens']) {
      expect(b).toHaveProperty(k);
      expect(b[k]).not.toBeUndefined();
    }
    expect(b).not.toHaveProperty('suffix');
  });
});

describe('parseTokenize', () => {
  it('reads ids, strings and the context length', () => {
    expect(parseTokenize({ count: 2, max_model_len: 4096, tokens: [1, 2], token_strs: ['a', 'b'] })).toEqual({ ids: [1, 2], strs: ['a', 'b'], maxModelLen: 4096 });
  });
  it('an answer without token strings (a server that ignores return_token_strs) is malformed', () => {
    expect(() => parseTokenize({ count: 1, tokens: [1], token_strs: null })).toThrow(/return_token_strs/);
    expect(() => parseTokenize({ tokens: [1, 2], token_strs: ['a'] })).toThrow(TypeError);
    expect(() => parseTokenize({ count: 1 })).toThrow(TypeError);
    expect(() => parseTokenize('garbage')).toThrow(TypeError);
  });
});

describe('parsePromptLogprobs', () => {
  const sent = [10, 11, 12, 13];
  const answer = (over: Record<string, unknown> = {}) => ({
    choices: [
      {
        text: 'z',
        prompt_logprobs: [null, { '11': entry(-1, 2) }, { '12': entry(-0.5, 1) }, { '13': entry(-2.5, 3), '99': entry(-0.1, 1, 'y'), '98': entry(-0.9, 2, 'w') }],
        prompt_token_ids: sent,
        ...over,
      },
    ],
  });

  it('reads the given token of each response position (from the prompt length on)', () => {
    const r = parsePromptLogprobs(answer(), sent, 2, 0, 'srv');
    expect(r).toEqual([
      { logprob: -0.5, rank: 1, top: [] },
      { logprob: -2.5, rank: 3, top: [] },
    ]);
  });

  it('top-k: the k likeliest by rank, the given token included only when it is among them', () => {
    const r = parsePromptLogprobs(answer(), sent, 3, 2, 'srv');
    expect(r[0].top).toEqual([
      { id: 99, logprob: -0.1, decoded: 'y' },
      { id: 98, logprob: -0.9, decoded: 'w' },
    ]);
    const k3 = parsePromptLogprobs(answer(), sent, 3, 3, 'srv');
    expect(k3[0].top.map((t) => t.id)).toEqual([99, 98, 13]);
    // without ranks: by log-probability, the given (least likely of k + 1) left out
    const noRanks = { '13': { logprob: -2.5 }, '99': { logprob: -0.1 }, '98': { logprob: -0.9 } };
    const r2 = parsePromptLogprobs(answer({ prompt_logprobs: [null, { '11': entry(-1, 2) }, { '12': entry(-0.5, 1) }, noRanks] }), sent, 3, 2, 'srv');
    expect(r2[0].top.map((t) => t.id)).toEqual([99, 98]);
    expect(r2[0].rank).toBeNull();
  });

  it('the ids echoed back must be the ids sent: otherwise a fatal error naming the position', () => {
    const bad = () => parsePromptLogprobs(answer({ prompt_token_ids: [10, 11, 77, 13] }), sent, 2, 0, 'http://gpu (m)');
    expect(bad).toThrow(SamplingError);
    expect(bad).toThrow(/http:\/\/gpu \(m\): the server did not take the token ids as sent \(position 2: id 12 sent, 77 echoed back\)/);
    try {
      bad();
    } catch (e) {
      expect((e as SamplingError).kind).toBe('fatal');
    }
    expect(() => parsePromptLogprobs(answer({ prompt_token_ids: [10, 11, 12] }), sent, 2, 0, 's')).toThrow(/4 ids sent, 3 echoed back/);
  });

  it('without echoed ids, one entry per position and the sent token in each are still checked', () => {
    expect(parsePromptLogprobs(answer({ prompt_token_ids: undefined }), sent, 2, 0, 's')).toHaveLength(2);
    expect(() => parsePromptLogprobs(answer({ prompt_token_ids: null, prompt_logprobs: [null, { '11': entry(-1, 1) }, { '12': entry(-1, 1) }] }), sent, 2, 0, 's')).toThrow(
      /4 ids sent, log-probabilities for 3 positions returned/,
    );
    expect(() => parsePromptLogprobs(answer({ prompt_token_ids: null, prompt_logprobs: [null, { '11': entry(-1, 1) }, { '55': entry(-1, 1) }, { '13': entry(-1, 1) }] }), sent, 2, 0, 's')).toThrow(
      /position 2: no entry for the sent token 12/,
    );
    expect(() => parsePromptLogprobs(answer(), sent, 0, 0, 's')).toThrow(/position 0 has no log-probability/);
  });

  it('malformed answers are TypeErrors (the job retries them)', () => {
    expect(() => parsePromptLogprobs({ choices: [] }, sent, 2, 0, 's')).toThrow(TypeError);
    expect(() => parsePromptLogprobs({ choices: [{ text: 'x' }] }, sent, 2, 0, 's')).toThrow(/no prompt_logprobs/);
    expect(() => parsePromptLogprobs(answer({ prompt_token_ids: 'x' }), sent, 2, 0, 's')).toThrow(TypeError);
    expect(() => parsePromptLogprobs(null, sent, 2, 0, 's')).toThrow(TypeError);
  });
});

describe('tokenizer probe', () => {
  it('holds code, CRLF, non-ASCII and astral characters and the control tokens given', () => {
    const p = tokenizerProbe(['<|fim_prefix|>', '<|endoftext|>']);
    for (const s of ['\r\n', '\t', 'ñ', '中', '😀', '<|fim_prefix|>', '<|endoftext|>']) expect(p).toContain(s);
  });
  it('names the first token where two tokenizations differ', () => {
    const a = { ids: [1, 2, 3], strs: ['a', 'b', 'c'], maxModelLen: null };
    expect(tokenizationDifference(a, { ...a })).toBeNull();
    expect(tokenizationDifference(a, { ids: [1, 2, 4], strs: ['a', 'b', 'c'], maxModelLen: null })).toBe('token 2: 3 "c" vs 4 "c" (3 vs 3 tokens)');
    expect(tokenizationDifference(a, { ids: [1, 2], strs: ['a', 'b'], maxModelLen: null })).toBe('token 2: 3 "c" vs nothing (3 vs 2 tokens)');
    expect(tokenizationDifference(a, { ids: [1, 2, 3], strs: ['a', 'B', 'c'], maxModelLen: null })).toMatch(/^token 1/);
  });
});
