// Send to Training end to end in a real VS Code (code-server + Chromium): the demo project with
// pairs built and eight of them accepted, a loopback "GPU host" (a real sshd, test/support/sshd.ts)
// in the settings, Send to Training clicked in the review room: the task terminal streams the
// run's log, the Training Runs view shows the finished run and its metrics plot. Then a longer run
// started from the CLI is followed from the view, followed again by itself after a window reload,
// and stopped with Ctrl+C in its terminal. Screenshots go to test-results/e2e/.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Frame, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { setPairsStatus } from '../../server/pairs/store';
import { openProject } from '../../server/store/db';
import { processesOf, remoteBase, sshdMissing, startSshd, type TestSshd } from '../support/sshd';
import { trainerPython } from '../support/trainer';
import { ensureFreshVsix, root, screenshot, startSession, type Session } from './kit';

const cliPath = path.join(root, 'dist/cli.js');

function cli(...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`pairforge ${args[0]} failed (exit ${code}): ${err}`))));
  });
}

/** The webview frame whose document holds `selector`. */
async function frameWith(p: Page, selector: string, what: string): Promise<Frame> {
  for (let i = 0; i < 120; i++) {
    for (const f of p.frames()) if ((await f.locator(selector).count().catch(() => 0)) > 0) return f;
    await p.waitForTimeout(500);
  }
  throw new Error(`${what} did not appear`);
}

/** The text of the terminal on screen (the DOM renderer: terminal.integrated.gpuAcceleration off). */
async function terminalText(p: Page): Promise<string> {
  return (await p.locator('.terminal-wrapper.active .xterm-rows, .xterm-rows').last().innerText().catch(() => '')).replace(/\u00a0/g, ' ');
}

