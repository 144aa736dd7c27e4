// The engine server: `startServer(connection)` builds what every feature shares (the open
// documents, the project host, the settings) and lets each stage register its feature
// (server/<stage>/feature.ts: its handlers, their validation and progress, next to its CLI command). The
// connection comes from the caller: main.ts gives it stdio / node-ipc, tests an in-memory pair.
import { CodeLensRefreshRequest, TextDocumentSyncKind, type Connection, type InitializeResult, type ServerCapabilities } from 'vscode-languageserver/node';
import { blocksFeature } from './blocks/feature';
import { dashboardFeature } from './dashboard/feature';
import { execFeature } from './exec/feature';
import { importFeature } from './import/feature';
import { Documents } from './lsp/documents';
import { normalizeSettings, type EngineContext, type Settings } from './lsp/context';
import { pairsFeature } from './pairs/feature';
import { reviewFeature } from './review/feature';
import { statsFeature } from './pipeline/feature';
import { ConfigureNotification } from './protocol';
import { samplingFeature } from './sampling/feature';
import { scoringFeature } from './scoring/feature';
import { ProjectHost } from './store/host';
import { targetsFeature } from './targets/feature';
import { trainingFeature } from './training/feature';
import { VERSION } from './version';

export const SERVER_NAME = 'pairforge-engine';

export function startServer(connection: Connection): EngineContext {
  const documents = new Documents();
  const log = {
    info: (line: string) => connection.console.info(line),
    warn: (line: string) => connection.console.warn(line),
    error: (line: string) => connection.console.error(line),
  };
  const projects = new ProjectHost(log.warn);
  const initializers: Parameters<EngineContext['onInitialize']>[0][] = [];
  const shutdowns: (() => Promise<void> | void)[] = [];
  const settingsListeners: ((now: Settings, before: Settings | undefined) => void)[] = [];
  let settings: Settings | undefined;
  let lensRefresh = false;

  const ctx: EngineContext = {
    connection,
    documents,
    projects,
    log,
    settings: () => settings ?? normalizeSettings(undefined, log.warn),
    onDidChangeSettings: (l) => void settingsListeners.push(l),
    refreshLenses: () => {
      if (lensRefresh) void connection.sendRequest(CodeLensRefreshRequest.type).catch(() => undefined);
    },
    onInitialize: (l) => void initializers.push(l),
    onShutdown: (l) => void shutdowns.push(l),
  };

  // Every stage's feature, in stage order; a feature that builds on an earlier one's service
  // (the execution engine) gets it here.
  importFeature(ctx);
  blocksFeature(ctx);
  targetsFeature(ctx);
  const exec = execFeature(ctx);
  samplingFeature(ctx, exec);
  pairsFeature(ctx);
  scoringFeature(ctx);
  reviewFeature(ctx, exec);
  trainingFeature(ctx);
  statsFeature(ctx);
  dashboardFeature(ctx);

  connection.onInitialize(async (params): Promise<InitializeResult> => {
    lensRefresh = params.capabilities.workspace?.codeLens?.refreshSupport === true;
    let capabilities: ServerCapabilities = { textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental } };
    for (const init of initializers) capabilities = { ...capabilities, ...((await init(params)) ?? {}) };
    return { capabilities, serverInfo: { name: SERVER_NAME, version: VERSION } };
  });

  connection.onNotification(ConfigureNotification, (s) => {
    const before = settings;
    settings = normalizeSettings(s, log.warn);
    projects.setPath(settings.dbPath);
    for (const l of settingsListeners) l(settings, before);
  });

  connection.onShutdown(async () => {
    for (const s of shutdowns) await s();
    projects.close();
  });

  documents.listen(connection);
  connection.listen();
  return ctx;
}
