// End to end in a real VS Code (code-server + Chromium): the demo project with pairs built, scored
// and exported (the CLI and the project's local stand-in server, as `npm start` prepares it), the
// dashboard opened from the palette with every chart drawn, and a click on a cell of the pass-rate
// heatmap opening the review room on exactly that block kind and depth: its filter shown, its
// queue holding the project's pairs of that cell and no other. Screenshots go to test-results/e2e/.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Frame, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startLocalVllm, type LocalVllm } from '../../server/localvllm/server';
import { openProject } from '../../server/store/db';
import { ensureFreshVsix, root, screenshot, startSession, type Session } from './kit';

/** Runs the CLI without blocking this process (the local stand-in server it talks to lives here). */
function cli(...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(root, 'dist/cli.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`pairforge ${args[0]} failed (exit ${code}): ${err}`))));
  });
}

/** The webview document (inner frame) that holds `selector`. */
async function frameWith(p: Page, selector: string, what: string): Promise<Frame> {
  for (let i = 0; i < 120; i++) {
    for (const f of p.frames()) if ((await f.locator(selector).count().catch(() => 0)) > 0) return f;
    await p.waitForTimeout(500);
  }
  throw new Error(`${what} did not appear`);
}

async function runCommand(p: Page, title: string): Promise<void> {
  // The palette lists an extension's commands once its contributions are registered, a few
  // seconds after the workbench shows: ask again until the command is there.
  const row = p.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
  for (let attempt = 0; ; attempt++) {
    await p.keyboard.press('F1');
    await p.locator('.quick-input-widget input').waitFor({ state: 'visible', timeout: 15_000 });
    await p.keyboard.type(title);
    if (await row.waitFor({ timeout: 5_000 }).then(() => true, () => false)) break;
    if (attempt === 10) throw new Error(`"${title}" is not in the command palette`);
    await p.keyboard.press('Escape');
  }
  await p.keyboard.press('Enter');
}

describe('the dashboard in code-server (real VS Code)', () => {
  let tmp = '';
  let db = '';
  let session: Session | undefined;
  let local: LocalVllm | undefined;

  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'pairforge-e2e-dashboard-'));
    const workspace = path.join(tmp, 'workspace');
    mkdirSync(workspace);
    ensureFreshVsix();
    db = path.join(workspace, '.pairforge', 'project.sqlite');
    const datasets = ['demo-apps.jsonl', 'demo-history.jsonl'].map((f) => path.join(root, 'media/demo/datasets', f)).join(',');
    await cli('run', '--db', db, '--endpoint', 'local', '--dataset', datasets, '--workers', '1', '--quiet');
    local = await startLocalVllm({ db, seed: 3 });
    await cli('score', '--db', db, '--policy', local.url, '--policy-model', 'pairforge-local-policy', '--reference', local.url, '--reference-model', 'pairforge-local-reference', '--quiet');
    session = await startSession(tmp, workspace, {
      'pairforge.exec.workers': 1,
      'pairforge.scoring.policy': { url: local.url, model: 'pairforge-local-policy' },
      'pairforge.scoring.reference': { url: local.url, model: 'pairforge-local-reference' },
    });
  }, 600_000);

  afterAll(async () => {
    await session?.close();
    await local?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  beforeEach(({ task, onTestFailed }) => {
    onTestFailed(async () => {
      await screenshot(session?.page, `failure-dashboard-${task.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}.png`);
    });
  });

  function step<T>(name: string, body: (p: Page) => Promise<T>): Promise<T> {
    if (!session) throw new Error('code-server and the browser did not start (see beforeAll)');
    return session.step(name, body);
  }

  it('opens the dashboard from the palette; a heatmap cell opens the review room on that block kind and depth', async () => {
    // The room is open already, then hidden behind the dashboard's tab (VS Code drops a hidden
    // webview's page): the cell's filters must still reach it.
    await step('open the review room first', async (p) => {
      await p.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 90_000 });
      await runCommand(p, 'PairForge: Review Pairs');
      const f = await frameWith(p, '.pf-room', 'the review room');
      await f.locator('.pf-row-selected').waitFor({ timeout: 60_000 });
      return f;
    });
    const dashboard = await step('open the dashboard from the palette', async (p) => {
      await runCommand(p, 'PairForge: Open Dashboard');
      const f = await frameWith(p, '.pf-dash', 'the dashboard');
      await f.waitForFunction(`['funnel', 'passRate', 'verdictMix', 'samplesPerTarget', 'pairs', 'flags', 'margins'].every((c) => window.__pfCharts?.[c] === 'drawn')`, undefined, { timeout: 60_000 });
      return f;
    });
    expect(await dashboard.locator('.pf-dash-meta').textContent()).toContain('project.sqlite');
    await screenshot(session!.page, 'dashboard.png');

    // A cell of a block kind and depth the project has pairs of.
    const p = openProject(db, { readonly: true });
    const cells = new Map(
      p.db
        .prepare<[], { block_kind: string; depth: number; n: number }>("SELECT block_kind, depth, COUNT(*) AS n FROM pairs WHERE kind = 'fim' GROUP BY block_kind, depth")
        .all()
        .map((r) => [`${r.block_kind}/${r.depth}`, r.n]),
    );
    p.close();
    let target: { x: number; y: number; kind: string; depth: number; pairs: number } | undefined;
    for (let i = 0; !target; i++) {
      const m = (await dashboard.evaluate(`window.__pfMark('passRate', ${i})`)) as { x: number; y: number; item: { cell: { kind: string; depth: number } } } | undefined;
      if (!m) throw new Error(`no heatmap cell of ${[...cells.keys()].join(', ')} found`);
      const pairs = cells.get(`${m.item.cell.kind}/${m.item.cell.depth}`);
      if (pairs) target = { x: m.x, y: m.y, kind: m.item.cell.kind, depth: m.item.cell.depth, pairs };
    }
    const room = await step('click the heatmap cell', async (pg) => {
      await dashboard.locator('[data-chart="passRate"]').click({ position: { x: target!.x, y: target!.y } });
      const f = await frameWith(pg, '.pf-room', 'the review room');
      await f.locator('.pf-row-selected').waitFor({ timeout: 60_000 });
      return f;
    });
    // The room's toolbar shows the cell's block kind and depth (its own controls, no filter chip).
    await expect.poll(() => room.locator('select[aria-label="block kind filter"]').inputValue(), { timeout: 15_000 }).toBe(target.kind);
    expect(await room.locator('select[aria-label="depth filter"]').inputValue()).toBe(String(target.depth));
    expect(await room.locator('.pf-filter').isHidden()).toBe(true);
    await screenshot(session!.page, 'dashboard-heatmap-room.png');
    await room.locator('.pf-counts', { hasText: `${target.pairs} shown` }).waitFor({ timeout: 15_000 });
    const metas = await room.locator('.pf-row .pf-row-meta').allTextContents();
    expect(metas.length).toBe(target.pairs);
    for (const m of metas) expect(m.startsWith(`${target.kind} d${target.depth}`), m).toBe(true);
  }, 180_000);
});
