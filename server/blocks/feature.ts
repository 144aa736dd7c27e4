// The blocks feature: a parse tree per open Python document, updated incrementally from the raw
// LSP changes (documents.ts), the target blocks pushed to the client after every open / change
// (BlocksNotification), and hovers on the lines where blocks start.
import { MarkupKind, type Hover } from 'vscode-languageserver/node';
import type { EngineContext } from '../lsp/context';
import { BlocksNotification, STORE_SCHEME, type BlockInfo } from '../protocol';
import { DocumentTrees } from './documents';
import { blocksStartingOn, hoverText } from './hover';
import { loadPython } from './parser';
import type { PresetOptions } from './types';

/** Delay before blocks are sent after a change. Zero: the tree is already up to date when the
 * change is handled and finding blocks is cheap, so only a change that lands before the timer fires
 * replaces the pending notification; the last change of a burst always gets its notification. */
const BLOCKS_DEBOUNCE_MS = 0;

/** Python documents on disk and stored ones (`pairforge:`) get blocks. */
export function isBlocksDocument(uri: string, languageId: string): boolean {
  return languageId === 'python' && (uri.startsWith('file:') || uri.startsWith(`${STORE_SCHEME}:`));
}

/** The block rules of the settings. */
export function presetOptions(ctx: EngineContext): PresetOptions {
  const s = ctx.settings();
  return { preset: s.preset, extraKinds: s.extraKinds };
}

export function blocksFeature(ctx: EngineContext): void {
  const { connection, documents, log } = ctx;
  let trees: DocumentTrees | undefined;
  const pending = new Map<string, NodeJS.Timeout>();

  function blockInfos(uri: string): { blocks: BlockInfo[]; hasErrors: boolean } | undefined {
    if (!trees?.has(uri)) return undefined;
    const r = trees.blocks(uri, presetOptions(ctx));
    return {
      hasErrors: r.hasErrors,
      blocks: r.blocks.map((b) => ({ kind: b.kind, depth: b.depth, startLine: b.startLine, startCharacter: b.startColumn, endLine: b.endLine, endCharacter: b.endColumn })),
    };
  }

  function sendBlocks(uri: string): void {
    pending.delete(uri);
    const doc = documents.get(uri);
    if (!doc) return;
    let info: ReturnType<typeof blockInfos>;
    try {
      info = blockInfos(uri);
    } catch (e) {
      log.error(`blocks: ${uri}: ${(e as Error).message}`);
      return;
    }
    if (!info) return;
    void connection.sendNotification(BlocksNotification, { uri, version: doc.version, preset: ctx.settings().preset, blocks: info.blocks, hasErrors: info.hasErrors });
  }

  function cancelPending(uri: string): void {
    const t = pending.get(uri);
    if (t) clearTimeout(t);
    pending.delete(uri);
  }

  documents.onDidOpen(({ uri, languageId, text }) => {
    if (!trees || !isBlocksDocument(uri, languageId)) return;
    try {
      trees.open(uri, text);
    } catch (e) {
      // The document stays synced (hover just finds nothing) rather than breaking the manager.
      log.error(`blocks: cannot parse ${uri}: ${(e as Error).message}`);
    }
  });
  documents.onDidEdit(({ uri, changes, text }) => {
    if (!trees?.has(uri)) return;
    try {
      trees.change(uri, changes, text);
    } catch (e) {
      // A tree that cannot follow the edits is rebuilt rather than left wrong.
      log.error(`blocks: incremental update of ${uri} failed, reparsing: ${(e as Error).message}`);
      trees.open(uri, text);
    }
  });
  documents.manager.onDidChangeContent((e) => {
    cancelPending(e.document.uri);
    pending.set(e.document.uri, setTimeout(() => sendBlocks(e.document.uri), BLOCKS_DEBOUNCE_MS));
  });
  documents.manager.onDidClose((e) => {
    cancelPending(e.document.uri);
    trees?.close(e.document.uri);
  });

  ctx.onInitialize(async () => {
    trees = new DocumentTrees(await loadPython());
    return { hoverProvider: true };
  });

  ctx.onDidChangeSettings((now, before) => {
    const changed = !before || before.preset !== now.preset || before.extraKinds.join() !== now.extraKinds.join();
    if (changed) for (const doc of documents.all()) if (trees?.has(doc.uri)) sendBlocks(doc.uri);
  });

  connection.onHover((params): Hover | null => {
    const info = blockInfos(params.textDocument.uri);
    if (!info) return null;
    const line = params.position.line;
    const text = hoverText(info.blocks, line);
    if (!text) return null;
    const inner = blocksStartingOn(info.blocks, line)[0];
    const lineText = documents.get(params.textDocument.uri)?.getText({ start: { line, character: 0 }, end: { line: line + 1, character: 0 } }) ?? '';
    const lineEnd = lineText.replace(/\r?\n$|\r$/, '').length;
    return {
      contents: { kind: MarkupKind.PlainText, value: text },
      range: { start: { line, character: inner.startCharacter }, end: { line, character: Math.max(lineEnd, inner.startCharacter) } },
    };
  });

  ctx.onShutdown(() => {
    for (const t of pending.values()) clearTimeout(t);
    pending.clear();
    trees?.dispose();
    trees = undefined;
  });
}
