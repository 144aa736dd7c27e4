#!/usr/bin/env node
/* global performance, fetch, setInterval, clearInterval */
// Scoring throughput: the scoring engine (server/scoring scorePairs, in this process) against the
// local vLLM stand-in (its own process, `pairforge serve-local`) whose completions take a fixed
// latency L, with C requests in flight per endpoint (the policy and the reference are two
// endpoints of the one server, so 2C completions are in flight in all). Each side of a pair costs
// two completions (policy, reference) and a /tokenize of its response (its prompt's is shared by
// the pair's two sides); /tokenize is not delayed. Ideal: C/L completions per second per endpoint;
// the engine should reach >= 95% of it. Baseline measured in the same run: a bare client (node
// fetch, C loops per model, no tokenize, no store) sending the same kind of prompt_logprobs
// request to the same server. Also: engine RSS at each quarter of the run (flat = no growth with
// the number of requests), heap after GC, and storage bytes per scored token.
//
//   node --expose-gc scripts/bench/scoring-throughput.mjs [--c 64] [--l 1000] [--requests 20000] [--baseline 2000]
//
// --requests counts completions (both models); the project gets requests / 4 pairs.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
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
const L = arg('l', 1000);
const R = arg('requests', 20_000);
const BASE = arg('baseline', 2_000);

const dir = mkdtempSync(path.join(os.tmpdir(), 'pairforge-bench-scoring-'));
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

/** CPU milliseconds a process has used (Linux /proc; null elsewhere). */
function cpuMsOf(pid) {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
  } catch {
    return null;
  }
}

