#!/usr/bin/env node
/* global performance, window, requestAnimationFrame */
// Dashboard load time on a large project: 100k pairs and 500k samples (20,000 generated problems
// of five target blocks each, two sampling jobs of 3 and 2 samples per target, 95% of them run,
// one pair per target, 60% reviewed over 30 days, two scoring runs, one export), written through
// the stages' own writers (scripts/bench/dashboard-project.ts). The engine server (dist/server.js,
// over stdio as the editor runs it) is asked for the dashboard's figures 20 times, each time
// computing them again (no `since`): the time from request to answer, p50/p95/max, and the
// engine's own compute time. Then the dashboard webview (dist/webview/dashboard.js in Chromium)
// draws those figures 20 times: the time from the message to every chart drawn. The bar:
// a load within 1 s, request to every chart drawn (totalP95Ms: the k-th answer plus the k-th
// drawing). Last line: JSON.
//
//   npm run build && node scripts/bench/dashboard-load.mjs [--problems 20000] [--loads 20] [--project DIR]
//
// --project DIR keeps the generated project there (and reuses it when it already exists).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import * as esbuild from 'esbuild';
import { chromium } from 'playwright-core';
import { copyRuntimeAssets, nodeBundle, root } from '../bundle.mjs';

const require = createRequire(path.join(root, 'package.json'));
const { createProtocolConnection, StreamMessageReader, StreamMessageWriter } = require('vscode-languageserver-protocol/node');

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const PROBLEMS = Number(arg('problems', 20_000));
const LOADS = Number(arg('loads', 20));
const keep = arg('project', undefined);
const CHROMIUM = process.env.PAIRFORGE_CHROMIUM ?? '/usr/bin/chromium';

for (const f of ['dist/server.js', 'dist/blocks-worker.js', 'dist/webview/dashboard.js']) {
  if (!existsSync(path.join(root, f))) throw new Error(`${f} is missing: run npm run build first`);
}

const work = mkdtempSync(path.join(os.tmpdir(), 'pairforge-bench-dashboard-'));
const projectDir = keep ? path.resolve(keep) : path.join(work, 'project');
const log = (line) => process.stderr.write(`${line}\n`);

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
const round = (x) => Math.round(x * 10) / 10;

async function main() {
  // The generator and the dashboard's page, from the sources, into one CommonJS module.
  const helper = path.join(work, 'helper.js');
  await esbuild.build({
    ...nodeBundle,
    stdin: {
      contents: "export { generateProject } from './scripts/bench/dashboard-project'; export { dashboardHtml } from './extension/dashboardHtml';",
      resolveDir: root,
      loader: 'ts',
    },
    outfile: helper,
  });
  // The native SQLite addon and the parser's .wasm files, where the bundle looks for them.
  copyRuntimeAssets(work);
  const { generateProject, dashboardHtml } = require(helper);

  const file = path.join(projectDir, 'project.sqlite');
  let generated = { reused: true };
  if (!existsSync(file)) generated = await generateProject(projectDir, { problems: PROBLEMS, log });
  log(`project: ${file} ${JSON.stringify(generated)}`);

  // ---- the engine, as the editor runs it -------------------------------------------------------
  const proc = spawn(process.execPath, [path.join(root, 'dist/server.js'), '--stdio'], { cwd: root });
  let stderr = '';
  proc.stderr.on('data', (d) => (stderr += d.toString()));
  const conn = createProtocolConnection(new StreamMessageReader(proc.stdout), new StreamMessageWriter(proc.stdin));
  conn.listen();
  const answers = [];
  let data;
  try {
    await conn.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: {} });
    await conn.sendNotification('initialized', {});
    await conn.sendNotification('pairforge/configure', { dbPath: file, preset: 'structurecoder', extraKinds: [], trusted: false });
    for (let i = 0; i < LOADS; i++) {
      const t0 = performance.now();
      const r = await conn.sendRequest('pairforge/dashboard', {});
      const ms = performance.now() - t0;
      if (!r.data) throw new Error(`load ${i}: no figures (${JSON.stringify(r).slice(0, 200)}); engine log: ${stderr.slice(-500)}`);
      data = r.data;
      answers.push({ ms, compute: r.data.computeMs, bytes: JSON.stringify(r).length });
      log(`load ${i + 1}: ${round(ms)} ms (computed in ${r.data.computeMs} ms, ${Math.round(answers.at(-1).bytes / 1024)} KB)`);
    }
    await conn.sendRequest('shutdown');
    await conn.sendNotification('exit');
  } finally {
    conn.dispose();
    proc.kill();
  }
  const samples = data.funnel.find((s) => s.key === 'samples').count;
  const pairs = data.funnel.find((s) => s.key === 'pairs').count;

  // ---- the webview drawing them ----------------------------------------------------------------
  const dist = path.join(root, 'dist', 'webview');
  const nonce = 'bench';
  let html = '';
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(html);
      return;
    }
    const f = path.join(dist, path.basename(url.pathname));
    if (!existsSync(f)) {
      res.writeHead(404);
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': f.endsWith('.css') ? 'text/css' : 'text/javascript' });
    res.end(readFileSync(f));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${server.address().port}`;
  html = dashboardHtml({ cspSource: base, nonce, script: `${base}/dashboard.js`, style: `${base}/dashboard.css` }).replace(
    '<script nonce=',
    `<script nonce="${nonce}">window.acquireVsCodeApi = () => ({ postMessage: () => {}, getState: () => undefined, setState: () => {} });</script>\n<script nonce=`,
  );
  const renders = [];
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(`${base}/`);
    await page.waitForFunction('window.__pfCharts !== undefined');
    for (let i = 0; i < LOADS; i++) {
      const ms = await page.evaluate(
        (d) =>
          new Promise((resolve) => {
            const charts = window.__pfCharts;
            for (const k of Object.keys(charts)) delete charts[k];
            const t0 = performance.now();
            window.postMessage({ type: 'data', data: d }, '*');
            const check = () => (Object.keys(charts).length >= 8 ? requestAnimationFrame(() => resolve(performance.now() - t0)) : setTimeout(check, 1));
            check();
          }),
        data,
      );
      renders.push(ms);
    }
  } finally {
    await browser.close();
    server.close();
  }
  log(`render: ${renders.map((x) => round(x)).join(' ')} ms`);

  const ms = answers.map((a) => a.ms);
  const totals = ms.map((x, i) => x + renders[i]);
  const result = {
    bench: 'dashboard-load',
    pairs,
    samples,
    loads: LOADS,
    dataP50Ms: round(pct(ms, 50)),
    dataP95Ms: round(pct(ms, 95)),
    dataMaxMs: round(Math.max(...ms)),
    computeP95Ms: round(pct(answers.map((a) => a.compute), 95)),
    answerKB: Math.round(answers[0].bytes / 1024),
    renderP50Ms: round(pct(renders, 50)),
    renderP95Ms: round(pct(renders, 95)),
    // A load as the user sees it: the k-th answer and the k-th drawing together (request to every
    // chart drawn); the bar is on this.
    totalP95Ms: round(pct(totals, 95)),
    totalMaxMs: round(Math.max(...totals)),
    withinOneSecond: pct(totals, 95) <= 1000,
    generatedSeconds: generated.seconds ?? null,
    loadAverage: os.loadavg().map((x) => round(x)),
  };
  console.log(JSON.stringify(result));
}

main()
  .catch((e) => {
    console.error(e instanceof Error ? e.stack : String(e));
    process.exitCode = 1;
  })
  .finally(() => {
    rmSync(work, { recursive: true, force: true });
  });
