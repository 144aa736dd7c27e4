// What "Sample xN" checks on the server: the targets to sample, endpoints and values, verdict counts.
import { describe, expect, it } from 'vitest';
import type { DocTarget } from '../../../server/targets/documentTargets';
import { checkSampling, chooseTargets, verdictCounts } from '../../../server/sampling/editorSample';

describe('sampling requests on the server', () => {
  const t = (targetId: number): DocTarget => ({ targetId, kind: 'if', depth: 1, startLine: targetId, endLine: targetId + 1, mid: '' });
  it('samples all of a document\'s targets or the requested ones, never a target of another document', () => {
    expect(chooseTargets([t(1), t(2)], undefined).map((x) => x.targetId)).toEqual([1, 2]);
    expect(chooseTargets([t(1), t(2)], [2]).map((x) => x.targetId)).toEqual([2]);
    expect(() => chooseTargets([t(1)], [9])).toThrow('target 9 is not a block of this document under the current preset (refresh the code lenses)');
    expect(() => chooseTargets([t(1)], [])).toThrow(/non-empty array/);
  });

  it('checks endpoints and sampling values, naming the field', () => {
    const params = { family: 'qwen2.5-coder', n: 5, temperature: 0.7, topP: 0.95, maxTokens: 512, concurrency: 4 };
    const ep = [{ url: 'http://127.0.0.1:8000', model: 'm', apiKey: 'k' }];
    expect(checkSampling(ep, params)).toEqual({ endpoints: ep, params });
    expect(() => checkSampling([], params)).toThrow(/no sampling endpoints/);
    expect(() => checkSampling([{ url: 'gpu:8000', model: 'm' }], params)).toThrow('endpoints[0].url: not an http(s) URL');
    expect(() => checkSampling(ep, { ...params, family: 'gpt' })).toThrow(/^params.family: one of qwen2.5-coder/);
    expect(() => checkSampling(ep, { ...params, n: 2.5 })).toThrow('params.n: an integer from 1 to 1024');
    expect(() => checkSampling(ep, { ...params, topP: 1.5 })).toThrow('params.topP: a number from 0.01 to 1 expected (got 1.5)');
    // top_p = 0 is refused here, by the same bound the job and the settings use (vLLM needs > 0).
    expect(() => checkSampling(ep, { ...params, topP: 0 })).toThrow('params.topP: a number from 0.01 to 1 expected (got 0)');
    expect(() => checkSampling(ep, { ...params, maxTokens: undefined })).toThrow('params.maxTokens: missing');
  });

  it('counts verdicts without zeros', () => {
    const zero = { pass: 0, wrong_answer: 0, runtime_error: 0, timeout: 0, memory_limit: 0, output_limit: 0, compile_error: 0 };
    expect(verdictCounts({ ...zero, pass: 3, wrong_answer: 2 })).toEqual({ pass: 3, wrong_answer: 2 });
  });
});
