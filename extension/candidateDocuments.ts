// Read-only documents for stored candidates (a sample's program, a target's golden program, the
// two sides of a pair), so they open in editors and diffs as text: model output is only ever
// shown, never run, outside the sandbox. URI: `pairforge-candidate:/<kind>/<id>/<title>.py`.
import * as vscode from 'vscode';
import { CandidateTextRequest, type CandidateTextParams } from '../server/protocol';
import type { EngineClient } from './client';

export const CANDIDATE_SCHEME = 'pairforge-candidate';
const KINDS: readonly CandidateTextParams['kind'][] = ['sample', 'target', 'pair-chosen', 'pair-rejected'];

export function candidateUri(kind: CandidateTextParams['kind'], id: number, title: string): vscode.Uri {
  return vscode.Uri.from({ scheme: CANDIDATE_SCHEME, path: `/${kind}/${id}/${title.replace(/[/\\]/g, '_')}.py` });
}

export class CandidateDocuments implements vscode.TextDocumentContentProvider {
  constructor(private readonly engine: EngineClient) {}

  async provideTextDocumentContent(uri: vscode.Uri, token: vscode.CancellationToken): Promise<string> {
    const [, kind, id] = uri.path.split('/');
    if (!(KINDS as readonly string[]).includes(kind) || !/^\d+$/.test(id ?? '')) throw new Error(`${uri.toString()}: not a PairForge candidate URI`);
    const client = await this.engine.require();
    const r = await client.sendRequest(CandidateTextRequest, { kind: kind as CandidateTextParams['kind'], id: Number(id) }, token);
    return r.text;
  }

  register(): vscode.Disposable {
    return vscode.workspace.registerTextDocumentContentProvider(CANDIDATE_SCHEME, this);
  }
}
