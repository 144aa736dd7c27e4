// The training metrics panel's page (no `vscode` import: a test loads the same page in Chromium).

/** The panel's HTML: its script only by nonce, its style sheet from the bundle folder, nothing
 * from the network, no eval. Inline styles are allowed (ECharts' tooltip writes style attributes;
 * they cannot run code); its tooltips hold only the plots' own series names and numbers. */
export function metricsHtml(opts: { cspSource: string; nonce: string; script: string; style: string }): string {
  const csp = [
    "default-src 'none'",
    `script-src 'nonce-${opts.nonce}'`,
    `style-src ${opts.cspSource} 'unsafe-inline'`,
    `font-src ${opts.cspSource}`,
    `img-src ${opts.cspSource} data:`,
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
<title>PairForge: Training Metrics</title>
</head>
<body>
<script nonce="${opts.nonce}" src="${opts.script}"></script>
</body>
</html>`;
}
