// The stand-in as a scoring server: two more model names (a policy and a reference) whose
// prompt log-probabilities differ, one tokenizer for all three, prompt_token_ids echoed, and a
// second tokenizer ('chars') that differs, for the refusal of mismatched tokenizers.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importFiles } from '../../../server/import/importer';
import { NgramModel } from '../../../server/localvllm/ngram';
import { POLICY_MODEL_NAME, REFERENCE_MODEL_NAME, startLocalVllm, type LocalVllm } from '../../../server/localvllm/server';
import { localTokenizer } from '../../../server/localvllm/tokenizer';
import { openProject } from '../../../server/store/db';
import { cutAllTargets } from '../../../server/targets/cutAll';
import { fixturePath } from '../../support/paths';

const FIXTURES = fixturePath('datasets');
let dir: string;
let dbFile: string;
let srv: LocalVllm;
let code: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'localvllm-scoring-'));
  dbFile = path.join(dir, 'p.sqlite');
  const p = openProject(dbFile);
  await importFiles(p, [path.join(FIXTURES, 'apps-mini.jsonl')]);
  await cutAllTargets(p, { preset: 'structurecoder' });
  code = p.db.prepare<[], { code: string }>('SELECT code FROM solutions ORDER BY id LIMIT 1').get()!.code;
  p.close();
  srv = await startLocalVllm({ db: dbFile });
}, 60_000);
afterAll(async () => {
  await srv?.close();
  rmSync(dir, { recursive: true, force: true });
});

const post = async (url: string, body: unknown) => {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: r.status, json: (await r.json()) as any }; // eslint-disable-line @typescript-eslint/no-explicit-any
};

describe('scoring models of the stand-in', () => {
  it('policy and reference tokenize like the default model; their prompt log-probs differ, and repeat exactly', async () => {
    const text = `${code}\n<|endoftext|>`;
    const toks = await Promise.all([srv.model, POLICY_MODEL_NAME, REFERENCE_MODEL_NAME].map((model) => post(`${srv.url}/tokenize`, { model, prompt: text, return_token_strs: true })));
    for (const t of toks) {
      expect(t.status).toBe(200);
      expect(t.json.tokens).toEqual(toks[0].json.tokens);
      expect(t.json.token_strs).toEqual(toks[0].json.token_strs);
    }
    const ids = toks[0].json.tokens as number[];
    const score = async (model: string) => {
      const r = await post(`${srv.url}/v1/completions`, { model, prompt: ids, max_tokens: 1, prompt_logprobs: 0, temperature: 0, return_token_ids: true });
      expect(r.status).toBe(200);
      expect(r.json.model).toBe(model);
      expect(r.json.choices[0].prompt_token_ids).toEqual(ids);
      const pl = r.json.choices[0].prompt_logprobs as (Record<string, { logprob: number; rank: number }> | null)[];
      expect(pl).toHaveLength(ids.length);
      expect(pl[0]).toBeNull();
      return pl.slice(1).map((d, i) => d![String(ids[i + 1])].logprob);
    };
    const pol = await score(POLICY_MODEL_NAME);
    const ref = await score(REFERENCE_MODEL_NAME);
    const rewards = pol.map((x, i) => 0.1 * (x - ref[i]));
    expect(rewards.every(Number.isFinite)).toBe(true);
    // real, varying rewards: many distinct values, both signs
    expect(new Set(rewards.map((r) => r.toFixed(5))).size).toBeGreaterThan(rewards.length / 4);
    expect(rewards.some((r) => r > 0)).toBe(true);
    expect(rewards.some((r) => r < 0)).toBe(true);
    expect(await score(POLICY_MODEL_NAME)).toEqual(pol);
    // the default model is a third, different one (sampling keeps it)
    expect(await score(srv.model)).not.toEqual(pol);
  });

  it('an unknown model is 404 after the body is validated, on every route', async () => {
    expect((await post(`${srv.url}/v1/completions`, { model: 'pairforge-local-nope', prompt: 'x', max_tokens: 1 })).status).toBe(404);
    expect((await post(`${srv.url}/v1/completions`, { model: 'pairforge-local-nope', prompt: 'x', n: 'two' })).status).toBe(400);
    expect((await post(`${srv.url}/tokenize`, { model: 'pairforge-local-nope', prompt: 'x' })).status).toBe(404);
  });
});

describe("the 'chars' tokenizer", () => {
  it('one token per character over the same ids: the probe tokenizes differently', () => {
    const pieces = localTokenizer('pieces');
    const chars = localTokenizer('chars');
    const text = 'for i in range(n):\n    print(i)  # é';
    expect(chars.encode(text).length).toBeGreaterThan(pieces.encode(text).length);
    expect(chars.decode(chars.encode(text))).toBe(text);
    expect(chars.encode('x')).toEqual(pieces.encode('x'));
    expect(chars.encode('<|endoftext|>')).toEqual(pieces.encode('<|endoftext|>'));
  });

  it('a server built with it answers /tokenize differently for every model name', async () => {
    const other = await startLocalVllm({ db: dbFile, tokenizer: 'chars' });
    try {
      const a = await post(`${srv.url}/tokenize`, { model: REFERENCE_MODEL_NAME, prompt: code, return_token_strs: true });
      const b = await post(`${other.url}/tokenize`, { model: REFERENCE_MODEL_NAME, prompt: code, return_token_strs: true });
      // one token per ASCII character, one per UTF-8 byte of anything else
      expect(b.json.tokens.length).toBe(Buffer.byteLength(code, 'utf8'));
      expect(b.json.tokens).not.toEqual(a.json.tokens);
    } finally {
      await other.close();
    }
  });
});

it('the n-gram model remembers scored (context, token) pairs: same numbers as computing them', () => {
  const tok = localTokenizer();
  const m = new NgramModel(tok, { order: 3 });
  m.train(tok.encode('for i in range(n):\n    total += i\nprint(total)\n'));
  const ids = tok.encode('for i in range(n):\n    total -= i\n');
  for (let round = 0; round < 2; round++) {
    for (let j = 1; j < ids.length; j++) expect(m.scored(ids, ids[j], j)).toEqual({ logprob: m.logprob(ids, ids[j], j), rank: m.rank(ids, ids[j], j) });
  }
});
