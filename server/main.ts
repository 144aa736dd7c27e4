// The engine server: LSP over stdio or node-ipc (vscode-languageserver picks the transport from
// `--stdio` / `--node-ipc` on the command line, as the client passes it). It keeps a parse tree per
// open Python document, updated incrementally from the raw LSP content changes, pushes the target
// blocks to the client after every open / change, answers hovers on block lines and code lenses,
// and serves the project store (Datasets tree, stored documents, import, stats), test runs in the
// sandbox (one engine, created lazily), sampling jobs and the Pairs tree. Never imports `vscode`.
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  CodeLensRefreshRequest,
  createConnection,
  ErrorCodes,
  LSPErrorCodes,
  MarkupKind,
  ProposedFeatures,
  ResponseError,
  TextDocuments,
  TextDocumentSyncKind,
  type InitializeResult,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { DocumentTrees } from './blocks/documents';
import { loadPython, type PythonGrammar } from './blocks/parser';
import { EXTRA_KINDS, PRESETS, type BlockKind, type PresetOptions } from './blocks/types';
import { ExecEngine } from './exec/engine';
import { runPending } from './exec/runPending';
import { problemTests } from './exec/store';
import { importFiles, ImportError } from './import/importer';
import { buildCodeLenses } from './lsp/codeLens';
import { candidateText, documentTargets, isCut, sampleCounts, samplesOf } from './lsp/documentTargets';
import { ExecHost } from './lsp/execHost';
import { hoverText, blocksStartingOn } from './lsp/hover';
import { pairChildren } from './lsp/pairsTree';
import { linkedProblem } from './lsp/problemLink';
import { checkSampling, chooseTargets, verdictCounts } from './lsp/sampleRun';
import { failureLine, runTestsResult } from './lsp/testResults';
import { setPairsStatus } from './pairs/store';
import {
  BlockSamplesRequest,
  BlocksNotification,
  CandidateTextRequest,
  ConfigureNotification,
  CutTargetsRequest,
  DATASET_FORMATS,
  DatasetChildrenRequest,
  DocumentContentRequest,
  EndpointHealthRequest,
  ImportRequest,
  LinkedProblemRequest,
  PAIR_STATUSES,
  PairsTreeRequest,
  RunTestsRequest,
  STORE_SCHEME,
  SampleRequest,
  SetPairStatusRequest,
  StatsRequest,
  type BlockInfo,
  type EngineSettings,
  type ProblemRef,
  type SampleSummary,
} from './protocol';
import { checkEndpoints, sampleTargets } from './sampling/job';
import { documentText, listChildren, projectStats } from './store/browse';
import { openProject, type Project } from './store/db';
import { cutAllTargets, presetKey } from './targets/cutAll';

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
let grammar: PythonGrammar | undefined;
let settings: EngineSettings | undefined;
/** Whether the client re-asks for code lenses when told to (workspace/codeLens/refresh). */
let lensRefresh = false;
const execHost = new ExecHost((opts) => ExecEngine.create(opts), (line) => connection.console.warn(`exec: ${line}`));
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

connection.onInitialize(async (params): Promise<InitializeResult> => {
  grammar = await loadPython();
  trees = new DocumentTrees(grammar);
  lensRefresh = params.capabilities.workspace?.codeLens?.refreshSupport === true;
  return {
    capabilities: {
      textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental },
      hoverProvider: true,
      codeLensProvider: { resolveProvider: false },
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
  const sampleN = typeof s.sampleN === 'number' && Number.isInteger(s.sampleN) && s.sampleN > 0 ? s.sampleN : 5;
  settings = { dbPath, preset, extraKinds, trusted: s.trusted === true, exec: s.exec ?? {}, sampleN };
  execHost.configure(settings.exec);
  if (before?.dbPath !== dbPath) closeProject();
  if (!before || before.dbPath !== dbPath || before.preset !== preset || before.extraKinds.join() !== extraKinds.join() || before.sampleN !== sampleN) refreshLenses();
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
      // Header links may name problems that exist now.
      refreshLenses();
    }
  }),
);

// ---- problems, tests, code lenses ------------------------------------------------------------

/** JSON-RPC server-error code for "refused: the workspace is not trusted". */
const UNTRUSTED = -32002;

