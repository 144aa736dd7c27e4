// Every command of the extension, as one table: id -> handler. package.json `contributes.commands`
// lists the same ids (test/unit/extension/manifest.test.ts compares them); the ones the engine puts
// into code lenses are named by the protocol (LENS_COMMANDS).
import * as vscode from 'vscode';
import { CutTargetsRequest, ImportRequest, LENS_COMMANDS, StatsRequest, type CutTargetsResult, type ImportSummary, type PairNode } from '../server/protocol';
import type { EngineClient } from './client';
import { config } from './config';
import type { DatasetsView } from './datasetsView';
import { OPEN_STORED_COMMAND } from './datasetsView';
import type { BlockDecorations } from './decorations';
import { CHECK_ENDPOINTS_COMMAND, type Endpoints } from './endpoints';
import { badLineReport, importSummaryText } from './importReport';
import { buildPairs, exportPairs, scorePairs, type PairCommandContext } from './pairCommands';
import { OPEN_PAIR_COMMAND, type PairsView } from './pairsView';
import type { ReviewRoom } from './review';
import { linkFileToProblem } from './problemLink';
import { OPEN_SAMPLE_COMMAND, openSample, type SamplesView } from './samplesView';
import { sample } from './sampling';
import { withServerProgress } from './serverProgress';
import { openStoredDocument } from './storeDocuments';
import type { TestRuns } from './testRuns';
import type { Training } from './training';
import type { TrainingRunsView } from './trainingView';
import { reached } from './walkthrough';
import type { Dashboard } from './dashboard';

export interface CommandContext extends PairCommandContext {
  engine: EngineClient;
  decorations: BlockDecorations;
  datasets: DatasetsView;
  /** The "PairForge" output channel (import reports, stats). */
  output: vscode.OutputChannel;
  testRuns: TestRuns;
  endpoints: Endpoints;
  samples: SamplesView;
  pairs: PairsView;
  review: ReviewRoom;
  training: Training;
  trainingRuns: TrainingRunsView;
  dashboard: Dashboard;
}

type Handler = (ctx: CommandContext, ...args: unknown[]) => unknown;

/** Paths given to the command (tests, other extensions) instead of the file picker. */
function givenFiles(arg: unknown): string[] | undefined {
  const list = Array.isArray(arg) ? arg : arg === undefined ? [] : [arg];
  const files = list.map((x) => (x instanceof vscode.Uri ? x.fsPath : typeof x === 'string' ? x : undefined)).filter((x): x is string => !!x);
  return files.length ? files : undefined;
}

async function importDataset(ctx: CommandContext, arg?: unknown): Promise<ImportSummary | undefined> {
  let files = givenFiles(arg);
  if (!files) {
    // One dialog cannot offer files and folders together on Linux and Windows: ask which first.
    const layout = await vscode.window.showQuickPick(
      [
        { label: 'Dataset files', detail: 'JSONL or a JSON array (MBPP, HumanEval, APPS, EvalPlus, iteration histories), optionally gzipped', folders: false },
        { label: 'APPS problem folders', detail: 'a folder per problem (question.txt, solutions.json, input_output.json), or a split holding them', folders: true },
      ],
      { title: 'Import datasets into the PairForge project', placeHolder: 'What do the datasets look like?' },
    );
    if (!layout) return undefined;
    const picked = await vscode.window.showOpenDialog({
      canSelectMany: true,
      canSelectFiles: !layout.folders,
      canSelectFolders: layout.folders,
      openLabel: 'Import',
      title: 'Import datasets into the PairForge project',
      ...(layout.folders ? {} : { filters: { 'Datasets (JSONL, JSON, gzip)': ['jsonl', 'gz', 'json'], 'All files': ['*'] } }),
    });
    if (!picked?.length) return undefined;
    files = picked.map((u) => u.fsPath);
  }
  const client = await ctx.engine.require();
  const summary = await withServerProgress(client, 'PairForge: importing', (workDoneToken, token) =>
    client.sendRequest(ImportRequest, { files: files!, workDoneToken }, token),
  );
  if (!summary.cancelled && summary.files.length > 0) reached('imported');
  const bad = badLineReport(summary);
  const text = importSummaryText(summary);
  ctx.output.appendLine(text);
  for (const f of summary.files) ctx.output.appendLine(`  ${f.file} (${f.format}): ${f.records} records, ${f.imported} new, ${f.unchanged} unchanged, ${f.bad.length} bad`);
  for (const line of bad) ctx.output.appendLine(line);
  ctx.datasets.refresh();
  if (bad.length) {
    void vscode.window.showWarningMessage(text, 'Show Bad Lines').then((pick) => pick && ctx.output.show(true));
  } else {
    void vscode.window.showInformationMessage(text);
  }
  return summary;
}

