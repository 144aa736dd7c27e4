// A training run's metrics as plots: one webview panel per run (dist/webview/metrics.js, ECharts)
// under a strict Content Security Policy, redrawn as the engine stores new metrics lines, restored
// after a reload by its serializer (it remembers only the run id).
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { TrainingMetricsRequest, type TrainingRunView } from '../server/protocol';
import type { FromMetrics, MetricsRun, MetricsState, ToMetrics } from '../webview/contract';
import type { EngineClient } from './client';
import { metricsHtml } from './metricsHtml';

export const METRICS_VIEW_TYPE = 'pairforge.trainingMetrics';
/** New metrics are sent to a panel at most this often. */
const UPDATE_MS = 1000;

function runOf(r: TrainingRunView): MetricsRun {
  return {
    id: r.id,
    name: r.name,
    host: r.host,
    status: r.status,
    trainerState: r.trainerState,
    step: r.step,
    maxSteps: r.maxSteps,
    pairs: r.pairs,
    exitCode: r.exitCode,
    message: r.message,
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
    scoreRunId: r.scoreRunId,
  };
}

class MetricsPanel {
  private ready = false;
  private timer: NodeJS.Timeout | undefined;
  private lastSent = 0;

  constructor(
    readonly panel: vscode.WebviewPanel,
    readonly runId: number,
    private readonly engine: EngineClient,
    extensionUri: vscode.Uri,
  ) {
    const root = vscode.Uri.joinPath(extensionUri, 'dist', 'webview');
    panel.webview.options = { enableScripts: true, localResourceRoots: [root] };
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'icons', 'pairforge.svg');
    const asUri = (name: string) => panel.webview.asWebviewUri(vscode.Uri.joinPath(root, name)).toString();
    panel.webview.html = metricsHtml({ cspSource: panel.webview.cspSource, nonce: randomBytes(16).toString('base64'), script: asUri('metrics.js'), style: asUri('metrics.css') });
    panel.webview.onDidReceiveMessage((m: FromMetrics) => {
      if (m.type === 'ready') {
        this.ready = true;
        void this.send();
      }
    });
  }

  /** Sends the run's metrics now, or at most once per UPDATE_MS while they keep changing. */
  update(): void {
    const wait = this.lastSent + UPDATE_MS - Date.now();
    if (wait <= 0) void this.send();
    else this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.send();
    }, wait);
  }

  private async send(): Promise<void> {
    if (!this.ready) return;
    this.lastSent = Date.now();
    let m: ToMetrics;
    try {
      const client = await this.engine.require();
      const r = await client.sendRequest(TrainingMetricsRequest, { runId: this.runId });
      m = { type: 'metrics', run: runOf(r.run), rows: r.rows };
      this.panel.title = `Metrics: ${r.run.name}`;
    } catch (e) {
      m = { type: 'error', message: `PairForge: ${e instanceof Error ? e.message : String(e)}` };
    }
    void this.panel.webview.postMessage(m);
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
  }
}

export class MetricsPanels implements vscode.Disposable {
  private readonly panels = new Map<number, MetricsPanel>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly engine: EngineClient,
  ) {
    this.disposables.push(
      vscode.window.registerWebviewPanelSerializer(METRICS_VIEW_TYPE, {
        deserializeWebviewPanel: async (panel, state: unknown) => {
          const runId = (state as MetricsState | undefined)?.runId;
          if (typeof runId !== 'number') {
            panel.dispose();
            return;
          }
          this.adopt(panel, runId);
        },
      }),
      engine.onTrainingRunChanged((r) => this.panels.get(r.id)?.update()),
      engine.onDidStart(() => {
        for (const p of this.panels.values()) p.update();
      }),
    );
  }

  /** Opens (or shows) the metrics of a run. */
  open(runId: number): void {
    const existing = this.panels.get(runId);
    if (existing) {
      existing.panel.reveal(vscode.ViewColumn.Active);
      return;
    }
    const root = vscode.Uri.joinPath(this.context.extensionUri, 'dist', 'webview');
    const panel = vscode.window.createWebviewPanel(METRICS_VIEW_TYPE, `Metrics: run ${runId}`, vscode.ViewColumn.Active, { enableScripts: true, localResourceRoots: [root] });
    this.adopt(panel, runId);
  }

  private adopt(panel: vscode.WebviewPanel, runId: number): void {
    const p = new MetricsPanel(panel, runId, this.engine, this.context.extensionUri);
    this.panels.set(runId, p);
    panel.onDidDispose(() => {
      p.dispose();
      if (this.panels.get(runId) === p) this.panels.delete(runId);
    });
  }

  dispose(): void {
    for (const p of this.panels.values()) p.panel.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
