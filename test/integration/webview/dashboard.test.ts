// The dashboard's charts in real Chromium, on the hand-built project of test/support/dashboardProject.ts:
// - `pairforge report` (the bundled CLI, with the report page built beside it) writes one HTML file
//   that, opened from disk, draws every chart with no request leaving the page, under its own
//   Content Security Policy with no violation, and saves a chart as PNG and SVG;
// - the dashboard webview (dist/webview/dashboard.js under extension/dashboardHtml.ts's policy,
//   with a stub host) draws the engine's figures, and a click on a heatmap cell, a funnel bar, a
//   margin bin and a list row asks the host to open exactly what it stands for.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as esbuild from 'esbuild';
import type { Browser, Frame, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserBundle } from '../../../scripts/bundle.mjs';
import { dashboardHtml } from '../../../extension/dashboardHtml';
import { dashboardData } from '../../../server/dashboard/data';
import type { DashboardData, FromDashboard, ToDashboard } from '../../../webview/dashboard/contract';
import { buildCli, runCli } from '../../support/cliHarness';
import { buildDashboardProject, type DashboardProject } from '../../support/dashboardProject';
import { root } from '../../support/paths';
import { CHROMIUM, launchBrowser, serveWebview } from '../../support/roomHost';

const dist = path.join(root, 'dist', 'webview');
const available = existsSync(path.join(dist, 'dashboard.js')) && existsSync(CHROMIUM);
const CHARTS = ['funnel', 'passRate', 'verdictMix', 'samplesPerTarget', 'pairs', 'flags', 'review', 'margins'];

/** Pixels of a chart's canvas that are not blank (the chart really drew something). */
async function inkOf(frame: Page | Frame, chart: string): Promise<number> {
  return frame.evaluate(`(() => {
    const canvas = document.querySelector('[data-chart="${chart}"] canvas');
    if (!canvas) return -1;
    const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
    let n = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++;
    return n;
  })()`);
}

