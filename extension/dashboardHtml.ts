// The dashboard's page (no `vscode` import: the webview tests load the same page in Chromium).

/** The panel's HTML: scripts only by nonce, the style sheet, images and fonts only from the bundle
 * folder, nothing from the network. ECharts draws on a canvas and sets element styles through the
 * DOM, which the policy allows without inline styles. */
export function dashboardHtml(opts: { cspSource: string; nonce: string; script: string; style: string }): string {
  const csp = [
    "default-src 'none'",
    `script-src 'nonce-${opts.nonce}'`,
    `style-src ${opts.cspSource}`,
    `font-src ${opts.cspSource}`,
    `img-src ${opts.cspSource} data: blob:`,
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
<title>PairForge: Dashboard</title>
</head>
<body>
<script nonce="${opts.nonce}" src="${opts.script}"></script>
</body>
</html>`;
}