async function palette(p: Page, title: string): Promise<void> {
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

const trainer = trainerPython();
const missing = trainer.missing ?? sshdMissing();

describe.skipIf(missing !== undefined)('Send to Training in code-server (real VS Code, a loopback GPU host)', () => {
  let tmp = '';
  let db = '';
  let base = '';
  let session: Session | undefined;
  let sshd: TestSshd | undefined;

  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'pairforge-e2e-training-'));
    const workspace = path.join(tmp, 'workspace');
    mkdirSync(workspace);
    ensureFreshVsix();
    db = path.join(workspace, '.pairforge', 'project.sqlite');
    const datasets = ['demo-apps.jsonl', 'demo-history.jsonl'].map((f) => path.join(root, 'media/demo/datasets', f)).join(',');
    await cli('run', '--db', db, '--endpoint', 'local', '--dataset', datasets, '--skip', 'export', '--workers', '1');
    // Eight pairs reviewed and accepted (the review room's e2e test does it with the keyboard).
    const p = openProject(db);
    try {
      setPairsStatus(p, p.db.prepare<[], { id: number }>('SELECT id FROM pairs ORDER BY id LIMIT 8').all().map((r) => r.id), 'accepted');
    } finally {
      p.close();
    }
    sshd = await startSshd();
    base = remoteBase(sshd.account);
    const py = trainer.python!;
    const python = process.env.PAIRFORGE_SSH_TRAINER_PYTHON || path.join(realpathSync(path.dirname(path.dirname(py))), 'bin', path.basename(py));
    session = await startSession(tmp, workspace, {
      'pairforge.exec.workers': 1,
      'pairforge.training.host': sshd.alias,
      'pairforge.training.sshConfig': sshd.config,
      'pairforge.training.remoteDir': base,
      'pairforge.training.python': python,
      'pairforge.training.tiny': true,
      'pairforge.training.setup': 'export OMP_NUM_THREADS=1',
      // The terminal's DOM renderer, so its text can be read.
      'terminal.integrated.gpuAcceleration': 'off',
    });
  }, 600_000);

  afterAll(async () => {
    await session?.close();
    await sshd?.stop(base);
    let left: ReturnType<typeof processesOf> = [];
    if (sshd) {
      left = processesOf(sshd.account);
      for (let i = 0; i < 50 && left.length; i++) {
        await new Promise((r) => setTimeout(r, 200));
        left = processesOf(sshd.account);
      }
    }
    for (const d of [tmp, base]) if (d) rmSync(d, { recursive: true, force: true });
    expect(left, JSON.stringify(left)).toEqual([]);
  }, 60_000);

  beforeEach(({ task, onTestFailed }) => {
    onTestFailed(async () => {
      await screenshot(session?.page, `failure-training-${task.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}.png`);
    });
  });

  function step<T>(name: string, body: (p: Page) => Promise<T>): Promise<T> {
    if (!session) throw new Error('code-server and the browser did not start (see beforeAll)');
    return session.step(name, body);
  }

  it('Send to Training from the review room: the task terminal streams the log; the Training Runs view shows the finished run and its metrics plot', async () => {
    const room = await step('open the review room', async (p) => {
      await p.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 90_000 });
      await palette(p, 'PairForge: Review Pairs');
      const f = await frameWith(p, '.pf-room', 'the review room');
      await f.locator('.pf-row-selected').waitFor({ timeout: 60_000 });
      return f;
    });
    const t0 = Date.now();
    let firstLine = 0;
    await step('click Send to Training; the terminal shows the log', async (p) => {
      await room.locator('button.pf-train').click();
      await p.locator('.terminal-wrapper, .xterm').first().waitFor({ timeout: 60_000 });
      // The terminal shows its last rows only: every line seen on the way is kept.
      const seen = new Set<string>();
      for (let i = 0; i < 600; i++) {
        const text = await terminalText(p);
        for (const l of text.split('\n')) seen.add(l.trim());
        if (!firstLine && text.includes('pairforge-train:')) firstLine = Date.now() - t0;
        if (/run '.*' succeeded \(exit 0\)/.test(text)) break;
        await p.waitForTimeout(250);
      }
      const text = await terminalText(p);
      expect([...seen].some((l) => /^PairForge: exported 8 pairs as 8 records/.test(l)), [...seen].join('\n')).toBe(true);
      expect(text).toMatch(/pairforge-train: step 8\/8/);
      expect(text).toMatch(/run '.*' succeeded \(exit 0\)/);
    });
    console.log(`click -> first log line in the terminal: ${(firstLine / 1000).toFixed(2)} s`);
    await screenshot(session!.page, 'training-terminal.png');

    await step('the Training Runs view lists the finished run; its metrics open as plots', async (p) => {
      await p.locator('.activitybar .action-item a[aria-label^="PairForge"]').click();
      const view = p.locator('.pane', { has: p.locator('.pane-header', { hasText: 'Training Runs' }) });
      const header = view.locator('.pane-header');
      if ((await header.getAttribute('aria-expanded')) === 'false') await header.click();
      const row = view.locator('.monaco-list-row', { hasText: 'succeeded' }).first();
      await row.waitFor({ timeout: 30_000 });
      expect(await row.innerText()).toMatch(/succeeded · pf-gpu · 8 pairs/);
      await row.click();
      const panel = await frameWith(p, '.pf-metrics', 'the metrics panel');
      await panel.locator('.pf-chart svg').nth(3).waitFor({ timeout: 30_000 });
      expect(await panel.locator('.pf-chart').count()).toBe(4);
      expect(await panel.locator('.pf-metrics-head').innerText()).toMatch(/succeeded \(exit 0\)[\s\S]*steps\s*8\/8/);
      // The workspace's settings name the runtime the server already runs with: loading them
      // (after activation, in code-server) asks for no restart.
      expect(await p.locator('.notification-toast', { hasText: 'restart the engine server' }).count()).toBe(0);
    });
    await screenshot(session!.page, 'training-metrics.png');

    const q = openProject(db, { readonly: true });
    try {
      const r = q.db.prepare<[], { status: string; exit_code: number; export_pairs: number; score_run_id: number | null; n: number }>(
        'SELECT status, exit_code, export_pairs, score_run_id, (SELECT COUNT(*) FROM training_metrics m WHERE m.run_id = t.id) AS n FROM training_runs t ORDER BY id LIMIT 1',
      ).get()!;
      expect(r).toMatchObject({ status: 'succeeded', exit_code: 0, export_pairs: 8 });
      expect(r.n).toBeGreaterThanOrEqual(9);
      expect(r.score_run_id).not.toBeNull();
    } finally {
      q.close();
    }
  }, 400_000);

  it('a running run: Follow Log from the view, followed again after a window reload, stopped with Ctrl+C in its terminal', async () => {
    const config = path.join(tmp, 'long.json');
    writeFileSync(config, JSON.stringify({ max_steps: 3000 }));
    await cli('train', '--db', db, '--host', sshd!.alias, '--ssh-config', sshd!.config, '--remote-dir', base, '--python', process.env.PAIRFORGE_SSH_TRAINER_PYTHON || path.join(realpathSync(path.dirname(path.dirname(trainer.python!))), 'bin', path.basename(trainer.python!)), '--tiny', '--setup', 'export OMP_NUM_THREADS=1', '--config', config, '--name', 'long-run', '--detach');
    await step('Follow Log on the running run', async (p) => {
      const view = p.locator('.pane', { has: p.locator('.pane-header', { hasText: 'Training Runs' }) });
      if ((await view.count()) === 0) await p.locator('.activitybar .action-item a[aria-label^="PairForge"]').click();
      await view.locator('.pane-header').hover();
      await view.locator('.pane-header .actions .action-label[aria-label="Refresh Training Runs"]').click();
      const row = view.locator('.monaco-list-row', { hasText: 'long-run' }).first();
      await row.waitFor({ timeout: 30_000 });
      await row.hover();
      await row.locator('.actions .action-label[aria-label="Follow Training Log"]').click();
      for (let i = 0; i < 240 && !/pairforge-train: step \d+\/3000/.test(await terminalText(p)); i++) await p.waitForTimeout(500);
      expect(await terminalText(p)).toMatch(/pairforge-train: step \d+\/3000/);
    });
    await step('reload the window: the run is followed again in a new terminal', async (p) => {
      await palette(p, 'Developer: Reload Window');
      await p.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 90_000 });
      await p.locator('.terminal-tab, .single-terminal-tab, .terminal-tabs-entry', { hasText: 'Follow Training Run long-run' }).first().waitFor({ timeout: 90_000 }).catch(() => undefined);
      for (let i = 0; i < 240 && !/pairforge-train: step \d+\/3000/.test(await terminalText(p)); i++) await p.waitForTimeout(500);
      expect(await terminalText(p)).toMatch(/pairforge-train: step \d+\/3000/);
    });
    await screenshot(session!.page, 'training-reattached.png');
    await step('Ctrl+C in the terminal asks, then stops the run on the host', async (p) => {
      await p.locator('.xterm').last().click();
      await p.keyboard.press('Control+C');
      const stop = p.locator('.monaco-dialog-box .monaco-button', { hasText: 'Stop Run' });
      await stop.waitFor({ timeout: 30_000 });
      expect(await p.locator('.monaco-dialog-box').innerText()).toContain("Stop the training run 'long-run' on pf-gpu?");
      await screenshot(p, 'training-stop-dialog.png');
      await stop.click();
      for (let i = 0; i < 240 && !/run 'long-run' stopped \(exit 143\)/.test(await terminalText(p)); i++) await p.waitForTimeout(500);
      expect(await terminalText(p)).toMatch(/run 'long-run' stopped \(exit 143\)/);
    });
    const q = openProject(db, { readonly: true });
    try {
      expect(q.db.prepare("SELECT status, exit_code FROM training_runs WHERE name = 'long-run'").get()).toEqual({ status: 'stopped', exit_code: 143 });
    } finally {
      q.close();
    }
  }, 400_000);
});
