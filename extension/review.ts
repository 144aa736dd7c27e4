// The review room's panel: one webview (dist/webview/review.js) under a strict Content Security
// Policy, restored after a reload by its serializer, and the host side of the room's message
// contract (webview/contract.ts): each request of the room becomes one engine request.
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { FromWebview, Method, QueueQuery, Requests, RoomState, ToWebview } from '../webview/contract';
import type { EngineClient } from './client';
import { reviewHtml } from './reviewHtml';
import { answer, roomHandlers } from './reviewRequests';
import { withServerProgress } from './serverProgress';
import { reached } from './walkthrough';

export const REVIEW_VIEW_TYPE = 'pairforge.review';

export class ReviewRoom implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private state: RoomState | undefined;
  private focusPairId: number | undefined;
  private openQuery: QueueQuery | undefined;
  private ready = false;
  private readonly disposables: vscode.Disposable[] = [];
  /** Fires after the room changed statuses or pairs (the Pairs view refreshes). */
  private readonly changedEmitter = new vscode.EventEmitter<void>();
  readonly onDidChangePairs = this.changedEmitter.event;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly engine: EngineClient,
    private readonly score: (pairIds?: number[]) => Thenable<unknown>,
    private readonly sendToTraining: () => Thenable<unknown>,
  ) {
    this.disposables.push(
      vscode.window.registerWebviewPanelSerializer(REVIEW_VIEW_TYPE, {
        deserializeWebviewPanel: async (panel, state: unknown) => {
          this.state = (state as RoomState | undefined) ?? undefined;
          this.adopt(panel);
        },
      }),
      this.changedEmitter,
    );
  }

  /** Opens the room (or brings it to the front): at a pair (the Pairs view), or on a queue with
   * these filters (a dashboard mark), or as it was left. */
  open(at?: number | { query: QueueQuery }): void {
    const pairId = typeof at === 'number' ? at : undefined;
    const query = typeof at === 'object' ? at.query : undefined;
    if (this.panel) {
      // A page that is loading, or hidden (VS Code drops a hidden webview's page and loads it
      // again when it is shown), would lose a message: the next init carries it instead.
      if (this.ready && this.panel.visible) {
        if (pairId !== undefined) this.post({ type: 'focusPair', pairId });
        if (query) this.post({ type: 'setQuery', query });
      } else {
        if (pairId !== undefined) this.focusPairId = pairId;
        if (query) this.openQuery = query;
      }
      this.panel.reveal(vscode.ViewColumn.Active);
      return;
    }
    this.focusPairId = pairId;
    this.openQuery = query;
    const panel = vscode.window.createWebviewPanel(REVIEW_VIEW_TYPE, 'PairForge: Review Pairs', vscode.ViewColumn.Active, {
      enableScripts: true,
      localResourceRoots: [vscode.Uri.joinPath(this.context.extensionUri, 'dist', 'webview')],
    });
    this.adopt(panel);
  }

  /** The project changed elsewhere (pairs built, a status set in the Pairs view). */
  refresh(): void {
    this.post({ type: 'refresh' });
  }

  private adopt(panel: vscode.WebviewPanel): void {
    this.panel = panel;
    this.ready = false;
    const root = vscode.Uri.joinPath(this.context.extensionUri, 'dist', 'webview');
    panel.webview.options = { enableScripts: true, localResourceRoots: [root] };
    panel.iconPath = vscode.Uri.joinPath(this.context.extensionUri, 'media', 'icons', 'pairforge.svg');
    const asUri = (name: string) => panel.webview.asWebviewUri(vscode.Uri.joinPath(root, name)).toString();
    panel.webview.html = reviewHtml({
      cspSource: panel.webview.cspSource,
      nonce: randomBytes(16).toString('base64'),
      script: asUri('review.js'),
      style: asUri('review.css'),
      worker: asUri('editor.worker.js'),
    });
    const subs = [
      panel.webview.onDidReceiveMessage((m: FromWebview) => void this.receive(m)),
      // Hidden, the page is gone; shown again, it loads and says 'ready' again.
      panel.onDidChangeViewState(() => {
        if (!panel.visible) this.ready = false;
      }),
      panel.onDidDispose(() => {
        subs.forEach((s) => s.dispose());
        if (this.panel === panel) this.panel = undefined;
      }),
    ];
  }

  private post(m: ToWebview): void {
    if (this.panel && this.ready) void this.panel.webview.postMessage(m);
  }

  private async receive(m: FromWebview): Promise<void> {
    switch (m.type) {
      case 'ready':
        this.ready = true;
        this.post({
          type: 'init',
          ...(this.state ? { state: this.state } : {}),
          ...(this.focusPairId !== undefined ? { focusPairId: this.focusPairId } : {}),
          ...(this.openQuery ? { query: this.openQuery } : {}),
          trusted: vscode.workspace.isTrusted,
        });
        this.focusPairId = undefined;
        this.openQuery = undefined;
        return;
      case 'state':
        this.state = m.state;
        return;
      case 'request':
        try {
          const result = await this.answer(m.method, m.params as never);
          this.post({ type: 'response', id: m.id, result });
        } catch (e) {
          this.post({ type: 'response', id: m.id, error: e instanceof Error ? e.message : String(e) });
        }
        return;
    }
  }

  /** One request of the room, answered by the engine (reviewRequests.ts). */
  private async answer<M extends Method>(method: M, params: Requests[M]['params']): Promise<Requests[M]['result']> {
    const client = await this.engine.require();
    const handlers = roomHandlers((type, p, token) => client.sendRequest(type, p as never, token), {
      withProgress: (title, body) => Promise.resolve(withServerProgress(client, title, (workDoneToken, token) => body(workDoneToken, token))),
      changed: () => this.changedEmitter.fire(),
      score: (pairIds) => void this.score(pairIds),
      sendToTraining: () => void this.sendToTraining(),
      reviewed: () => reached('reviewed'),
    });
    return answer(handlers, method, params);
  }

  dispose(): void {
    this.panel?.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
