// Activation: wires the engine client, decorations, the Datasets view, stored documents and the
// command table. All real work happens in the engine server (server/main.ts).
import * as vscode from 'vscode';
import { EngineClient } from './client';
import { registerCommands } from './commands';
import { affectsEngine, config, SECTION } from './config';
import { DatasetsView } from './datasetsView';
import { BlockDecorations } from './decorations';
import { StoreDocuments } from './storeDocuments';

let engine: EngineClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel('PairForge');
  engine = new EngineClient(context);
  const decorations = new BlockDecorations(context.extensionUri, config.highlight());
  const datasets = new DatasetsView(engine);
  const e = engine;
  context.subscriptions.push(
    output,
    engine,
    decorations,
    datasets,
    vscode.window.createTreeView('pairforge.datasets', { treeDataProvider: datasets, showCollapseAll: true }),
    new StoreDocuments(engine).register(),
    ...registerCommands({ engine, decorations, datasets, output }),
    engine.onBlocks((p) => decorations.update(p)),
    engine.onDidStart(() => datasets.refresh()),
    vscode.window.onDidChangeVisibleTextEditors(() => decorations.applyVisible()),
    vscode.workspace.onDidCloseTextDocument((d) => decorations.forget(d.uri.toString())),
    vscode.workspace.onDidChangeConfiguration(async (ev) => {
      if (ev.affectsConfiguration(`${SECTION}.blocks.highlight`)) decorations.setEnabled(config.highlight());
      if (affectsEngine(ev)) {
        await e.configure();
        if (ev.affectsConfiguration(`${SECTION}.project.path`)) datasets.refresh();
      }
      if (ev.affectsConfiguration(`${SECTION}.server.runtime`)) {
        const pick = await vscode.window.showInformationMessage('PairForge: restart the engine server to use the new runtime?', 'Restart');
        if (pick === 'Restart') await vscode.commands.executeCommand('pairforge.restartServer');
      }
    }),
    vscode.workspace.onDidChangeWorkspaceFolders(() => void e.configure()),
  );
  // Start now so open Python editors get their blocks; a failure was already reported to the user.
  await engine.ready();
}

export async function deactivate(): Promise<void> {
  await engine?.stop();
  engine = undefined;
}
