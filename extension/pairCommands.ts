// Commands on pairs that need no CLI: Build Pairs..., Export Pairs..., Score Pairs (the Pairs
// view's selection or every pair), each with a progress notification that cancels.
import * as vscode from 'vscode';
import {
  BuildPairsRequest,
  ExportPairsRequest,
  FIM_FAMILIES,
  ScorePairsRequest,
  type BuildPairsResult,
  type ExportPairsResult,
  type PairMode,
  type ScorePairsResult,
} from '../server/protocol';
import type { EngineClient } from './client';
import { config } from './config';
import type { Endpoints } from './endpoints';
import { withServerProgress } from './serverProgress';
import { reached } from './walkthrough';

export interface PairCommandContext {
  engine: EngineClient;
  endpoints: Endpoints;
  output: vscode.OutputChannel;
  /** After pairs or their scores changed (views and the room refresh). */
  changed(): void;
}

export async function buildPairs(ctx: PairCommandContext): Promise<BuildPairsResult | undefined> {
  const modes: (vscode.QuickPickItem & { mode: PairMode | 'both' })[] = [
    { label: 'Both modes', description: 'StructureCoder from sampled blocks, IterPref from histories', mode: 'both' },
    { label: 'StructureCoder', description: 'a failing block with the closest passing one, per target', mode: 'structurecoder' },
    { label: 'IterPref', description: 'the final passing version with an earlier failing one, per history', mode: 'iterpref' },
  ];
  const mode = await vscode.window.showQuickPick(modes, { title: 'PairForge: Build Pairs', placeHolder: 'Which pairing?' });
  if (!mode) return undefined;
  const errors = await vscode.window.showQuickPick(
    [
      { label: 'Wrong answers only', description: 'as published: errors and timeouts are never rejected', admit: false },
      { label: 'Also runtime errors and timeouts', description: 'may reject them too', admit: true },
    ],
    { title: 'PairForge: Build Pairs', placeHolder: 'Which failing candidates may be the rejected side (StructureCoder)?' },
  );
  if (!errors) return undefined;
  const client = await ctx.engine.require();
  const r = await withServerProgress(client, 'PairForge: building pairs', (workDoneToken, token) =>
    client.sendRequest(
      BuildPairsRequest,
      { mode: mode.mode, ...(errors.admit ? { rejectVerdicts: ['wrong_answer', 'runtime_error', 'timeout'] } : {}), workDoneToken },
      token,
    ),
  );
  if (!r.cancelled) reached('pairsBuilt');
  const text = `PairForge: ${r.cancelled ? 'building stopped' : 'pairs built'}: ${r.modes.map((m) => `${m.mode} ${m.total} (${m.inserted} new, ${m.stale} newly stale)`).join('; ')}.`;
  ctx.output.appendLine(text);
  void vscode.window.showInformationMessage(text, 'Review Pairs').then((pick) => pick && vscode.commands.executeCommand('pairforge.reviewPairs'));
  ctx.changed();
  return r;
}

export async function exportPairs(ctx: PairCommandContext): Promise<ExportPairsResult | undefined> {
  const format = await vscode.window.showQuickPick(
    [
      { label: 'trl', description: 'prompt / chosen / rejected with loss spans (the trainer PairForge ships reads it)' },
      { label: 'structurecoder', description: "the published StructureCoder trainer's lines" },
      { label: 'llamafactory', description: 'LLaMA-Factory ranking data and dataset_info.json' },
    ],
    { title: 'PairForge: Export Pairs', placeHolder: 'Format' },
  );
  if (!format) return undefined;
  const which = await vscode.window.showQuickPick(
    [
      { label: 'Accepted pairs', pending: false },
      { label: 'Accepted pairs and unflagged pending ones', pending: true },
    ],
    { title: 'PairForge: Export Pairs', placeHolder: 'Which pairs?' },
  );
  if (!which) return undefined;
  const family = await vscode.window.showQuickPick([...FIM_FAMILIES], { title: 'PairForge: Export Pairs', placeHolder: 'Prompt family of FIM records' });
  if (!family) return undefined;
  const folder = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, canSelectMany: false, openLabel: 'Export here', title: 'PairForge: export folder' });
  if (!folder?.length) return undefined;
  const client = await ctx.engine.require();
  const r = await withServerProgress(client, 'PairForge: exporting pairs', (workDoneToken, token) =>
    client.sendRequest(
      ExportPairsRequest,
      { format: format.label as 'trl', out: folder[0].fsPath, includePending: which.pending, family: family as (typeof FIM_FAMILIES)[number], workDoneToken },
      token,
    ),
  );
  if (r.cancelled) {
    const stopped = `PairForge: export cancelled: nothing was written to ${r.dir}.`;
    ctx.output.appendLine(stopped);
    void vscode.window.showInformationMessage(stopped);
    return r;
  }
  const text = `PairForge: exported ${r.pairs} pairs as ${r.records} records to ${r.dir} (${r.files.join(', ')}, manifest.json).`;
  ctx.output.appendLine(text);
  void vscode.window.showInformationMessage(text, 'Reveal').then((pick) => pick && vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(r.dir)));
  return r;
}

/** Scores the given pairs (or all) with the policy and reference of the settings. */
export async function scorePairs(ctx: PairCommandContext, pairIds?: number[]): Promise<ScorePairsResult | undefined> {
  const s = config.scoring();
  if (s.problems.length) void vscode.window.showWarningMessage(`PairForge: ${s.problems.join('; ')}`);
  if (!s.policy || !s.reference) {
    const pick = await vscode.window.showErrorMessage(
      'PairForge: scoring needs a policy and a reference endpoint: set pairforge.scoring.policy and pairforge.scoring.reference ({"url", "model"}).',
      'Open Settings',
    );
    if (pick) await vscode.commands.executeCommand('workbench.action.openSettings', 'pairforge.scoring');
    return undefined;
  }
  const [policy, reference] = await Promise.all([ctx.endpoints.withKey(s.policy), ctx.endpoints.withKey(s.reference)]);
  const client = await ctx.engine.require();
  const what = pairIds ? `${pairIds.length} pair${pairIds.length === 1 ? '' : 's'}` : 'every pair';
  const r = await withServerProgress(client, `PairForge: scoring ${what}`, (workDoneToken, token) =>
    client.sendRequest(ScorePairsRequest, { ...(pairIds ? { pairIds } : {}), policy, reference, ...s.params, family: config.training().family, workDoneToken }, token),
  );
  const text =
    `PairForge: scoring run ${r.runId} ${r.cancelled ? 'stopped' : r.status}: ${r.scoredPairs}/${r.pairs} pairs scored` +
    (r.meanMargin !== null ? `, the policy prefers the chosen side on ${r.prefersChosen}; mean margin ${r.meanMargin.toFixed(3)}` : '') +
    (r.message ? ` (${r.message})` : '');
  if (r.status === 'done' && r.scoredPairs > 0) reached('scored');
  ctx.output.appendLine(text);
  void (r.status === 'done' ? vscode.window.showInformationMessage(text) : vscode.window.showWarningMessage(text));
  ctx.changed();
  return r;
}
