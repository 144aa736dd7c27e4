// "Run Tests": runs the open document's problem tests in the engine's sandbox and shows the result
// where a person looks:
// - VS Code's Testing view (a test item per problem test, under the document; failures carry the
//   expected / actual output as a diff and point at the failing line, so the editor's inline
//   peek and the Test Results panel show input, expected and actual side by side);
// - diagnostics on the document (squiggles + the Problems panel), one per failing test, at the
//   line of the candidate's traceback when there is one, else on the first line; they are cleared
//   when the document changes (they describe the text that ran).
// Nothing runs in an untrusted workspace: the command refuses, and the server refuses again.
import * as vscode from 'vscode';
import { RunTestsRequest, STORE_SCHEME, type RunTestsResult, type TestRunView } from '../server/protocol';
import type { EngineClient } from './client';
import { withServerProgress } from './serverProgress';
import { diagnosticMessage, runSummaryText, testMessageText } from './testReport';

export const UNTRUSTED_MESSAGE = 'PairForge runs no code in an untrusted workspace. Trust this workspace to run tests.';

export class TestRuns implements vscode.Disposable {
  private readonly controller: vscode.TestController;
  private readonly diagnostics: vscode.DiagnosticCollection;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly engine: EngineClient,
    private readonly output: vscode.OutputChannel,
  ) {
    this.controller = vscode.tests.createTestController('pairforge', 'PairForge');
    this.diagnostics = vscode.languages.createDiagnosticCollection('pairforge-tests');
    this.controller.createRunProfile('Run in the PairForge sandbox', vscode.TestRunProfileKind.Run, (request, token) => this.runProfile(request, token), true);
    this.disposables.push(
      this.controller,
      this.diagnostics,
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.contentChanges.length > 0) this.diagnostics.delete(e.document.uri);
      }),
      vscode.workspace.onDidCloseTextDocument((d) => this.diagnostics.delete(d.uri)),
    );
  }

  /** Runs the tests of `uri` (default: the active editor's document) and shows the result. */
  async run(uri?: vscode.Uri, token?: vscode.CancellationToken): Promise<RunTestsResult | undefined> {
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showWarningMessage(UNTRUSTED_MESSAGE, 'Manage Workspace Trust').then((pick) => {
        if (pick) void vscode.commands.executeCommand('workbench.trust.manage');
      });
      return undefined;
    }
    const target = uri ?? vscode.window.activeTextEditor?.document.uri;
    if (!target) throw new Error('Run Tests: open a solution (Datasets view) or a file linked to a problem first');
    // The server runs the text it has: the document must be open (and so synced) first.
    let doc = await vscode.workspace.openTextDocument(target);
    // A stored solution opened in the background (e.g. from the Datasets view's button) may not
    // have been given its language yet.
    if (doc.languageId !== 'python' && doc.uri.scheme === STORE_SCHEME) doc = await vscode.languages.setTextDocumentLanguage(doc, 'python');
    if (doc.languageId !== 'python') throw new Error(`Run Tests: ${target.toString(true)} is not a Python document`);
    const client = await this.engine.require();
    const result = await withServerProgress(
      client,
      'PairForge: running tests',
      (workDoneToken, cancel) => client.sendRequest(RunTestsRequest, { uri: doc.uri.toString(), workDoneToken }, cancel),
      token,
    );
    this.show(doc, result);
    return result;
  }

  private show(doc: vscode.TextDocument, r: RunTestsResult): void {
    const key = doc.uri.toString();
    const summary = runSummaryText(r);
    this.output.appendLine(`Run Tests ${doc.uri.toString(true)}: ${summary}`);

    // Diagnostics: only for the version that ran (an edit during the run made them stale).
    const failing = r.tests.filter((t) => t.verdict !== 'pass');
    if (doc.version === r.version) {
      this.diagnostics.set(
        doc.uri,
        failing.map((t) => {
          const d = new vscode.Diagnostic(this.rangeOf(doc, t), diagnosticMessage(t), vscode.DiagnosticSeverity.Error);
          d.source = 'PairForge tests';
          d.code = t.verdict;
          return d;
        }),
      );
    } else {
      this.diagnostics.delete(doc.uri);
    }

    // Testing view: one item for the document, one child per test of the problem.
    const root = this.controller.createTestItem(key, `${r.problem.dataset}/${r.problem.externalId}`, doc.uri);
    root.description = doc.uri.scheme === 'file' ? vscode.workspace.asRelativePath(doc.uri) : doc.uri.path.split('/').pop();
    this.controller.items.add(root);
    const items: vscode.TestItem[] = [];
    for (let i = 0; i < r.testsTotal; i++) {
      const t = r.tests.find((x) => x.ordinal === i);
      const item = this.controller.createTestItem(`${key}#${i}`, `test ${i + 1}${t ? ` (${t.kind})` : ''}`, doc.uri);
      items.push(item);
    }
    root.children.replace(items);
    const run = this.controller.createTestRun(new vscode.TestRunRequest([root]), `PairForge: ${summary}`, false);
    run.appendOutput(`${summary}\r\n`);
    items.forEach((item, i) => {
      const t = r.tests.find((x) => x.ordinal === i);
      if (!t) return run.skipped(item);
      if (t.verdict === 'pass') return run.passed(item, t.durationMs);
      const text = testMessageText(t);
      const msg =
        t.verdict === 'wrong_answer' && t.expected !== undefined && t.output !== undefined
          ? vscode.TestMessage.diff(text, t.expected, t.output)
          : new vscode.TestMessage(text);
      msg.location = new vscode.Location(doc.uri, this.rangeOf(doc, t));
      if (t.verdict === 'timeout' || t.verdict === 'memory_limit' || t.verdict === 'output_limit' || t.verdict === 'compile_error') run.errored(item, msg, t.durationMs);
      else run.failed(item, msg, t.durationMs);
      return undefined;
    });
    run.end();

    if (failing.length === 0) {
      void vscode.window.showInformationMessage(`PairForge: ${summary}`);
    } else {
      void vscode.window.showWarningMessage(`PairForge: ${summary}`, 'Show Test Results', 'Show Problems').then((pick) => {
        if (pick === 'Show Test Results') void vscode.commands.executeCommand('workbench.panel.testResults.view.focus');
        else if (pick === 'Show Problems') void vscode.commands.executeCommand('workbench.actions.view.problems');
      });
    }
  }

  private rangeOf(doc: vscode.TextDocument, t: TestRunView): vscode.Range {
    const line = t.line !== undefined && t.line < doc.lineCount ? t.line : 0;
    const text = doc.lineAt(line);
    return new vscode.Range(line, text.firstNonWhitespaceCharacterIndex, line, Math.max(text.range.end.character, text.firstNonWhitespaceCharacterIndex + 1));
  }

  /** The Testing view's run button: re-runs the documents of the chosen items. */
  private async runProfile(request: vscode.TestRunRequest, token: vscode.CancellationToken): Promise<void> {
    const uris = new Map<string, vscode.Uri>();
    const pick = request.include ?? [...iterate(this.controller.items)];
    for (const item of pick) if (item.uri) uris.set(item.uri.toString(), item.uri);
    for (const uri of uris.values()) {
      if (token.isCancellationRequested) break;
      try {
        await this.run(uri, token);
      } catch (e) {
        void vscode.window.showErrorMessage(`PairForge: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}

function* iterate(c: vscode.TestItemCollection): Generator<vscode.TestItem> {
  const all: vscode.TestItem[] = [];
  c.forEach((i) => all.push(i));
  yield* all;
}
