// End to end in a real VS Code: the packaged .vsix installed into code-server, a Python file opened
// through Quick Open in Debian's Chromium (driven by playwright-core), and the block decorations
// and hover read off the rendered editor. Screenshots go to test-results/e2e/.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openWithQuickOpen, screenshot, startSession, type Session } from './kit';

const fileName = 'blocks_e2e.py';

// Blocks under the default structurecoder preset (1-based lines):
//   def total 1–8 (depth 3), for 3–7 (depth 2), if/else 4–7 (depth 1), while 12–13 (depth 1).
const source = [
  'def total(values):', //         1  def
  '    acc = 0', //                 2
  '    for v in values:', //        3  for
  '        if v > 0:', //           4  if
  '            acc += v', //        5
  '        else:', //               6
  '            acc -= 1', //        7
  '    return acc', //              8
  '', //                            9
  '', //                           10
  'count = 0', //                  11
  'while count < 3:', //           12 while
  '    count += 1', //             13
  '',
].join('\n');
const blockFirstLines = new Map([
  [1, 'def'],
  [3, 'for'],
  [4, 'if'],
  [12, 'while'],
]);
const tintedLines = [1, 2, 3, 4, 5, 6, 7, 8, 12, 13];
const plainLines = [9, 10, 11];

/** Per rendered line: gutter-icon background images and non-transparent decoration backgrounds.
 * Runs in the page (a string, since the project compiles without the DOM lib). */
const readDecorationsInPage = `(() => {
  const transparent = (c) => !c || c === 'transparent' || /rgba\\(.*,\\s*0\\)$/.test(c);
  const editor = document.querySelector('.monaco-editor');
  const byTop = new Map();
  for (const row of editor.querySelectorAll('.margin-view-overlays > div')) {
    const n = Number((row.querySelector('.line-numbers')?.textContent ?? '').trim());
    if (n) byTop.set(row.style.top, { line: n, gutter: [], tints: [] });
  }
  // Glyph-margin decorations (gutterIconPath) are absolutely placed widgets with the line's top.
  for (const el of editor.querySelectorAll('.glyph-margin-widgets .cgmr')) {
    const entry = byTop.get(el.style.top);
    const bg = getComputedStyle(el).backgroundImage;
    if (entry && bg && bg !== 'none') entry.gutter.push(bg);
  }
  for (const row of editor.querySelectorAll('.view-overlays > div')) {
    const entry = byTop.get(row.style.top);
    if (!entry) continue;
    for (const el of row.querySelectorAll('.cdr')) {
      const bg = getComputedStyle(el).backgroundColor;
      if (!transparent(bg)) entry.tints.push(bg);
    }
  }
  return [...byTop.values()];
})()`;

interface RenderedLine {
  line: number;
  gutter: string[];
  tints: string[];
}

describe('PairForge in code-server (real VS Code)', () => {
  let tmp = '';
  let session: Session | undefined;

  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'pairforge-e2e-'));
    const workspace = path.join(tmp, 'workspace');
    mkdirSync(workspace);
    writeFileSync(path.join(workspace, fileName), source);
    session = await startSession(tmp, workspace, { 'editor.hover.delay': 150 });
  }, 300_000);

  afterAll(async () => {
    await session?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  // Any failed test (a timeout or an assertion) leaves a screenshot of the page as it was.
  beforeEach(({ task, onTestFailed }) => {
    onTestFailed(async () => {
      await screenshot(session?.page, `failure-${task.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}.png`);
    });
  });

  function step<T>(name: string, body: (p: Page) => Promise<T>): Promise<T> {
    if (!session) throw new Error('code-server and the browser did not start (see beforeAll)');
    return session.step(name, body);
  }

  it('shows the workbench and opens the Python file through Quick Open', async () => {
    await step('quick-open', (p) => openWithQuickOpen(p, fileName, 'def total(values):'));
  }, 240_000);

  it('decorates blocks: gutter icon by kind on first lines, depth tint on block lines', async () => {
    const lines = await step('decorations', async (p) => {
      let last: RenderedLine[] = [];
      // The engine server starts, parses and pushes the blocks; poll until they are drawn.
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline) {
        last = (await p.evaluate(readDecorationsInPage)) as RenderedLine[];
        const byLine = new Map(last.map((l) => [l.line, l]));
        const ready = [...blockFirstLines.keys()].every((n) => (byLine.get(n)?.gutter.length ?? 0) > 0) &&
          tintedLines.every((n) => (byLine.get(n)?.tints.length ?? 0) > 0);
        if (ready) break;
        await p.waitForTimeout(500);
      }
      await screenshot(p, 'blocks.png');
      return last;
    });
    const byLine = new Map(lines.map((l) => [l.line, l]));
    for (const [n, kind] of blockFirstLines) {
      const l = byLine.get(n);
      expect(l, `line ${n} is rendered`).toBeDefined();
      expect(l?.gutter.length, `gutter icon on line ${n}`).toBe(1);
      const image = decodeURIComponent(l?.gutter[0] ?? '');
      expect(image, `gutter icon of line ${n} is ${kind}.svg`).toMatch(new RegExp(`/media/gutter/${kind}\\.svg`));
    }
    // The icon is served: code-server answers its resource URL with the SVG.
    const iconUrl = /url\("?([^")]+)"?\)/.exec(byLine.get(1)?.gutter[0] ?? '')?.[1];
    expect(iconUrl, 'gutter icon URL').toBeDefined();
    const icon = await fetch(iconUrl ?? '');
    expect(icon.status).toBe(200);
    expect(await icon.text()).toContain('<svg');
    for (const n of [2, 5, 6, 7, 8, 13, ...plainLines]) {
      expect(byLine.get(n)?.gutter ?? [], `no gutter icon on line ${n}`).toEqual([]);
    }
    for (const n of tintedLines) expect(byLine.get(n)?.tints.length ?? 0, `tint on line ${n}`).toBeGreaterThan(0);
    for (const n of plainLines) expect(byLine.get(n)?.tints ?? [], `no tint on line ${n}`).toEqual([]);
    // Depth is visible: line 2 sits only in the def (depth 3), line 13 only in the while (depth 1).
    expect(byLine.get(2)?.tints).not.toEqual(byLine.get(13)?.tints);
  }, 120_000);

  it('hovering the first line of a block shows kind, depth and line span', async () => {
    const texts = await step('hover', async (p) => {
      const line = p.locator('.monaco-editor .view-lines .view-line', { hasText: 'for v in values:' });
      const keyword = line.locator('span span', { hasText: /^for$/ }).first();
      const hover = p.locator('.monaco-hover:not(.hidden)');
      // Monaco renders the spaces of hover markdown as U+00A0; \s matches both.
      const expected = /for\s+block\s+\u00b7\s+depth\s+2\s+\u00b7\s+lines\s+3\u20137/;
      // Move onto the keyword (from elsewhere first, so a hover is triggered) until the hover shows.
      for (let attempt = 0; attempt < 5; attempt++) {
        await p.mouse.move(5, 5);
        await keyword.hover();
        try {
          await hover.filter({ hasText: expected }).first().waitFor({ state: 'visible', timeout: 5_000 });
          break;
        } catch {
          /* the server may still be starting; try again */
        }
      }
      await screenshot(p, 'hover.png');
      return hover.locator('.rendered-markdown p').allTextContents();
    });
    const rows = texts.flatMap((t) => t.split('\n')).map((t) => t.replace(/\u00a0/g, ' ').trim()).filter(Boolean);
    expect(rows).toContain('for block \u00b7 depth 2 \u00b7 lines 3\u20137');
  }, 120_000);
});
