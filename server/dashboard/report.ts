// `pairforge report`'s HTML: one self-contained file holding the dashboard's page (its script and
// style, inlined) and the figures (a JSON block), under a Content Security Policy that lets the
// page load nothing from anywhere: it opens offline, in any browser, and can be mailed as is.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { DashboardData } from '../protocol';

export interface ReportAssets {
  script: string;
  style: string;
}

/** The report page's bundle (webview/dashboard/report.ts, built by `npm run build` into
 * dist/webview/): beside the CLI bundle when built, else the repository's dist/. */
export function reportAssets(dirs: readonly string[] = [path.join(__dirname, 'webview'), path.resolve(__dirname, '..', '..', 'dist', 'webview')]): ReportAssets {
  for (const dir of dirs) {
    const script = path.join(dir, 'report.js');
    const style = path.join(dir, 'report.css');
    if (existsSync(script) && existsSync(style)) return { script: readFileSync(script, 'utf8'), style: readFileSync(style, 'utf8') };
  }
  throw new Error(`the report's page (report.js, report.css) is not built: looked in ${dirs.join(', ')} (run \`npm run build\`)`);
}

const sha256 = (s: string) => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`;

/** Text that may sit inside <script>/<style> without ending it early; a source map comment is
 * dropped (there is no map beside a mailed file, and nothing may be fetched). */
function inlineable(code: string): string {
  return code.replace(/\n?\/[/*]# sourceMappingURL=[^\n]*\s*$/, '').replace(/<\/(script|style)/gi, '<\\/$1');
}

/** JSON that is safe inside a <script type="application/json"> block (no `</script>`, no `<!--`). */
export function embeddedJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function reportHtml(data: DashboardData, assets: ReportAssets): string {
  const script = inlineable(assets.script);
  const style = inlineable(assets.style);
  // Scripts and styles only by hash: the two inlined here. No default source, no connections.
  const csp = [
    "default-src 'none'",
    `script-src ${sha256(script)}`,
    `style-src ${sha256(style)}`,
    'img-src data: blob:',
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="PairForge">
<title>PairForge report: ${escapeHtml(path.basename(data.project))}</title>
<style>${style}</style>
</head>
<body>
<script type="application/json" id="pf-data">${embeddedJson(data)}</script>
<script>${script}</script>
</body>
</html>
`;
}
