// Send to Training in the editor: the commands (palette, Pairs view, review room, Training Runs
// view), the task provider, the settings a first send asks for, and following the remembered runs
// again after a window reload.
import * as vscode from 'vscode';
import { FINAL_TRAINING_STATUSES, TrainingRunsRequest, TrainingStopRequest, type TrainingRunView, type TrainingSettings } from '../server/protocol';
import type { EngineClient } from './client';
import { config } from './config';
import type { MetricsPanels } from './metricsPanel';
import { followLabel, forget, rememberedRuns, trainTask, TrainTaskProvider, TRAIN_TASK_TYPE, type TaskHost } from './trainingTask';
import type { TrainingRunsView } from './trainingView';
import { statusText } from './trainingText';

export class Training implements vscode.Disposable {
  private readonly host: TaskHost;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly engine: EngineClient,
    context: vscode.ExtensionContext,
    private readonly view: TrainingRunsView,
    private readonly metrics: MetricsPanels,
  ) {
    this.host = {
      engine,
      state: context.workspaceState,
      settings: () => this.settings(),
      changed: () => view.refresh(),
    };
    this.disposables.push(vscode.tasks.registerTaskProvider(TRAIN_TASK_TYPE, new TrainTaskProvider(this.host)));
  }

  /** The training settings, asking for what a send cannot do without (the host; a model or the
   * tiny test model) and keeping the answers in the user's settings: the next send is one click. */
  async settings(): Promise<TrainingSettings | undefined> {
    let s = config.training();
    if (!s.host) {
      const host = await vscode.window.showInputBox({
        title: 'PairForge: Send to Training',
        prompt: 'The GPU host: a Host alias of your ssh config, or user@host (PairForge uses your ssh: keys from the agent or IdentityFile, known_hosts checked)',
        placeHolder: 'gpu-1',
        ignoreFocusOut: true,
        validateInput: (v) => (v.trim() === '' ? 'a host is needed' : v.trim().startsWith('-') ? 'a host does not start with -' : undefined),
      });
      if (!host) return undefined;
      await config.setTraining('host', host.trim());
      s = config.training();
    }
    if (!s.tiny && !s.model && typeof s.config.model !== 'string') {
      const pick = await vscode.window.showQuickPick(
        [
          { label: 'Enter a model...', description: 'a model id or a folder on the host (pairforge.training.model)', tiny: false },
          { label: 'The tiny test model', description: 'a few steps of a tiny random model: a first try of the host (pairforge.training.tiny)', tiny: true },
        ],
        { title: 'PairForge: Send to Training', placeHolder: 'What to train?', ignoreFocusOut: true },
      );
      if (!pick) return undefined;
      if (pick.tiny) await config.setTraining('tiny', true);
      else {
        const model = await vscode.window.showInputBox({ title: 'PairForge: the model to train', placeHolder: 'Qwen/Qwen2.5-Coder-7B', ignoreFocusOut: true });
        if (!model?.trim()) return undefined;
        await config.setTraining('model', model.trim());
      }
      s = config.training();
    }
    return s;
  }

  /** Sends the curated pairs with the last settings, in a task terminal that follows the run. */
  async send(): Promise<void> {
    if (!vscode.workspace.isTrusted) throw new Error('Send to Training runs the trainer on your host: trust this workspace first');
    await vscode.tasks.executeTask(trainTask(this.host, { type: TRAIN_TASK_TYPE, action: 'send' }, 'Send to Training'));
  }

  async prepare(): Promise<void> {
    if (!vscode.workspace.isTrusted) throw new Error('Prepare Training Host runs pip on your host: trust this workspace first');
    await vscode.tasks.executeTask(trainTask(this.host, { type: TRAIN_TASK_TYPE, action: 'prepare' }, 'Prepare Training Host'));
  }

  /** A run from a command argument (a view row or an id), or picked from a list. */
  private async runOf(arg: unknown, what: string, only?: (r: TrainingRunView) => boolean): Promise<TrainingRunView | undefined> {
    const client = await this.engine.require();
    const runs = await client.sendRequest(TrainingRunsRequest, {});
    const id = typeof arg === 'number' ? arg : (arg as TrainingRunView | undefined)?.id;
    if (id !== undefined) {
      const r = runs.find((x) => x.id === id);
      if (!r) throw new Error(`no training run ${id} in this project`);
      return r;
    }
    const choices = runs.filter(only ?? (() => true));
    if (choices.length === 0) throw new Error(`no training run to ${what}`);
    const pick = await vscode.window.showQuickPick(
      choices.map((r) => ({ label: r.name, description: `${statusText(r)} · ${r.host}`, run: r })),
      { title: `PairForge: ${what}`, placeHolder: 'Which run?' },
    );
    return pick?.run;
  }

  async follow(arg?: unknown): Promise<void> {
    const r = await this.runOf(arg, 'follow', (x) => x.status !== 'uploading');
    if (r) await vscode.tasks.executeTask(trainTask(this.host, { type: TRAIN_TASK_TYPE, action: 'follow', runId: r.id }, followLabel(r)));
  }

  async stop(arg?: unknown): Promise<void> {
    const r = await this.runOf(arg, 'stop', (x) => !FINAL_TRAINING_STATUSES.includes(x.status));
    if (!r) return;
    const pick = await vscode.window.showWarningMessage(`Stop the training run '${r.name}' on ${r.host}?`, { modal: true, detail: 'The trainer gets SIGTERM and stops at the next step boundary.' }, 'Stop Run');
    if (pick !== 'Stop Run') return;
    const client = await this.engine.require();
    await client.sendRequest(TrainingStopRequest, { runId: r.id });
    this.view.refresh();
    void vscode.window.setStatusBarMessage(`PairForge: asked '${r.name}' to stop`, 4000);
  }

  async showMetrics(arg?: unknown): Promise<void> {
    const r = await this.runOf(arg, 'show the metrics of');
    if (r) this.metrics.open(r.id);
  }

  /** After a window reload: follow again, in a terminal, the runs that were followed in one and
   * have not ended (VS Code cannot reattach the old terminals). */
  async reattach(): Promise<void> {
    const remembered = rememberedRuns(this.host.state);
    if (remembered.length === 0) return;
    const client = await this.engine.ready();
    if (!client) return;
    const runs = await client.sendRequest(TrainingRunsRequest, { refresh: true }).catch(() => [] as TrainingRunView[]);
    for (const id of remembered) {
      const r = runs.find((x) => x.id === id);
      if (!r || FINAL_TRAINING_STATUSES.includes(r.status) || r.status === 'uploading') {
        await forget(this.host.state, id);
        continue;
      }
      const active = vscode.tasks.taskExecutions.some((t) => t.task.definition.type === TRAIN_TASK_TYPE && (t.task.definition as { runId?: number }).runId === id);
      if (!active) await vscode.tasks.executeTask(trainTask(this.host, { type: TRAIN_TASK_TYPE, action: 'follow', runId: id }, followLabel(r)));
    }
    this.view.refresh();
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
