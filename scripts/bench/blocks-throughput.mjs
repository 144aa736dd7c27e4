#!/usr/bin/env node
// Batch block extraction throughput: our extractFiles (structurecoder preset, worker threads from
// the dist/ bundle; what `pairforge blocks` runs, and `pairforge targets` through cutSources) against
// scripts/bench/blocks_ast.py (Python `ast`, multiprocessing), same files, same number of workers,
// alternating for several rounds in one run. Figures are MB/s of source read (file bytes); the
// median of the per-round ratios is what counts on a shared machine. CPU seconds per MB (all
// threads / processes, parent included) are reported beside: they say how much work each side
// does, and move less with the machine's load than wall time.
//
//   npm run build && node scripts/bench/blocks-throughput.mjs [--threads 2] [--rounds 5] [--exclude NAME]... [DIR...]
// Default corpus: the Python standard library on the machine (/usr/lib/python3.11, recursive).
// Two figures for ours: "cold" starts fresh workers every round (a one-shot CLI run on a small
// corpus, where the wasm code is still warming up); "warm" reuses the pool (the engine server, or
// any run long enough to amortise warm-up). Python gets a fresh Pool every round either way (it
// forks a warm interpreter and has no JIT to warm up).
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadBlocksApi, root } from './load-blocks.mjs';

const args = process.argv.slice(2);
function option(name, fallback) {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const v = args.splice(i, 2)[1];
  return Number(v);
}
const excluded = new Set();
for (let i = args.indexOf('--exclude'); i >= 0; i = args.indexOf('--exclude')) excluded.add(args.splice(i, 2)[1]);
const threads = option('--threads', 2);
const rounds = option('--rounds', 5);
const dirs = args.length ? args : ['/usr/lib/python3.11'];

function* walkPy(dir) {
  for (const name of readdirSync(dir).sort()) {
    const p = path.join(dir, name);
    const st = statSync(p, { throwIfNoEntry: false });
    if (!st) continue;
    if (st.isDirectory()) {
      if (!excluded.has(name)) yield* walkPy(p);
    }
    else if (name.endsWith('.py') && st.isFile()) yield p;
  }
}

const files = dirs.flatMap((d) => [...walkPy(d)]);
const bytes = files.reduce((n, f) => n + statSync(f).size, 0);
const mb = bytes / 1e6;
const workerScript = path.join(root, 'dist', 'blocks-worker.js');
statSync(workerScript); // fails clearly when `npm run build` has not run
const api = await loadBlocksApi();
const list = path.join(os.tmpdir(), `pairforge-bench-files-${process.pid}.txt`);
writeFileSync(list, files.join('\n') + '\n');

async function ours(reuseWorkers) {
  let targets = 0;
  let failed = 0;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  await api.extractFiles(files, { preset: 'structurecoder', threads, workerScript, reuseWorkers }, (r) => {
    targets += r.targets.length;
    if (r.error) failed++;
  });
  const cpu = process.cpuUsage(cpu0);
  return { seconds: (performance.now() - t0) / 1000, cpu_seconds: (cpu.user + cpu.system) / 1e6, targets, failed };
}

function python() {
  const r = spawnSync('python3', [path.join(root, 'scripts', 'bench', 'blocks_ast.py'), '--procs', String(threads), '--list', list], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  if (r.status !== 0) throw new Error(`blocks_ast.py failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

await ours(true); // warms the pool used by the "warm" rounds
const cold = [];
const warm = [];
const py = [];
const coldRatios = [];
const warmRatios = [];
const cpuPerMb = { cold: [], warm: [], python: [] };
let targetsOurs = 0;
let targetsPython = 0;
for (let i = 0; i < rounds; i++) {
  const c = await ours(false);
  const p = python();
  const w = await ours(true);
  targetsOurs = w.targets;
  targetsPython = p.targets;
  cold.push(mb / c.seconds);
  warm.push(mb / w.seconds);
  py.push(mb / p.seconds);
  coldRatios.push(p.seconds / c.seconds);
  warmRatios.push(p.seconds / w.seconds);
  cpuPerMb.cold.push(c.cpu_seconds / mb);
  cpuPerMb.warm.push(w.cpu_seconds / mb);
  cpuPerMb.python.push(p.cpu_seconds / mb);
}
await api.closeBlockWorkers();
const r2 = (x) => Number(x.toFixed(2));
const r3 = (x) => Number(x.toFixed(3));
console.log(
  JSON.stringify({
    bench: 'blocks-throughput',
    corpus: dirs,
    excluded: [...excluded],
    files: files.length,
    mb: r2(mb),
    threads,
    rounds,
    ours_cold_mb_s: cold.map(r2),
    ours_warm_mb_s: warm.map(r2),
    python_mb_s: py.map(r2),
    median_ours_cold_mb_s: r2(median(cold)),
    median_ours_warm_mb_s: r2(median(warm)),
    median_python_mb_s: r2(median(py)),
    median_ratio_cold: r2(median(coldRatios)),
    median_ratio_warm: r2(median(warmRatios)),
    ratios_warm: warmRatios.map(r2),
    median_cpu_s_per_mb: { ours_cold: r3(median(cpuPerMb.cold)), ours_warm: r3(median(cpuPerMb.warm)), python: r3(median(cpuPerMb.python)) },
    targets_ours: targetsOurs,
    targets_python: targetsPython,
  }),
);
