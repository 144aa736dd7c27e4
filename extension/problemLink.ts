// "Link File to Problem...": picks a dataset and a problem of the project and writes the header
// comment that links the active Python file to it (server/import/problemLink.ts reads it), so Run
// Tests can run the problem's tests on the file.
import * as vscode from 'vscode';
import { DatasetChildrenRequest, type DatasetNode, parseProblemHeader, problemHeader } from '../server/protocol';
import type { EngineClient } from './client';

export async function linkFileToProblem(engine: EngineClient): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor || editor.document.languageId !== 'python' || editor.document.uri.scheme !== 'file') {
    throw new Error('Link File to Problem: open a Python file from the workspace first');
  }
  const client = await engine.require();
  const datasets: DatasetNode[] = await client.sendRequest(DatasetChildrenRequest, {});
  if (datasets.length === 0) throw new Error('the project has no datasets: import one first (PairForge: Import Dataset...)');
  const ds = await vscode.window.showQuickPick(
    datasets.map((d) => ({ label: d.label, description: d.description, node: d })),
    { title: 'PairForge: link this file to a problem of which dataset?' },
  );
  if (!ds) return;
  // Problems come in pages; a "N more problems" node continues the list.
  const problems: DatasetNode[] = [];
  let parent: string | undefined = ds.node.id;
  while (parent) {
    const page: DatasetNode[] = await client.sendRequest(DatasetChildrenRequest, { parent });
    parent = undefined;
    for (const n of page) {
      if (n.kind === 'problem') problems.push(n);
      else if (n.kind === 'dataset') parent = n.id;
    }
  }
  const pr = await vscode.window.showQuickPick(
    problems.map((p) => ({ label: p.label, description: p.description, detail: p.tooltip?.split('\n')[0], node: p })),
    { title: `PairForge: problem of ${ds.label}`, matchOnDescription: true, matchOnDetail: true },
  );
  if (!pr) return;
  const header = problemHeader(ds.label, pr.label);
  const doc = editor.document;
  const existing = parseProblemHeader(doc.getText());
  await editor.edit((e) => {
    if (existing) e.replace(doc.lineAt(existing.line).range, header);
    else e.insert(new vscode.Position(0, 0), `${header}\n`);
  });
}