describe.skipIf(!available)('dashboard and report in Chromium', () => {
  let dir = '';
  let project: DashboardProject;
  let browser: Browser;
  let data: DashboardData;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'pairforge-dashboard-web-'));
    project = await buildDashboardProject(dir);
    data = dashboardData(project.p, { comparator: 'strict' });
    browser = await launchBrowser();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await project?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('pairforge report: one file, every chart drawn offline, nothing requested, PNG and SVG saved', async () => {
    // The CLI as shipped: its bundle, and the report page built beside it (dist/webview/ when packaged).
    const cli = await buildCli();
    mkdirSync(path.join(path.dirname(cli), 'webview'), { recursive: true });
    await esbuild.build({ ...browserBundle, entryPoints: ['webview/dashboard/report.ts'], outfile: path.join(path.dirname(cli), 'webview', 'report.js') });
    const out = path.join(dir, 'report.html');
    const r = runCli(cli, ['report', '--db', project.file, '--out', out]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^report: wrote .*report\.html \(\d+ KB; figures computed in [\d.]+ ms\)/);
    const html = readFileSync(out, 'utf8');
    expect(html).toContain("default-src 'none'");
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|sourceMappingURL/);
    // --json gives the numbers behind the charts.
    const json = runCli(cli, ['report', '--db', project.file, '--json']);
    expect(json.status, json.stderr).toBe(0);
    const numbers = JSON.parse(json.stdout) as DashboardData;
    expect(numbers.funnel).toEqual(data.funnel);
    expect(numbers.sampleGroups).toEqual(data.sampleGroups);

    const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1400, height: 1000 } });
    const requests: string[] = [];
    const leaving: string[] = [];
    // Every request the page makes is seen here; only the file itself may be loaded.
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith('file://')) return route.continue();
      leaving.push(url);
      return route.abort();
    });
    const page = await context.newPage();
    page.on('request', (q) => requests.push(q.url()));
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    await page.addInitScript(`window.__violations = []; document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));`);
    await page.goto(`file://${out}`);
    await page.waitForFunction(`Object.keys(window.__pfCharts ?? {}).length === ${CHARTS.length}`);
    const drawn = await page.evaluate('window.__pfCharts');
    expect(drawn).toEqual(Object.fromEntries(CHARTS.map((c) => [c, 'drawn'])));
    for (const c of CHARTS) expect(await inkOf(page, c), c).toBeGreaterThan(500);
    await page.screenshot({ path: path.join(dir, 'report.png'), fullPage: true });
    // The lists: the failing references and the flaky candidates, with their totals.
    await page.locator('[data-card="References that fail their own tests"] tbody tr').first().waitFor();
    expect(await page.locator('[data-card="References that fail their own tests"] tbody tr').count()).toBe(data.failingReferences.items.length);
    expect(await page.locator('[data-card="Flaky candidates"] tbody tr').count()).toBe(data.flaky.items.length);

    const png = page.waitForEvent('download');
    await page.locator('[data-card="passRate"] button', { hasText: 'PNG' }).click();
    const pngFile = path.join(dir, 'pass-rate.png');
    await (await png).saveAs(pngFile);
    expect(readFileSync(pngFile).subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    const svg = page.waitForEvent('download');
    await page.locator('[data-card="margins"] button', { hasText: 'SVG' }).click();
    const download = await svg;
    expect(download.suggestedFilename()).toBe('pairforge-margins.svg');
    const svgFile = path.join(dir, 'margins.svg');
    await download.saveAs(svgFile);
    const svgText = readFileSync(svgFile, 'utf8');
    expect(svgText).toMatch(/^<svg[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    expect(svgText).toContain('<rect');

    expect(leaving).toEqual([]);
    expect(requests.filter((u) => !u.startsWith('file://') && !u.startsWith('data:') && !u.startsWith('blob:'))).toEqual([]);
    expect(await page.evaluate('window.__violations')).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  }, 180_000);

  it('the dashboard webview draws the figures and each click asks the host to open what it stands for', async () => {
    const site = await serveWebview(dist, (base, nonce) => dashboardHtml({ cspSource: base, nonce, script: `${base}/dashboard.js`, style: `${base}/dashboard.css` }));
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const posted: FromDashboard[] = [];
    const violations: string[] = [];
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.exposeFunction('__hostViolation', (v: string) => void violations.push(v));
    await page.exposeFunction('__hostReceive', (m: FromDashboard) => void posted.push(m));
    const send = (m: ToDashboard) => page.evaluate(`window.postMessage(${JSON.stringify(m)}, '*')`);
    try {
      await page.goto(site.url);
      await page.evaluate(`document.body.classList.add('vscode-dark')`);
      await expect.poll(() => posted.some((m) => m.type === 'ready')).toBe(true);
      await send({ type: 'data', data });
      await page.waitForFunction(`window.__pfCharts?.margins === 'drawn'`);
      for (const c of CHARTS) expect(await inkOf(page, c), c).toBeGreaterThan(500);

      const opened = async (click: () => Promise<void>) => {
        const before = posted.length;
        await click();
        await expect.poll(() => posted.slice(before).find((m) => m.type === 'open')).toBeTruthy();
        return (posted.slice(before).find((m) => m.type === 'open') as Extract<FromDashboard, { type: 'open' }>).target;
      };
      // A heatmap cell: the room filtered to its block kind and depth.
      const mark = (await page.evaluate(`window.__pfMark('passRate', 0)`)) as { x: number; y: number; item: { cell: { kind: string; depth: number } } };
      const cell = mark.item.cell;
      expect(await opened(() => page.locator('[data-chart="passRate"]').click({ position: { x: mark.x, y: mark.y } }))).toEqual({ kind: 'room', query: { blockKinds: [cell.kind], depths: [cell.depth] } });
      // A list row: the stored document of a failing reference.
      const ref = data.failingReferences.items[0];
      expect(await opened(() => page.locator('[data-card="References that fail their own tests"] tbody tr').first().click())).toEqual({ kind: 'document', uri: ref.uri });
      // A flaky sample: its program.
      const f = data.flaky.items[0];
      expect(await opened(() => page.locator('[data-card="Flaky candidates"] tbody tr').first().click())).toEqual({ kind: 'sample', targetId: f.sample!.targetId, sampleId: f.id, ordinal: f.sample!.ordinal });
      // An export: its pairs.
      expect(await opened(() => page.locator('[data-card="Exports"] tbody tr').first().click())).toEqual({ kind: 'room', query: { exportId: data.exports[0].id } });
      // A chart's PNG button hands the image to the host.
      await page.locator('[data-card="funnel"] button', { hasText: 'PNG' }).click();
      await expect.poll(() => posted.find((m) => m.type === 'save')).toBeTruthy();
      const save = posted.find((m) => m.type === 'save') as Extract<FromDashboard, { type: 'save' }>;
      expect([save.name, save.format, save.content.slice(0, 22)]).toEqual(['pairforge-funnel.png', 'png', 'data:image/png;base64,']);
      // New figures replace the old; no project: every chart says why it is empty.
      await send({ type: 'data', data: null });
      await page.waitForFunction(`Object.values(window.__pfCharts).every((v) => v === 'empty')`);
      expect(await page.locator('.pf-dash-message').textContent()).toContain('No project file yet');
      expect(violations).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
      await site.close();
    }
  }, 120_000);
});