/** The second lock after the client's own check: no code runs unless the client said the
 * workspace is trusted (an older or foreign client that says nothing is treated as untrusted). */
function requireTrusted(what: string): void {
  if (settings?.trusted !== true) {
    throw new ResponseError(UNTRUSTED, `${what}: this workspace is not trusted, and PairForge runs no code in an untrusted workspace (trust it with "Manage Workspace Trust")`);
  }
}

function refreshLenses(): void {
  if (lensRefresh) void connection.sendRequest(CodeLensRefreshRequest.type).catch(() => undefined);
}

function comparator(): 'strict' | 'apps' {
  return settings?.exec?.comparator === 'apps' ? 'apps' : 'strict';
}

function openDocument(uri: string) {
  const doc = documents.get(uri);
  if (!doc) throw new ResponseError(ErrorCodes.InvalidParams, `${uri} is not open in the editor (the server runs what the editor shows)`);
  return doc;
}

function requireProject(what: string): Project {
  const p = currentProject(false);
  if (!p) throw projectError(`${what}: no project file at ${settings?.dbPath} yet: import a dataset first (PairForge: Import Dataset...)`);
  return p;
}

function requireProblem(p: Project, uri: string, text: string): ProblemRef {
  const problem = linkedProblem(p, uri, text);
  if (!problem) {
    throw new ResponseError(
      ErrorCodes.InvalidParams,
      `${uri} is not linked to a problem: open a solution from the Datasets view, or put "# pairforge-problem: <dataset>/<problem id>" in one of the first lines (PairForge: Link File to Problem...)`,
    );
  }
  return problem;
}

/** An abort through the client's cancel, as LSP's "request cancelled". */
function cancelled(what: string): ResponseError<void> {
  return new ResponseError(LSPErrorCodes.RequestCancelled, `${what}: cancelled`);
}

connection.onRequest(LinkedProblemRequest, (params) =>
  guarded(`problem of ${params.uri}`, () => {
    const p = currentProject(false);
    if (!p) return null;
    return linkedProblem(p, params.uri, documents.get(params.uri)?.getText());
  }),
);

connection.onRequest(RunTestsRequest, (params, token) =>
  guarded('run tests', async () => {
    requireTrusted('run tests');
    const doc = openDocument(params.uri);
    const p = requireProject('run tests');
    const text = doc.getText();
    const version = doc.version;
    const problem = requireProblem(p, params.uri, text);
    const tests = problemTests(p, problem.problemId);
    if (tests.length === 0) throw new ResponseError(ErrorCodes.InvalidParams, `problem ${problem.dataset}/${problem.externalId} has no tests stored`);
    const workDone = connection.window.attachWorkDoneProgress(params.workDoneToken);
    const abort = new AbortController();
    const onCancel = token.onCancellationRequested(() => abort.abort());
    workDone.begin(`Running ${tests.length} test${tests.length === 1 ? '' : 's'} of ${problem.dataset}/${problem.externalId}`, undefined, execHost.started ? undefined : 'starting the sandbox', true);
    try {
      const result = await execHost.use((engine) =>
        engine.run(text, tests, { comparator: comparator(), allResults: params.allResults !== false, signal: abort.signal }),
      );
      if (abort.signal.aborted) throw cancelled('run tests');
      return runTestsResult(problem, version, result, tests.map((t) => t.kind), (t) => failureLine(t, doc.lineCount));
    } catch (e) {
      if (abort.signal.aborted) throw cancelled('run tests');
      throw e;
    } finally {
      onCancel.dispose();
      workDone.done();
    }
  }),
);

connection.onCodeLens((params) => {
  const uri = params.textDocument.uri;
  const doc = documents.get(uri);
  if (!doc || !isBlocksDocument(uri, doc.languageId) || !settings?.dbPath) return [];
  try {
    const p = currentProject(false);
    if (!p) return [];
    const text = doc.getText();
    let problem: ProblemRef | null = null;
    let linkError: string | undefined;
    try {
      problem = linkedProblem(p, uri, text);
    } catch (e) {
      linkError = (e as Error).message;
    }
    const key = presetKey(presetOptions());
    const targets = problem ? documentTargets(p, problem, text, key) : [];
    return buildCodeLenses({
      uri,
      problem,
      linkError,
      targets,
      needsCut: problem?.solutionId !== undefined && !isCut(p, problem, key),
      presetKey: key,
      counts: sampleCounts(p, targets.map((t) => t.targetId), comparator()),
      n: settings.sampleN ?? 5,
    });
  } catch (e) {
    connection.console.error(`code lenses of ${uri}: ${(e as Error).message}`);
    return [];
  }
});

