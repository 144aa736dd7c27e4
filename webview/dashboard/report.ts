// `pairforge report`'s page: the dashboard's charts drawn from the figures embedded in the HTML
// file (a JSON script block), with the report's own light theme and nothing loaded from anywhere.
// A chart's PNG/SVG button downloads the image.
import type { DashboardData } from './contract';
import { DashboardView } from './render';
import './dashboard.css';

function download(name: string, url: string): void {
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
}

const holder = document.getElementById('pf-data');
const root = document.createElement('div');
root.className = 'pf-dash pf-report';
document.body.append(root);
const view = new DashboardView(root, {
  state: {},
  save: (name, format, content) => {
    if (format === 'png') return download(name, content);
    const url = URL.createObjectURL(new Blob([content], { type: 'image/svg+xml' }));
    download(name, url);
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  },
});
try {
  view.show(JSON.parse(holder?.textContent ?? 'null') as DashboardData | null, holder ? '' : 'This report holds no figures.');
} catch (e) {
  view.show(null, `The figures in this file do not parse: ${(e as Error).message}`);
}
