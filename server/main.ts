// The engine server: LSP over stdio or node-ipc (vscode-languageserver picks the transport from
// `--stdio` / `--node-ipc` on the command line, as the client passes it). It keeps a parse tree per
// open Python document, updated incrementally from the raw LSP content changes, pushes the target
// blocks to the client after every open / change, answers hovers on block lines, and serves the
// project store (Datasets tree, stored documents, import, stats). Never imports `vscode`.
import { existsSync } from 'node:fs';
import path from 'node:path';
import {
  createConnection,
  ErrorCodes,
  MarkupKind,
  ProposedFeatures,
  ResponseError,
  TextDocuments,
  TextDocumentSyncKind,
  type InitializeResult,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { DocumentTrees } from './blocks/documents';
import { loadPython } from './blocks/parser';
import { EXTRA_KINDS, PRESETS, type BlockKind, type PresetOptions } from './blocks/types';
import { importFiles, ImportError } from './import/importer';
import { hoverText, blocksStartingOn } from './lsp/hover';
import {
  BlocksNotification,
  ConfigureNotification,
  DATASET_FORMATS,
  DatasetChildrenRequest,
  DocumentContentRequest,
  ImportRequest,
  STORE_SCHEME,
  StatsRequest,
  type BlockInfo,
  type EngineSettings,
} from './protocol';
import { documentText, listChildren, projectStats } from './store/browse';
import { openProject, type Project } from './store/db';

/** JSON-RPC server-error code for "the project store is not available" (bad or missing path). */
const PROJECT_UNAVAILABLE = -32001;
/** Delay before blocks are sent after a change. Zero: the tree is already up to date when the
 * change is handled and finding blocks is cheap, so only a change that lands before the timer fires
 * replaces the pending notification; the last change of a burst always gets its notification. */
const BLOCKS_DEBOUNCE_MS = 0;
/** Progress reports during an import, at most this often. */
const PROGRESS_INTERVAL_MS = 100;

const connection = createConnection(ProposedFeatures.all);

let trees: DocumentTrees | undefined;
let settings: EngineSettings | undefined;
let project: Project | undefined;
let importing = false;
const pending = new Map<string, NodeJS.Timeout>();

function isBlocksDocument(uri: string, languageId: string): boolean {
  return languageId === 'python' && (uri.startsWith('file:') || uri.startsWith(`${STORE_SCHEME}:`));
}

function presetOptions(): PresetOptions {
  return settings ? { preset: settings.preset, extraKinds: settings.extraKinds } : { preset: 'structurecoder' };
}

// Documents: the stock manager keeps the text; its `update` hook also receives the raw ranged
// changes, which is exactly what the incremental tree update needs.
const documents = new TextDocuments<TextDocument>({
  create(uri, languageId, version, content) {
    const doc = TextDocument.create(uri, languageId, version, content);
    if (trees && isBlocksDocument(uri, languageId)) {
      try {
        trees.open(uri, content);
      } catch (e) {
        // The document stays synced (hover just finds nothing) rather than breaking the manager.
        connection.console.error(`blocks: cannot parse ${uri}: ${(e as Error).message}`);
      }
    }
    return doc;
  },
  update(doc, changes, version) {
    const updated = TextDocument.update(doc, changes, version);
    if (trees?.has(doc.uri)) {
      const text = updated.getText();
      try {
        trees.change(doc.uri, changes, text);
      } catch (e) {
        // A tree that cannot follow the edits is rebuilt rather than left wrong.
        connection.console.error(`blocks: incremental update of ${doc.uri} failed, reparsing: ${(e as Error).message}`);
        trees.open(doc.uri, text);
      }
    }
    return updated;
  },
});

function blockInfos(uri: string): { blocks: BlockInfo[]; hasErrors: boolean } | undefined {
  if (!trees?.has(uri)) return undefined;
  const r = trees.blocks(uri, presetOptions());
  return {
    hasErrors: r.hasErrors,
    blocks: r.blocks.map((b) => ({
      kind: b.kind,
      depth: b.depth,
      startLine: b.startLine,
      startCharacter: b.startColumn,
      endLine: b.endLine,
      endCharacter: b.endColumn,
    })),
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
    connection.console.error(`blocks: ${uri}: ${(e as Error).message}`);
    return;
  }
  if (!info) return;
  void connection.sendNotification(BlocksNotification, {
    uri,
    version: doc.version,
    preset: presetOptions().preset,
    blocks: info.blocks,
    hasErrors: info.hasErrors,
  });
}

function scheduleBlocks(uri: string): void {
  const t = pending.get(uri);
  if (t) clearTimeout(t);
  pending.set(uri, setTimeout(() => sendBlocks(uri), BLOCKS_DEBOUNCE_MS));
}

documents.onDidChangeContent((e) => scheduleBlocks(e.document.uri));
documents.onDidClose((e) => {
  const t = pending.get(e.document.uri);
  if (t) clearTimeout(t);
  pending.delete(e.document.uri);
  trees?.close(e.document.uri);
});

// ---- project store ----------------------------------------------------------------------

function projectError(message: string): ResponseError<void> {
  return new ResponseError(PROJECT_UNAVAILABLE, message);
}

/** The open project; opened on first use. Without `create`, a missing file gives undefined
 * (browsing must not create a project in the user's workspace). */
function currentProject(create: boolean): Project | undefined {
  if (project) return project;
  const file = settings?.dbPath;
  if (!file) throw projectError('no project open: set pairforge.project.path (a relative path needs an open workspace folder)');
  if (!create && !existsSync(file)) return undefined;
  try {
    project = openProject(file);
  } catch (e) {
    const msg = (e as Error).message;
    // A native addon built for another Node ABI is the runtime's fault, not the path's.
    const hint = /NODE_MODULE_VERSION|compiled against a different Node|invalid ELF|wrong ELF class/.test(msg)
      ? `the engine runs on Node ${process.version} (ABI ${process.versions.modules}), which does not match the bundled better-sqlite3 addon: set pairforge.server.runtime to the Node it was built for`
      : 'check the setting pairforge.project.path';
    throw projectError(`${msg} (${hint})`);
  }
  return project;
}

function closeProject(): void {
  project?.close();
  project = undefined;
}

/** Runs a request body, turning plain errors into ResponseErrors with the error's own message. */
async function guarded<T>(what: string, body: () => T | Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (e) {
    if (e instanceof ResponseError) throw e;
    const code = e instanceof ImportError ? ErrorCodes.InvalidParams : ErrorCodes.InternalError;
    throw new ResponseError(code, `${what}: ${(e as Error).message}`);
  }
}

// ---- LSP wiring -----------------------------------------------------------------------------

connection.onInitialize(async (): Promise<InitializeResult> => {
  const grammar = await loadPython();
  trees = new DocumentTrees(grammar);
  return {
    capabilities: {
      textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental },
      hoverProvider: true,
    },
    serverInfo: { name: 'pairforge-engine', version: '0.1.0' },
  };
});

