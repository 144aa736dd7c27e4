#!/usr/bin/env node
/* global performance, fetch, setInterval, clearInterval */
// Sampling throughput: the sampling engine (server/sampling, runSampleJob, in
// this process) against the local vLLM stand-in (its own process, `pairforge serve-local`) with a
// fixed per-request latency L and C requests in flight, over R requests (default 20,000).
// Ideal throughput is C/L; the engine should reach >= 95% of it. Baseline measured in the same
// run: a bare client (node fetch, C loops, no store, no retries) against the same server, which
// shows what the server and the machine allow. Engine RSS at the start of the job, at its end
// and the peak (sampled every 250 ms).
//
//   node --expose-gc scripts/bench/sampling-throughput.mjs [--c 64] [--l 100] [--requests 20000] [--baseline 5000]
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import * as esbuild from 'esbuild';
import { copyRuntimeAssets, nodeBundle, root } from '../bundle.mjs';

const req = createRequire(path.join(root, 'package.json'));
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const C = arg('c', 64);
const L = arg('l', 100);
const R = arg('requests', 20_000);
const BASE = arg('baseline', 5_000);

const dir = mkdtempSync(path.join(os.tmpdir(), 'pairforge-bench-sampling-'));
const mb = (b) => Math.round(b / 2 ** 20);

async function bundle(entry, contents) {
  const outfile = path.join(dir, entry);
  await esbuild.build({
    ...nodeBundle,
    ...(contents ? { stdin: { contents, resolveDir: root, loader: 'ts' } } : { entryPoints: ['server/cli.ts'] }),
    outfile,
  });
  return outfile;
}

function cli(args) {
  const r = spawnSync(process.execPath, [path.join(dir, 'cli.js'), ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`pairforge ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function startServer(db) {
  const child = spawn(process.execPath, [path.join(dir, 'cli.js'), 'serve-local', '--json', '--port', '0', '--db', db, '--latency-ms', String(L), '--seed', '1'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve({ child, info: JSON.parse(out.slice(0, nl)) });
    });
    child.on('exit', (code) => reject(new Error(`serve-local exited ${code}`)));
  });
}

async function main() {
  await bundle('cli.js');
  copyRuntimeAssets(dir);
  const apiFile = await bundle('sampling.cjs', "export { runSampleJob } from './server/sampling/job';\nexport { openProject } from './server/store/db';\n");
  const api = req(apiFile);

  const db = path.join(dir, 'project.sqlite');
  const fx = path.join(root, 'test', 'fixtures', 'datasets');
  cli(['import', '--db', db, ...['apps-mini', 'humaneval-mini', 'mbpp-mini', 'evalplus-mbpp-mini'].map((f) => path.join(fx, `${f}.jsonl`))]);
  cli(['targets', '--db', db]);
  const { child, info } = await startServer(db);
  try {
    // Baseline: a bare client, C loops of sequential requests.
    const p0 = api.openProject(db);
    const t = p0.db.prepare("SELECT t.pre, t.suf, t.mid FROM targets t LIMIT 1").get();
    p0.close();
    const body = JSON.stringify({ model: info.model, prompt: `<|fim_prefix|>${t.pre}<|fim_suffix|>${t.suf}<|fim_middle|>`, n: 1, max_tokens: 128, temperature: 0.7, top_p: 0.95, seed: 1 });
    let sent = 0;
    const b0 = performance.now();
    await Promise.all(
      Array.from({ length: C }, async () => {
        while (sent < BASE) {
          sent++;
          const r = await fetch(`${info.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
          await r.json();
        }
      }),
    );
    const baseRate = BASE / ((performance.now() - b0) / 1000);

    // The engine.
    const p = api.openProject(db);
    const targets = p.db.prepare("SELECT COUNT(*) AS n FROM targets WHERE preset = 'structurecoder'").get().n;
    const n = Math.ceil(R / targets);
    const rss = { start: 0, end: 0, peak: 0, heapStart: 0, heapEnd: 0 };
    const heapAfterGc = () => {
      globalThis.gc?.();
      return process.memoryUsage().heapUsed;
    };
    const cpu0 = process.cpuUsage();
    const prof = process.env.SAMPLING_BENCH_PROFILE;
    let session;
    if (prof) {
      const inspector = await import('node:inspector');
      session = new inspector.Session();
      session.connect();
      await new Promise((r) => session.post('Profiler.enable', () => session.post('Profiler.start', r)));
    }
    const timer = setInterval(() => {
      rss.peak = Math.max(rss.peak, process.memoryUsage().rss);
    }, 250);
    let first = true;
    const quarters = [];
    const s = await api.runSampleJob(
      p,
      { family: 'qwen2.5-coder', endpoints: [{ url: info.url, model: info.model }], selection: { preset: 'structurecoder' }, n, maxTokens: 128, concurrency: C, seed: 1 },
      {
        onProgress: (pr) => {
          if (quarters.length < 4 && pr.done >= ((quarters.length + 1) * pr.total) / 4) quarters.push(mb(process.memoryUsage().rss));
          if (first) {
            first = false;
            rss.start = process.memoryUsage().rss;
            rss.heapStart = heapAfterGc();
          }
        },
      },
    );
    const cpu = process.cpuUsage(cpu0);
    if (session) {
      const { writeFileSync } = await import('node:fs');
      await new Promise((r) => session.post('Profiler.stop', (e, res) => { writeFileSync(prof, JSON.stringify(res.profile)); r(); }));
    }
    rss.end = process.memoryUsage().rss;
    rss.heapEnd = heapAfterGc();
    clearInterval(timer);
    p.close();
    const rate = s.requests / (s.elapsedMs / 1000);
    const ideal = (C * 1000) / L;
    const result = {
      c: C,
      latencyMs: L,
      requests: s.requests,
      samples: s.samples,
      status: s.status,
      retries: s.retries,
      elapsedS: +(s.elapsedMs / 1000).toFixed(1),
      idealPerS: +ideal.toFixed(1),
      enginePerS: +rate.toFixed(1),
      engineVsIdeal: +(rate / ideal).toFixed(3),
      baselinePerS: +baseRate.toFixed(1),
      baselineVsIdeal: +(baseRate / ideal).toFixed(3),
      rssMbStart: mb(rss.start),
      rssMbEnd: mb(rss.end),
      rssMbPeak: mb(rss.peak),
      rssMbAtQuarters: quarters,
      heapMbStart: globalThis.gc ? mb(rss.heapStart) : null,
      heapMbEnd: globalThis.gc ? mb(rss.heapEnd) : null,
      engineCpuMsPerRequest: +((cpu.user + cpu.system) / 1000 / s.requests).toFixed(3),
      loadavg: os.loadavg().map((x) => +x.toFixed(2)),
      cpus: os.cpus().length,
    };
    console.log(JSON.stringify(result));
    if (s.status !== 'done' || s.samples !== targets * n) process.exitCode = 1;
  } finally {
    child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  rmSync(dir, { recursive: true, force: true });
  process.exit(1);
});
