// Training as VS Code tasks (`contributes.taskDefinitions` type `pairforge-train`): a custom
// execution whose pseudoterminal streams the engine's work. `send` sends the curated pairs with the
// settings and follows the run; `follow` follows a run (its log from the start, then live);
// `prepare` prepares the host's venv. Ctrl+C asks, then stops the remote run; closing the terminal
// only stops following (the run goes on). The extension only relays: the engine does the ssh.
//
// VS Code cannot reattach a custom task after a window reload (its pseudoterminal lived in the
// old extension host), so the runs followed in a terminal are remembered in the workspace state
// and followed again on activation (docs/training.md "In the editor").
import { randomUUID } from 'node:crypto';
import * as vscode from 'vscode';
import { WorkDoneProgress, type WorkDoneProgressBegin, type WorkDoneProgressReport } from 'vscode-languageclient/node';
import {
  FINAL_TRAINING_STATUSES,
  PrepareHostRequest,
  TrainingFollowRequest,
  TrainingRunsRequest,
  TrainingStartRequest,
  TrainingStopRequest,
  type TrainingRunView,
  type TrainingSettings,
} from '../server/protocol';
import type { EngineClient } from './client';
import { endText, hostEnvironmentText, taskExitCode, toTerminal } from './trainingText';
import { reached } from './walkthrough';

export const TRAIN_TASK_TYPE = 'pairforge-train';

export interface TrainTaskDefinition extends vscode.TaskDefinition {
  type: typeof TRAIN_TASK_TYPE;
  action: 'send' | 'follow' | 'prepare';
  /** follow: the run. */
  runId?: number;
  /** send: the run's name (default: its start time). */
  name?: string;
}

/** Where the runs followed in a terminal are remembered (workspace state). */
const FOLLOWED_KEY = 'pairforge.training.followed';

export interface TaskHost {
  engine: EngineClient;
  state: vscode.Memento;
  /** The settings of a send or a prepare; undefined when the user gave up (no host). */
  settings(): Promise<TrainingSettings | undefined>;
  /** After a run started or ended (views refresh). */
  changed(): void;
}

function remember(state: vscode.Memento, runId: number, on: boolean): Thenable<void> {
  const now = new Set(state.get<number[]>(FOLLOWED_KEY, []));
  if (on) now.add(runId);
  else now.delete(runId);
  return state.update(FOLLOWED_KEY, [...now]);
}

export function rememberedRuns(state: vscode.Memento): number[] {
  return state.get<number[]>(FOLLOWED_KEY, []);
}

export function forget(state: vscode.Memento, runId: number): Thenable<void> {
  return remember(state, runId, false);
}

class TrainingTerminal implements vscode.Pseudoterminal {
  private readonly writeEmitter = new vscode.EventEmitter<string>();
  private readonly closeEmitter = new vscode.EventEmitter<number>();
  readonly onDidWrite = this.writeEmitter.event;
  readonly onDidClose = this.closeEmitter.event;
  private readonly cancel = new vscode.CancellationTokenSource();
  private run: TrainingRunView | undefined;
  private closedByUser = false;
  private asking = false;
  private readonly subs: vscode.Disposable[] = [];

  constructor(
    private readonly host: TaskHost,
    private readonly def: TrainTaskDefinition,
  ) {}

  private write(text: string): void {
    this.writeEmitter.fire(toTerminal(text));
  }

  private line(text: string): void {
    this.write(`\x1b[2m${text}\x1b[0m\n`);
  }

  open(): void {
    void this.start().then(
      (code) => this.finish(code),
      (e: unknown) => {
        if (!this.closedByUser) this.write(`\x1b[31mPairForge: ${e instanceof Error ? e.message : String(e)}\x1b[0m\n`);
        this.finish(this.run ? 1 : 2);
      },
    );
  }

  private finish(code: number): void {
    for (const s of this.subs) s.dispose();
    if (!this.closedByUser) this.closeEmitter.fire(code);
  }

  /** The user closed the terminal: stop following; the run goes on. */
  close(): void {
    this.closedByUser = true;
    this.cancel.cancel();
    const r = this.run;
    if (r && !FINAL_TRAINING_STATUSES.includes(r.status)) {
      void forget(this.host.state, r.id);
      void vscode.window.showInformationMessage(`PairForge: '${r.name}' goes on on ${r.host}; follow it again from the Training Runs view (Follow Log).`);
    }
  }

  /** Ctrl+C: ask, then stop the run on the host (or cancel a send that has not started it yet). */
  handleInput(data: string): void {
    if (data !== '\x03' || this.asking) return;
    this.asking = true;
    void this.askStop().finally(() => (this.asking = false));
  }

