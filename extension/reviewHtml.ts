// The review room's page (no `vscode` import: the webview tests load the same page in Chromium).

/** The panel's HTML: scripts only by nonce, styles and fonts only from the bundle folder (plus
 * inline styles, which Monaco sets at run time; they cannot run code), Monaco's worker from a blob,
 * nothing from the network. */
export function reviewHtml(opts: { cspSource: string; nonce: string; script: string; style: string; worker: string }): string {
  const csp = [
    "default-src 'none'",
    `script-src 'nonce-${opts.nonce}'`,
    `style-src ${opts.cspSource} 'unsafe-inline'`,
    `font-src ${opts.cspSource} data:`,
    `img-src ${opts.cspSource} data:`,
    `connect-src ${opts.cspSource}`,
    'worker-src blob:',
    "base-uri 'none'",
    "form-action 'none'",
    "frame-src 'none'",
    "object-src 'none'",
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="${opts.style}">
<title>PairForge: Review Pairs</title>
</head>
<body data-worker-url="${opts.worker}">
<script nonce="${opts.nonce}" src="${opts.script}"></script>
</body>
</html>`;
}
