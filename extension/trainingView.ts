// The Training Runs view: the project's runs (status, host, pairs, started, duration), newest
// first, kept current by the engine's run notifications. Selecting a run opens its metrics; running
// runs have Follow Log and Stop Run.
import * as vscode from 'vscode';
import { FINAL_TRAINING_STATUSES, TrainingRunsRequest, type TrainingRunView } from '../server/protocol';
import type { EngineClient } from './client';
import { runDescription, runTooltip, STATUS_ICONS } from './trainingText';

export const SHOW_METRICS_COMMAND = 'pairforge.showTrainingMetrics';

export class TrainingRunsView implements vscode.TreeDataProvider<TrainingRunView>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<TrainingRunView | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private view: vscode.TreeView<TrainingRunView> | undefined;
  private runs: TrainingRunView[] = [];
  private lastError: string | undefined;
  private refreshWanted = false;
  private readonly disposables: vscode.Disposable[] = [this.changed];

  constructor(private readonly engine: EngineClient) {
    this.disposables.push(
      engine.onTrainingRunChanged((r) => {
        const i = this.runs.findIndex((x) => x.id === r.id);
        if (i >= 0) this.runs[i] = r;
        this.changed.fire(undefined);
      }),
    );
    // The duration of running runs moves on.
    const timer = setInterval(() => {
      if (this.view?.visible && this.runs.some((r) => !FINAL_TRAINING_STATUSES.includes(r.status))) this.changed.fire(undefined);
    }, 10_000);
    this.disposables.push({ dispose: () => clearInterval(timer) });
  }

  attach(view: vscode.TreeView<TrainingRunView>): vscode.TreeView<TrainingRunView> {
    this.view = view;
    return view;
  }

  /** Lists again; `ask`: the hosts of unfinished runs are asked where they are first. */
  refresh(ask = false): void {
    this.lastError = undefined;
    this.refreshWanted = ask;
    this.changed.fire(undefined);
  }

  /** The runs as last listed. */
  list(): readonly TrainingRunView[] {
    return this.runs;
  }

  getTreeItem(r: TrainingRunView): vscode.TreeItem {
    const item = new vscode.TreeItem(r.name, vscode.TreeItemCollapsibleState.None);
    item.id = `training-run-${r.id}`;
    item.description = runDescription(r, Date.now());
    item.tooltip = runTooltip(r);
    const [icon, colour] = STATUS_ICONS[r.status];
    item.iconPath = new vscode.ThemeIcon(icon, colour ? new vscode.ThemeColor(colour) : undefined);
    // pairforge.trainingRun.running etc.: Follow Log and Stop Run on unfinished runs only.
    item.contextValue = `pairforge.trainingRun.${r.status}`;
    item.command = { command: SHOW_METRICS_COMMAND, title: 'Show Metrics', arguments: [r] };
    return item;
  }

  async getChildren(r?: TrainingRunView): Promise<TrainingRunView[]> {
    if (r) return [];
    try {
      const client = await this.engine.ready();
      if (!client) return [];
      const refresh = this.refreshWanted;
      this.refreshWanted = false;
      this.runs = await client.sendRequest(TrainingRunsRequest, { refresh });
      this.lastError = undefined;
      if (this.view) {
        const running = this.runs.filter((x) => !FINAL_TRAINING_STATUSES.includes(x.status)).length;
        this.view.description = running ? `${running} running` : undefined;
      }
      return this.runs;
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      if (msg !== this.lastError) {
        this.lastError = msg;
        void vscode.window.showErrorMessage(`PairForge: cannot list training runs: ${msg}`);
      }
      return [];
    }
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
