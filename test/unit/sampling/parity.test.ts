// Parity with the published StructureCoder sampling code: its own Python functions (`transfer`,
// `extract_type`, `consturct_fim`, `post` from src/construct.py, taken out of the file with `ast`
// so that vllm/torch need not be installed) run on the same inputs as ours: every HumanEval
// target (prompt + canonical solution, cut with the structurecoder preset; the question is the
// HumanEval prompt, so indented and blank lines are exercised) and several model outputs per
// target (continuing into the suffix, cut at seeded random points, with trailing whitespace, with
// same-indent else/elif/elsewhere lines, with a tab-indented line).
//
// Needs python3, a checkout of SenseLLM/StructureCoder (env STRUCTURECODER_DIR) and
// HumanEval.jsonl.gz (env HUMANEVAL); skipped unless both are given.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { cutTargets } from '../../../server/blocks/cut';
import { loadPython } from '../../../server/blocks/parser';
import { postProcess } from '../../../server/sampling/postprocess';
import { buildFimPrompt, startOf } from '../../../server/sampling/prompts';
import { rngFrom as rng } from '../../../server/localvllm/rng'; // mulberry32: seeded, so failures replay

const REPO = process.env.STRUCTURECODER_DIR ?? '';
const HUMANEVAL = process.env.HUMANEVAL ?? '';
const python = spawnSync('python3', ['--version']).status === 0;
const available = python && REPO !== '' && HUMANEVAL !== '' && existsSync(path.join(REPO, 'src', 'construct.py')) && existsSync(HUMANEVAL);

const DRIVER = `
import ast, json, sys, types
repo, inp, outp = sys.argv[1], sys.argv[2], sys.argv[3]
tree = ast.parse(open(repo + '/src/construct.py', encoding='utf-8').read())
keep = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in ('transfer', 'extract_type', 'post', 'consturct_fim')]
assert len(keep) == 4, [n.name for n in keep]
template = types.ModuleType('template')
exec(open(repo + '/src/utils/template.py', encoding='utf-8').read(), template.__dict__)
ns = {'template': template, 'args': types.SimpleNamespace(mode='qwen')}
exec('import re', ns)
exec(compile(ast.Module(body=keep, type_ignores=[]), 'construct.py', 'exec'), ns)
out = []
for d in json.load(open(inp, encoding='utf-8')):
    try:
        start = ns['extract_type'](d['mid'])
        given = start
    except AssertionError:
        # the published code asserts the first word is a keyword (\`if(x):\` fails); go on with ours
        start, given = None, d['start']
    out.append({'start': start, 'prompt': ns['consturct_fim'](d, start=given), 'posts': [ns['post'](given + o, d['type']) for o in d['outputs']]})
json.dump(out, open(outp, 'w', encoding='utf-8'))
`;


describe.skipIf(!available)('parity with the published StructureCoder sampling functions', () => {
  it('builds the same qwen prompt, start and post-processed middle on every HumanEval target', async () => {
    const grammar = await loadPython();
    const records = gunzipSync(readFileSync(HUMANEVAL))
      .toString('utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as { prompt: string; canonical_solution: string });
    const rand = rng(42);
    const items: { question: string; pre: string; mid: string; suf: string; type: string; start: string; outputs: string[] }[] = [];
    for (const r of records) {
      const cut = cutTargets(grammar, r.prompt + r.canonical_solution, { preset: 'structurecoder' });
      for (const t of cut.targets) {
        const start = startOf(t.mid);
        const rest = t.mid.slice(start.length);
        const ind = ' '.repeat(start.length - start.trimStart().length);
        const cont = rest + t.suf;
        const outputs = [
          cont,
          rest,
          `${rest}  \t\n\n`,
          cont.slice(0, Math.floor(rand() * cont.length)),
          cont.slice(0, Math.floor(rand() * cont.length)),
          `${rest}\n${ind}else:\n${ind}    pass\n${ind}elif x:\n${ind}y = 1`,
          `${rest}\n${ind}elsewhere = 2\n${ind}    z\n`,
          `${rest}\n\t${ind}tabbed\n${ind}    more`,
          `\n\n${rest}\n\n`,
        ];
        items.push({ question: r.prompt, pre: t.pre, mid: t.mid, suf: t.suf, type: t.kind, start, outputs });
      }
    }
    expect(items.length).toBeGreaterThan(300);
    const dir = mkdtempSync(path.join(tmpdir(), 'pairforge-sampling-parity-'));
    try {
      writeFileSync(path.join(dir, 'driver.py'), DRIVER);
      writeFileSync(path.join(dir, 'in.json'), JSON.stringify(items));
      const py = spawnSync('python3', [path.join(dir, 'driver.py'), REPO, path.join(dir, 'in.json'), path.join(dir, 'out.json')], { encoding: 'utf8' });
      expect(py.stderr).toBe('');
      expect(py.status).toBe(0);
      const published = JSON.parse(readFileSync(path.join(dir, 'out.json'), 'utf8')) as { start: string | null; prompt: string; posts: string[] }[];
      expect(published.length).toBe(items.length);
      let compared = 0;
      let asserted = 0;
      const diffs: string[] = [];
      items.forEach((d, i) => {
        const start = startOf(d.mid);
        const prompt = buildFimPrompt('qwen2.5-coder', { question: d.question, pre: d.pre, suf: d.suf, start }).prompt;
        if (published[i].start === null) {
          // where the published assert fires, ours is the keyword before the parenthesis
          asserted++;
          if (!/^ *(if|for|while|def)$/.test(start)) diffs.push(`#${i} start ${JSON.stringify(start)}`);
        } else if (start !== published[i].start) diffs.push(`#${i} start ${JSON.stringify(start)} vs ${JSON.stringify(published[i].start)}`);
        if (prompt !== published[i].prompt) diffs.push(`#${i} prompt differs`);
        d.outputs.forEach((o, k) => {
          compared++;
          const ours = postProcess(d.type, start, o);
          if (ours !== published[i].posts[k]) diffs.push(`#${i}.${k} post ${JSON.stringify(ours)} vs ${JSON.stringify(published[i].posts[k])}`);
        });
      });
      expect(diffs.slice(0, 5)).toEqual([]);
      expect(compared).toBe(items.length * 9);
      expect(asserted).toBeLessThan(items.length / 20);
      console.log(`parity: ${items.length} HumanEval targets, ${compared} outputs post-processed, 0 differences; ${asserted} targets where the published extract_type asserts (first word not a keyword, e.g. \`if(\`)`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
