// The local vLLM stand-in over real HTTP (in-process server): vLLM's routes, request fields,
// response shapes and error bodies; FIM lookups for every family; references and mutants among
// samples; seeded determinism; n-gram log-probabilities; fault injection. Also driven through the
// `openai` package, the client the sampling stage uses.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importFiles } from '../../../server/import/importer';
import { questionAsComments } from '../../../server/sampling/prompts';
import { FIM_TOKENS, programContinuation } from '../../../server/localvllm/fim';
import { variants } from '../../../server/localvllm/mutants';
import { startLocalVllm, type LocalVllm } from '../../../server/localvllm/server';
import { openProject } from '../../../server/store/db';
import { chatTemplate } from '../../../server/sampling/prompts';
import { cutAllTargets } from '../../../server/targets/cutAll';
import { FIM_FAMILIES, type FimFamily } from '../../../server/protocol';
import { fixturePath } from '../../support/paths';

const FIXTURES = fixturePath('datasets');
let dir: string;
let dbFile: string;
let srv: LocalVllm;
interface Row {
  id: number;
  pre: string;
  mid: string;
  suf: string;
  question: string;
}
let targets: Row[];

function fimPrompt(family: FimFamily, question: string, pre: string, suf: string, start: string): string {
  const t = FIM_TOKENS[family];
  const head = `${questionAsComments(question)}\n\n${pre}`;
  if (family === 'codellama') return `${t.prefix} ${head} ${t.suffix}${suf} ${t.middle}${start}`;
  return `${t.prefix}${head}${t.suffix}${suf}${t.middle}${start}`;
}
const startOf = (mid: string) => /^\s*\w+/.exec(mid)?.[0] ?? '';
/** The published truncation: first line, then lines until one indented no deeper than it. */
function postProcess(start: string, output: string): string {
  const lines = (start + output).split('\n');
  const ind = (l: string) => l.length - l.trimStart().length;
  const first = ind(lines[0]);
  const isIf = lines[0].trimStart().startsWith('if');
  const kept = [lines[0]];
  for (const l of lines.slice(1)) {
    if (l.trim() !== '' && ind(l) <= first && !(isIf && ind(l) === first && /^(else|elif)\b/.test(l.trimStart()))) break;
    kept.push(l);
  }
  return kept.join('\n').trimEnd();
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await r.text();
  let json: any = null; // eslint-disable-line @typescript-eslint/no-explicit-any
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: r.status, text, json };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const getJson = async (url: string): Promise<any> => (await fetch(url)).json();

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'pairforge-localvllm-'));
  dbFile = path.join(dir, 'project.sqlite');
  const p = openProject(dbFile);
  await importFiles(p, ['apps-mini.jsonl', 'humaneval-mini.jsonl', 'mbpp-mini.jsonl'].map((f) => path.join(FIXTURES, f)));
  await cutAllTargets(p, { preset: 'structurecoder' });
  targets = p.db
    .prepare('SELECT t.id, t.pre, t.mid, t.suf, pr.question FROM targets t JOIN solutions s ON s.id = t.solution_id JOIN problems pr ON pr.id = s.problem_id ORDER BY t.id')
    .all() as Row[];
  p.close();
  srv = await startLocalVllm({ db: dbFile, mix: { runOn: 0 } });
});
afterAll(async () => {
  await srv?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A target with an if/else or a comparison, so every mutant kind can arise. */
function richTarget(): Row {
  const t = targets.find((r) => /\n\s*else:/.test(r.mid) && /[<>=]=?/.test(r.mid)) ?? targets.find((r) => r.mid.includes('\n'));
  if (!t) throw new Error('fixture has no multi-line target');
  return t;
}

describe('routes and shapes', () => {
  it('GET /health is 200 with an empty body; GET /v1/models lists the model (then the two scoring models) with max_model_len', async () => {
    const h = await fetch(`${srv.url}/health`);
    expect(h.status).toBe(200);
    expect(await h.text()).toBe('');
    const m = await getJson(`${srv.url}/v1/models`);
    expect(m.object).toBe('list');
    expect(m.data.map((d: { id: string }) => d.id)).toEqual(['pairforge-local-vllm', 'pairforge-local-policy', 'pairforge-local-reference']);
    expect(srv.models).toEqual(['pairforge-local-vllm', 'pairforge-local-policy', 'pairforge-local-reference']);
    expect(m.data[0]).toMatchObject({ id: 'pairforge-local-vllm', object: 'model', owned_by: 'vllm', root: 'pairforge-local-vllm', parent: null, max_model_len: 32768 });
    expect(typeof m.data[0].created).toBe('number');
    expect(m.data[0].permission[0]).toMatchObject({ object: 'model_permission', allow_logprobs: true, organization: '*' });
    expect(srv.targets).toBe(targets.length);
  });

  it('POST /tokenize and /detokenize (no /v1) round-trip', async () => {
    const prompt = '<|fim_prefix|>x = 1\n<|fim_suffix|>\n<|fim_middle|>if';
    const t = await post(`${srv.url}/tokenize`, { model: srv.model, prompt, return_token_strs: true });
    expect(t.status).toBe(200);
    expect(t.json).toMatchObject({ count: t.json.tokens.length, max_model_len: 32768 });
    expect(t.json.tokens[0]).toBe(151659);
    expect(t.json.token_strs[0]).toBe('<|fim_prefix|>');
    const d = await post(`${srv.url}/detokenize`, { tokens: t.json.tokens });
    expect(d.json).toEqual({ prompt });
    const chat = await post(`${srv.url}/tokenize`, { messages: [{ role: 'user', content: 'hi' }] });
    expect(chat.json.tokens[0]).toBe(151644);
    expect((await post(`${srv.url}/detokenize`, { tokens: [5, 99999] })).status).toBe(400);
    expect((await post(`${srv.url}/tokenize`, { model: 'other', prompt: 'x' })).status).toBe(404);
    expect((await post(`${srv.url}/tokenize`, {})).status).toBe(400);
  });

  it('POST /v1/completions returns vLLM\'s response shape with usage', async () => {
    const t = richTarget();
    const start = startOf(t.mid);
    const r = await post(`${srv.url}/v1/completions`, {
      model: srv.model,
      prompt: fimPrompt('qwen2.5-coder', t.question, t.pre, t.suf, start),
      n: 3,
      seed: 1,
      temperature: 0.7,
      top_p: 0.95,
      max_tokens: 512,
      stop: ['<|endoftext|>', '<|im_end|>'],
      skip_special_tokens: false,
    });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ object: 'text_completion', model: srv.model });
    expect(r.json.id).toMatch(/^cmpl-[0-9a-f]{32}$/);
    expect(r.json.choices.map((c: { index: number }) => c.index)).toEqual([0, 1, 2]);
    for (const c of r.json.choices) {
      expect(Object.keys(c).sort()).toEqual(['finish_reason', 'index', 'logprobs', 'prompt_logprobs', 'prompt_token_ids', 'stop_reason', 'text', 'token_ids']);
      expect(c.finish_reason).toBe('stop');
      expect(c.stop_reason).toBeNull(); // stopped on the EOS token
      expect(c.text).not.toContain('<|endoftext|>');
      expect(c.logprobs).toBeNull();
    }
    const u = r.json.usage;
    expect(u.total_tokens).toBe(u.prompt_tokens + u.completion_tokens);
    const tk = await post(`${srv.url}/tokenize`, { prompt: fimPrompt('qwen2.5-coder', t.question, t.pre, t.suf, start) });
    expect(u.prompt_tokens).toBe(tk.json.count);
  });
});

