// Settings only the extension reads: the endpoint list and API key names.
import { describe, expect, it } from 'vitest';
import { asEndpoints, apiKeySecretName } from '../../../extension/settingsValues';

describe('settings values for execution and sampling', () => {
  it('endpoints: normalised URLs, reasons for every dropped entry, no default endpoint', () => {
    expect(asEndpoints(undefined)).toEqual({ endpoints: [], problems: [] });
    const r = asEndpoints([
      { url: 'http://gpu-1:8000/v1/', model: 'Qwen/Qwen2.5-Coder-7B' },
      { url: 'ftp://x', model: 'm' },
      { url: 'http://gpu-2:8000', model: ' ' },
      'http://gpu-3',
      { url: 'http://gpu-1:8000', model: 'Qwen/Qwen2.5-Coder-7B' },
    ]);
    expect(r.endpoints).toEqual([{ url: 'http://gpu-1:8000', model: 'Qwen/Qwen2.5-Coder-7B' }]);
    expect(r.problems).toEqual([
      'pairforge.sampling.endpoints[1].url: not an http(s) URL ("ftp://x")',
      'pairforge.sampling.endpoints[2].model: missing (the model name the server serves)',
      'pairforge.sampling.endpoints[3]: not an object {"url", "model"}',
      'pairforge.sampling.endpoints[4]: duplicate of an earlier entry',
    ]);
    expect(asEndpoints({ url: 'x' }).problems).toHaveLength(1);
    expect(apiKeySecretName('http://gpu-1:8000')).toBe('pairforge.apiKey:http://gpu-1:8000');
  });
});
