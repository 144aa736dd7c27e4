// The review room's webview in real Chromium with a stub host: the built bundle (dist/webview/)
// served on loopback under the room's own page and Content Security Policy
// (extension/reviewHtml.ts), `acquireVsCodeApi` replaced by a recorder, and the host's answers
// given by the test. Used by the webview tests and the review-latency benchmark.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { reviewHtml } from '../../extension/reviewHtml';
import type { FromWebview, Method, Requests, ToWebview } from '../../webview/contract';

export const CHROMIUM = process.env.PAIRFORGE_CHROMIUM ?? '/usr/bin/chromium';

/** How long a test waits for a message from the room. */
const WAIT_MS = 10_000;
const TYPES: Record<string, string> = { '.js': 'text/javascript', '.css': 'text/css', '.ttf': 'font/ttf', '.map': 'application/json' };

export type Answer = { [M in Method]?: (params: Requests[M]['params']) => Requests[M]['result'] | Promise<Requests[M]['result']> };

export interface RoomPage {
  page: Page;
  /** Every message the room posted, in order. */
  posted: FromWebview[];
  /** Content Security Policy violations the page reported. */
  violations: string[];
  /** Dialogs (alert, confirm) the page opened: an injection would show here. */
  dialogs: string[];
  send(m: ToWebview): Promise<void>;
  /** Waits until a message posted at index `from` or later (default: any) matches. */
  waitFor(pred: (m: FromWebview) => boolean, from?: number): Promise<FromWebview>;
  /** Presses `key` and waits for a message posted after the press that matches: an earlier
   * message that would match too (the room was on pair 2 before) does not count. */
  press(key: string, pred: (m: FromWebview) => boolean): Promise<FromWebview>;
  close(): Promise<void>;
}

/** Serves dist/webview/ (`dist`) and a webview's page, built by `page` from the server's base URL
 * and a nonce, with a recorder in place of VS Code's webview API loaded first (every webview of
 * the extension: the review room, the dashboard). */
export async function serveWebview(dist: string, page: (base: string, nonce: string) => string): Promise<{ url: string; close(): Promise<void>; nonce: string; html: string }> {
  const nonce = randomBytes(16).toString('base64');
  let html = '';
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(html);
      return;
    }
    const file = path.join(dist, path.basename(url.pathname));
    try {
      const body = readFileSync(file);
      res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  html = page(base, nonce);
  // The stub host: a recorder in place of VS Code's webview API, loaded first, under the nonce.
  const stub = `<script nonce="${nonce}">
    window.__state = undefined;
    window.acquireVsCodeApi = () => ({
      postMessage: (m) => window.__hostReceive(JSON.parse(JSON.stringify(m))),
      getState: () => window.__state,
      setState: (s) => { window.__state = s; },
    });
    document.addEventListener('securitypolicyviolation', (e) => window.__hostViolation(e.violatedDirective + ' ' + e.blockedURI));
  </script>`;
  html = html.replace('<script nonce=', `${stub}\n<script nonce=`);
  return { url: `${base}/`, nonce, html, close: () => new Promise((r) => server.close(() => r())) };
}

/** Serves dist/webview/ and the room's page; `dist` is the build folder. */
function serve(dist: string): ReturnType<typeof serveWebview> {
  return serveWebview(dist, (base, nonce) => reviewHtml({ cspSource: base, nonce, script: `${base}/review.js`, style: `${base}/review.css`, worker: `${base}/editor.worker.js` }));
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}

/** Opens the room in a new page of `browser`; `answer` serves its requests; `theme` is the body
 * class VS Code would set. */
export async function openRoom(browser: Browser, dist: string, answer: Answer, opts: { theme?: 'vscode-light' | 'vscode-dark'; width?: number; height?: number } = {}): Promise<RoomPage> {
  const site = await serve(dist);
  const page = await browser.newPage({ viewport: { width: opts.width ?? 1400, height: opts.height ?? 900 } });
  const posted: FromWebview[] = [];
  const violations: string[] = [];
  const dialogs: string[] = [];
  const waiters: { pred: (m: FromWebview) => boolean; resolve: (m: FromWebview) => void }[] = [];
  page.on('dialog', (d) => {
    dialogs.push(`${d.type()}: ${d.message()}`);
    void d.dismiss();
  });
  const send = async (m: ToWebview): Promise<void> => {
    await page.evaluate(`window.postMessage(${JSON.stringify(m)}, '*')`);
  };
  await page.exposeFunction('__hostViolation', (v: string) => void violations.push(v));
  await page.exposeFunction('__hostReceive', async (m: FromWebview) => {
    posted.push(m);
    for (const w of [...waiters]) {
      if (w.pred(m)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
    if (m.type !== 'request') return;
    const handler = answer[m.method] as ((p: unknown) => unknown) | undefined;
    try {
      if (!handler) throw new Error(`the stub host has no answer for ${m.method}`);
      const result = await handler(m.params);
      await send({ type: 'response', id: m.id, result });
    } catch (e) {
      await send({ type: 'response', id: m.id, error: (e as Error).message });
    }
  });
  const waitFor = (pred: (m: FromWebview) => boolean, from = 0): Promise<FromWebview> => {
    const hit = posted.slice(from).find(pred);
    if (hit) return Promise.resolve(hit);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no such message from the room within ${WAIT_MS} ms; posted: ${JSON.stringify(posted.map((x) => (x.type === 'request' ? x.method : x.type)))}`)), WAIT_MS);
      waiters.push({ pred, resolve: (m) => (clearTimeout(timer), resolve(m)) });
    });
  };
  await page.goto(site.url);
  if (opts.theme) await page.evaluate(`document.body.classList.add(${JSON.stringify(opts.theme)})`);
  return {
    page,
    posted,
    violations,
    dialogs,
    send,
    waitFor,
    async press(key, pred) {
      const from = posted.length;
      await page.keyboard.press(key);
      return waitFor(pred, from);
    },
    async close() {
      await page.close();
      await site.close();
    },
  };
}
