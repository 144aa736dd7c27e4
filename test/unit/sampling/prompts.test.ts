// Prompt builders and post-processing (docs/published.md "StructureCoder") against exact expected strings.
import { describe, expect, it } from 'vitest';
import { buildFimPrompt, chatStart, promptForTarget, questionAsComments, startOf } from '../../../server/sampling/prompts';
import { cutAtFence, indentColumns, postProcess, truncateBlock } from '../../../server/sampling/postprocess';
import { goldenBroken } from '../../../server/sampling/golden';
import { backoffMs } from '../../../server/sampling/endpoints';
import { seedFor, specKey, checkSpec, type SampleSpec } from '../../../server/sampling/job';
import { classify, completionBody, rootUrl } from '../../../server/sampling/client';
import OpenAI from 'openai';
import { endpointsOf } from '../../../server/sampling/command';
import type { SamplingFamily } from '../../../server/protocol';

const parts = {
  question: 'Sum the numbers.\n\n  Input: n\r\nOutput: s\n \t',
  pre: 'import sys\nn = int(input())\n',
  suf: '\nprint(total)',
  start: '    for',
};
const HEAD = '# Sum the numbers.\n\n#   Input: n\r\n# Output: s\n';

describe('prompts', () => {
  it('turns the question into comments as the published transfer does', () => {
    expect(questionAsComments(parts.question)).toBe(HEAD);
    expect(questionAsComments('a\n\nb')).toBe('# a\n\n# b');
    // \x1c is whitespace to Python's strip() (not to JS trim)
    expect(questionAsComments('x\n\x1c\u3000\ny')).toBe('# x\n\n# y');
  });

  const expected: Record<Exclude<SamplingFamily, 'custom' | 'chat'>, { prompt: string; stop: string[]; ids: number[] }> = {
    'qwen2.5-coder': {
      prompt: `<|fim_prefix|>${HEAD}\n\nimport sys\nn = int(input())\n<|fim_suffix|>\nprint(total)<|fim_middle|>    for`,
      stop: ['<|endoftext|>', '<|im_end|>', '<|fim_prefix|>', '<|fim_suffix|>', '<|fim_middle|>', '<|fim_pad|>', '<|repo_name|>', '<|file_sep|>'],
      ids: [151643, 151645],
    },
    'deepseek-coder': {
      prompt: `<｜fim▁begin｜>${HEAD}\n\nimport sys\nn = int(input())\n<｜fim▁hole｜>\nprint(total)<｜fim▁end｜>    for`,
      stop: ['<｜end▁of▁sentence｜>', '<|EOT|>', '<｜fim▁begin｜>', '<｜fim▁hole｜>', '<｜fim▁end｜>'],
      ids: [32014],
    },
    starcoder2: {
      prompt: `<fim_prefix>${HEAD}\n\nimport sys\nn = int(input())\n<fim_suffix>\nprint(total)<fim_middle>    for`,
      stop: ['<|endoftext|>', '<file_sep>', '<fim_prefix>', '<fim_suffix>', '<fim_middle>', '<fim_pad>', '<repo_name>'],
      ids: [0],
    },
    codellama: {
      prompt: `<PRE> ${HEAD}\n\nimport sys\nn = int(input())\n <SUF>\nprint(total) <MID>    for`,
      stop: ['<EOT>', '</s>'],
      ids: [32010, 2],
    },
  };
  for (const [family, e] of Object.entries(expected)) {
    it(`builds the ${family} FIM prompt byte for byte`, () => {
      const b = buildFimPrompt(family as SamplingFamily, parts);
      expect(b.prompt).toBe(e.prompt);
      expect(b.stop).toEqual(e.stop);
      expect(b.stopTokenIds).toEqual(e.ids);
    });
  }

  it('builds the custom family from the given tokens and checks them', () => {
    const b = buildFimPrompt('custom', parts, { prefix: '<P>', suffix: '<S>', middle: '<M>', stop: ['<E>'], stopTokenIds: [7] });
    expect(b).toEqual({ prompt: `<P>${HEAD}\n\nimport sys\nn = int(input())\n<S>\nprint(total)<M>    for`, stop: ['<E>'], stopTokenIds: [7] });
    expect(buildFimPrompt('custom', parts, { prefix: '<P>', suffix: '<S>', middle: '<M>', stop: [] }).stopTokenIds).toEqual([]);
    expect(() => buildFimPrompt('custom', parts)).toThrow(/custom' needs token strings/);
    expect(() => buildFimPrompt('custom', parts, { prefix: '', suffix: '<S>', middle: '<M>', stop: [] })).toThrow(/'prefix' must be a non-empty string/);
    expect(() => buildFimPrompt('custom', parts, { prefix: '<P>', suffix: '<S>', middle: '<M>', stop: [''] })).toThrow(/'stop'/);
    expect(() => buildFimPrompt('nope' as SamplingFamily, parts)).toThrow(/unknown family 'nope'/);
  });

  it('builds the chat prompt: whole program after ```python and the starter code, a block after ```python and pre', () => {
    const sys = '<|im_start|>system\nYou are an intelligent programming assistant to produce Python algorithmic solutions.<|im_end|>\n';
    const whole = buildFimPrompt('chat', { question: 'Q?', pre: '', suf: '', start: chatStart('  def f(x):\n    \n') });
    // glued to the fence, as the published construct_full does
    expect(whole.prompt).toBe(`${sys}<|im_start|>user\nQ?<|im_end|>\n<|im_start|>assistant\n\`\`\`pythondef f(x):`);
    expect(whole.stop).toEqual(['<|endoftext|>', '<|im_end|>']);
    expect(whole.stopTokenIds).toEqual([151643, 151645]);
    expect(buildFimPrompt('chat', { question: 'Q?', pre: '', suf: '', start: chatStart(null) }).prompt.endsWith('```python')).toBe(true);
    const block = buildFimPrompt('chat', { question: 'Q?', pre: 'x = 1\n', suf: '\nprint(x)', start: 'if' });
    expect(block.prompt).toBe(`${sys}<|im_start|>user\nQ?<|im_end|>\n<|im_start|>assistant\n\`\`\`python\nx = 1\nif`);
  });

  it('prompts a whole-program target as chat whatever the family, and blocks in the family format', () => {
    const sys = '<|im_start|>system\nYou are an intelligent programming assistant to produce Python algorithmic solutions.<|im_end|>\n';
    const head = `${sys}<|im_start|>user\nSum them.<|im_end|>\n<|im_start|>assistant\n\`\`\`python`;
    const program = { kind: 'program', pre: '', mid: 'n = int(input())\nprint(n)', suf: '', question: 'Sum them.', starterCode: null };
    for (const family of ['qwen2.5-coder', 'deepseek-coder', 'starcoder2', 'codellama', 'chat'] as SamplingFamily[]) {
      expect(promptForTarget(family, program)).toEqual({ prompt: head, stop: ['<|endoftext|>', '<|im_end|>'], stopTokenIds: [151643, 151645], start: '', chat: true, whole: true });
    }
    // custom tokens are not needed for it; the starter code (stripped) follows the fence
    const starter = promptForTarget('custom', { ...program, starterCode: '\nclass Solution:\n    def f(self, x):\n        ' });
    expect(starter).toMatchObject({ prompt: `${head}class Solution:\n    def f(self, x):`, start: 'class Solution:\n    def f(self, x):', chat: true, whole: true });
    // the sample's middle is the whole program: start + output, cut at the closing fence; the line
    // break a model writes after a bare fence is not part of it
    expect(postProcess('program', '', '\nn = int(input())\nprint(n)\n```', { chat: true, wholeProgram: true })).toBe('n = int(input())\nprint(n)');
    expect(postProcess('program', starter.start, '\n        return x\n```\nDone.', { chat: starter.chat, wholeProgram: starter.whole })).toBe(
      'class Solution:\n    def f(self, x):\n        return x',
    );
    // a block stays FIM (with its start keyword), or chat after pre with the chat family
    const block = { kind: 'for', pre: 'n = 3\n', mid: 'for i in range(n):\n    print(i)', suf: '\nprint(0)', question: 'Q', starterCode: null };
    expect(promptForTarget('qwen2.5-coder', block)).toMatchObject({ prompt: '<|fim_prefix|># Q\n\nn = 3\n<|fim_suffix|>\nprint(0)<|fim_middle|>for', start: 'for', chat: false, whole: false });
    expect(promptForTarget('chat', block)).toMatchObject({ prompt: `${sys}<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\n\`\`\`python\nn = 3\nfor`, chat: true, whole: false });
  });

  it('takes the start keyword with its indentation from the middle', () => {
    expect(startOf('    for i in range(3):\n        pass')).toBe('    for');
    expect(startOf('if x:\n    y')).toBe('if');
    expect(startOf('\n\n  while(True):')).toBe('  while');
    expect(startOf('def f():\n  pass')).toBe('def');
    expect(startOf('    async def f():')).toBe('    async');
    // tabs are not indentation to the published lstrip(' ')
    expect(startOf('\tif x:')).toBe('if');
    expect(() => startOf('    (x)')).toThrow(/no keyword/);
  });
});

describe('post-processing', () => {
  it('keeps the block and cuts at the first line indented no deeper', () => {
    const out = ' i in range(n):\n        total += i\n\n        total *= 2\n    print(total)\n    for j in x:\n';
    expect(postProcess('for', '    for', out)).toBe('    for i in range(n):\n        total += i\n\n        total *= 2');
  });
  it('keeps same-indent else/elif for an if block only', () => {
    const out = ' a:\n        x = 1\n    elif b:\n        x = 2\n    else:\n        x = 3\n    y = 4\n';
    expect(postProcess('if', '    if', out)).toBe('    if a:\n        x = 1\n    elif b:\n        x = 2\n    else:\n        x = 3');
    expect(postProcess('while', '    while', out)).toBe('    while a:\n        x = 1');
    // the published startswith('else') also keeps `elsewhere`; clean does not
    expect(postProcess('if', 'if', ' a:\n  x\nelsewhere = 1\n')).toBe('if a:\n  x\nelsewhere = 1');
    expect(postProcess('if', 'if', ' a:\n  x\nelsewhere = 1\n', { preset: 'clean' })).toBe('if a:\n  x');
    expect(postProcess('for', 'for', ' a in b:\n  x\nelse:\n  y\nz\n', { preset: 'clean' })).toBe('for a in b:\n  x\nelse:\n  y');
    expect(postProcess('try', 'try', ':\n  x\nexcept E:\n  y\nfinally:\n  w\nz\n', { preset: 'clean' })).toBe('try:\n  x\nexcept E:\n  y\nfinally:\n  w');
  });
  it('right-trims with Python whitespace and strips newlines at both ends', () => {
    expect(postProcess('for', 'for', ' x in y:\n    a  \t\n\n\n')).toBe('for x in y:\n    a');
    expect(truncateBlock('def', '\n\ndef f():\n    return 1\n\x1c')).toBe('def f():\n    return 1');
    // a tab-indented line counts as indent 0: cut
    expect(postProcess('def', '  def', ' f():\n\tx\n')).toBe('  def f():');
    expect(postProcess('for', '    for', '')).toBe('    for');
  });
  it('cuts chat output at the closing fence, then (blocks only) by indentation', () => {
    expect(cutAtFence('a\nb\n```\nmore')).toBe('a\nb');
    expect(cutAtFence('no fence')).toBe('no fence');
    expect(postProcess('def', 'def', ' f():\n    return 1\nprint(f())\n```\nText', { chat: true, wholeProgram: true })).toBe('def f():\n    return 1\nprint(f())');
    expect(postProcess('for', 'for', ' x in y:\n    a\nprint(1)\n```', { chat: true })).toBe('for x in y:\n    a');
  });
});

describe('tab-indented blocks', () => {
  // A middle cut from tab-indented code (most of the full MBPP): a loop inside a function.
  const mid = '\tfor x in xs:\n\t\tif x > 0:\n\t\t\tn += 1';
  const golden = mid.slice('\tfor'.length);

  it('structurecoder keeps the published start (spaces only): the golden middle itself comes back as one line at column 0', () => {
    expect(goldenBroken({ kind: 'for', mid }, 'structurecoder')).toBe(true);
    expect(goldenBroken({ kind: 'for', mid }, 'clean')).toBe(false);
    expect(startOf(mid)).toBe('for');
    expect(startOf('  \tfor x in y:')).toBe('  for');
    expect(postProcess('for', startOf(mid), golden)).toBe('for x in xs:');
  });

  it('clean keeps the whole indentation in the start and gets the golden middle back exactly', () => {
    expect(startOf(mid, 'clean')).toBe('\tfor');
    expect(startOf('  \tfor x in y:', 'clean')).toBe('  \tfor');
    expect(postProcess('for', startOf(mid, 'clean'), `${golden}\n\treturn n\n`, { preset: 'clean' })).toBe(mid);
    expect(promptForTarget('qwen2.5-coder', { kind: 'for', pre: 'def f(xs):\n\tn = 0\n', mid, suf: '\n\treturn n', question: 'Q', starterCode: null }, undefined, 'clean')).toMatchObject({
      start: '\tfor',
      prompt: '<|fim_prefix|># Q\n\ndef f(xs):\n\tn = 0\n<|fim_suffix|>\n\treturn n<|fim_middle|>\tfor',
    });
  });

  it('clean measures indentation as Python does: a tab is the next multiple of 8, and mixed indentation must agree both ways', () => {
    expect(indentColumns('\tx')).toEqual([8, 1]);
    expect(indentColumns('    \tx')).toEqual([8, 5]);
    expect(indentColumns('        x')).toEqual([8, 8]);
    // deeper than the block's first line both ways: kept (whether it is consistent with the line
    // above is Python's to judge when the program runs)
    expect(postProcess('if', '\tif', ' a:\n\t\tx = 1\n\t        y = 2\n', { preset: 'clean' })).toBe('\tif a:\n\t\tx = 1\n\t        y = 2');
    // 8 spaces: the tab's column but not its indentation (Python: TabError): the block ends there
    expect(postProcess('if', '\tif', ' a:\n\t\tx = 1\n        y = 2\n', { preset: 'clean' })).toBe('\tif a:\n\t\tx = 1');
    // the else of a tab-indented if is kept, the next statement is not
    expect(postProcess('if', '\tif', ' a:\n\t\tx = 1\n\telse:\n\t\tx = 2\n\treturn x\n', { preset: 'clean' })).toBe('\tif a:\n\t\tx = 1\n\telse:\n\t\tx = 2');
  });
});

describe('client and job helpers', () => {
  it('sends every sampling value explicitly and never suffix', () => {
    const b = completionBody('m', { prompt: 'P', seed: 9, stop: ['<s>'], stopTokenIds: [1], n: 1, temperature: 0.7, topP: 0.95, maxTokens: 512 });
    expect(b).toEqual({
      model: 'm', prompt: 'P', n: 1, temperature: 0.7, top_p: 0.95, top_k: -1, min_p: 0, max_tokens: 512, seed: 9, stop: ['<s>'], stop_token_ids: [1],
      presence_penalty: 0, frequency_penalty: 0, repetition_penalty: 1, skip_special_tokens: false, spaces_between_special_tokens: false,
      include_stop_str_in_output: false, echo: false, stream: false,
    });
    expect('suffix' in b).toBe(false);
  });
  it('pairs --endpoint/--model/--api-key-env lists; keys only from the environment', () => {
    const env = { K1: 'one', K2: 'two' };
    expect(endpointsOf('http://a,http://b', 'm', undefined, env)).toEqual([{ url: 'http://a', model: 'm' }, { url: 'http://b', model: 'm' }]);
    expect(endpointsOf('http://a,http://b', 'm1,m2', 'K1,K2', env)).toEqual([{ url: 'http://a', model: 'm1', apiKey: 'one' }, { url: 'http://b', model: 'm2', apiKey: 'two' }]);
    expect(endpointsOf('http://a,http://b', 'm', 'K1', env).map((e) => e.apiKey)).toEqual(['one', 'one']);
    expect(() => endpointsOf('http://a', 'm', 'K3', env)).toThrow(/--api-key-env K3: the environment variable is not set/);
    expect(() => endpointsOf('http://a,http://b,http://c', 'm1,m2', undefined, env)).toThrow(/3 endpoints but 2 models/);
    expect(() => endpointsOf('http://a,http://b,http://c', 'm', 'K1,K2', env)).toThrow(/3 endpoints but 2 --api-key-env/);
    expect(endpointsOf(undefined, undefined)).toEqual([]);
  });
  it('normalises endpoint URLs', () => {
    expect(rootUrl('http://h:8000/v1/')).toBe('http://h:8000');
    expect(rootUrl(' https://h/x ')).toBe('https://h/x');
    expect(() => rootUrl('h:8000')).toThrow(/not an http/);
  });
  it('classifies vLLM errors', () => {
    const err = (status: number, body: unknown, msg?: string) => OpenAI.APIError.generate(status, body as object, msg, new Headers());
    const ctx = classify(err(400, { error: { message: "This model's maximum context length is 4096 tokens. However, you requested 5000 tokens", type: 'BadRequestError', code: 400 } }), 'e');
    expect([ctx.kind, ctx.maxLen]).toEqual(['context', 4096]);
    // the old flat body: the SDK has only the raw text
    const flat = classify(err(400, undefined, JSON.stringify({ object: 'error', message: 'maximum context length is 2048 tokens' })), 'e');
    expect([flat.kind, flat.maxLen]).toEqual(['context', 2048]);
    expect(classify(err(400, { error: { message: 'top_p must be in (0, 1]' } }), 'e').kind).toBe('fatal');
    expect(classify(err(401, { error: 'Unauthorized' }), 'e').message).toMatch(/PAIRFORGE_API_KEY/);
    expect(classify(err(404, { error: { message: 'The model `x` does not exist.' } }), 'e').kind).toBe('fatal');
    expect(classify(err(500, { error: { message: 'boom' } }), 'e').kind).toBe('retry');
    expect(classify(err(503, {}), 'e').kind).toBe('retry');
    expect(classify(new SyntaxError('Unexpected end of JSON input'), 'e').kind).toBe('retry');
    const conn = classify(new OpenAI.APIConnectionError({ cause: new Error('ECONNRESET') }), 'e');
    expect([conn.kind, conn.connection]).toEqual(['retry', true]);
    expect(classify(new OpenAI.APIUserAbortError(), 'e').kind).toBe('aborted');
  });
  it('backs off exponentially with jitter, capped', () => {
    expect(backoffMs(1, 500, 30_000, () => 0)).toBe(250);
    expect(backoffMs(1, 500, 30_000, () => 0.999999)).toBeCloseTo(500, 2);
    expect(backoffMs(3, 500, 30_000, () => 0)).toBe(1000);
    expect(backoffMs(20, 500, 30_000, () => 1)).toBe(30_000);
  });
  it('derives seeds per (base, target, index), deterministic and distinct', () => {
    expect(seedFor(1, 2, 3)).toBe(seedFor(1, 2, 3));
    const seen = new Set<number>();
    for (let t = 0; t < 50; t++) for (let i = 0; i < 5; i++) seen.add(seedFor(7, t, i));
    expect(seen.size).toBe(250);
    expect(seedFor(7, 1, 0)).not.toBe(seedFor(8, 1, 0));
    for (const s of seen) expect(s >= 0 && s < 2 ** 31).toBe(true);
  });
  it('checks specs and names the field; the key ignores URLs and concurrency', () => {
    const spec: SampleSpec = { family: 'qwen2.5-coder', endpoints: [{ url: 'http://a', model: 'm' }], selection: {} };
    const v = checkSpec(spec);
    expect(v).toEqual({ n: 5, temperature: 0.7, topP: 0.95, maxTokens: 512 });
    expect(specKey({ ...spec, endpoints: [{ url: 'http://b', model: 'm' }], concurrency: 3 }, v)).toBe(specKey(spec, v));
    expect(specKey({ ...spec, seed: 1 }, v)).not.toBe(specKey(spec, v));
    expect(() => checkSpec({ ...spec, n: 0 })).toThrow(/^n: an integer from 1/);
    expect(() => checkSpec({ ...spec, topP: 0 })).toThrow('topP: a number from 0.01 to 1 expected (got 0)');
    expect(() => checkSpec({ ...spec, temperature: -1 })).toThrow(/^temperature:/);
    expect(() => checkSpec({ ...spec, family: 'gpt' as SamplingFamily })).toThrow(/^family:/);
    expect(() => checkSpec({ ...spec, endpoints: [{ url: 'http://a', model: '' }] })).toThrow(/endpoints\[0\]\.model/);
    expect(() => checkSpec({ ...spec, selection: { targetIds: [] } })).toThrow(/targetIds/);
  });
});