connection.onRequest(BlockSamplesRequest, (params) =>
  guarded(`samples of ${params.uri}`, () => {
    const doc = openDocument(params.uri);
    const p = currentProject(false);
    if (!p) return [];
    const problem = linkedProblem(p, params.uri, doc.getText());
    if (!problem) return [];
    return samplesOf(p, documentTargets(p, problem, doc.getText(), presetKey(presetOptions())), comparator());
  }),
);

connection.onRequest(CandidateTextRequest, (params) =>
  guarded(`${params.kind} ${params.id}`, () => {
    if (!['sample', 'target', 'pair-chosen', 'pair-rejected'].includes(params.kind) || !Number.isInteger(params.id)) {
      throw new ResponseError(ErrorCodes.InvalidParams, `candidate text: unknown kind ${JSON.stringify(params.kind)} or id ${JSON.stringify(params.id)}`);
    }
    return { text: candidateText(requireProject('candidate text'), params.kind, params.id) };
  }),
);

let cutting = false;
connection.onRequest(CutTargetsRequest, (params, token) =>
  guarded('cut targets', async () => {
    const p = requireProject('cut targets');
    if (!grammar) throw new ResponseError(ErrorCodes.InvalidRequest, 'cut targets: the server is not initialised');
    if (cutting) throw new ResponseError(ErrorCodes.InvalidRequest, 'cut targets: already running');
    cutting = true;
    const workDone = connection.window.attachWorkDoneProgress(params?.workDoneToken);
    const abort = new AbortController();
    const onCancel = token.onCancellationRequested(() => abort.abort());
    workDone.begin(`Cutting solutions into targets (${presetKey(presetOptions())})`, 0, undefined, true);
    try {
      const s = await cutAllTargets(p, {
        ...presetOptions(),
        signal: abort.signal,
        onProgress: (done, total) => workDone.report(total > 0 ? Math.floor((done / total) * 100) : 100, `${done} / ${total} solutions`),
      });
      refreshLenses();
      return { preset: s.preset, cut: s.cut, targets: s.targets, cancelled: s.cancelled };
    } finally {
      onCancel.dispose();
      workDone.done();
      cutting = false;
    }
  }),
);

// ---- sampling --------------------------------------------------------------------------------

connection.onRequest(EndpointHealthRequest, (params, token) =>
  guarded('endpoint health', async () => {
    const endpoints = params?.endpoints;
    if (!Array.isArray(endpoints) || endpoints.some((e) => !e || typeof e.url !== 'string' || typeof e.model !== 'string')) {
      throw new ResponseError(ErrorCodes.InvalidParams, 'endpoint health: `endpoints` must be a list of {url, model, apiKey?}');
    }
    const abort = new AbortController();
    const onCancel = token.onCancellationRequested(() => abort.abort());
    try {
      const health = await checkEndpoints(endpoints, abort.signal);
      // In the editor the key is set with a command, not the CLI's environment variable.
      return health.map((h) => (h.error ? { ...h, error: h.error.replace('(set PAIRFORGE_API_KEY)', '(PairForge: Set Endpoint API Key...)') } : h));
    } finally {
      onCancel.dispose();
    }
  }),
);