connection.onNotification(ConfigureNotification, (s) => {
  const preset = PRESETS.includes(s.preset) ? s.preset : 'structurecoder';
  if (preset !== s.preset) connection.console.warn(`configure: unknown preset ${JSON.stringify(s.preset)}, using structurecoder`);
  const extraKinds = (Array.isArray(s.extraKinds) ? s.extraKinds : []).filter((k): k is BlockKind => EXTRA_KINDS.includes(k));
  const dbPath = typeof s.dbPath === 'string' && s.dbPath !== '' ? path.resolve(s.dbPath) : '';
  const before = settings;
  settings = { dbPath, preset, extraKinds };
  if (before?.dbPath !== dbPath) closeProject();
  const blocksChanged = !before || before.preset !== preset || before.extraKinds.join() !== extraKinds.join();
  if (blocksChanged) for (const doc of documents.all()) if (trees?.has(doc.uri)) sendBlocks(doc.uri);
});

connection.onHover((params) => {
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

connection.onRequest(DatasetChildrenRequest, (params) =>
  guarded('datasets', () => {
    const p = currentProject(false);
    return p ? listChildren(p, params?.parent) : [];
  }),
);

connection.onRequest(DocumentContentRequest, (params) =>
  guarded(`document ${params.uri}`, () => {
    const p = currentProject(false);
    if (!p) throw projectError(`no project file at ${settings?.dbPath}: cannot open ${params.uri}`);
    return { text: documentText(p, params.uri) };
  }),
);

connection.onRequest(StatsRequest, () =>
  guarded('stats', () => {
    const p = currentProject(false);
    if (!p) throw projectError(`no project file at ${settings?.dbPath} yet: import a dataset first (PairForge: Import Dataset...)`);
    return projectStats(p);
  }),
);

connection.onRequest(ImportRequest, (params, token) =>
  guarded('import', async () => {
    if (!params || !Array.isArray(params.files) || params.files.length === 0 || params.files.some((f) => typeof f !== 'string')) {
      throw new ResponseError(ErrorCodes.InvalidParams, 'import: `files` must be a non-empty array of paths');
    }
    if (params.format !== undefined && !DATASET_FORMATS.includes(params.format)) {
      throw new ResponseError(ErrorCodes.InvalidParams, `import: unknown format ${JSON.stringify(params.format)} (one of ${DATASET_FORMATS.join(', ')})`);
    }
    if (importing) throw new ResponseError(ErrorCodes.InvalidRequest, 'import: another import is still running');
    const p = currentProject(true)!;
    importing = true;
    const workDone = connection.window.attachWorkDoneProgress(params.workDoneToken);
    const abort = new AbortController();
    const onCancel = token.onCancellationRequested(() => abort.abort());
    const files = params.files.map((f) => path.resolve(f));
    workDone.begin('Importing datasets', 0, `${files.length} file${files.length === 1 ? '' : 's'}`, true);
    let last = 0;
    try {
      return await importFiles(p, files, {
        format: params.format,
        signal: abort.signal,
        onProgress: (e) => {
          const now = Date.now();
          if (now - last < PROGRESS_INTERVAL_MS) return;
          last = now;
          const i = files.indexOf(e.file);
          // Overall fraction: finished files count whole, the current one by bytes read.
          const fileShare = e.totalBytes > 0 ? Math.min(1, e.bytes / e.totalBytes) : 0;
          const percent = Math.floor(((Math.max(0, i) + fileShare) / files.length) * 100);
          workDone.report(percent, `${path.basename(e.file)}: line ${e.line}`);
        },
      });
    } finally {
      onCancel.dispose();
      workDone.done();
      importing = false;
    }
  }),
);

connection.onShutdown(() => {
  for (const t of pending.values()) clearTimeout(t);
  pending.clear();
  closeProject();
  trees?.dispose();
  trees = undefined;
});

documents.listen(connection);
connection.listen();
