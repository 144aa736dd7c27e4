// Activation: wires the engine client, decorations, the Datasets / Samples / Pairs views, stored
// and candidate documents, test runs, the endpoint status and the command table. All real work
// happens in the engine server (server/main.ts).
import * as vscode from 'vscode';
import { EngineClient } from './client';
import { registerCommands } from './commands';
import { CandidateDocuments } from './candidateDocuments';
import { config, effectsOf, SECTION } from './config';
import { DatasetsView } from './datasetsView';
import { Dashboard } from './dashboard';
import { BlockDecorations } from './decorations';
import { Endpoints } from './endpoints';
import { PairsView } from './pairsView';
import { ReviewRoom } from './review';
import { SandboxStatusItem } from './sandboxStatus';
import { SamplesView } from './samplesView';
import { StoreDocuments } from './storeDocuments';
import { TestRuns } from './testRuns';
import { MetricsPanels } from './metricsPanel';
import { Training } from './training';
import { TrainingRunsView } from './trainingView';
import { reached } from './walkthrough';

let engine: EngineClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel('PairForge');
  engine = new EngineClient(context);
  const decorations = new BlockDecorations(context.extensionUri, config.highlight());
  const datasets = new DatasetsView(engine);
  const testRuns = new TestRuns(engine, output);
  const endpoints = new Endpoints(engine, context.secrets);
  const samples = new SamplesView(engine);
  const pairs = new PairsView(engine);
  const sandbox = new SandboxStatusItem();
  const review = new ReviewRoom(
    context,
    engine,
    (ids) => vscode.commands.executeCommand('pairforge.scorePairs', ids),
    () => vscode.commands.executeCommand('pairforge.sendToTraining'),
  );
  const dashboard = new Dashboard(context, engine, review, output);
  const trainingRuns = new TrainingRunsView(engine);
  const metricsPanels = new MetricsPanels(context, engine);
  const training = new Training(engine, context, trainingRuns, metricsPanels);
  const changed = () => {
    pairs.refresh();
    review.refresh();
    dashboard.refresh();
  };
  const e = engine;
  context.subscriptions.push(
    output,
    engine,
    decorations,
    datasets,
    testRuns,
    endpoints,
    samples,
    pairs,
    vscode.window.createTreeView('pairforge.datasets', { treeDataProvider: datasets, showCollapseAll: true }),
    samples.attach(vscode.window.createTreeView('pairforge.samples', { treeDataProvider: samples })),
    pairs.attach(vscode.window.createTreeView('pairforge.pairs', { treeDataProvider: pairs, showCollapseAll: true, canSelectMany: true })),
    trainingRuns,
    trainingRuns.attach(vscode.window.createTreeView('pairforge.trainingRuns', { treeDataProvider: trainingRuns })),
    metricsPanels,
    training,
    new StoreDocuments(engine).register(),
    new CandidateDocuments(engine).register(),
    review,
    dashboard,
    sandbox,
    engine.onSandboxStatus((s) => {
      sandbox.show(s);
      if (s.warning || s.mode === 'none') output.appendLine(`sandbox: ${s.mode} (weaker than ${s.preferred}): ${s.reason ?? ''}`);
    }),
    review.onDidChangePairs(() => {
      pairs.refresh();
      dashboard.refresh();
    }),
    pairs.onDidSetStatus(() => {
      review.refresh();
      dashboard.refresh();
      reached('reviewed');
    }),
    ...registerCommands({ engine, decorations, datasets, output, testRuns, endpoints, samples, pairs, review, dashboard, changed, training, trainingRuns }),
    engine.onBlocks((p) => decorations.update(p)),
    engine.onDidStart(() => {
      datasets.refresh();
      pairs.refresh();
      trainingRuns.refresh();
      endpoints.restart();
    }),
    // Trust granted: the server may run tests from now on.
    vscode.workspace.onDidGrantWorkspaceTrust(() => void e.configure()),
    vscode.window.onDidChangeVisibleTextEditors(() => decorations.applyVisible()),
    vscode.workspace.onDidCloseTextDocument((d) => decorations.forget(d.uri.toString())),
    vscode.workspace.onDidChangeConfiguration(async (ev) => {
      const effects = effectsOf(ev);
      if (ev.affectsConfiguration(`${SECTION}.blocks.highlight`)) decorations.setEnabled(config.highlight());
      if (effects.has('engine')) {
        await e.configure();
        if (ev.affectsConfiguration(`${SECTION}.project.path`)) {
          datasets.refresh();
          pairs.refresh();
          trainingRuns.refresh();
        }
      }
      if (effects.has('restart') && (await engine?.needsRestart()) === true) {
        const pick = await vscode.window.showInformationMessage('PairForge: restart the engine server to use the new settings?', 'Restart');
        if (pick === 'Restart') await vscode.commands.executeCommand('pairforge.restartServer');
      }
    }),
    vscode.workspace.onDidChangeWorkspaceFolders(() => void e.configure()),
  );
  // Start now so open Python editors get their blocks; a failure was already reported to the user.
  await engine.ready();
  // The runs followed in a terminal before a window reload are followed again.
  void training.reattach().catch((e: unknown) => output.appendLine(`training: following the remembered runs again failed: ${(e as Error).message}`));
}

export async function deactivate(): Promise<void> {
  await engine?.stop();
  engine = undefined;
}
