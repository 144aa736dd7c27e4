// End to end in a real VS Code (code-server + Chromium): a Python file linked to a demo problem,
// its "Run Tests" code lens clicked, and the failing test's input / expected / actual output read
// off the Problems panel (the diagnostics PairForge puts on the document). Then the Pairs view:
// a pair accepted with its inline button. Screenshots go to test-results/e2e/.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startLocalVllm, type LocalVllm } from '../../server/localvllm/server';
import { openProject } from '../../server/store/db';
import { addPairs, pairOnTarget } from '../support/fixtures';
import { ensureFreshVsix, openWithQuickOpen, root, screenshot, startSession, type Session } from './kit';

const fileName = 'sum_even.py';
// Forgets negative even numbers: tests 1 and 3 pass, test 2 ("3 / -2 7 8") expects 6 and gets 8.
const source = ['# pairforge-problem: demo-apps/9001', 'n = int(input())', 'nums = list(map(int, input().split()))', 'print(sum(x for x in nums if x % 2 == 0 and x > 0))', ''].join('\n');

/** Two pending pairs on the `if` block of problem 9001's first solution, written with the fixture
 * builders (the pairs stage's store API, as `pairforge pairs` writes them). */
function writeTwoPairs(db: string): void {
  const p = openProject(db);
  try {
    const t = p.db
      .prepare<[], { id: number }>(
        `SELECT t.id FROM targets t JOIN solutions s ON s.id = t.solution_id
         JOIN problems pr ON pr.id = s.problem_id WHERE pr.external_id = '9001' AND s.ordinal = 0 AND t.kind = 'if'`,
      )
      .get();
    if (!t) throw new Error('no if target for problem 9001: did pairforge targets run?');
    const pair = (i: number, rejected: string) => pairOnTarget(p, t.id, { pairKey: `e2e:${t.id}:${i}`, rejected, provenance: { e2e: true }, editDistance: i });
    addPairs(p, [pair(1, '    if x % 2 == 1:\n        total += x'), pair(2, '    if x % 2 == 0:\n        total -= x')]);
  } finally {
    p.close();
  }
}

