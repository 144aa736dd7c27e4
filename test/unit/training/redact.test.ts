// Secrets by name: redacted in the project's record of a run and in printed plans.
import { describe, expect, it } from 'vitest';
import { isSecretName, redactText, redactValue, REDACTED } from '../../../server/training/redact';

describe('redaction of secrets', () => {
  it('knows secret names from counts and settings', () => {
    for (const n of ['hub_token', 'HF_TOKEN', 'token', 'api_key', 'OPENAI_API_KEY', 'AWS_SECRET', 'password', 'wandb_access_key']) expect(isSecretName(n), n).toBe(true);
    for (const n of ['add_special_tokens', 'max_tokens', 'tokenizer', 'beta', 'keyword', 'max_length', 'model']) expect(isSecretName(n), n).toBe(false);
  });

  it('replaces secret members at any depth and keeps the rest', () => {
    const config = { model: 'm', beta: 0.1, trl: { hub_token: 'hf_abc', report_to: ['wandb'], nested: [{ api_key: 'k' }] }, add_special_tokens: true };
    expect(redactValue(config)).toEqual({ model: 'm', beta: 0.1, trl: { hub_token: REDACTED, report_to: ['wandb'], nested: [{ api_key: REDACTED }] }, add_special_tokens: true });
    expect(config.trl.hub_token).toBe('hf_abc');
  });

  it('replaces secret assignments in shell text and secret members in JSON text', () => {
    const sh = "export HF_TOKEN=hf_abc OMP_NUM_THREADS=1\nexport WANDB_API_KEY='a b'; module load cuda\nTOKENIZERS_PARALLELISM=false";
    expect(redactText(sh)).toBe(`export HF_TOKEN=${REDACTED} OMP_NUM_THREADS=1\nexport WANDB_API_KEY=${REDACTED}; module load cuda\nTOKENIZERS_PARALLELISM=false`);
    const json = JSON.stringify({ model: 'm', trl: { hub_token: 'hf_"x', max_length: 512 } }, null, 2);
    const out = redactText(json);
    expect(out).not.toContain('hf_');
    expect(JSON.parse(out)).toEqual({ model: 'm', trl: { hub_token: REDACTED, max_length: 512 } });
  });
});
