// "Sample x5" / "Sample all blocks": asks the engine server to sample stored targets of the open
// document from the configured endpoints (keys from SecretStorage, sent with the request only),
// with a cancellable progress notification, then shows the samples and their verdicts in the
// Samples view. Tests run right after sampling only in a trusted workspace.
import * as vscode from 'vscode';
import { SampleRequest, type SampleSummary } from '../server/protocol';
import type { EngineClient } from './client';
import { config } from './config';
import type { Endpoints } from './endpoints';
import type { SamplesView } from './samplesView';
import { withServerProgress } from './serverProgress';
import { sampleSummaryText } from './samplingText';
import { reached } from './walkthrough';

export interface SamplingContext {
  engine: EngineClient;
  endpoints: Endpoints;
  samples: SamplesView;
  output: vscode.OutputChannel;
}

function uriArg(arg: unknown): vscode.Uri {
  if (arg instanceof vscode.Uri) return arg;
  if (typeof arg === 'string') return vscode.Uri.parse(arg);
  const active = vscode.window.activeTextEditor?.document.uri;
  if (!active) throw new Error('open a solution from the Datasets view first');
  return active;
}

/** Samples one target (`targetId`) or every target of the document. */
export async function sample(ctx: SamplingContext, uriLike: unknown, targetId?: number): Promise<SampleSummary | undefined> {
  const uri = uriArg(uriLike);
  const endpoints = await ctx.endpoints.withKeys();
  if (endpoints.length === 0) {
    const pick = await vscode.window.showErrorMessage('PairForge: no sampling endpoints: add {"url", "model"} to pairforge.sampling.endpoints.', 'Open Settings');
    if (pick) await vscode.commands.executeCommand('workbench.action.openSettings', 'pairforge.sampling.endpoints');
    return undefined;
  }
  // The server samples the document it has open.
  await vscode.workspace.openTextDocument(uri);
  const params = config.sampling();
  const trusted = vscode.workspace.isTrusted;
  const client = await ctx.engine.require();
  const what = targetId !== undefined ? 'one block' : 'all blocks';
  const summary = await withServerProgress(client, `PairForge: sampling ${what} ×${params.n}`, (workDoneToken, token) =>
    client.sendRequest(
      SampleRequest,
      { uri: uri.toString(), ...(targetId !== undefined ? { targetIds: [targetId] } : {}), endpoints, params, runTests: trusted, workDoneToken },
      token,
    ),
  );
  const text = sampleSummaryText(summary);
  if (summary.samples > 0) reached('sampled');
  // Never the request (it holds the keys): only the summary goes to the output channel.
  ctx.output.appendLine(`${uri.toString(true)}: ${text}`);
  if (!trusted) ctx.output.appendLine('  tests not run: the workspace is not trusted');
  // A message means something did not go as asked (a 401, targets skipped, tests not run).
  const show = summary.message ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
  void show(text, 'Show Samples').then((pick) => {
    if (pick) void vscode.commands.executeCommand('pairforge.samples.focus');
  });
  await ctx.samples.show(uri.toString(), targetId);
  return summary;
}
