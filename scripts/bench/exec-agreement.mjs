#!/usr/bin/env node
// Agreement on the full HumanEval set (the bigger check beside
// test/integration/exec/agreement.test.ts): every canonical solution and broken copies of it, through the
// engine (isolated) and through a plain `python3 -c prompt+completion+test+check(entry)` run whose
// verdict comes from its exit, its last exception line and the wall clock. Prints the agreement
// per kind of breakage and every disagreement.
//
//   node scripts/bench/exec-agreement.mjs --humaneval PATH/HumanEval.jsonl.gz [--sample 20] [--timeout-ms 3000]
// (or HUMANEVAL=PATH/HumanEval.jsonl.gz in the environment)
// The slow kinds (infinite loop, memory bomb) run on every n-th problem only (--sample N of them).
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { gunzipSync } from 'node:zlib';
import { loadExecApi } from './exec-load.mjs';
import { plainRun } from './plain-python-run.mjs';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i < 0 ? fallback : args[i + 1];
};
const file = opt('--humaneval', process.env.HUMANEVAL);
const sample = Number(opt('--sample', 20));
const timeoutMs = Number(opt('--timeout-ms', 3000));
if (!file || !existsSync(file)) {
  console.error(`${file ? `${file} not found` : 'no HumanEval file given'}: pass --humaneval PATH (or HUMANEVAL=PATH), the HumanEval.jsonl.gz of the human-eval release`);
  process.exit(2);
}
const rows = gunzipSync(readFileSync(file)).toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));

const BREAKAGES = {
  canonical: (r) => r.canonical_solution,
  'returns None first': (r) => `    return None\n${r.canonical_solution}`,
  'raises first': (r) => `    raise ValueError("broken")\n${r.canonical_solution}`,
  'syntax error': (r) => `${r.canonical_solution}    return (\n`,
  'infinite loop': (r) => `    while True:\n        pass\n${r.canonical_solution}`,
  'memory bomb': (r) => `    x = [0] * (10 ** 10)\n${r.canonical_solution}`,
};
const SLOW = new Set(['infinite loop', 'memory bomb']);

const api = await loadExecApi();
const engine = await api.ExecEngine.create({ limits: { testTimeoutMs: timeoutMs } });
const cases = [];
const every = Math.max(1, Math.floor(rows.length / sample));
rows.forEach((r, i) => {
  for (const [kind, make] of Object.entries(BREAKAGES)) if (!SLOW.has(kind) || i % every === 0) cases.push({ r, kind, completion: make(r) });
});
const perKind = {};
const disagreements = [];
let next = 0;
await Promise.all(
  Array.from({ length: os.cpus().length }, async () => {
    while (next < cases.length) {
      const c = cases[next++];
      const test = { kind: 'humaneval', input: null, expected: null, fn_name: c.r.entry_point, code: c.r.test, setup: null };
      const got = await engine.run(c.r.prompt + c.completion, [test]);
      const plain = await plainRun(`${c.r.prompt}${c.completion}\n${c.r.test}\ncheck(${c.r.entry_point})`, timeoutMs);
      const k = (perKind[c.kind] ??= { cases: 0, agree: 0, verdicts: {} });
      k.cases++;
      k.verdicts[got.verdict] = (k.verdicts[got.verdict] ?? 0) + 1;
      if (got.verdict === plain) k.agree++;
      else disagreements.push({ task: c.r.task_id, kind: c.kind, engine: got.verdict, plain, message: got.tests[0]?.message });
    }
  }),
);
await engine.close();
for (const [kind, k] of Object.entries(perKind)) console.log(`${kind}: ${k.agree}/${k.cases} agree; engine verdicts ${JSON.stringify(k.verdicts)}`);
for (const d of disagreements) console.log(`DISAGREE ${d.task} (${d.kind}): engine ${d.engine}, plain ${d.plain}${d.message ? ` - ${d.message}` : ''}`);
const total = Object.values(perKind).reduce((n, k) => n + k.cases, 0);
console.log(`total: ${total - disagreements.length}/${total} agree (${engine.mode}, ${timeoutMs} ms per test, load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')})`);
process.exit(disagreements.length ? 1 : 0);