async function showStats(ctx: CommandContext): Promise<void> {
  const client = await ctx.engine.require();
  const s = await client.sendRequest(StatsRequest, {});
  // Counts later stages add to the stats (samples, executions, pairs) are listed after the
  // foundation's, whatever they are.
  const known = new Set(['datasets', 'problems', 'tests', 'solutions', 'histories', 'versions', 'targets']);
  const extra = Object.entries(s as unknown as Record<string, unknown>)
    .filter(([k, v]) => !known.has(k) && typeof v === 'number')
    .map(([k, v]) => `, ${v} ${k}`)
    .join('');
  const text =
    `PairForge project ${config.projectPath() ?? '(none)'}: ${s.datasets} datasets, ${s.problems} problems, ${s.tests} tests, ` +
    `${s.solutions} solutions, ${s.histories} histories (${s.versions} versions), ${s.targets} targets${extra}.`;
  ctx.output.appendLine(text);
  void vscode.window.showInformationMessage(text);
}

async function cutTargets(ctx: CommandContext): Promise<CutTargetsResult | undefined> {
  const client = await ctx.engine.require();
  const r = await withServerProgress(client, 'PairForge: cutting solutions into targets', (workDoneToken, token) =>
    client.sendRequest(CutTargetsRequest, { workDoneToken }, token),
  );
  const text = `PairForge: ${r.cancelled ? 'cut cancelled' : 'cut finished'} (${r.preset}): ${r.cut} solutions cut, ${r.targets} new targets.`;
  ctx.output.appendLine(text);
  void vscode.window.showInformationMessage(text);
  return r;
}

/** A URI from a command argument: a Uri, a string, or a Datasets-view node (its `uri`). */
function uriOf(arg: unknown): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg;
  if (typeof arg === 'string') return vscode.Uri.parse(arg);
  const nodeUri = (arg as { uri?: unknown } | undefined)?.uri;
  return typeof nodeUri === 'string' ? vscode.Uri.parse(nodeUri) : undefined;
}

function numberArg(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) ? v : undefined;
}

async function showSamples(ctx: CommandContext, uri: unknown, targetId: unknown): Promise<void> {
  const u = typeof uri === 'string' ? uri : uri instanceof vscode.Uri ? uri.toString() : vscode.window.activeTextEditor?.document.uri.toString();
  if (!u) throw new Error('Show Samples: open a solution from the Datasets view first');
  await vscode.commands.executeCommand('pairforge.samples.focus');
  await ctx.samples.show(u, numberArg(targetId));
}

async function toggleBlockHighlights(ctx: CommandContext): Promise<void> {
  const on = !ctx.decorations.isEnabled();
  ctx.decorations.setEnabled(on); // at once; the setting change below confirms it
  await config.setHighlight(on);
}

async function restartServer(ctx: CommandContext): Promise<void> {
  if (await ctx.engine.restart()) {
    ctx.datasets.refresh();
    ctx.pairs.refresh();
    void vscode.window.setStatusBarMessage('PairForge: engine server restarted', 3000);
  }
}

