// End to end in a real VS Code (code-server + Chromium): the demo project with pairs built and
// scored (the CLI and the project's local stand-in server, as `npm start` prepares it), the review
// room opened from the palette, ten pairs reviewed with the keyboard (an accept undone, a flag with
// a note), and the statuses read back from the project file. Screenshots go to test-results/e2e/.
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

/** The room's document: the webview's inner frame that holds `.pf-room`. */
async function roomFrame(p: Page): Promise<Frame> {
  for (let i = 0; i < 120; i++) {
    for (const f of p.frames()) if ((await f.locator('.pf-room').count().catch(() => 0)) > 0) return f;
    await p.waitForTimeout(500);
  }
  throw new Error('the review room did not appear');
}

describe('the review room in code-server (real VS Code)', () => {
  let tmp = '';
  let db = '';
  let session: Session | undefined;
  let local: LocalVllm | undefined;

  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'pairforge-e2e-review-'));
    const workspace = path.join(tmp, 'workspace');
    mkdirSync(workspace);
    ensureFreshVsix();
    db = path.join(workspace, '.pairforge', 'project.sqlite');
    const datasets = ['demo-apps.jsonl', 'demo-history.jsonl'].map((f) => path.join(root, 'media/demo/datasets', f)).join(',');
    await cli('run', '--db', db, '--endpoint', 'local', '--dataset', datasets, '--skip', 'export', '--workers', '1');
    local = await startLocalVllm({ db, seed: 3 });
    await cli('score', '--db', db, '--policy', local.url, '--policy-model', 'pairforge-local-policy', '--reference', local.url, '--reference-model', 'pairforge-local-reference');
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
      await screenshot(session?.page, `failure-review-${task.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}.png`);
    });
  });

  function step<T>(name: string, body: (p: Page) => Promise<T>): Promise<T> {
    if (!session) throw new Error('code-server and the browser did not start (see beforeAll)');
    return session.step(name, body);
  }

  it('reviews ten pairs with the keyboard, with an undo and a flag with a note; the statuses are stored', async () => {
    const room = await step('open the room from the palette', async (p) => {
      await p.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 90_000 });
      // The palette lists an extension's commands once its contributions are registered, a few
      // seconds after the workbench shows: ask again until the command is there.
      const row = p.locator('.quick-input-list .monaco-list-row', { hasText: 'Review Pairs' }).first();
      for (let attempt = 0; ; attempt++) {
        await p.keyboard.press('F1');
        await p.locator('.quick-input-widget input').waitFor({ state: 'visible', timeout: 15_000 });
        await p.keyboard.type('PairForge: Review Pairs');
        if (await row.waitFor({ timeout: 5_000 }).then(() => true, () => false)) break;
        if (attempt === 10) throw new Error('"PairForge: Review Pairs" is not in the command palette');
        await p.keyboard.press('Escape');
      }
      await p.keyboard.press('Enter');
      const f = await roomFrame(p);
      await f.locator('.pf-row-selected').waitFor({ timeout: 60_000 });
      await f.locator('.pf-heat-div-p8, .pf-heat-div-n8').first().waitFor({ timeout: 30_000 });
      return f;
    });
    expect(await room.locator('.pf-counts').textContent()).toBe('12 shown: 12 pending · 0 accepted · 0 rejected · 0 flagged');
    await screenshot(session!.page, 'review-room.png');

    const pairAt = async () => Number((await room.locator('.pf-row-selected').getAttribute('data-pair')) ?? NaN);
    const expected = new Map<number, string>();
    const press = async (key: string, status?: string) => {
      const before = await pairAt();
      await session!.page.keyboard.press(key);
      if (status) expected.set(before, status);
      // Each decision moves on to the next pair.
      await room.locator(`.pf-row-selected:not([data-pair="${before}"])`).waitFor({ timeout: 15_000 });
    };
    await step('review with the keyboard', async (p) => {
      await room.locator('.pf-figures').click();
      await press('a', 'accepted'); // 1
      await press('r', 'rejected'); // 2
      await press('a', 'accepted'); // 3
      // 4: accepted, then undone: back on pair 4, pending again.
      const four = await pairAt();
      await p.keyboard.press('a');
      await room.locator(`.pf-row-selected:not([data-pair="${four}"])`).waitFor({ timeout: 15_000 });
      await p.keyboard.press('u');
      await room.locator(`.pf-row-selected[data-pair="${four}"]`).waitFor({ timeout: 15_000 });
      await room.locator('.pf-banner', { hasText: `undone: the decision on pair ${four}` }).waitFor({ timeout: 15_000 });
      await press('r', 'rejected'); // 4
      // 5: flagged with a note.
      const five = await pairAt();
      await p.keyboard.press('f');
      await room.locator('.pf-note-input').waitFor({ state: 'visible', timeout: 10_000 });
      await p.keyboard.type('the suffix changed too');
      await screenshot(p, 'review-flag-note.png');
      await p.keyboard.press('Enter');
      expected.set(five, 'flagged');
      await room.locator(`.pf-row-selected:not([data-pair="${five}"])`).waitFor({ timeout: 15_000 });
      await press('s'); // 6 skipped
      await press('a', 'accepted'); // 7
      // h changes the heatmap (reward -> policy log-probs) and stays on the pair.
      await p.keyboard.press('h');
    }).catch(async (e) => {
      await screenshot(session!.page, 'review-keys-failed.png');
      throw e;
    });
    expect(await room.locator('select[aria-label="heatmap"]').inputValue()).toBe('policy');
    await step('three more', async () => {
      await press('a', 'accepted'); // 8
      await press('r', 'rejected'); // 9
      await press('a', 'accepted'); // 10
    });
    await room.locator('.pf-counts', { hasText: '3 pending · 5 accepted · 3 rejected · 1 flagged' }).waitFor({ timeout: 15_000 });
    await screenshot(session!.page, 'review-after-ten.png');

    // What the project file says now.
    const p = openProject(db, { readonly: true });
    try {
      const rows = p.db.prepare<[], { id: number; status: string; note: string | null }>('SELECT id, status, note FROM pairs ORDER BY id').all();
      for (const [id, status] of expected) expect(rows.find((r) => r.id === id)?.status, `pair ${id}`).toBe(status);
      expect(rows.filter((r) => r.status === 'pending')).toHaveLength(12 - expected.size);
      expect(rows.find((r) => r.status === 'flagged')?.note).toBe('the suffix changed too');
      // Every decision and the undo are in the review log (the undo marks its entry).
      const log = p.db.prepare<[], { n: number; undone: number }>('SELECT COUNT(*) AS n, SUM(undone_at IS NOT NULL) AS undone FROM pair_reviews').get()!;
      expect(log).toEqual({ n: expected.size + 1, undone: 1 });
    } finally {
      p.close();
    }
  });
});
