// Block decorations: a whole-line tint per depth (theme colours pairforge.blockDepthNBackground)
// and a gutter icon per kind on each block's first line. Keeps the last BlocksParams per URI and
// re-applies them when editors become visible; notifications older than the one kept are dropped.
import * as vscode from 'vscode';
import { type BlockKind, type BlocksParams, EXTRA_KINDS, CORE_KINDS } from '../server/protocol';
import { depthTints, gutterMarks, DEPTH_STYLES } from './blockStyles';

const ALL_KINDS: readonly BlockKind[] = [...CORE_KINDS, ...EXTRA_KINDS];

export class BlockDecorations implements vscode.Disposable {
  private readonly depthTypes: vscode.TextEditorDecorationType[];
  private readonly kindTypes = new Map<BlockKind, vscode.TextEditorDecorationType>();
  private readonly last = new Map<string, BlocksParams>();
  private enabled: boolean;

  constructor(extensionUri: vscode.Uri, enabled: boolean) {
    this.enabled = enabled;
    this.depthTypes = Array.from({ length: DEPTH_STYLES }, (_, i) =>
      vscode.window.createTextEditorDecorationType({
        backgroundColor: new vscode.ThemeColor(`pairforge.blockDepth${i + 1}Background`),
        isWholeLine: true,
      }),
    );
    for (const kind of ALL_KINDS) {
      this.kindTypes.set(
        kind,
        vscode.window.createTextEditorDecorationType({
          gutterIconPath: vscode.Uri.joinPath(extensionUri, 'media', 'gutter', `${kind}.svg`),
          gutterIconSize: 'contain',
        }),
      );
    }
  }

  /** A notification from the server. */
  update(params: BlocksParams): void {
    const prev = this.last.get(params.uri);
    if (prev && params.version < prev.version) return; // stale: a newer state is already here
    this.last.set(params.uri, params);
    for (const editor of vscode.window.visibleTextEditors) if (editor.document.uri.toString() === params.uri) this.apply(editor);
  }

  /** The last blocks received for a document (for commands and tests). */
  blocksOf(uri: string): BlocksParams | undefined {
    return this.last.get(uri);
  }

  setEnabled(on: boolean): void {
    this.enabled = on;
    this.applyVisible();
  }

  isEnabled(): boolean {
    return this.enabled;
  }

  forget(uri: string): void {
    this.last.delete(uri);
  }

  applyVisible(): void {
    for (const editor of vscode.window.visibleTextEditors) this.apply(editor);
  }

  private clear(editor: vscode.TextEditor): void {
    for (const t of this.depthTypes) editor.setDecorations(t, []);
    for (const t of this.kindTypes.values()) editor.setDecorations(t, []);
  }

  private apply(editor: vscode.TextEditor): void {
    const params = this.last.get(editor.document.uri.toString());
    if (!this.enabled || !params) {
      this.clear(editor);
      return;
    }
    // Blocks computed for an older text would land on the wrong lines; the server always sends
    // the final state of a burst of edits, so wait for it (VS Code moves the old ranges meanwhile).
    if (params.version !== editor.document.version) return;
    const tints = depthTints(params.blocks);
    tints.forEach((ranges, i) =>
      editor.setDecorations(
        this.depthTypes[i],
        ranges.map((r) => new vscode.Range(r.start, 0, r.end, 0)),
      ),
    );
    const marks = gutterMarks(params.blocks);
    for (const [kind, type] of this.kindTypes) {
      editor.setDecorations(type, (marks.get(kind) ?? []).map((line) => new vscode.Range(line, 0, line, 0)));
    }
  }

  dispose(): void {
    for (const t of this.depthTypes) t.dispose();
    for (const t of this.kindTypes.values()) t.dispose();
    this.last.clear();
  }
}
