// Read-only documents for solutions and history versions stored in the project (`pairforge:`
// URIs): the content comes from the engine server, which owns the store.
import * as vscode from 'vscode';
import { DocumentContentRequest, STORE_SCHEME } from '../server/protocol';
import type { EngineClient } from './client';

export class StoreDocuments implements vscode.TextDocumentContentProvider {
  constructor(private readonly engine: EngineClient) {}

  async provideTextDocumentContent(uri: vscode.Uri, token: vscode.CancellationToken): Promise<string> {
    const client = await this.engine.require();
    const { text } = await client.sendRequest(DocumentContentRequest, { uri: uri.toString() }, token);
    return text;
  }

  register(): vscode.Disposable {
    return vscode.workspace.registerTextDocumentContentProvider(STORE_SCHEME, this);
  }
}

/** Opens a stored solution as a read-only Python document (the `.py` path usually picks Python;
 * the language is set explicitly when no Python language support claimed it). */
export async function openStoredDocument(uri: string | vscode.Uri): Promise<vscode.TextEditor> {
  const u = typeof uri === 'string' ? vscode.Uri.parse(uri) : uri;
  let doc = await vscode.workspace.openTextDocument(u);
  if (doc.languageId !== 'python') doc = await vscode.languages.setTextDocumentLanguage(doc, 'python');
  return vscode.window.showTextDocument(doc, { preview: true });
}
