// Shared pieces of the code-server end-to-end tests: a fresh .vsix, Chromium, screenshots.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { codeServerInstalled } from '../../scripts/vscode/install-code-server.mjs';
import { launchCodeServer, type RunningCodeServer } from '../../scripts/vscode/launch.mjs';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const vsix = path.join(root, 'dist', 'pairforge.vsix');
export const chromiumPath = process.env.PAIRFORGE_CHROMIUM ?? '/usr/bin/chromium';
export const artifacts = path.join(root, 'test-results', 'e2e');

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
export function ensureFreshVsix(): void {
  const sources = Math.max(
    newestMtime(path.join(root, 'extension'), ['.ts']),
    newestMtime(path.join(root, 'server'), ['.ts', '.py']),
    newestMtime(path.join(root, 'webview'), ['.ts', '.css']),
    newestMtime(path.join(root, 'media'), ['.svg']),
    statSync(path.join(root, 'package.json')).mtimeMs,
  );
  if (existsSync(vsix) && statSync(vsix).mtimeMs >= sources) return;
  const r = spawnSync('npm', ['run', 'package'], { cwd: root, encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) throw new Error(`npm run package failed (exit ${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
}

export async function screenshot(page: Page | undefined, name: string): Promise<void> {
  if (!page) return;
  mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: path.join(artifacts, name) }).catch(() => undefined);
}

export function launchChromium(): Promise<Browser> {
  if (!existsSync(chromiumPath)) throw new Error(`${chromiumPath} is missing: run .ci/run, or apt-get install -y --no-install-recommends chromium`);
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}

export interface Session {
  server: RunningCodeServer;
  browser: Browser;
  page: Page;
  /** Runs a named step on the page; a failure names the step and the code-server log. */
  step<T>(name: string, body: (p: Page) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** code-server on `workspace` with the fresh .vsix and `settings`, and Chromium on its folder URL. */
export async function startSession(tmp: string, workspace: string, settings: Record<string, unknown>): Promise<Session> {
  if (!codeServerInstalled()) throw new Error('code-server is not installed in .cache/code-server: run `node scripts/vscode/install-code-server.mjs` (or .ci/run)');
  ensureFreshVsix();
  const server = await launchCodeServer({
    userDataDir: path.join(tmp, 'user-data'),
    extensionsDir: path.join(tmp, 'extensions'),
    workspace,
    vsix,
    // The engine server runs on this Node (20), whose ABI matches dist/better_sqlite3.node.
    settings: { 'pairforge.server.runtime': process.execPath, ...settings },
    timeoutMs: 90_000,
  });
  let browser: Browser;
  try {
    browser = await launchChromium();
  } catch (err) {
    await server.stop();
    throw err;
  }
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.goto(server.folderUrl);
  return {
    server,
    browser,
    page,
    async step(name, body) {
      try {
        return await body(page);
      } catch (err) {
        throw new Error(`${name}: ${err instanceof Error ? err.message : String(err)}\ncode-server log: ${server.logFile}`, { cause: err });
      }
    },
    async close() {
      await browser.close().catch(() => undefined);
      await server.stop();
    },
  };
}

/** Waits for the workbench and the explorer row of `fileName`, then opens it with Quick Open and
 * waits until the editor shows `text`. */
export async function openWithQuickOpen(p: Page, fileName: string, text: string): Promise<void> {
  await p.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 90_000 });
  // The explorer lists the workspace file once the remote file system is up.
  await p.locator('.explorer-folders-view .monaco-list-row', { hasText: fileName }).waitFor({ timeout: 60_000 });
  await p.locator('.monaco-workbench .part.editor').click();
  await p.keyboard.press('Control+P');
  const input = p.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: 15_000 });
  await input.fill(fileName);
  await p.locator('.quick-input-list .monaco-list-row', { hasText: fileName }).first().waitFor({ timeout: 15_000 });
  await p.keyboard.press('Enter');
  await p.locator('.monaco-editor .view-lines', { hasText: text }).waitFor({ timeout: 30_000 });
}
