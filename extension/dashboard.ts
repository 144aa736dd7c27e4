// The dashboard's panel (dist/webview/dashboard.js) under a strict Content Security Policy,
// restored after a reload by its serializer. While it is visible it asks the engine every few
// seconds whether the project changed (a cheap question: the engine answers with the project's
// version and computes the figures only when it moved), so it follows the editor's jobs and the
// command line writing the same project file alike. A click on a mark opens the review room with
// that filter, the Datasets view, or the item; a chart's PNG/SVG button saves the image.
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { DashboardItemsRequest, DashboardRequest, type DashboardItemOpen } from '../server/protocol';
import type { DashboardData, FromDashboard, ItemsQuery, OpenTarget, ToDashboard } from '../webview/dashboard/contract';
import type { EngineClient } from './client';
import { itemsQuery, itemsTitle } from './dashboardItems';
import { dashboardHtml } from './dashboardHtml';
import type { ReviewRoom } from './review';
import { OPEN_SAMPLE_COMMAND } from './samplesView';
import { openStoredDocument } from './storeDocuments';

export const DASHBOARD_VIEW_TYPE = 'pairforge.dashboard';
/** How often a visible dashboard asks whether the project changed. */
const POLL_MS = 3_000;
/** The most items a mark's list shows. */
const ITEMS_LIMIT = 1000;