describe('the model', () => {
  it.each(FIM_FAMILIES)('%s: fills a known block (greedy = the reference middle)', async (family) => {
    for (const t of targets.slice(0, 6)) {
      const start = startOf(t.mid);
      const stop = family === 'codellama' ? ['<EOT>'] : [];
      const r = await post(`${srv.url}/v1/completions`, { prompt: fimPrompt(family, t.question, t.pre, t.suf, start), temperature: 0, max_tokens: 512, stop });
      expect(r.status).toBe(200);
      expect(start + r.json.choices[0].text).toBe(t.mid);
      expect(r.json.choices[0].finish_reason).toBe('stop');
      expect(r.json.choices[0].stop_reason).toBe(family === 'codellama' ? '<EOT>' : null);
    }
  });

  it('samples include the reference, reformatted copies and mutants; same seed, same samples', async () => {
    const t = richTarget();
    const start = startOf(t.mid);
    const body = { prompt: fimPrompt('qwen2.5-coder', t.question, t.pre, t.suf, start), n: 40, seed: 1234, temperature: 0.8, max_tokens: 512 };
    const a = await post(`${srv.url}/v1/completions`, body);
    const b = await post(`${srv.url}/v1/completions`, body);
    const texts = (r: typeof a) => r.json.choices.map((c: { text: string }) => c.text);
    expect(texts(a)).toEqual(texts(b));
    const other = await post(`${srv.url}/v1/completions`, { ...body, seed: 99 });
    expect(texts(other)).not.toEqual(texts(a));
    const v = variants(t.mid);
    const kinds = new Set<string>();
    for (const text of texts(a)) {
      const mid = postProcess(start, text);
      const kind = Object.entries(v).find(([, xs]) => xs.includes(mid))?.[0];
      expect(kind, `sample ${JSON.stringify(mid)} is no variant of the reference`).toBeDefined();
      kinds.add(kind as string);
    }
    expect(kinds.has('reference')).toBe(true);
    expect([...kinds].some((k) => k !== 'reference' && k !== 'reformat')).toBe(true);
  });

  it('an unknown prompt is answered from the n-gram model, ending the block', async () => {
    const prompt = fimPrompt('qwen2.5-coder', 'q', 'n = int(input())\n', '\nprint(n)\n', 'for');
    const r = await post(`${srv.url}/v1/completions`, { prompt, n: 4, seed: 3, max_tokens: 64, temperature: 0.8 });
    expect(r.status).toBe(200);
    for (const c of r.json.choices) {
      expect(typeof c.text).toBe('string');
      expect(['stop', 'length']).toContain(c.finish_reason);
    }
  });

  it('a chat prompt of a known program continues it and closes the fence', async () => {
    const t = targets.find((r) => r.pre.length > 1) as Row;
    const prompt = `<|im_start|>system\nYou are an intelligent programming assistant to produce Python algorithmic solutions.<|im_end|>\n<|im_start|>user\n${t.question}<|im_end|>\n<|im_start|>assistant\n\`\`\`python\n${t.pre}`;
    const r = await post(`${srv.url}/v1/completions`, { prompt, temperature: 0, max_tokens: 1024 });
    expect(r.json.choices[0].text).toBe(`${t.mid}${t.suf}\n\`\`\``);
  });
});