connection.onRequest(SampleRequest, (params, token) =>
  guarded('sample', async () => {
    const doc = openDocument(params.uri);
    const p = requireProject('sample');
    const text = doc.getText();
    const problem = requireProblem(p, params.uri, text);
    const key = presetKey(presetOptions());
    let checked: ReturnType<typeof checkSampling>;
    let targets: ReturnType<typeof chooseTargets>;
    try {
      checked = checkSampling(params.endpoints, params.params);
      targets = chooseTargets(documentTargets(p, problem, text, key), params.targetIds);
    } catch (e) {
      throw new ResponseError(ErrorCodes.InvalidParams, `sample: ${(e as Error).message}`);
    }
    if (targets.length === 0) {
      throw new ResponseError(ErrorCodes.InvalidParams, `sample: ${params.uri} has no stored targets under ${key}: cut it first (PairForge: Cut Solutions into Targets)`);
    }
    const { params: v, endpoints } = checked;
    const workDone = connection.window.attachWorkDoneProgress(params.workDoneToken);
    const abort = new AbortController();
    const onCancel = token.onCancellationRequested(() => abort.abort());
    workDone.begin(`Sampling ${targets.length} block${targets.length === 1 ? '' : 's'} × ${v.n}`, 0, 'checking the endpoints', true);
    try {
      const job = await sampleTargets(
        p,
        targets.map((t) => t.targetId),
        {
          family: v.family,
          ...(v.customTokens ? { custom: v.customTokens } : {}),
          n: v.n,
          temperature: v.temperature,
          topP: v.topP,
          maxTokens: v.maxTokens,
          concurrency: v.concurrency,
          endpoints,
        },
        {
          signal: abort.signal,
          onProgress: (e) => workDone.report(e.total > 0 ? Math.floor((e.done / e.total) * 100) : 0, `${e.done} / ${e.total} samples${e.failed ? `, ${e.failed} failed` : ''}`),
          log: (m) => connection.console.info(`sample: ${m}`),
        },
      );
      refreshLenses();
      const summary: SampleSummary = {
        jobId: job.jobId,
        targets: job.targets,
        samples: job.samples,
        skipped: job.skippedTargets,
        verdicts: {},
        cancelled: abort.signal.aborted,
        ...(job.message ? { message: job.message } : {}),
      };
      if (abort.signal.aborted || job.samples === 0) return summary;
      // Tests of the new samples: only where the client says the workspace is trusted.
      if (!params.runTests || settings?.trusted !== true) {
        summary.message = [summary.message, 'tests not run: the workspace is not trusted'].filter(Boolean).join('; ');
        return summary;
      }
      workDone.report(100, `running the tests of ${job.samples} samples`);
      const run = await execHost.use((engine) =>
        runPending(p, engine, {
          selection: { kinds: ['sample'], jobId: job.jobId },
          comparator: comparator(),
          // The engine queues runs on its workers; this only keeps them all busy.
          concurrency: 2 * (settings?.exec?.workers || os.cpus().length),
          signal: abort.signal,
        }),
      );
      summary.verdicts = verdictCounts(run);
      summary.cancelled = abort.signal.aborted;
      if (run.errors > 0) summary.message = [summary.message, `${run.errors} samples could not be run: ${run.error_messages[0] ?? ''}`].filter(Boolean).join('; ');
      refreshLenses();
      return summary;
    } finally {
      onCancel.dispose();
      workDone.done();
    }
  }),
);

// ---- pairs -----------------------------------------------------------------------------------

connection.onRequest(PairsTreeRequest, (params) =>
  guarded('pairs', () => {
    const p = currentProject(false);
    return p ? pairChildren(p, params?.parent) : [];
  }),
);

connection.onRequest(SetPairStatusRequest, (params) =>
  guarded('set pair status', () => {
    if (!params || !PAIR_STATUSES.includes(params.status)) {
      throw new ResponseError(ErrorCodes.InvalidParams, `set pair status: status must be one of ${PAIR_STATUSES.join(', ')} (got ${JSON.stringify(params?.status)})`);
    }
    if (!Array.isArray(params.pairIds) || params.pairIds.length === 0 || !params.pairIds.every((id) => Number.isInteger(id))) {
      throw new ResponseError(ErrorCodes.InvalidParams, 'set pair status: `pairIds` must be a non-empty array of integer pair ids');
    }
    if (params.note !== undefined && typeof params.note !== 'string') throw new ResponseError(ErrorCodes.InvalidParams, 'set pair status: `note` must be a string');
    const p = requireProject('set pair status');
    return { updated: setPairsStatus(p, params.pairIds, params.status, params.note) };
  }),
);

connection.onShutdown(async () => {
  for (const t of pending.values()) clearTimeout(t);
  pending.clear();
  await execHost.close();
  closeProject();
  trees?.dispose();
  trees = undefined;
});

documents.listen(connection);
connection.listen();
