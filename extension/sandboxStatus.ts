// The sandbox's mode in the status bar, once the engine has started its execution engine: a
// shield when programs run in the strongest mode the machine allows, a warning when a weaker one
// had to be used (the reason in the tooltip), an error when nothing isolates them.
import * as vscode from 'vscode';
import type { SandboxStatus } from '../server/protocol';
import { sandboxItem } from './testReport';

export class SandboxStatusItem implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('pairforge.sandbox', vscode.StatusBarAlignment.Left, 19);

  constructor() {
    this.item.name = 'PairForge Sandbox';
  }

  show(s: SandboxStatus): void {
    const v = sandboxItem(s);
    this.item.text = v.text;
    this.item.tooltip = v.tooltip;
    this.item.backgroundColor = v.colour ? new vscode.ThemeColor(v.colour) : undefined;
    this.item.show();
  }

  dispose(): void {
    this.item.dispose();
  }
}