describe('sampling values', () => {
  const t = () => richTarget();
  const prompt = () => fimPrompt('qwen2.5-coder', t().question, t().pre, t().suf, startOf(t().mid));

  it('stop strings truncate (stop_reason = the string); stop_token_ids stop on a token; max_tokens gives length', async () => {
    const full = (await post(`${srv.url}/v1/completions`, { prompt: prompt(), temperature: 0, max_tokens: 512 })).json.choices[0].text as string;
    const cut = full.indexOf('\n');
    expect(cut).toBeGreaterThan(0);
    const s = await post(`${srv.url}/v1/completions`, { prompt: prompt(), temperature: 0, max_tokens: 512, stop: ['\n'] });
    expect(s.json.choices[0]).toMatchObject({ text: full.slice(0, cut), finish_reason: 'stop', stop_reason: '\n' });
    const inc = await post(`${srv.url}/v1/completions`, { prompt: prompt(), temperature: 0, max_tokens: 512, stop: '\n', include_stop_str_in_output: true });
    expect(inc.json.choices[0].text).toBe(full.slice(0, cut + 1));
    const ids = (await post(`${srv.url}/tokenize`, { prompt: full })).json.tokens as number[];
    const st = await post(`${srv.url}/v1/completions`, { prompt: prompt(), temperature: 0, max_tokens: 512, stop_token_ids: [ids[1]], return_token_ids: true });
    expect(st.json.choices[0].stop_reason).toBe(ids[1]);
    expect(st.json.choices[0].token_ids).toEqual(ids.slice(0, 2));
    const len = await post(`${srv.url}/v1/completions`, { prompt: prompt(), temperature: 0, max_tokens: 2 });
    expect(len.json.choices[0].finish_reason).toBe('length');
    expect(len.json.usage.completion_tokens).toBe(2);
  });

  it('logprobs: tokens, token_logprobs, top_logprobs (sampled first, up to k+1), text_offset', async () => {
    const r = await post(`${srv.url}/v1/completions`, { prompt: prompt(), temperature: 0, max_tokens: 8, logprobs: 2 });
    const lp = r.json.choices[0].logprobs;
    expect(lp.tokens.join('')).toBe(r.json.choices[0].text);
    expect(lp.tokens).toHaveLength(8);
    for (let i = 0; i < 8; i++) {
      expect(Number.isFinite(lp.token_logprobs[i])).toBe(true);
      expect(lp.token_logprobs[i]).toBeLessThanOrEqual(0);
      const keys = Object.keys(lp.top_logprobs[i]);
      expect(keys.length).toBeGreaterThanOrEqual(2);
      expect(keys.length).toBeLessThanOrEqual(3);
      expect(lp.top_logprobs[i][lp.tokens[i]]).toBe(lp.token_logprobs[i]);
      expect(lp.text_offset[i]).toBe(lp.tokens.slice(0, i).join('').length);
    }
    // Insertion order survives JSON: the sampled token is the first key.
    expect(r.text).toContain(`"top_logprobs":[{${JSON.stringify(lp.tokens[0])}:`);
    const ids = await post(`${srv.url}/v1/completions`, { prompt: prompt(), temperature: 0, max_tokens: 3, logprobs: 0, return_tokens_as_token_ids: true });
    expect(ids.json.choices[0].logprobs.tokens[0]).toMatch(/^token_id:\d+$/);
  });

  it('scoring a fixed text: echo + max_tokens 0 + logprobs 0, and max_tokens 1 + prompt_logprobs 0 (token-id prompts)', async () => {
    const text = `${t().pre}${t().mid}${t().suf}`;
    const ids = (await post(`${srv.url}/tokenize`, { prompt: text })).json.tokens as number[];
    const e = await post(`${srv.url}/v1/completions`, { prompt: ids, max_tokens: 0, echo: true, logprobs: 0 });
    expect(e.status).toBe(200);
    const c = e.json.choices[0];
    expect(c.text).toBe(text);
    expect(c.logprobs.tokens).toHaveLength(ids.length);
    expect(c.logprobs.token_logprobs[0]).toBeNull();
    expect(c.logprobs.top_logprobs[0]).toBeNull();
    expect(c.logprobs.token_logprobs.slice(1).every((x: number) => Number.isFinite(x) && x < 0)).toBe(true);
    expect(e.json.usage.prompt_tokens).toBe(ids.length);
    const p = await post(`${srv.url}/v1/completions`, { prompt: [ids, ids.slice(0, 5)], max_tokens: 1, prompt_logprobs: 0 });
    expect(p.json.choices).toHaveLength(2);
    const pl = p.json.choices[0].prompt_logprobs;
    expect(pl).toHaveLength(ids.length);
    expect(pl[0]).toBeNull();
    for (let i = 1; i < ids.length; i++) {
      const entry = pl[i][String(ids[i])];
      expect(entry.logprob).toBeCloseTo(c.logprobs.token_logprobs[i], 10);
      expect(entry.rank).toBeGreaterThanOrEqual(1);
      expect(typeof entry.decoded_token).toBe('string');
    }
    expect(p.json.choices[1].prompt_logprobs).toHaveLength(5);
  });

  it('two servers with different n-gram configurations score the same tokens differently', async () => {
    const ref = await startLocalVllm({ db: dbFile, ngram: { order: 2, smoothing: 'add-k', k: 0.5 } });
    try {
      const text = `${t().pre}${t().mid}${t().suf}`;
      const score = async (s: LocalVllm) => (await post(`${s.url}/v1/completions`, { prompt: text, max_tokens: 0, echo: true, logprobs: 0 })).json.choices[0].logprobs.token_logprobs as (number | null)[];
      const a = await score(srv);
      const b = await score(ref);
      expect(a.length).toBe(b.length);
      const rewards = a.slice(1).map((x, i) => 0.5 * ((x as number) - (b[i + 1] as number)));
      expect(rewards.every(Number.isFinite)).toBe(true);
      expect(new Set(rewards.map((r) => r.toFixed(6))).size).toBeGreaterThan(rewards.length / 4);
      expect(await score(srv)).toEqual(a);
    } finally {
      await ref.close();
    }
  });

  it('echo with max_tokens > 0 returns prompt + completion, logprobs over both', async () => {
    const ids = (await post(`${srv.url}/tokenize`, { prompt: prompt() })).json.tokens as number[];
    const r = await post(`${srv.url}/v1/completions`, { prompt: prompt(), echo: true, max_tokens: 3, temperature: 0, logprobs: 1 });
    const c = r.json.choices[0];
    expect(c.text.startsWith(prompt())).toBe(true);
    expect(c.logprobs.tokens).toHaveLength(ids.length + 3);
    expect(c.logprobs.token_logprobs[0]).toBeNull();
    expect(c.prompt_logprobs).toHaveLength(ids.length);
    expect(r.json.usage).toMatchObject({ prompt_tokens: ids.length, completion_tokens: 3 });
  });

  it('streams like vLLM (SSE chunks, then [DONE]), also through the openai client', async () => {
    const res = await fetch(`${srv.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: prompt(), n: 2, temperature: 0, max_tokens: 512, stream: true, stream_options: { include_usage: true } }),
    });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = (await res.text()).split('\n\n').filter(Boolean);
    expect(events.at(-1)).toBe('data: [DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.slice('data: '.length)));
    expect(chunks.filter((c) => c.choices.length === 1).map((c) => c.choices[0].index)).toEqual([0, 1]);
    expect(chunks.at(-1).usage.completion_tokens).toBeGreaterThan(0);
    const client = new OpenAI({ baseURL: srv.baseURL, apiKey: 'unused', maxRetries: 0 });
    let text = '';
    for await (const chunk of await client.completions.create({ model: srv.model, prompt: prompt(), temperature: 0, max_tokens: 512, stream: true })) text += chunk.choices[0]?.text ?? '';
    expect(startOf(t().mid) + text).toBe(t().mid);
  });

  it('sometimes runs on into the suffix, which the truncation rule removes', async () => {
    const s = await startLocalVllm({ db: dbFile, mix: { runOn: 1 } });
    try {
      const r = await post(`${s.url}/v1/completions`, { prompt: prompt(), n: 5, seed: 8, temperature: 0.7, max_tokens: 512 });
      const v = Object.values(variants(t().mid)).flat();
      for (const c of r.json.choices) {
        expect(c.text.length).toBeGreaterThan(postProcess(startOf(t().mid), c.text).length - startOf(t().mid).length);
        expect(v).toContain(postProcess(startOf(t().mid), c.text));
      }
    } finally {
      await s.close();
    }
  });

  it('different training data (--ngram-fraction) gives different log-probabilities; same config, same numbers', async () => {
    const half = await startLocalVllm({ db: dbFile, ngramFraction: 0.5 });
    const twin = await startLocalVllm({ db: dbFile });
    try {
      const text = `${t().pre}${t().mid}${t().suf}`;
      const score = async (s: LocalVllm) => (await post(`${s.url}/v1/completions`, { prompt: text, max_tokens: 0, echo: true, logprobs: 0 })).json.choices[0].logprobs.token_logprobs as (number | null)[];
      const a = await score(srv);
      expect(await score(twin)).toEqual(a);
      const b = await score(half);
      expect(b.filter((x, i) => x !== a[i]).length).toBeGreaterThan(0);
    } finally {
      await half.close();
      await twin.close();
    }
  });

  it('a list of prompts gives n choices per prompt, prompt-major, usage summed', async () => {
    const r = await post(`${srv.url}/v1/completions`, { prompt: [prompt(), 'x = 1'], n: 2, seed: 4, max_tokens: 8 });
    expect(r.json.choices.map((c: { index: number }) => c.index)).toEqual([0, 1, 2, 3]);
    const [a, b] = await Promise.all([prompt(), 'x = 1'].map(async (p) => (await post(`${srv.url}/tokenize`, { prompt: p })).json.count as number));
    expect(r.json.usage.prompt_tokens).toBe(a + b);
    const seeded = await post(`${srv.url}/v1/completions`, { prompt: prompt(), n: 2, seed: 4, max_tokens: 8 });
    expect(seeded.json.choices.map((c: { text: string }) => c.text)).toEqual(r.json.choices.slice(0, 2).map((c: { text: string }) => c.text));
  });

  it('--file-sep-rate: qwen middles followed by <|file_sep|> and junk unless the client stops on it', async () => {
    const s = await startLocalVllm({ db: dbFile, mix: { fileSep: 1, runOn: 0 } });
    try {
      const base = { prompt: prompt(), temperature: 0, max_tokens: 512 };
      const raw = (await post(`${s.url}/v1/completions`, base)).json.choices[0];
      expect(raw.text).toContain('<|file_sep|>tests/test_solution.py');
      expect(raw.stop_reason).toBeNull();
      const byString = (await post(`${s.url}/v1/completions`, { ...base, stop: ['<|file_sep|>'] })).json.choices[0];
      expect(startOf(t().mid) + byString.text).toBe(t().mid);
      expect(byString.stop_reason).toBe('<|file_sep|>');
      const byId = (await post(`${s.url}/v1/completions`, { ...base, stop_token_ids: [151664] })).json.choices[0];
      expect(startOf(t().mid) + byId.text).toBe(t().mid);
      expect(byId.stop_reason).toBe(151664);
    } finally {
      await s.close();
    }
  });

  it('works through the openai client (what the sampling stage uses)', async () => {
    const client = new OpenAI({ baseURL: srv.baseURL, apiKey: 'unused', maxRetries: 0 });
    const r = await client.completions.create({ model: srv.model, prompt: prompt(), n: 2, temperature: 0.7, top_p: 0.95, max_tokens: 512, seed: 5, stop: ['<|endoftext|>'] });
    expect(r.choices).toHaveLength(2);
    expect(r.choices[0].finish_reason).toBe('stop');
    const models = await client.models.list();
    expect(models.data[0].id).toBe(srv.model);
  });
});

describe('errors', () => {
  const t = () => richTarget();
  it('400 suffix, 404 unknown model, 400 validation, 400 bad JSON, 404/405 routes', async () => {
    const base = { prompt: 'x = 1', max_tokens: 4 };
    const sfx = await post(`${srv.url}/v1/completions`, { ...base, suffix: 'y' });
    expect(sfx.status).toBe(400);
    expect(sfx.json).toEqual({ error: { message: 'suffix is not currently supported', type: 'BadRequestError', param: null, code: 400 } });
    const nf = await post(`${srv.url}/v1/completions`, { ...base, model: 'gpt-9' });
    expect(nf.status).toBe(404);
    expect(nf.json).toEqual({ error: { message: 'The model `gpt-9` does not exist.', type: 'NotFoundError', param: 'model', code: 404 } });
    const typ = await post(`${srv.url}/v1/completions`, { ...base, n: 'five' });
    expect(typ.status).toBe(400);
    expect(typ.json.error).toMatchObject({ type: 'Bad Request', param: 'n', code: 400 });
    expect(typ.json.error.message).toMatch(/body\.n/);
    for (const bad of [{ n: 0 }, { temperature: -1 }, { top_p: 0 }, { max_tokens: 0 }, { logprobs: 21 }, { prompt: '' }, { prompt: [] }, { prompt: [[1, 2], 'x'] }, { prompt: [1e9] }, { stream_options: { include_usage: true } }, { stream: true, prompt_logprobs: 2 }]) {
      const r = await post(`${srv.url}/v1/completions`, { ...base, ...bad });
      expect(r.status, JSON.stringify(bad)).toBe(400);
      expect(Object.keys(r.json.error).sort()).toEqual(['code', 'message', 'param', 'type']);
    }
    const js = await post(`${srv.url}/v1/completions`, '{"prompt": ');
    expect(js.status).toBe(400);
    expect(js.json.error.code).toBe(400);
    expect((await fetch(`${srv.url}/v1/chat/nothing`)).status).toBe(404);
    expect((await fetch(`${srv.url}/v1/completions`)).status).toBe(405);
  });

  it('context length: 400 whose message matches `maximum context length is (\\d+)`', async () => {
    const small = await startLocalVllm({ db: dbFile, maxModelLen: 64 });
    try {
      const prompt = fimPrompt('qwen2.5-coder', t().question, t().pre, t().suf, startOf(t().mid));
      const r = await post(`${small.url}/v1/completions`, { prompt, max_tokens: 16 });
      expect(r.status).toBe(400);
      expect(r.json.error.type).toBe('BadRequestError');
      const m = /maximum context length is (\d+)/.exec(r.json.error.message);
      expect(m?.[1]).toBe('64');
      expect(r.json.error.message).toMatch(/However, you requested \d+ tokens \(\d+ in the messages, 16 in the completion\)/);
      const models = await getJson(`${small.url}/v1/models`);
      expect(models.data[0].max_model_len).toBe(64);
    } finally {
      await small.close();
    }
  });

  it('401 on /v1 routes without the right key; /health and /tokenize stay open', async () => {
    const s = await startLocalVllm({ apiKey: 'sekret' });
    try {
      const none = await post(`${s.url}/v1/completions`, { prompt: 'x' });
      expect(none.status).toBe(401);
      expect(none.json).toEqual({ error: 'Unauthorized' });
      expect((await post(`${s.url}/v1/completions`, { prompt: 'x' }, { authorization: 'Bearer wrong' })).status).toBe(401);
      expect((await fetch(`${s.url}/v1/models`)).status).toBe(401);
      expect((await post(`${s.url}/v1/completions`, { prompt: 'x', max_tokens: 2 }, { authorization: 'Bearer sekret' })).status).toBe(200);
      expect((await fetch(`${s.url}/health`)).status).toBe(200);
      expect((await post(`${s.url}/tokenize`, { prompt: 'x' })).status).toBe(200);
    } finally {
      await s.close();
    }
  });
});

describe('faults', () => {
  it('500s, resets and malformed JSON as asked; /health 503 when unhealthy', async () => {
    const s = await startLocalVllm({ db: dbFile, faults: { pattern: ['500', 'reset', 'malformed', 'ok'] } });
    try {
      const body = { prompt: 'x = 1', max_tokens: 4, seed: 1 };
      const e = await post(`${s.url}/v1/completions`, body);
      expect(e.status).toBe(500);
      expect(e.json.error).toMatchObject({ type: 'InternalServerError', code: 500 });
      await expect(post(`${s.url}/v1/completions`, body)).rejects.toThrow();
      const m = await post(`${s.url}/v1/completions`, body);
      expect(m.status).toBe(200);
      expect(() => JSON.parse(m.text)).toThrow();
      expect((await post(`${s.url}/v1/completions`, body)).status).toBe(200);
      expect(s.stats().faults).toEqual({ ok: 1, '500': 1, reset: 1, malformed: 1 });
      s.setFaults({ unhealthy: true });
      expect((await fetch(`${s.url}/health`)).status).toBe(503);
    } finally {
      await s.close();
    }
  });

  it('latency is a timer: 40 concurrent requests at 200 ms take about 200 ms, not 8 s', async () => {
    const s = await startLocalVllm({ db: dbFile, latencyMs: 200 });
    try {
      const t0 = Date.now();
      const rs = await Promise.all(Array.from({ length: 40 }, (_, i) => post(`${s.url}/v1/completions`, { prompt: `x = ${i}`, max_tokens: 2 })));
      const took = Date.now() - t0;
      expect(rs.every((r) => r.status === 200)).toBe(true);
      expect(took).toBeGreaterThanOrEqual(200);
      expect(took).toBeLessThan(4000);
    } finally {
      await s.close();
    }
  });

  it('restarts: the listener goes away after K requests and comes back on the same port', async () => {
    const s = await startLocalVllm({ faults: { restartEvery: 3, restartDownMs: 300 } });
    try {
      for (let i = 0; i < 3; i++) expect((await post(`${s.url}/v1/completions`, { prompt: 'x', max_tokens: 1 })).status).toBe(200);
      await new Promise((r) => setTimeout(r, 50));
      await expect(fetch(`${s.url}/health`)).rejects.toThrow();
      await new Promise((r) => setTimeout(r, 600));
      expect((await fetch(`${s.url}/health`)).status).toBe(200);
      expect(s.stats().restarts).toBe(1);
      await s.restart(100);
      expect((await fetch(`${s.url}/health`)).status).toBe(200);
      expect(s.stats().restarts).toBe(2);
    } finally {
      await s.close();
    }
  });
});

describe('whole programs (targets of kind program)', () => {
  const EVEN = 'Print the even numbers up to n.';
  const ODD = 'Print the odd numbers up to n.';
  const CALL = 'Return x plus one.';
  const evenCode = 'n = int(input())\nfor i in range(n + 1):\n    if i % 2 == 0:\n        print(i)';
  const oddCode = 'n = int(input())\nfor i in range(n + 1):\n    if i % 2 == 1:\n        print(i)';
  const callCode = 'class Solution:\n    def plusOne(self, x):\n        if x < 0:\n            return x + 1\n        return x + 1';
  let wdir: string;
  let wsrv: LocalVllm;
  beforeAll(async () => {
    wdir = mkdtempSync(path.join(tmpdir(), 'pairforge-localvllm-whole-'));
    const file = path.join(wdir, 'whole.jsonl');
    const io = JSON.stringify({ inputs: ['3\n'], outputs: ['0\n2\n'] });
    const rec = (id: number, question: string, code: string, starter = '') =>
      JSON.stringify({ problem_id: id, question, solutions: JSON.stringify([code]), input_output: io, starter_code: starter });
    writeFileSync(file, [rec(1, EVEN, evenCode), rec(2, ODD, oddCode), rec(3, CALL, callCode, 'class Solution:\n    def plusOne(self, x: int) -> int:\n        ')].join('\n'));
    const db = path.join(wdir, 'whole.sqlite');
    const p = openProject(db);
    await importFiles(p, [file]);
    await cutAllTargets(p, { preset: 'structurecoder', wholePrograms: true });
    p.close();
    wsrv = await startLocalVllm({ db, mix: { runOn: 0 } });
  });
  afterAll(async () => {
    await wsrv?.close();
    rmSync(wdir, { recursive: true, force: true });
  });
  const chat = (question: string, code = '') => `${chatTemplate(question)}\`\`\`python\n${code}`;

  it('answers the chat prompt of a known question with its reference program and the closing fence (looked up by the question)', async () => {
    for (const [q, code] of [
      [EVEN, evenCode],
      [ODD, oddCode],
    ]) {
      const r = await post(`${wsrv.url}/v1/completions`, { prompt: chat(q), temperature: 0, max_tokens: 512, stop: ['<|im_end|>'] });
      expect(r.json.choices[0]).toMatchObject({ text: `${code}\n\`\`\``, finish_reason: 'stop' });
    }
  });

  it('continues a starter code that heads the reference up to annotations', async () => {
    const starter = 'class Solution:\n    def plusOne(self, x: int) -> int:';
    const r = await post(`${wsrv.url}/v1/completions`, { prompt: chat(CALL, starter), temperature: 0, max_tokens: 512 });
    const text = r.json.choices[0].text as string;
    expect(text).toBe(`${programContinuation(callCode, starter)}\n\`\`\``);
    expect(starter + text.slice(0, text.indexOf('\n```'))).toBe('class Solution:\n    def plusOne(self, x: int) -> int:\n        if x < 0:\n            return x + 1\n        return x + 1');
  });

  it('samples the reference, reformats and mutants of the whole program', async () => {
    const r = await post(`${wsrv.url}/v1/completions`, { prompt: chat(EVEN), n: 30, seed: 5, temperature: 0.8, max_tokens: 512 });
    const texts = (r.json.choices as { text: string }[]).map((c) => c.text);
    expect(texts.every((t) => t.endsWith('\n```'))).toBe(true);
    const programs = texts.map((t) => t.slice(0, -4));
    const v = variants(evenCode);
    const known = new Set([evenCode, ...Object.values(v).flat()]);
    for (const prog of programs) expect(known.has(prog)).toBe(true);
    expect(programs).toContain(evenCode);
    expect(programs.some((prog) => prog !== evenCode)).toBe(true);
  });

  it('an unknown question is not answered with a known program, and a FIM prompt with empty prefix and suffix finds none', async () => {
    const r = await post(`${wsrv.url}/v1/completions`, { prompt: chat('Something else entirely.'), temperature: 0, max_tokens: 64, seed: 1 });
    expect([evenCode, oddCode].some((c) => (r.json.choices[0].text as string).startsWith(c))).toBe(false);
    const fim = await post(`${wsrv.url}/v1/completions`, { prompt: fimPrompt('qwen2.5-coder', EVEN, '', '', 'n'), temperature: 0, max_tokens: 64, seed: 1 });
    expect((fim.json.choices[0].text as string).startsWith(evenCode.slice(1))).toBe(false);
  });
});
