// The Samples view: the blocks (stored targets) of the active document with the samples drawn for
// each, their verdicts and the model that wrote them. Selecting a sample opens a diff of the
// golden program against the sample's program (read-only text).
import * as vscode from 'vscode';
import { BlockSamplesRequest, STORE_SCHEME, type SampleView, type TargetSamples } from '../server/protocol';
import { candidateUri } from './candidateDocuments';
import type { EngineClient } from './client';
import { sampleLabel } from './samplingText';
import { verdictLabel } from './testReport';

export const OPEN_SAMPLE_COMMAND = 'pairforge.openSample';

type Node = { type: 'target'; t: TargetSamples } | { type: 'sample'; t: TargetSamples; s: SampleView };

const VERDICT_ICONS: Record<string, [string, string]> = {
  pass: ['pass', 'testing.iconPassed'],
  wrong_answer: ['error', 'testing.iconFailed'],
  runtime_error: ['bug', 'testing.iconErrored'],
  timeout: ['watch', 'testing.iconErrored'],
  memory_limit: ['dashboard', 'testing.iconErrored'],
  output_limit: ['output', 'testing.iconErrored'],
  compile_error: ['symbol-misc', 'testing.iconErrored'],
};

export class SamplesView implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private uri: string | undefined;
  private data: TargetSamples[] = [];
  private view: vscode.TreeView<Node> | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly engine: EngineClient) {
    this.disposables.push(
      this.changed,
      vscode.window.onDidChangeActiveTextEditor((e) => {
        if (e && e.document.uri.scheme === STORE_SCHEME) void this.show(e.document.uri.toString());
      }),
    );
  }

  attach(view: vscode.TreeView<Node>): vscode.TreeView<Node> {
    this.view = view;
    return view;
  }

  /** Loads the samples of `uri`'s blocks; reveals `targetId`'s node when given. */
  async show(uri: string, targetId?: number): Promise<TargetSamples[]> {
    const client = await this.engine.require();
    this.uri = uri;
    this.data = await client.sendRequest(BlockSamplesRequest, { uri });
    if (this.view) {
      const name = decodeURIComponent(uri.split('?')[0].split('/').slice(-3).join('/'));
      this.view.description = name;
      this.view.message = this.data.length === 0 ? 'This document has no stored targets (open a solution from the Datasets view; cut it into targets first).' : undefined;
    }
    this.changed.fire(undefined);
    if (targetId !== undefined && this.view) {
      const t = this.data.find((x) => x.targetId === targetId);
      if (t) await this.view.reveal({ type: 'target', t }, { expand: true, focus: false, select: true }).then(undefined, () => undefined);
    }
    return this.data;
  }

  async refresh(): Promise<void> {
    if (this.uri) await this.show(this.uri);
  }

  current(): { uri: string | undefined; targets: TargetSamples[] } {
    return { uri: this.uri, targets: this.data };
  }

  getTreeItem(n: Node): vscode.TreeItem {
    if (n.type === 'target') {
      const t = n.t;
      const pass = t.samples.filter((s) => s.verdict === 'pass').length;
      const tested = t.samples.filter((s) => s.verdict !== null).length;
      const item = new vscode.TreeItem(`${t.kind} block · lines ${t.startLine + 1}–${t.endLine + 1}`, t.samples.length ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None);
      item.id = `t:${t.targetId}`;
      item.description = t.samples.length === 0 ? 'no samples' : `${t.samples.length} samples · ${pass} pass${tested < t.samples.length ? ` · ${t.samples.length - tested} untested` : ''}`;
      item.tooltip = `depth ${t.depth}\n\ngolden middle:\n${t.golden}`;
      item.iconPath = new vscode.ThemeIcon('symbol-namespace');
      item.contextValue = 'pairforge.target';
      return item;
    }
    const s = n.s;
    const item = new vscode.TreeItem(sampleLabel(s), vscode.TreeItemCollapsibleState.None);
    item.id = `s:${s.id}`;
    item.description = `${s.verdict ? verdictLabel(s.verdict) : 'not tested'} · ${s.model}${s.finishReason && s.finishReason !== 'stop' ? ` · ${s.finishReason}` : ''}`;
    // Model output is shown as text only (a plain string tooltip, never markdown).
    item.tooltip = s.middle;
    const [icon, colour] = s.verdict ? (VERDICT_ICONS[s.verdict] ?? ['question', 'foreground']) : ['circle-outline', 'disabledForeground'];
    item.iconPath = new vscode.ThemeIcon(icon, new vscode.ThemeColor(colour));
    item.contextValue = 'pairforge.sample';
    item.command = { command: OPEN_SAMPLE_COMMAND, title: 'Compare with the golden block', arguments: [n.t.targetId, s.id, s.ordinal] };
    return item;
  }

  getChildren(n?: Node): Node[] {
    if (!n) return this.data.map((t) => ({ type: 'target', t }));
    if (n.type === 'target') return n.t.samples.map((s) => ({ type: 'sample', t: n.t, s }));
    return [];
  }

  getParent(n: Node): Node | undefined {
    return n.type === 'sample' ? { type: 'target', t: n.t } : undefined;
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}

/** Diff: golden program (left) against the sample's program (right). */
export async function openSample(targetId: number, sampleId: number, ordinal: number): Promise<void> {
  await vscode.commands.executeCommand(
    'vscode.diff',
    candidateUri('target', targetId, `golden-target-${targetId}`),
    candidateUri('sample', sampleId, `sample-${ordinal}`),
    `PairForge: golden ↔ sample #${ordinal} (target ${targetId})`,
    { preview: true },
  );
}
