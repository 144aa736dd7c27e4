// The training metrics panel's webview in real Chromium, under its own page and Content Security
// Policy (extension/metricsHtml.ts: scripts by nonce only, no eval) with a stub host: the four
// plots and a tooltip drawn by ECharts (SVG) with no policy violation, in the theme's colours and again after a theme change, and a hostile run
// name and message shown as text.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricsHtml } from '../../../extension/metricsHtml';
import type { MetricRow, MetricsRun, ToMetrics } from '../../../webview/contract';
import { root } from '../../support/paths';
import { CHROMIUM, launchBrowser } from '../../support/roomHost';

const dist = path.join(root, 'dist', 'webview');
const available = existsSync(path.join(dist, 'metrics.js')) && existsSync(CHROMIUM);
const HOSTILE = '<img src=x onerror="window.__pwned=1;alert(1)"></title><script>alert(2)</script>';

const run: MetricsRun = { id: 7, name: `demo ${HOSTILE}`, host: 'gpu-1', status: 'succeeded', trainerState: 'done', step: 8, maxSteps: 8, pairs: 12, exitCode: 0, message: `trained 8 steps ${HOSTILE}`, startedAt: null, finishedAt: null, scoreRunId: 3 };
const rows: MetricRow[] = Array.from({ length: 8 }, (_, i) => ({
  step: i + 1,
  epoch: (i + 1) / 6,
  loss: 0.69 - i * 0.05,
  'rewards/chosen': i * 0.1,
  'rewards/rejected': -i * 0.05,
  'rewards/margins': i * 0.15,
  'rewards/accuracies': i === 0 ? 0 : 1,
}));

async function openPanel(browser: Browser): Promise<{ page: Page; posted: unknown[]; violations: string[]; dialogs: string[]; send(m: ToMetrics): Promise<void>; close(): Promise<void> }> {
  const nonce = randomBytes(16).toString('base64');
  let html = '';
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(html);
      return;
    }
    try {
      const body = readFileSync(path.join(dist, path.basename(url.pathname)));
      res.writeHead(200, { 'content-type': url.pathname.endsWith('.css') ? 'text/css' : 'text/javascript' });
      res.end(body);
    } catch {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const stub = `<script nonce="${nonce}">
    window.acquireVsCodeApi = () => ({ postMessage: (m) => window.__hostReceive(m), getState: () => undefined, setState: (s) => { window.__state = s; } });
    document.addEventListener('securitypolicyviolation', (e) => window.__hostViolation(e.violatedDirective + ' ' + e.blockedURI));
  </script>`;
  html = metricsHtml({ cspSource: base, nonce, script: `${base}/metrics.js`, style: `${base}/metrics.css` }).replace('<script nonce=', `${stub}\n<script nonce=`);
  const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
  const posted: unknown[] = [];
  const violations: string[] = [];
  const dialogs: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  await page.exposeFunction('__hostViolation', (v: string) => void violations.push(v));
  await page.exposeFunction('__hostReceive', (m: unknown) => void posted.push(m));
  await page.goto(`${base}/`);
  // The theme VS Code would set: a dark body with its chart colours.
  await page.evaluate(`document.body.classList.add('vscode-dark'); document.body.style.setProperty('--vscode-charts-blue', 'rgb(1, 2, 3)'); document.body.style.setProperty('--vscode-foreground', 'rgb(200, 200, 200)');`);
  return {
    page,
    posted,
    violations,
    dialogs,
    send: async (m) => {
      await page.evaluate(`window.postMessage(${JSON.stringify(m)}, '*')`);
    },
    close: async () => {
      await page.close();
      await new Promise((r) => server.close(r));
    },
  };
}

describe.skipIf(!available)('the training metrics panel (Chromium, stub host)', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  it('draws the four plots under its CSP in the theme, and redraws them when the theme changes', async () => {
    const panel = await openPanel(browser);
    try {
      await expect.poll(() => panel.posted).toContainEqual({ type: 'ready' });
      await panel.send({ type: 'metrics', run, rows });
      await panel.page.locator('.pf-chart svg').nth(3).waitFor({ timeout: 15_000 });
      expect(await panel.page.locator('.pf-chart').evaluateAll((els) => els.map((e) => e.getAttribute('data-chart')))).toEqual(['loss', 'rewards', 'margins', 'accuracy']);
      // The loss line in the theme's blue; the chart titles as drawn text.
      const loss = panel.page.locator('.pf-chart[data-chart="loss"] svg path[stroke="rgb(1, 2, 3)"]');
      expect(await loss.count()).toBeGreaterThan(0);
      expect(await panel.page.locator('.pf-chart[data-chart="rewards"] svg text', { hasText: 'Rewards: chosen vs rejected' }).count()).toBe(1);
      expect(await panel.page.locator('.pf-metrics-head').textContent()).toContain('loss 0.3400');
      // The tooltip (an element ECharts styles at run time) under the same policy.
      const box = (await panel.page.locator('.pf-chart[data-chart="margins"]').boundingBox())!;
      await panel.page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      await panel.page.locator('.pf-chart[data-chart="margins"] div', { hasText: 'margin' }).last().waitFor({ timeout: 10_000 });
      // Hostile text is text.
      expect(await panel.page.locator('.pf-metrics-name').textContent()).toBe(run.name);
      expect(await panel.page.evaluate('window.__pwned')).toBeUndefined();
      expect(panel.dialogs).toEqual([]);
      // A theme change redraws with the new colours.
      await panel.page.evaluate(`document.body.style.setProperty('--vscode-charts-blue', 'rgb(4, 5, 6)'); document.body.classList.replace('vscode-dark', 'vscode-light');`);
      await panel.page.locator('.pf-chart[data-chart="loss"] svg path[stroke="rgb(4, 5, 6)"]').first().waitFor({ timeout: 10_000 });
      // More metrics: the same charts, longer lines.
      await panel.send({ type: 'metrics', run: { ...run, step: 9 }, rows: [...rows, { ...rows[7], step: 9, loss: 0.2 }] });
      await panel.page.locator('.pf-metrics-head', { hasText: 'loss 0.2000' }).waitFor({ timeout: 10_000 });
      expect(await panel.page.locator('.pf-chart').count()).toBe(4);
      expect(panel.violations).toEqual([]);
    } finally {
      await panel.close();
    }
  }, 60_000);

  it('says so when a run has no metrics yet, and shows an error as text', async () => {
    const panel = await openPanel(browser);
    try {
      await expect.poll(() => panel.posted).toContainEqual({ type: 'ready' });
      await panel.send({ type: 'metrics', run: { ...run, status: 'running' }, rows: [] });
      await panel.page.locator('.pf-metrics-empty', { hasText: 'No metrics yet' }).waitFor({ timeout: 10_000 });
      await panel.send({ type: 'error', message: `PairForge: no training run 9 ${HOSTILE}` });
      await panel.page.locator('.pf-metrics-error', { hasText: 'no training run 9' }).waitFor({ timeout: 10_000 });
      expect(await panel.page.evaluate('window.__pwned')).toBeUndefined();
      expect(panel.violations).toEqual([]);
    } finally {
      await panel.close();
    }
  }, 60_000);
});
