#!/usr/bin/env node
// Writes test/fixtures/sampling/published.json: what the published StructureCoder sampling
// functions (prompt, start keyword, post-processing; run by sampling_driver.py from a checkout of
// SenseLLM/StructureCoder) give on inputs made from this repository's own programs: every target
// of the blocks fixture cases, the demo datasets and the test datasets, each with a question that
// has blank and indented lines, and several model outputs per target (continuing into the suffix,
// cut at seeded points, with trailing whitespace, with same-indent else/elif/elsewhere lines, a
// tab-indented line). test/unit/sampling/parity.test.ts compares ours with it, in CI, offline.
//
//   STRUCTURECODER_DIR=/path/to/StructureCoder node scripts/parity/sampling_fixture.mjs
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadBlocksApi, root } from '../bench/load-blocks.mjs';

const repo = process.env.STRUCTURECODER_DIR;
if (!repo) {
  console.error('usage: STRUCTURECODER_DIR=<checkout of SenseLLM/StructureCoder> node scripts/parity/sampling_fixture.mjs');
  process.exit(2);
}

/** mulberry32, so the cut points are the same on every run. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const DEFAULT_QUESTION = 'Read the numbers and print the answer.\n\n  Example:\n    1 2 3 -> 6\nNotes:\n\tthe input ends with a blank line.';

/** [question, program] pairs from the repository's own files. */
function programs() {
  const out = [];
  const cases = JSON.parse(readFileSync(path.join(root, 'test/fixtures/blocks/structurecoder-cases.json'), 'utf8')).cases;
  for (const code of Object.values(cases)) out.push([DEFAULT_QUESTION, code]);
  // Where the published extract_type asserts (no space after the keyword), and tab indentation
  // (the published post-processing counts spaces only).
  out.push([DEFAULT_QUESTION, 'x = int(input())\nif(x > 1):\n    print(x)\nwhile(x > 0):\n    x -= 1\nprint(x)']);
  out.push([DEFAULT_QUESTION, 'def main():\n\tn = int(input())\n\tfor i in range(n):\n\t\tif i % 2:\n\t\t\tprint(i)\n\treturn n\nmain()']);
  const datasets = ['media/demo/datasets/demo-apps.jsonl', 'test/fixtures/datasets/apps-mini.jsonl', 'test/fixtures/datasets/humaneval-mini.jsonl', 'test/fixtures/datasets/mbpp-mini.jsonl'];
  for (const file of datasets) {
    for (const line of readFileSync(path.join(root, file), 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const r = JSON.parse(line);
      if (r.canonical_solution !== undefined) out.push([r.prompt, r.prompt + r.canonical_solution]);
      else if (r.code !== undefined) out.push([r.text ?? r.prompt ?? DEFAULT_QUESTION, r.code]);
      else if (typeof r.solutions === 'string' && r.solutions.trim()) for (const s of JSON.parse(r.solutions)) out.push([r.question, s]);
    }
  }
  return out;
}

const { loadPython, cutTargets } = await loadBlocksApi();
const grammar = await loadPython();
const rand = rng(42);
const items = [];
for (const [question, code] of programs()) {
  for (const t of cutTargets(grammar, code, { preset: 'structurecoder' }).targets) {
    // The start the outputs continue: the published extract_type's (the first line up to its
    // keyword); the outputs are made from the rest of the middle.
    const m = /^\s*(if|for|while|def)/.exec(t.mid);
    const start = m ? m[0] : '';
    const rest = t.mid.slice(start.length);
    const ind = start.slice(0, start.length - start.trimStart().length);
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
    items.push({ question, pre: t.pre, mid: t.mid, suf: t.suf, type: t.kind, outputs });
  }
}
const published = JSON.parse(execFileSync('python3', [path.join(root, 'scripts/parity/sampling_driver.py'), repo], { input: JSON.stringify(items), encoding: 'utf8', maxBuffer: 1 << 28 }));
if (published.length !== items.length) throw new Error(`the driver returned ${published.length} results for ${items.length} items`);
let commit = '';
try {
  commit = execFileSync('git', ['-C', repo, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
} catch {
  // not a git checkout: the fixture says so
}
const out = path.join(root, 'test/fixtures/sampling/published.json');
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(
  out,
  `${JSON.stringify({ source: { repository: 'SenseLLM/StructureCoder', commit: commit || null, functions: ['extract_type', 'consturct_fim', 'post'], mode: 'qwen' }, items: items.map((it, i) => ({ ...it, published: published[i] })) }, null, 1)}\n`,
);
console.log(`wrote ${path.relative(root, out)}: ${items.length} targets, ${items.length * 9} outputs`);
