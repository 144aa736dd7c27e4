// Parity with the published StructureCoder sampling functions, from a committed fixture:
// test/fixtures/sampling/published.json holds inputs made from this repository's programs and
// what the published `extract_type`, `consturct_fim` and `post` gave on them (written by
// scripts/parity/sampling_fixture.mjs from a checkout of SenseLLM/StructureCoder). Ours must give
// the same start keyword, the same qwen2.5-coder FIM prompt and the same post-processed middle.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { postProcess } from '../../../server/sampling/postprocess';
import { buildFimPrompt, startOf } from '../../../server/sampling/prompts';
import type { BlockKind } from '../../../server/protocol';
import { fixturePath } from '../../support/paths';

interface Item {
  question: string;
  pre: string;
  mid: string;
  suf: string;
  type: BlockKind;
  outputs: string[];
  published: { start: string | null; prompt: string; posts: string[] };
}

const fixture = JSON.parse(readFileSync(fixturePath('sampling', 'published.json'), 'utf8')) as { source: { commit: string | null }; items: Item[] };

describe('parity with the published StructureCoder sampling functions', () => {
  it('the fixture is the published code\'s output on enough targets and outputs', () => {
    expect(fixture.source.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(fixture.items.length).toBeGreaterThan(50);
    expect(new Set(fixture.items.map((d) => d.type))).toEqual(new Set(['if', 'for', 'while', 'def']));
    expect(fixture.items.some((d) => d.published.start === null)).toBe(true);
    expect(fixture.items.some((d) => d.mid.includes('\t'))).toBe(true);
  });

  it('the same start keyword and qwen2.5-coder FIM prompt on every target', () => {
    const diffs: string[] = [];
    fixture.items.forEach((d, i) => {
      const start = startOf(d.mid);
      // Where the published assert fires (no space after the keyword), ours is the keyword itself.
      if (d.published.start === null) {
        if (!/^\s*(if|for|while|def)$/.test(start)) diffs.push(`#${i} start ${JSON.stringify(start)}`);
      } else if (start !== d.published.start) diffs.push(`#${i} start ${JSON.stringify(start)} vs ${JSON.stringify(d.published.start)}`);
      const prompt = buildFimPrompt('qwen2.5-coder', { question: d.question, pre: d.pre, suf: d.suf, start }).prompt;
      if (prompt !== d.published.prompt) diffs.push(`#${i} prompt differs`);
    });
    expect(diffs).toEqual([]);
  });

  it('the same post-processed middle for every output', () => {
    const diffs: string[] = [];
    let compared = 0;
    fixture.items.forEach((d, i) => {
      const start = startOf(d.mid);
      d.outputs.forEach((o, k) => {
        compared++;
        const ours = postProcess(d.type, start, o);
        if (ours !== d.published.posts[k]) diffs.push(`#${i}.${k} ${JSON.stringify(ours)} vs ${JSON.stringify(d.published.posts[k])}`);
      });
    });
    expect(diffs.slice(0, 5)).toEqual([]);
    expect(compared).toBe(fixture.items.length * 9);
  });
});