export class Dashboard implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private ready = false;
  private version: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly engine: EngineClient,
    private readonly review: ReviewRoom,
    private readonly output: vscode.OutputChannel,
  ) {
    this.disposables.push(
      vscode.window.registerWebviewPanelSerializer(DASHBOARD_VIEW_TYPE, {
        deserializeWebviewPanel: async (panel) => this.adopt(panel),
      }),
    );
  }

  /** Opens the dashboard (or brings it to the front). */
  open(): void {
    if (this.panel) {
      this.panel.reveal(vscode.ViewColumn.Active);
      return;
    }
    const panel = vscode.window.createWebviewPanel(DASHBOARD_VIEW_TYPE, 'PairForge: Dashboard', vscode.ViewColumn.Active, {
      enableScripts: true,
      localResourceRoots: [vscode.Uri.joinPath(this.context.extensionUri, 'dist', 'webview')],
    });
    this.adopt(panel);
  }

  /** The project changed (an editor job finished): show the new figures now. */
  refresh(): void {
    if (this.panel?.visible && this.ready) void this.update();
  }

  private adopt(panel: vscode.WebviewPanel): void {
    this.panel = panel;
    this.ready = false;
    this.version = undefined;
    const root = vscode.Uri.joinPath(this.context.extensionUri, 'dist', 'webview');
    panel.webview.options = { enableScripts: true, localResourceRoots: [root] };
    panel.iconPath = vscode.Uri.joinPath(this.context.extensionUri, 'media', 'icons', 'pairforge.svg');
    const asUri = (name: string) => panel.webview.asWebviewUri(vscode.Uri.joinPath(root, name)).toString();
    panel.webview.html = dashboardHtml({ cspSource: panel.webview.cspSource, nonce: randomBytes(16).toString('base64'), script: asUri('dashboard.js'), style: asUri('dashboard.css') });
    const subs = [
      panel.webview.onDidReceiveMessage((m: FromDashboard) => void this.receive(m)),
      panel.onDidChangeViewState(() => this.schedule()),
      panel.onDidDispose(() => {
        subs.forEach((s) => s.dispose());
        if (this.panel === panel) {
          this.panel = undefined;
          this.schedule();
        }
      }),
    ];
  }

  private post(m: ToDashboard): void {
    if (this.panel && this.ready) void this.panel.webview.postMessage(m);
  }

  /** Polls while the panel is visible, stops when it is hidden or closed. */
  private schedule(): void {
    const want = this.panel?.visible === true && this.ready;
    if (want && !this.timer) this.timer = setInterval(() => void this.update(), POLL_MS);
    if (!want && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  /** Asks the engine for figures newer than the ones shown; one question at a time. */
  private update(force = false): Promise<void> {
    if (this.inFlight) return this.inFlight;
    this.inFlight = (async () => {
      try {
        const client = await this.engine.require();
        const r = await client.sendRequest(DashboardRequest, force || !this.version ? {} : { since: this.version });
        const changed = r.version !== this.version;
        this.version = r.version;
        // The engine's figures are the dashboard's (the compiler checks the two types agree).
        const data: DashboardData | null = r.data;
        if (data || changed || force) this.post({ type: 'data', data });
      } catch (e) {
        this.post({ type: 'data', data: null, error: `the figures could not be computed: ${e instanceof Error ? e.message : String(e)}` });
      }
    })().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async receive(m: FromDashboard): Promise<void> {
    switch (m.type) {
      case 'ready':
        this.ready = true;
        this.version = undefined;
        this.schedule();
        await this.update(true);
        return;
      case 'refresh':
        await this.update(true);
        return;
      case 'open':
        await this.openTarget(m.target).catch((e: unknown) => this.fail(`open: ${e instanceof Error ? e.message : String(e)}`));
        return;
      case 'save':
        await this.save(m.name, m.format, m.content);
        return;
    }
  }

  private async openTarget(t: OpenTarget): Promise<void> {
    switch (t.kind) {
      case 'room':
        // The mark's filters are the room's queue query (the compiler checks the shapes agree).
        this.review.open({ query: t.query });
        return;
      case 'datasets':
        await vscode.commands.executeCommand('pairforge.datasets.focus');
        return;
      case 'items':
        await this.pickItem(t.title, t.query);
        return;
      case 'document':
        await openStoredDocument(t.uri);
        return;
      case 'sample':
        await vscode.commands.executeCommand(OPEN_SAMPLE_COMMAND, t.targetId, t.sampleId, t.ordinal);
        return;
    }
  }

  /** The items a mark counts, in a quick pick; the one picked opens as a list row of the dashboard
   * does. */
  private async pickItem(title: string, query: ItemsQuery): Promise<void> {
    const client = await this.engine.require();
    const r = await client.sendRequest(DashboardItemsRequest, { query: itemsQuery(query), limit: ITEMS_LIMIT });
    if (r.total === 0) {
      void vscode.window.showInformationMessage(`PairForge: ${title}: none.`);
      return;
    }
    type Pick = vscode.QuickPickItem & { open?: DashboardItemOpen };
    const picked = await vscode.window.showQuickPick<Pick>(
      r.items.map((i) => ({ label: i.label, description: i.description, ...(i.open ? { open: i.open } : {}) })),
      { title: itemsTitle(title, r.items.length, r.total), matchOnDescription: true, placeHolder: 'Open an item' },
    );
    if (picked?.open) await this.openTarget(picked.open);
  }

  private async save(name: string, format: 'png' | 'svg', content: string): Promise<void> {
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    const target = await vscode.window.showSaveDialog({
      title: `Save the chart as ${format.toUpperCase()}`,
      ...(folder ? { defaultUri: vscode.Uri.joinPath(folder, name) } : {}),
      filters: format === 'png' ? { 'PNG image': ['png'] } : { 'SVG image': ['svg'] },
    });
    if (!target) return;
    try {
      const bytes = format === 'png' ? Buffer.from(content.replace(/^data:image\/png;base64,/, ''), 'base64') : Buffer.from(content, 'utf8');
      await vscode.workspace.fs.writeFile(target, bytes);
      this.post({ type: 'saved', file: target.fsPath });
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      this.post({ type: 'saved', error: msg });
      this.fail(`saving ${target.fsPath}: ${msg}`);
    }
  }

  private fail(msg: string): void {
    this.output.appendLine(`dashboard: ${msg}`);
    void vscode.window.showErrorMessage(`PairForge: ${msg}`);
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
    this.panel?.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
