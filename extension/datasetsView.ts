// The Datasets tree (datasets -> problems -> solutions / histories -> versions), read from the
// engine server page by page as nodes are expanded.
import * as vscode from 'vscode';
import { DatasetChildrenRequest, type DatasetNode, type DatasetNodeKind } from '../server/protocol';
import type { EngineClient } from './client';

const ICONS: Record<DatasetNodeKind, string> = {
  dataset: 'database',
  problem: 'note',
  solution: 'file-code',
  history: 'history',
  version: 'git-commit',
};

export const OPEN_STORED_COMMAND = 'pairforge.openStoredDocument';

export class DatasetsView implements vscode.TreeDataProvider<DatasetNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<DatasetNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  /** The last error shown, so a failing project does not raise one message per expanded node. */
  private lastError: string | undefined;

  constructor(private readonly engine: EngineClient) {}

  refresh(): void {
    this.lastError = undefined;
    this.changed.fire(undefined);
  }

  getTreeItem(node: DatasetNode): vscode.TreeItem {
    const item = new vscode.TreeItem(node.label, node.hasChildren ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
    item.id = node.id;
    item.description = node.description;
    item.tooltip = node.tooltip;
    item.contextValue = `pairforge.${node.kind}`;
    item.iconPath = new vscode.ThemeIcon(ICONS[node.kind] ?? 'circle-outline');
    if (node.uri) {
      item.resourceUri = vscode.Uri.parse(node.uri);
      item.command = { command: OPEN_STORED_COMMAND, title: 'Open', arguments: [node.uri] };
    }
    return item;
  }

  async getChildren(node?: DatasetNode): Promise<DatasetNode[]> {
    try {
      // No engine: the start failure was already reported (with the setting to fix); the empty
      // view shows its welcome content instead of a second error.
      const client = await this.engine.ready();
      if (!client) return [];
      const children = await client.sendRequest(DatasetChildrenRequest, { parent: node?.id });
      this.lastError = undefined;
      return children;
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      if (msg !== this.lastError) {
        this.lastError = msg;
        void vscode.window.showErrorMessage(`PairForge: cannot list datasets: ${msg}`);
      }
      return [];
    }
  }

  dispose(): void {
    this.changed.dispose();
  }
}