describe('PairForge editor features in code-server (real VS Code)', () => {
  let tmp = '';
  let session: Session | undefined;
  let local: LocalVllm | undefined;

  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'pairforge-e2e-editor-'));
    const workspace = path.join(tmp, 'workspace');
    mkdirSync(workspace);
    writeFileSync(path.join(workspace, fileName), source);
    writeFileSync(path.join(workspace, 'unlinked.py'), 'n = int(input())\nprint(n)\n');
    // The project (default path): the demo APPS dataset imported with the CLI (the same engine).
    ensureFreshVsix();
    const db = path.join(workspace, '.pairforge', 'project.sqlite');
    const r = spawnSync(process.execPath, [path.join(root, 'dist/cli.js'), 'import', path.join(root, 'media/demo/datasets/demo-apps.jsonl'), '--db', db], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`pairforge import failed (exit ${r.status ?? r.signal}): ${r.stderr}`);
    const t = spawnSync(process.execPath, [path.join(root, 'dist/cli.js'), 'targets', '--db', db], { encoding: 'utf8' });
    if (t.status !== 0) throw new Error(`pairforge targets failed (exit ${t.status ?? t.signal}): ${t.stderr}`);
    writeTwoPairs(db);
    // The project's own vLLM-compatible server stands in for a GPU endpoint (a test setting, not
    // a default: pairforge.sampling.endpoints is empty unless set).
    local = await startLocalVllm({ db, seed: 11 });
    session = await startSession(tmp, workspace, {
      'pairforge.exec.workers': 1,
      'pairforge.sampling.endpoints': [{ url: local.url, model: local.model }],
      'pairforge.sampling.n': 3,
    });
  }, 300_000);

  afterAll(async () => {
    await session?.close();
    await local?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  beforeEach(({ task, onTestFailed }) => {
    onTestFailed(async () => {
      await screenshot(session?.page, `failure-editor-${task.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}.png`);
    });
  });

  function step<T>(name: string, body: (p: Page) => Promise<T>): Promise<T> {
    if (!session) throw new Error('code-server and the browser did not start (see beforeAll)');
    return session.step(name, body);
  }

  it('clicking the "Run Tests" code lens shows the failing test\'s input, expected and actual output', async () => {
    await step('open the linked file', (p) => openWithQuickOpen(p, fileName, 'pairforge-problem'));
    await step('click the lens', async (p) => {
      const lens = p.locator('.monaco-editor .codelens-decoration a', { hasText: 'Run Tests (3 tests)' });
      await lens.first().waitFor({ state: 'visible', timeout: 60_000 });
      await screenshot(p, 'editor-lens.png');
      await lens.first().click();
    });
    const problems = await step('read the Problems panel', async (p) => {
      // The run ends with a warning notification; the Problems panel lists the diagnostics.
      await p.locator('.notifications-toasts', { hasText: '2 of 3 tests pass' }).waitFor({ timeout: 90_000 });
      await p.keyboard.press('Control+Shift+M');
      const rows = p.locator('.markers-panel .monaco-list-row');
      await rows.filter({ hasText: 'wrong answer' }).first().waitFor({ timeout: 30_000 });
      await screenshot(p, 'editor-run-tests.png');
      return (await p.locator('.markers-panel').innerText()).replace(/\u00a0/g, ' ');
    });
    expect(problems).toMatch(/test 2 \(stdio\): wrong answer/);
    expect(problems).toContain('input: 3⏎-2 7 8');
    expect(problems).toContain('expected: 6');
    expect(problems).toContain('actual: 8');
    expect(problems).not.toMatch(/test [13] \(stdio\)/);

    // The same run in VS Code's Testing view: the document's problem with its three tests.
    const testing = await step('read the Testing view', async (p) => {
      await p.locator('.activitybar .action-item a[aria-label^="Testing"]').click();
      const tree = p.locator('.test-explorer');
      await tree.locator('.monaco-list-row', { hasText: 'demo-apps/9001' }).first().waitFor({ timeout: 30_000 });
      const root = tree.locator('.monaco-list-row', { hasText: 'demo-apps/9001' }).first();
      if ((await root.getAttribute('aria-expanded')) === 'false') await root.click();
      await tree.locator('.monaco-list-row', { hasText: 'test 3' }).first().waitFor({ timeout: 15_000 });
      await screenshot(p, 'editor-testing-view.png');
      return tree.locator('.monaco-list-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('aria-label') ?? r.textContent ?? ''));
    });
    const row = (name: string) => testing.find((t) => t.includes(name)) ?? '';
    expect(row('test 1 (stdio)')).toMatch(/passed/i);
    expect(row('test 2 (stdio)')).toMatch(/failed/i);
    expect(row('test 3 (stdio)')).toMatch(/passed/i);
  }, 240_000);

  it('accepts a pair from the Pairs view with its inline button', async () => {
    const rows = await step('open the Pairs view', async (p) => {
      await p.keyboard.press('Escape');
      await p.locator('.activitybar .action-item a[aria-label^="PairForge"]').click();
      const view = p.locator('.pane', { has: p.locator('.pane-header', { hasText: 'Pairs' }) });
      // Expand the Pairs section when it is collapsed.
      const header = view.locator('.pane-header');
      if ((await header.getAttribute('aria-expanded')) === 'false') await header.click();
      const problem = view.locator('.monaco-list-row', { hasText: 'demo-apps' });
      await problem.first().waitFor({ timeout: 30_000 });
      await problem.first().click();
      const group = view.locator('.monaco-list-row', { hasText: 'if, depth 1' });
      await group.first().waitFor({ timeout: 15_000 });
      await group.first().click();
      return view;
    });
    await step('accept the first pair', async (p) => {
      const pair = rows.locator('.monaco-list-row', { hasText: 'if x % 2 == 1:' }).first();
      await pair.waitFor({ timeout: 15_000 });
      await pair.hover();
      await pair.locator('.actions .action-label[aria-label="Accept Pair"]').click();
      await rows.locator('.monaco-list-row', { hasText: '1 accepted' }).first().waitFor({ timeout: 15_000 });
      await screenshot(p, 'editor-pairs.png');
    });
    const text = (await rows.innerText()).replace(/\u00a0/g, ' ');
    expect(text).toContain('2 pairs · 1 accepted · 1 pending');
    expect(text).toMatch(/if x % 2 == 1:\s*accepted · fim · distance 1/);
    expect(text).toMatch(/if x % 2 == 0:\s*pending · fim · distance 2/);
  }, 120_000);

  it('samples a block from its "Sample x3" code lens and lists the samples with their verdicts', async () => {
    await step('open solution 1 of problem 9001 from the Datasets view', async (p) => {
      const view = p.locator('.pane', { has: p.locator('.pane-header', { hasText: 'Datasets' }) });
      await view.locator('.monaco-list-row', { hasText: 'demo-apps' }).first().click();
      await view.locator('.monaco-list-row', { hasText: '9001' }).first().click();
      await view.locator('.monaco-list-row', { hasText: 'solution 1' }).first().click();
      await p.locator('.monaco-editor .view-lines', { hasText: 'total += x' }).waitFor({ timeout: 30_000 });
    });
    await step('click "Sample x3" on the if block', async (p) => {
      const lenses = p.locator('.monaco-editor .codelens-decoration a', { hasText: 'Sample x3' });
      await lenses.nth(1).waitFor({ state: 'visible', timeout: 60_000 });
      await screenshot(p, 'editor-sample-lenses.png');
      await lenses.nth(1).click();
      await p.locator('.notifications-toasts', { hasText: 'Sampling finished: 3 samples for 1 target' }).waitFor({ timeout: 90_000 });
    });
    const text = await step('read the Samples view', async (p) => {
      const view = p.locator('.pane', { has: p.locator('.pane-header', { hasText: 'Samples' }) });
      const header = view.locator('.pane-header');
      if ((await header.getAttribute('aria-expanded')) === 'false') await header.click();
      await view.locator('.monaco-list-row', { hasText: '#2' }).first().waitFor({ timeout: 30_000 });
      // The lens above the block now counts the samples.
      await p.locator('.monaco-editor .codelens-decoration a', { hasText: '3 samples' }).first().waitFor({ timeout: 30_000 });
      await screenshot(p, 'editor-samples.png');
      return (await view.innerText()).replace(/\u00a0/g, ' ');
    });
    expect(text).toMatch(/if block · lines 5–6\s*3 samples · \d pass/);
    const rows = text.split('\n').filter((l) => /^#\d/.test(l.trim()));
    // Numbered 1, 2, 3: the numbers the review room and the dashboard show for the same samples.
    expect(rows.map((l) => l.trim().split(' ')[0])).toEqual(['#1', '#2', '#3']);
    // Every sample was tested right away: each row names a verdict and the model.
    const verdicts = text.match(/(pass|wrong answer|runtime error|timeout|compile error|memory limit|output limit) · pairforge-local-vllm/g) ?? [];
    expect(verdicts).toHaveLength(3);

    // Selecting a sample opens a read-only diff: the golden program against the sample's.
    const diff = await step('open sample #1 as a diff', async (p) => {
      const view = p.locator('.pane', { has: p.locator('.pane-header', { hasText: 'Samples' }) });
      await view.locator('.monaco-list-row', { hasText: '#1' }).first().click();
      const editor = p.locator('.monaco-diff-editor');
      await editor.first().waitFor({ state: 'visible', timeout: 30_000 });
      await p.locator('.tab', { hasText: 'golden ↔ sample #1' }).first().waitFor({ timeout: 15_000 });
      await editor.locator('.editor.modified .view-lines', { hasText: 'print(total)' }).first().waitFor({ timeout: 15_000 });
      await screenshot(p, 'editor-sample-diff.png');
      return {
        original: (await editor.locator('.editor.original .view-lines').first().innerText()).replace(/\u00a0/g, ' '),
        modified: (await editor.locator('.editor.modified .view-lines').first().innerText()).replace(/\u00a0/g, ' '),
      };
    });
    expect(diff.original).toContain('if x % 2 == 0:');
    expect(diff.original).toContain('print(total)');
    expect(diff.modified).toContain('for x in nums:');
  }, 180_000);

  it('links a file to a problem with "Link File to Problem..." and offers Run Tests on it', async () => {
    await step('open the unlinked file', async (p) => {
      await p.keyboard.press('Escape');
      await p.keyboard.press('Control+Shift+E'); // back to the Explorer from the PairForge views
      await openWithQuickOpen(p, 'unlinked.py', 'print(n)');
    });
    await step('run the command and pick dataset and problem', async (p) => {
      await p.keyboard.press('Control+Shift+P');
      const input = p.locator('.quick-input-widget input');
      await input.waitFor({ state: 'visible', timeout: 15_000 });
      await input.fill('>PairForge: Link File to Problem');
      await p.locator('.quick-input-list .monaco-list-row', { hasText: 'Link File to Problem' }).first().click();
      await p.locator('.quick-input-list .monaco-list-row', { hasText: 'demo-apps' }).first().waitFor({ timeout: 15_000 });
      await p.locator('.quick-input-list .monaco-list-row', { hasText: 'demo-apps' }).first().click();
      await p.locator('.quick-input-list .monaco-list-row', { hasText: '9002' }).first().waitFor({ timeout: 15_000 });
      await p.locator('.quick-input-list .monaco-list-row', { hasText: '9002' }).first().click();
      await p.locator('.monaco-editor .view-lines', { hasText: '# pairforge-problem: demo-apps/9002' }).waitFor({ timeout: 15_000 });
      await p.locator('.monaco-editor .codelens-decoration a', { hasText: 'Run Tests (3 tests)' }).first().waitFor({ timeout: 30_000 });
      await screenshot(p, 'editor-linked.png');
    });
  }, 120_000);
});