function startServer(db) {
  const child = spawn(process.execPath, [path.join(dir, 'cli.js'), 'serve-local', '--json', '--port', '0', '--db', db, '--latency-ms', String(L), '--seed', '1'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
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

/** Pairs from the fixture targets: the reference middle against a mutant, told apart by a comment
 * so every response is a different text (prompts repeat per target, as in a real project). */
function makePairs(api, db, n) {
  const p = api.openProject(db);
  try {
    const targets = p.db.prepare("SELECT t.id, t.pre, t.mid, t.suf, t.kind, t.depth, s.problem_id FROM targets t JOIN solutions s ON s.id = t.solution_id WHERE t.preset = 'structurecoder' ORDER BY t.id").all();
    const drafts = [];
    for (let i = 0; drafts.length < n; i++) {
      const t = targets[i % targets.length];
      const v = api.variants(t.mid);
      const kind = api.MUTANT_KINDS.find((k) => v[k].length > 0);
      const rejected = `${kind ? v[kind][0] : t.mid}  # variant ${i}`;
      drafts.push({
        pairKey: `bench:${i}`,
        mode: 'structurecoder',
        kind: 'fim',
        problemId: t.problem_id,
        targetId: t.id,
        historyId: null,
        pre: t.pre,
        suf: t.suf,
        blockKind: t.kind,
        depth: t.depth,
        goldenLines: t.mid.split('\n').length,
        chosen: t.mid,
        rejected,
        chosenSpans: [[0, t.mid.length]],
        rejectedSpans: [[0, rejected.length]],
        provenance: {},
        editDistance: 1,
        flags: [],
        dupKey: `bench:${i}`,
      });
    }
    for (let i = 0; i < drafts.length; i += 1000) api.upsertPairs(p, drafts.slice(i, i + 1000));
    return drafts.length;
  } finally {
    p.close();
  }
}

async function main() {
  await bundle('cli.js');
  copyRuntimeAssets(dir);
  const apiFile = await bundle(
    'scoring.cjs',
    [
      "export { scorePairs } from './server/scoring/job';",
      "export { openProject } from './server/store/db';",
      "export { upsertPairs } from './server/pairs/store';",
      "export { variants, MUTANT_KINDS } from './server/localvllm/mutants';",
      "export { POLICY_MODEL_NAME, REFERENCE_MODEL_NAME } from './server/localvllm/server';",
    ].join('\n'),
  );
  const api = req(apiFile);

  const db = path.join(dir, 'project.sqlite');
  const fx = path.join(root, 'test', 'fixtures', 'datasets');
  cli(['import', '--db', db, ...['apps-mini', 'humaneval-mini', 'mbpp-mini', 'evalplus-mbpp-mini'].map((f) => path.join(fx, `${f}.jsonl`))]);
  cli(['targets', '--db', db]);
  const nPairs = makePairs(api, db, Math.ceil(R / 4));
  const { child, info } = await startServer(db);
  try {
    // Baseline: a bare client, C loops per model of sequential prompt_logprobs requests.
    const tok = await (await fetch(`${info.url}/tokenize`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'x' }) })).json();
    if (!Array.isArray(tok.tokens)) throw new Error('the stand-in did not tokenize');
    const p0 = api.openProject(db);
    const t = p0.db.prepare('SELECT pre, mid, suf FROM targets LIMIT 1').get();
    p0.close();
    const text = `<|fim_prefix|>${t.pre}<|fim_suffix|>${t.suf}<|fim_middle|>${t.mid}<|endoftext|>`;
    const ids = (await (await fetch(`${info.url}/tokenize`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt: text }) })).json()).tokens;
    let sent = 0;
    const b0 = performance.now();
    await Promise.all(
      [api.POLICY_MODEL_NAME, api.REFERENCE_MODEL_NAME].flatMap((model) =>
        Array.from({ length: C }, async () => {
          const body = JSON.stringify({ model, prompt: ids, max_tokens: 1, prompt_logprobs: 0, temperature: 0 });
          while (sent < BASE) {
            sent++;
            const r = await fetch(`${info.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
            await r.json();
          }
        }),
      ),
    );
    const baseRate = BASE / ((performance.now() - b0) / 1000) / 2; // per endpoint

    // The engine.
    const sizeBefore = statSync(db).size + (statSync(`${db}-wal`, { throwIfNoEntry: false })?.size ?? 0);
    const p = api.openProject(db);
    const rss = { start: 0, end: 0, peak: 0, heapStart: 0, heapEnd: 0 };
    const heapAfterGc = () => {
      globalThis.gc?.();
      return process.memoryUsage().heapUsed;
    };
    const cpu0 = process.cpuUsage();
    const serverCpu0 = cpuMsOf(child.pid);
    const timer = setInterval(() => {
      rss.peak = Math.max(rss.peak, process.memoryUsage().rss);
    }, 250);
    let first = true;
    const quarters = [];
    const s = await api.scorePairs(
      p,
      'all',
      { policy: [{ url: info.url, model: api.POLICY_MODEL_NAME }], reference: [{ url: info.url, model: api.REFERENCE_MODEL_NAME }], concurrency: C },
      {
        onProgress: (pr) => {
          if (quarters.length < 4 && pr.done >= ((quarters.length + 1) * pr.total) / 4) quarters.push(mb(process.memoryUsage().rss));
          if (first && pr.done > 0) {
            first = false;
            rss.start = process.memoryUsage().rss;
            rss.heapStart = heapAfterGc();
          }
        },
      },
    );
    const cpu = process.cpuUsage(cpu0);
    const serverCpu1 = cpuMsOf(child.pid);
    rss.end = process.memoryUsage().rss;
    rss.heapEnd = heapAfterGc();
    clearInterval(timer);
    const store = p.db
      .prepare(
        `SELECT SUM(tokens) AS tokens, SUM(length(token_ids) + length(char_ranges) + length(loss_mask) + length(logp_policy) + length(logp_ref)
           + COALESCE(length(top_policy), 0) + COALESCE(length(top_ref), 0)) AS blob FROM score_sides WHERE run_id = ?`,
      )
      .get(s.runId);
    p.db.pragma('wal_checkpoint(TRUNCATE)');
    p.close();
    const sizeAfter = statSync(db).size + (statSync(`${db}-wal`, { throwIfNoEntry: false })?.size ?? 0);
    const completions = 4 * s.scoredPairs; // two models x two sides
    const seconds = s.elapsedMs / 1000;
    const perEndpoint = completions / 2 / seconds;
    const ideal = (C * 1000) / L;
    const result = {
      c: C,
      latencyMs: L,
      pairs: nPairs,
      sides: s.sides,
      completions,
      requests: s.requests,
      status: s.status,
      retries: s.retries,
      elapsedS: +seconds.toFixed(1),
      idealPerEndpointPerS: +ideal.toFixed(1),
      enginePerEndpointPerS: +perEndpoint.toFixed(1),
      engineVsIdeal: +(perEndpoint / ideal).toFixed(3),
      baselinePerEndpointPerS: +baseRate.toFixed(1),
      baselineVsIdeal: +(baseRate / ideal).toFixed(3),
      rssMbStart: mb(rss.start),
      rssMbEnd: mb(rss.end),
      rssMbPeak: mb(rss.peak),
      rssMbAtQuarters: quarters,
      heapMbStart: globalThis.gc ? mb(rss.heapStart) : null,
      heapMbEnd: globalThis.gc ? mb(rss.heapEnd) : null,
      engineCpuMsPerSide: +((cpu.user + cpu.system) / 1000 / s.sides).toFixed(3),
      serverCpuMsPerCompletion: serverCpu0 === null || serverCpu1 === null ? null : +((serverCpu1 - serverCpu0) / completions).toFixed(3),
      scoredTokens: store.tokens,
      blobBytesPerToken: +(store.blob / store.tokens).toFixed(2),
      fileBytesPerToken: +((sizeAfter - sizeBefore) / store.tokens).toFixed(2),
      loadavg: os.loadavg().map((x) => +x.toFixed(2)),
      cpus: os.cpus().length,
    };
    console.log(JSON.stringify(result));
    if (s.status !== 'done' || s.scoredPairs !== nPairs) process.exitCode = 1;
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
