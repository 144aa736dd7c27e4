#!/usr/bin/env node
// Execution throughput: the same candidates through
//   (a) a naive runner that starts a fresh python3 per candidate and runs its tests in that
//       process, as the human-eval and APPS harnesses do (scripts/bench/exec-naive.py), unisolated;
//   (b) the engine (server/exec), fully isolated in bubblewrap, warm workers forking per test;
// same run, alternating rounds, both with as many candidates in flight as cores. Figures are
// candidates per second (median of the rounds) and the ratio b/a; the load average is printed
// because the machine is shared.
//
//   node scripts/bench/exec-throughput.mjs [--rounds 3] [--workers N] [--humaneval PATH/HumanEval.jsonl.gz (or HUMANEVAL=...; default: the small fixture)] [--only humaneval|stdio] [--json]
// Workload: HumanEval (every canonical solution and a broken copy of each, one check() test) when
// the file exists, else the agreement fixture (test/fixtures/exec); plus generated APPS-style
// stdin/stdout candidates (correct and buggy, 5 tests each). No timeouts in the workload: both
// runners would wait the same wall clock, which says nothing about the runner.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { gunzipSync } from 'node:zlib';
import { loadExecApi, root } from './exec-load.mjs';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i < 0 ? fallback : args[i + 1];
};
const rounds = Number(opt('--rounds', 3));
const workers = Number(opt('--workers', os.cpus().length));
const humanevalFile = opt('--humaneval', process.env.HUMANEVAL);
const asJson = args.includes('--json');
// --only humaneval | stdio: one half of the workload, to see where the ratio comes from.
const only = opt('--only', undefined);
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

// ---- workload ---------------------------------------------------------------------------------
let seed = 12345;
const rand = () => {
  seed = (seed * 1103515245 + 12345) >>> 0;
  return seed / 2 ** 32;
};
const randInt = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));

function humanevalCandidates() {
  let rows;
  if (humanevalFile && existsSync(humanevalFile)) {
    rows = gunzipSync(readFileSync(humanevalFile)).toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  } else {
    rows = readFileSync(path.join(root, 'test', 'fixtures', 'exec', 'humaneval-agreement.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  }
  const out = [];
  for (const r of rows) {
    const test = { kind: 'humaneval', input: null, expected: null, fn_name: r.entry_point, code: r.test, setup: null };
    out.push({ code: r.prompt + r.canonical_solution, tests: [test] });
    // Broken: the body returns before doing anything (wrong answer for almost every problem).
    out.push({ code: `${r.prompt}    return None\n${r.canonical_solution}`, tests: [test] });
  }
  return { source: humanevalFile && existsSync(humanevalFile) ? humanevalFile : 'test/fixtures/exec/humaneval-agreement.jsonl', candidates: out };
}

const STDIO_PROBLEMS = [
  {
    gen: () => {
      const a = Array.from({ length: randInt(1, 30) }, () => randInt(-1000, 1000));
      return { input: `${a.length}\n${a.join(' ')}\n`, expected: `${a.reduce((s, x) => s + x, 0)}\n` };
    },
    good: 'n = int(input())\nprint(sum(map(int, input().split())))',
    bad: 'n = int(input())\nprint(sum(map(int, input().split()[1:])))',
  },
  {
    gen: () => {
      const a = Array.from({ length: randInt(1, 20) }, () => randInt(0, 99));
      return { input: `${a.join(' ')}\n`, expected: `${[...a].sort((x, y) => x - y).join(' ')}\n` };
    },
    good: 'import sys\nprint(*sorted(map(int, sys.stdin.read().split())))',
    bad: 'import sys\nprint(*sorted(sys.stdin.read().split()))',
  },
  {
    gen: () => {
      const n = randInt(1, 60);
      let a = 0n;
      let b = 1n;
      for (let i = 0; i < n; i++) [a, b] = [b, a + b];
      return { input: `${n}\n`, expected: `${a}\n` };
    },
    good: 'n = int(input())\na, b = 0, 1\nfor _ in range(n):\n    a, b = b, a + b\nprint(a)',
    bad: 'n = int(input())\na, b = 0, 1\nfor _ in range(n - 1):\n    a, b = b, a + b\nprint(a)',
  },
  {
    gen: () => {
      const words = Array.from({ length: randInt(1, 12) }, () => ['apple', 'kiwi', 'fig', 'plum', 'pear'][randInt(0, 4)]);
      const counts = new Map();
      for (const w of words) counts.set(w, (counts.get(w) ?? 0) + 1);
      return { input: `${words.join(' ')}\n`, expected: `${[...counts].sort((x, y) => (x[0] < y[0] ? -1 : 1)).map(([w, c]) => `${w} ${c}`).join('\n')}\n` };
    },
    good: 'from collections import Counter\nfor w, c in sorted(Counter(input().split()).items()):\n    print(w, c)',
    bad: 'from collections import Counter\nfor w, c in Counter(input().split()).most_common():\n    print(w, c)',
  },
];

function stdioCandidates(count) {
  const out = [];
  for (let i = 0; i < count; i++) {
    const p = STDIO_PROBLEMS[i % STDIO_PROBLEMS.length];
    const tests = Array.from({ length: 5 }, () => ({ kind: 'stdio', ...p.gen(), fn_name: null, code: null, setup: null }));
    out.push({ code: i % 3 === 2 ? p.bad : p.good, tests });
  }
  return out;
}

// ---- runners ---------------------------------------------------------------------------------
const NAIVE = path.join(root, 'scripts', 'bench', 'exec-naive.py');

function naiveOne(c) {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [NAIVE], { stdio: ['pipe', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', () => {
      try {
        resolve(JSON.parse(out.trim().split('\n').pop()).verdict);
      } catch {
        resolve('runtime_error');
      }
    });
    child.stdin.end(JSON.stringify({ code: c.code, tests: c.tests, timeout_s: 5 }));
  });
}

async function pool(items, concurrency, fn) {
  const results = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await fn(items[i]);
      }
    }),
  );
  return results;
}

