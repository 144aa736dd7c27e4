// The report's HTML: figures holding hostile text (a model name, a label with markup) stay data in
// their JSON block, the inlined script and style are the ones the policy's hashes allow, and the
// page loads nothing from anywhere.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { embeddedJson, reportHtml } from '../../../server/dashboard/report';
import type { DashboardData } from '../../../server/protocol';

const HOSTILE = '</script><script>alert(1)</script><!-- \u2028 </style>';

function data(): DashboardData {
  return {
    project: '/tmp/<script>alert(1)<!-- .sqlite',
    generatedAt: '2026-03-01T00:00:00.000Z',
    computeMs: 1,
    comparator: 'strict',
    funnel: [{ key: 'problems', count: 1 }],
    jobs: [{ id: 1, family: 'qwen2.5-coder', status: 'done', createdAt: '2026-03-01T00:00:00.000Z' }],
    sampleGroups: [{ jobId: 1, model: HOSTILE, kind: 'if', depth: 1, samples: 2, verdicts: { pass: 1 } }],
    samplesPerTarget: [{ samples: 2, targets: 1 }],
    pairGroups: [],
    review: [],
    margins: { lo: -1, hi: 1, width: 0.05, runs: [] },
    failingReferences: { total: 1, items: [{ kind: 'solution', id: 1, label: HOSTILE, verdict: 'wrong_answer', testsRun: 1, testsTotal: 1, uri: 'pairforge:/d/p/solution-1.py?solution=1' }] },
    flaky: { total: 0, items: [] },
    exports: [],
    training: [],
  };
}

const sha = (s: string) => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`;

describe('report HTML', () => {
  const script = 'console.log("a </script> in a string");\n//# sourceMappingURL=report.js.map\n';
  const style = 'body { color: red }\n/*# sourceMappingURL=report.css.map */';
  const html = reportHtml(data(), { script, style });

  it('keeps hostile text inside the JSON block, which parses back to the figures', () => {
    expect(html.match(/<script/g)).toHaveLength(2);
    expect(html.match(/<\/script>/g)).toHaveLength(2);
    expect(html).not.toContain('<script>alert(1)');
    const json = /<script type="application\/json" id="pf-data">([\s\S]*?)<\/script>/.exec(html)![1];
    expect(JSON.parse(json)).toEqual(data());
    expect(html).toContain('<title>PairForge report: &#60;script&#62;alert(1)&#60;!-- .sqlite</title>');
    expect(embeddedJson('</script>')).toBe('"\\u003c/script>"');
  });

  it('inlines the page under a policy that allows exactly it and nothing from the network', () => {
    const inlineScript = /<script>([\s\S]*?)<\/script>/.exec(html)![1];
    const inlineStyle = /<style>([\s\S]*?)<\/style>/.exec(html)![1];
    // A "</script" inside the code cannot end the element; source map comments are dropped.
    expect(inlineScript).toBe('console.log("a <\\/script> in a string");');
    expect(inlineStyle).toBe('body { color: red }');
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)![1];
    expect(csp.split('; ')).toEqual([
      "default-src 'none'",
      `script-src ${sha(inlineScript)}`,
      `style-src ${sha(inlineStyle)}`,
      'img-src data: blob:',
      "base-uri 'none'",
      "form-action 'none'",
    ]);
    expect(html).not.toMatch(/\b(src|href)=/);
  });
});
