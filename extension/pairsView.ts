// The Pairs view: problems -> blocks / histories -> pairs, with counts by review status, and
// accept / reject / flag on pairs (inline buttons and the context menu, several at once with
// multi-select). Selecting a pair opens it in the review room.
import * as vscode from 'vscode';
import { PairsTreeRequest, SetPairStatusRequest, type PairNode, type PairStatus } from '../server/protocol';
import type { EngineClient } from './client';

export const OPEN_PAIR_COMMAND = 'pairforge.openPair';

const STATUS_ICONS: Record<PairStatus, [string, string | undefined]> = {
  pending: ['circle-large-outline', undefined],
  accepted: ['pass-filled', 'testing.iconPassed'],
  rejected: ['circle-slash', 'testing.iconFailed'],
  flagged: ['report', 'list.warningForeground'],
};

export class PairsView implements vscode.TreeDataProvider<PairNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<PairNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly statusSet = new vscode.EventEmitter<void>();
  /** Fires after statuses were set here (the review room reloads its queue). */
  readonly onDidSetStatus = this.statusSet.event;
  private lastError: string | undefined;
  private view: vscode.TreeView<PairNode> | undefined;

  constructor(private readonly engine: EngineClient) {}

  attach(view: vscode.TreeView<PairNode>): vscode.TreeView<PairNode> {
    this.view = view;
    return view;
  }

  refresh(): void {
    this.lastError = undefined;
    this.changed.fire(undefined);
  }

  getTreeItem(n: PairNode): vscode.TreeItem {
    const item = new vscode.TreeItem(n.label, n.hasChildren ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
    item.id = n.id;
    item.description = n.description;
    // Pair texts are model output: plain-string tooltips only.
    item.tooltip = n.tooltip;
    if (n.kind === 'pair' && n.pairId !== undefined && n.status) {
      const [icon, colour] = STATUS_ICONS[n.status];
      item.iconPath = new vscode.ThemeIcon(icon, colour ? new vscode.ThemeColor(colour) : undefined);
      // e.g. pairforge.pair.pending: menus hide the button of the status a pair already has.
      item.contextValue = `pairforge.pair.${n.status}`;
      item.command = { command: OPEN_PAIR_COMMAND, title: 'Open Pair', arguments: [n] };
    } else {
      item.iconPath = new vscode.ThemeIcon(n.kind === 'problem' ? 'note' : 'symbol-namespace');
      item.contextValue = `pairforge.pairs.${n.kind}`;
    }
    return item;
  }

  async getChildren(n?: PairNode): Promise<PairNode[]> {
    try {
      const client = await this.engine.ready();
      if (!client) return [];
      const children = await client.sendRequest(PairsTreeRequest, { parent: n?.id });
      this.lastError = undefined;
      if (!n && this.view) {
        const total = children.reduce((s, c) => s + (c.counts ? c.counts.pending + c.counts.accepted + c.counts.rejected + c.counts.flagged : 0), 0);
        const pending = children.reduce((s, c) => s + (c.counts?.pending ?? 0), 0);
        this.view.description = total ? `${total} pairs · ${pending} pending` : undefined;
      }
      return children;
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      if (msg !== this.lastError) {
        this.lastError = msg;
        void vscode.window.showErrorMessage(`PairForge: cannot list pairs: ${msg}`);
      }
      return [];
    }
  }

  /** Sets the status of the clicked pair, or of every selected pair when it is part of the selection. */
  async setStatus(status: PairStatus, clicked?: PairNode, selected?: readonly PairNode[]): Promise<number> {
    const nodes = selected && clicked && selected.some((s) => s.id === clicked.id) ? selected : clicked ? [clicked] : (this.view?.selection ?? []);
    const ids = nodes.filter((x) => x.kind === 'pair' && x.pairId !== undefined).map((x) => x.pairId!);
    if (ids.length === 0) throw new Error(`select one or more pairs in the Pairs view to mark them ${status}`);
    let note: string | undefined;
    if (status === 'flagged') {
      note = await vscode.window.showInputBox({ title: `PairForge: flag ${ids.length === 1 ? `pair ${ids[0]}` : `${ids.length} pairs`}`, prompt: 'Why? (a note kept with the pair; optional)' });
      if (note === undefined) return 0;
      if (note === '') note = undefined;
    }
    const client = await this.engine.require();
    const r = await client.sendRequest(SetPairStatusRequest, { pairIds: ids, status, ...(note !== undefined ? { note } : {}) });
    this.refresh();
    this.statusSet.fire();
    void vscode.window.setStatusBarMessage(`PairForge: ${r.updated} pair${r.updated === 1 ? '' : 's'} ${status}`, 3000);
    return r.updated;
  }

  dispose(): void {
    this.changed.dispose();
    this.statusSet.dispose();
  }
}
