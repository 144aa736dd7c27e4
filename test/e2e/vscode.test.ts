// End to end in a real VS Code: the packaged .vsix installed into code-server, a Python file opened
// through Quick Open in Debian's Chromium (driven by playwright-core), and the block decorations
// and hover read off the rendered editor. Screenshots go to test-results/e2e/.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { codeServerInstalled } from '../../scripts/vscode/install-code-server.mjs';
import { launchCodeServer, type RunningCodeServer } from '../../scripts/vscode/launch.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const vsix = path.join(root, 'dist', 'pairforge.vsix');
const chromiumPath = process.env.PAIRFORGE_CHROMIUM ?? '/usr/bin/chromium';
const artifacts = path.join(root, 'test-results', 'e2e');
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

function newestMtime(dir: string, exts: string[]): number {
  let newest = 0;
  if (!existsSync(dir)) return newest;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !exts.some((e) => entry.name.endsWith(e))) continue;
    newest = Math.max(newest, statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

/** Builds dist/pairforge.vsix when it is missing or older than the sources or the manifest. */
function ensureFreshVsix(): void {
  const sources = Math.max(
    newestMtime(path.join(root, 'extension'), ['.ts']),
    newestMtime(path.join(root, 'server'), ['.ts']),
    newestMtime(path.join(root, 'media'), ['.svg']),
    statSync(path.join(root, 'package.json')).mtimeMs,
  );
  if (existsSync(vsix) && statSync(vsix).mtimeMs >= sources) return;
  const r = spawnSync('npm', ['run', 'package'], { cwd: root, encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) throw new Error(`npm run package failed (exit ${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
}

async function screenshot(page: Page | undefined, name: string): Promise<void> {
  if (!page) return;
  mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: path.join(artifacts, name) }).catch(() => undefined);
}

describe('PairForge in code-server (real VS Code)', () => {
  let tmp = '';
  let server: RunningCodeServer | undefined;
  let browser: Browser | undefined;
  let page: Page | undefined;

  beforeAll(async () => {
    if (!existsSync(chromiumPath)) {
      throw new Error(`${chromiumPath} is missing: run .ci/run, or apt-get install -y --no-install-recommends chromium`);
    }
    if (!codeServerInstalled()) {
      throw new Error('code-server is not installed in .cache/code-server: run `node scripts/vscode/install-code-server.mjs` (or .ci/run)');
    }
    ensureFreshVsix();
    tmp = mkdtempSync(path.join(os.tmpdir(), 'pairforge-e2e-'));
    const workspace = path.join(tmp, 'workspace');
    mkdirSync(workspace);
    writeFileSync(path.join(workspace, fileName), source);
    server = await launchCodeServer({
      userDataDir: path.join(tmp, 'user-data'),
      extensionsDir: path.join(tmp, 'extensions'),
      workspace,
      vsix,
      settings: {
        // The engine server runs on this Node (20), whose ABI matches dist/better_sqlite3.node.
        'pairforge.server.runtime': process.execPath,
        'editor.hover.delay': 150,
      },
      timeoutMs: 90_000,
    });
    browser = await chromium.launch({
      executablePath: chromiumPath,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
        '--disable-sync', '--no-first-run', '--disable-quic'],
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(server.folderUrl);
  }, 300_000);

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await server?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  // Any failed test (a timeout or an assertion) leaves a screenshot of the page as it was.
  beforeEach(({ task, onTestFailed }) => {
    onTestFailed(async () => {
      await screenshot(page, `failure-${task.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}.png`);
    });
  });

  async function step<T>(name: string, body: (p: Page) => Promise<T>): Promise<T> {
    if (!page) throw new Error('the browser page did not open (see beforeAll)');
    try {
      return await body(page);
    } catch (err) {
      const log = server ? `\ncode-server log: ${server.logFile}` : '';
      throw new Error(`${name}: ${err instanceof Error ? err.message : String(err)}${log}`, { cause: err });
    }
  }

  it('shows the workbench and opens the Python file through Quick Open', async () => {
    await step('workbench', async (p) => {
      await p.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 90_000 });
      // The explorer lists the workspace file once the remote file system is up.
      await p.locator('.explorer-folders-view .monaco-list-row', { hasText: fileName }).waitFor({ timeout: 60_000 });
    });
    await step('quick-open', async (p) => {
      await p.locator('.monaco-workbench .part.editor').click();
      await p.keyboard.press('Control+P');
      const input = p.locator('.quick-input-widget input');
      await input.waitFor({ state: 'visible', timeout: 15_000 });
      await input.fill(fileName);
      await p.locator('.quick-input-list .monaco-list-row', { hasText: fileName }).first().waitFor({ timeout: 15_000 });
      await p.keyboard.press('Enter');
      await p.locator('.monaco-editor .view-lines', { hasText: 'def total(values):' }).waitFor({ timeout: 30_000 });
    });
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