const tally = (verdicts) => verdicts.reduce((m, v) => ((m[v] = (m[v] ?? 0) + 1), m), {});
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const api = await loadExecApi();
const he = humanevalCandidates();
const candidates = [...(only === 'stdio' ? [] : he.candidates), ...(only === 'humaneval' ? [] : stdioCandidates(200))];
const testsTotal = candidates.reduce((n, c) => n + c.tests.length, 0);
const load0 = os.loadavg();
const engine = await api.ExecEngine.create({ workers });
// Each round runs the workload in chunks, alternating which runner goes first, so both see the
// same machine load (other processes come and go on a shared machine).
const CHUNK = 48;
const figures = { naive: [], engine: [] };
const naiveVerdicts = new Array(candidates.length);
const engineVerdicts = new Array(candidates.length);
try {
  for (let r = 0; r < rounds; r++) {
    const spent = { naive: 0, engine: 0 };
    for (let at = 0, k = 0; at < candidates.length; at += CHUNK, k++) {
      const chunk = candidates.slice(at, at + CHUNK);
      const order = (k + r) % 2 === 0 ? ['naive', 'engine'] : ['engine', 'naive'];
      for (const who of order) {
        const t0 = performance.now();
        const verdicts =
          who === 'naive'
            ? await pool(chunk, workers, naiveOne)
            : await pool(chunk, workers, async (c) => (await engine.run(c.code, c.tests)).verdict);
        spent[who] += performance.now() - t0;
        verdicts.forEach((v, i) => ((who === 'naive' ? naiveVerdicts : engineVerdicts)[at + i] = v));
      }
    }
    figures.naive.push(candidates.length / (spent.naive / 1000));
    figures.engine.push(candidates.length / (spent.engine / 1000));
    if (!asJson) process.stderr.write(`round ${r + 1}: naive ${figures.naive.at(-1).toFixed(1)}/s, engine ${figures.engine.at(-1).toFixed(1)}/s, ratio ${(figures.engine.at(-1) / figures.naive.at(-1)).toFixed(2)}\n`);
  }
} finally {
  await engine.close();
}
const ratios = figures.engine.map((e, i) => e / figures.naive[i]);
const disagreements = candidates.filter((_, i) => naiveVerdicts[i] !== engineVerdicts[i]).length;
const result = {
  workload: {
    candidates: candidates.length,
    tests: testsTotal,
    humaneval: he.source,
    humanevalCandidates: only === 'stdio' ? 0 : he.candidates.length,
    stdioCandidates: only === 'humaneval' ? 0 : 200,
  },
  workers,
  rounds,
  isolation: { naive: 'none (fresh python3 per candidate)', engine: `${engine.mode} (${engine.sandbox.isolation})` },
  naivePerSecond: Number(median(figures.naive).toFixed(1)),
  enginePerSecond: Number(median(figures.engine).toFixed(1)),
  ratio: Number(median(ratios).toFixed(2)),
  roundRatios: ratios.map((x) => Number(x.toFixed(2))),
  verdicts: { naive: tally(naiveVerdicts), engine: tally(engineVerdicts), disagreements },
  loadavg: { before: load0.map((x) => Number(x.toFixed(2))), after: os.loadavg().map((x) => Number(x.toFixed(2))) },
  cpus: os.cpus().length,
};
if (asJson) process.stdout.write(`${JSON.stringify(result)}\n`);
else {
  console.log(`workload: ${result.workload.candidates} candidates, ${testsTotal} tests (${result.workload.humanevalCandidates} HumanEval from ${he.source}, ${result.workload.stdioCandidates} stdio)`);
  console.log(`(a) naive, python3 per candidate, unisolated: ${result.naivePerSecond} candidates/s`);
  console.log(`(b) engine, ${result.isolation.engine}, ${workers} warm workers: ${result.enginePerSecond} candidates/s`);
  console.log(`ratio b/a: ${result.ratio}x (median of the rounds' ratios ${result.roundRatios.join(', ')})`);
  console.log(`verdicts: naive ${JSON.stringify(result.verdicts.naive)}, engine ${JSON.stringify(result.verdicts.engine)}, disagreements ${disagreements}`);
  console.log(`load average before ${result.loadavg.before.join(' ')}, after ${result.loadavg.after.join(' ')} on ${result.cpus} cores`);
}