export const COMMANDS: Record<string, Handler> = {
  'pairforge.importDataset': (ctx, arg) => importDataset(ctx, arg),
  'pairforge.toggleBlockHighlights': (ctx) => toggleBlockHighlights(ctx),
  'pairforge.refreshDatasets': (ctx) => ctx.datasets.refresh(),
  'pairforge.showStats': (ctx) => showStats(ctx),
  'pairforge.restartServer': (ctx) => restartServer(ctx),
  [LENS_COMMANDS.runTests]: (ctx, arg) => ctx.testRuns.run(uriOf(arg)),
  'pairforge.linkFileToProblem': (ctx) => linkFileToProblem(ctx.engine),
  [LENS_COMMANDS.sampleBlock]: (ctx, uri, targetId) => {
    const id = numberArg(targetId);
    if (id === undefined) throw new Error('Sample: use the "Sample" code lens above a block of a stored solution');
    return sample(ctx, uri, id);
  },
  [LENS_COMMANDS.sampleFile]: (ctx, uri) => sample(ctx, uri),
  [LENS_COMMANDS.showSamples]: (ctx, uri, targetId) => showSamples(ctx, uri, targetId),
  'pairforge.refreshSamples': (ctx) => ctx.samples.refresh(),
  [LENS_COMMANDS.cutTargets]: (ctx) => cutTargets(ctx),
  'pairforge.setEndpointApiKey': (ctx, url) => ctx.endpoints.setApiKey(url),
  [CHECK_ENDPOINTS_COMMAND]: (ctx) => ctx.endpoints.check(),
  'pairforge.refreshPairs': (ctx) => ctx.pairs.refresh(),
  'pairforge.acceptPair': (ctx, node, selected) => ctx.pairs.setStatus('accepted', node as PairNode | undefined, selected as PairNode[] | undefined),
  'pairforge.rejectPair': (ctx, node, selected) => ctx.pairs.setStatus('rejected', node as PairNode | undefined, selected as PairNode[] | undefined),
  'pairforge.flagPair': (ctx, node, selected) => ctx.pairs.setStatus('flagged', node as PairNode | undefined, selected as PairNode[] | undefined),
  'pairforge.resetPair': (ctx, node, selected) => ctx.pairs.setStatus('pending', node as PairNode | undefined, selected as PairNode[] | undefined),
  // Internal (tree items): not in the palette.
  [OPEN_STORED_COMMAND]: (_ctx, uri) => openStoredDocument(uri as string),
  [OPEN_SAMPLE_COMMAND]: (_ctx, targetId, sampleId, index) => openSample(targetId as number, sampleId as number, index as number),
  'pairforge.reviewPairs': (ctx, arg) => ctx.review.open(pairIdOf(arg)),
  'pairforge.openDashboard': (ctx) => ctx.dashboard.open(),
  'pairforge.buildPairs': (ctx) => buildPairs(ctx),
  'pairforge.exportPairs': (ctx) => exportPairs(ctx),
  'pairforge.scorePairs': (ctx, node, selected) => scorePairs(ctx, pairIdsOf(node, selected)),
  [OPEN_PAIR_COMMAND]: (ctx, node) => ctx.review.open(pairIdOf(node)),
  'pairforge.sendToTraining': (ctx) => ctx.training.send(),
  'pairforge.prepareTrainingHost': (ctx) => ctx.training.prepare(),
  'pairforge.refreshTrainingRuns': (ctx) => ctx.trainingRuns.refresh(true),
  'pairforge.followTrainingRun': (ctx, arg) => ctx.training.follow(arg),
  'pairforge.stopTrainingRun': (ctx, arg) => ctx.training.stop(arg),
  'pairforge.showTrainingMetrics': (ctx, arg) => ctx.training.showMetrics(arg),
};

/** A pair id from a command argument: a number or a Pairs view node. */
function pairIdOf(arg: unknown): number | undefined {
  if (typeof arg === 'number' && Number.isInteger(arg)) return arg;
  const id = (arg as PairNode | undefined)?.pairId;
  return typeof id === 'number' ? id : undefined;
}

/** The pairs a command acts on: an id list (the room), or the Pairs view's selection (its
 * multi-select, else the clicked node); undefined = every pair. */
function pairIdsOf(node: unknown, selected: unknown): number[] | undefined {
  if (Array.isArray(node) && node.every((x) => Number.isInteger(x))) return node as number[];
  const nodes = Array.isArray(selected) && selected.length ? (selected as PairNode[]) : node ? [node as PairNode] : [];
  const ids = nodes.map((n) => n.pairId).filter((x): x is number => typeof x === 'number');
  return ids.length ? ids : undefined;
}

/** Registers the table; a failing command shows its error instead of failing silently. */
export function registerCommands(ctx: CommandContext): vscode.Disposable[] {
  return Object.entries(COMMANDS).map(([id, handler]) =>
    vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      try {
        return await handler(ctx, ...args);
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        ctx.output.appendLine(`${id}: ${msg}`);
        void vscode.window.showErrorMessage(`PairForge: ${msg}`);
        return undefined;
      }
    }),
  );
}
