// Every command of the extension, as one table: id -> handler. package.json `contributes.commands`
// lists the same ids (a unit test could compare them; the ids are the contract with the palette).
import { randomUUID } from 'node:crypto';
import * as vscode from 'vscode';
import { WorkDoneProgress, type WorkDoneProgressBegin, type WorkDoneProgressReport } from 'vscode-languageclient/node';
import { ImportRequest, StatsRequest, type ImportSummary } from '../server/protocol';
import type { EngineClient } from './client';
import { config } from './config';
import type { DatasetsView } from './datasetsView';
import { OPEN_STORED_COMMAND } from './datasetsView';
import type { BlockDecorations } from './decorations';
import { badLineReport, importSummaryText } from './importReport';
import { openStoredDocument } from './storeDocuments';

export interface CommandContext {
  engine: EngineClient;
  decorations: BlockDecorations;
  datasets: DatasetsView;
  /** The "PairForge" output channel (import reports, stats). */
  output: vscode.OutputChannel;
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
    const picked = await vscode.window.showOpenDialog({
      canSelectMany: true,
      openLabel: 'Import',
      title: 'Import datasets into the PairForge project',
      filters: { 'Datasets (JSONL, gzip)': ['jsonl', 'gz', 'json'], 'All files': ['*'] },
    });
    if (!picked?.length) return undefined;
    files = picked.map((u) => u.fsPath);
  }
  const client = await ctx.engine.require();
  const summary = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'PairForge: importing', cancellable: true },
    async (progress, token) => {
      // Server-side progress arrives on a work-done token we create; VS Code's progress wants
      // increments, the server reports absolute percentages.
      const workDoneToken = randomUUID();
      let shown = 0;
      const sub = client.onProgress(WorkDoneProgress.type, workDoneToken, (v) => {
        if (v.kind === 'end') return;
        const pct = (v as WorkDoneProgressBegin | WorkDoneProgressReport).percentage;
        const increment = pct !== undefined && pct > shown ? pct - shown : undefined;
        if (increment !== undefined) shown = pct!;
        progress.report({ message: v.message, increment });
      });
      try {
        return await client.sendRequest(ImportRequest, { files: files!, workDoneToken }, token);
      } finally {
        sub.dispose();
      }
    },
  );
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
  const text =
    `PairForge project ${config.projectPath() ?? '(none)'}: ${s.datasets} datasets, ${s.problems} problems, ${s.tests} tests, ` +
    `${s.solutions} solutions, ${s.histories} histories (${s.versions} versions), ${s.targets} targets.`;
  ctx.output.appendLine(text);
  void vscode.window.showInformationMessage(text);
}

async function toggleBlockHighlights(ctx: CommandContext): Promise<void> {
  const on = !ctx.decorations.isEnabled();
  ctx.decorations.setEnabled(on); // at once; the setting change below confirms it
  await config.setHighlight(on);
}

async function restartServer(ctx: CommandContext): Promise<void> {
  if (await ctx.engine.restart()) {
    ctx.datasets.refresh();
    void vscode.window.setStatusBarMessage('PairForge: engine server restarted', 3000);
  }
}

export const COMMANDS: Record<string, Handler> = {
  'pairforge.importDataset': (ctx, arg) => importDataset(ctx, arg),
  'pairforge.toggleBlockHighlights': (ctx) => toggleBlockHighlights(ctx),
  'pairforge.refreshDatasets': (ctx) => ctx.datasets.refresh(),
  'pairforge.showStats': (ctx) => showStats(ctx),
  'pairforge.restartServer': (ctx) => restartServer(ctx),
  // Internal (tree items): not in the palette.
  [OPEN_STORED_COMMAND]: (_ctx, uri) => openStoredDocument(uri as string),
};

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
