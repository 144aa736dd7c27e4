// One place for defaults and bounds: reading settings a person typed (fallbacks, clamping).
import { describe, expect, it } from 'vitest';
import { readExecSettings, readSamplingParams, EXEC_DEFAULTS, asExtraKinds, asPreset } from '../../../server/protocol';

describe('settings values for execution and sampling', () => {
  const getter = (o: Record<string, unknown>) => (k: string) => o[k];

  it('exec settings: defaults, bounds, comparator', () => {
    expect(readExecSettings(getter({}))).toEqual(EXEC_DEFAULTS);
    expect(readExecSettings(getter({ testTimeoutMs: 10, memoryMB: 4096.4, comparator: 'apps', allowUnsandboxed: 'yes', workers: 2 }))).toEqual({
      ...EXEC_DEFAULTS,
      testTimeoutMs: 100,
      memoryMB: 4096,
      comparator: 'apps',
      workers: 2,
    });
  });
  it('sampling params: the published defaults, families, custom tokens only for custom', () => {
    expect(readSamplingParams(getter({}))).toEqual({ family: 'qwen2.5-coder', n: 5, temperature: 0.7, topP: 0.95, maxTokens: 512, concurrency: 64 });
    expect(readSamplingParams(getter({ family: 'gpt', n: 0, temperature: 9, topP: 0 }))).toMatchObject({ family: 'qwen2.5-coder', n: 1, temperature: 2, topP: 0.01 });
    expect(readSamplingParams(getter({ family: 'custom', customTokens: { prefix: '<p>', suffix: '<s>', middle: '<m>', stop: ['<e>', 3] } })).customTokens).toEqual({
      prefix: '<p>',
      suffix: '<s>',
      middle: '<m>',
      stop: ['<e>'],
    });
    expect(readSamplingParams(getter({ family: 'chat', customTokens: { prefix: 'x' } })).customTokens).toBeUndefined();
  });
});

describe('settings values', () => {

  it('validates preset and extra kinds', () => {
    expect(asPreset('clean')).toBe('clean');
    expect(asPreset('faithful')).toBe('structurecoder');
    expect(asPreset(undefined)).toBe('structurecoder');
    expect(asExtraKinds(['class', 'if', 'with', 'class', 3, 'match'])).toEqual(['class', 'with']);
    expect(asExtraKinds('class')).toEqual([]);
  });
});