  private async askStop(): Promise<void> {
    const r = this.run;
    if (!r) {
      const pick = await vscode.window.showWarningMessage('PairForge: cancel this before anything runs on the host?', { modal: true }, 'Cancel It');
      if (pick) this.cancel.cancel();
      return;
    }
    if (FINAL_TRAINING_STATUSES.includes(r.status)) return;
    const pick = await vscode.window.showWarningMessage(
      `Stop the training run '${r.name}' on ${r.host}?`,
      { modal: true, detail: 'The trainer gets SIGTERM and stops at the next step boundary (with a checkpoint when save_steps > 0). Closing the terminal instead only stops following it.' },
      'Stop Run',
    );
    if (pick !== 'Stop Run') return;
    const client = await this.host.engine.require();
    this.line('PairForge: asking the run to stop (SIGTERM)...');
    await client.sendRequest(TrainingStopRequest, { runId: r.id }).then(
      () => undefined,
      (e: unknown) => this.write(`\x1b[31mPairForge: could not stop the run: ${(e as Error).message}\x1b[0m\n`),
    );
  }

  private async start(): Promise<number> {
    const client = await this.host.engine.require();
    if (this.def.action === 'prepare') {
      const settings = await this.host.settings();
      if (!settings) return 2;
      const stream = randomUUID();
      this.subs.push(this.host.engine.onTrainingLog((l) => l.stream === stream && this.write(l.text)));
      this.line(`PairForge: preparing ${settings.host}: the venv ${settings.python} from requirements.txt`);
      const env = await client.sendRequest(PrepareHostRequest, { settings, stream }, this.cancel.token);
      this.write(`\n${hostEnvironmentText(env)}\n`);
      return env.missing.length ? 1 : 0;
    }
    let run: TrainingRunView;
    if (this.def.action === 'send') {
      const settings = await this.host.settings();
      if (!settings) return 2;
      this.line(`PairForge: sending the ${settings.includePending ? 'accepted and unflagged pending' : 'accepted'} pairs to ${settings.host}:${settings.remoteDir} (${settings.tiny ? 'the tiny test model' : settings.model || 'config model'}, launcher ${settings.launcher})`);
      const workDoneToken = randomUUID();
      this.subs.push(
        client.onProgress(WorkDoneProgress.type, workDoneToken, (v) => {
          const m = (v as WorkDoneProgressBegin | WorkDoneProgressReport).message;
          if (v.kind !== 'end' && m) this.line(`PairForge: ${m}`);
        }),
      );
      run = await client.sendRequest(TrainingStartRequest, { settings, ...(this.def.name ? { name: this.def.name } : {}), workDoneToken }, this.cancel.token);
      this.host.changed();
      // Handed off: the walkthrough's "Send to training" step is done.
      reached('trainingSent');
    } else {
      if (this.def.runId === undefined) throw new Error('a follow task needs a runId');
      const found = (await client.sendRequest(TrainingRunsRequest, {})).find((r) => r.id === this.def.runId);
      if (!found) throw new Error(`no training run ${this.def.runId} in this project`);
      run = found;
      this.line(`PairForge: following '${run.name}' on ${run.host}:${run.runDir ?? run.remoteDir} (Ctrl+C stops the run; closing this terminal only stops following)`);
    }
    this.run = run;
    await remember(this.host.state, run.id, true);
    const stream = randomUUID();
    this.subs.push(
      this.host.engine.onTrainingLog((l) => l.stream === stream && this.write(l.text)),
      this.host.engine.onTrainingRunChanged((r) => {
        if (r.id === run.id) this.run = r;
      }),
    );
    if (this.def.action === 'send') this.line(`PairForge: run '${run.name}' started on ${run.host}:${run.runDir}; its log follows (Ctrl+C stops the run; closing this terminal only stops following)`);
    const ended = await client.sendRequest(TrainingFollowRequest, { runId: run.id, stream }, this.cancel.token);
    this.run = ended;
    await forget(this.host.state, run.id);
    this.host.changed();
    this.write(`\n${endText(ended, Date.now())}\n`);
    return taskExitCode(ended);
  }
}

/** The task of an action (what the provider lists, and what the commands run). */
export function trainTask(host: TaskHost, def: TrainTaskDefinition, label: string): vscode.Task {
  const task = new vscode.Task(def, vscode.TaskScope.Workspace, label, 'PairForge', new vscode.CustomExecution(async (resolved) => new TrainingTerminal(host, resolved as TrainTaskDefinition)));
  task.presentationOptions = { reveal: vscode.TaskRevealKind.Always, panel: vscode.TaskPanelKind.Dedicated, clear: true, echo: false };
  task.isBackground = false;
  return task;
}

export function followLabel(r: Pick<TrainingRunView, 'name' | 'host'>): string {
  return `Follow Training Run ${r.name} (${r.host})`;
}

export class TrainTaskProvider implements vscode.TaskProvider {
  constructor(private readonly host: TaskHost) {}

  provideTasks(): vscode.Task[] {
    return [trainTask(this.host, { type: TRAIN_TASK_TYPE, action: 'send' }, 'Send to Training'), trainTask(this.host, { type: TRAIN_TASK_TYPE, action: 'prepare' }, 'Prepare Training Host')];
  }

  /** A task from tasks.json: {"type": "pairforge-train", "action": "send" | "follow" | "prepare"}. */
  resolveTask(task: vscode.Task): vscode.Task | undefined {
    const def = task.definition as TrainTaskDefinition;
    if (def.type !== TRAIN_TASK_TYPE || !['send', 'follow', 'prepare'].includes(def.action)) return undefined;
    return trainTask(this.host, def, task.name);
  }
}
