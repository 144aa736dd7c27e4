// The dashboard webview: the host (extension/dashboard.ts) sends the figures whenever the project
// changed; a click on a mark or a row asks the host to open what it stands for; a chart's PNG/SVG
// button hands the image to the host, which asks where to save it. It talks only to the extension,
// through webview/dashboard/contract.ts.
import type { FromDashboard, ToDashboard } from './contract';
import type { ChartState } from './charts';
import { DashboardView } from './render';
import './dashboard.css';

interface VsCodeApi {
  postMessage(m: FromDashboard): void;
  getState(): ChartState | undefined;
  setState(s: ChartState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const state: ChartState = { ...(vscode.getState() ?? {}) };
const root = document.createElement('div');
root.className = 'pf-dash';
document.body.append(root);

const view = new DashboardView(root, {
  state,
  open: (target) => vscode.postMessage({ type: 'open', target }),
  save: (name, format, content) => vscode.postMessage({ type: 'save', name, format, content }),
  saveState: (s) => vscode.setState(s),
  refresh: () => vscode.postMessage({ type: 'refresh' }),
});
view.show(null, 'Loading the figures…');

new MutationObserver(() => view.retheme()).observe(document.body, { attributes: true, attributeFilter: ['class'] });

window.addEventListener('message', (event: MessageEvent<ToDashboard>) => {
  const m = event.data;
  switch (m.type) {
    case 'data':
      view.show(m.data, m.error ?? (m.data ? '' : 'No project file yet: import a dataset first (PairForge: Import Dataset...).'));
      return;
    case 'saved':
      view.say(m.error ? `not saved: ${m.error}` : m.file ? `saved ${m.file}` : '');
      return;
  }
});

vscode.postMessage({ type: 'ready' });
