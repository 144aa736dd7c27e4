// A VS Code progress notification fed by the engine server's LSP work-done progress: the server
// reports absolute percentages and messages on a token the client creates; VS Code wants
// increments. Cancel in the notification (or `outer`) cancels the request.
import { randomUUID } from 'node:crypto';
import * as vscode from 'vscode';
import { WorkDoneProgress, type LanguageClient, type WorkDoneProgressBegin, type WorkDoneProgressReport } from 'vscode-languageclient/node';

export function withServerProgress<T>(
  client: LanguageClient,
  title: string,
  body: (workDoneToken: string, token: vscode.CancellationToken) => Promise<T>,
  outer?: vscode.CancellationToken,
): Thenable<T> {
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (progress, cancel) => {
    const workDoneToken = randomUUID();
    let shown = 0;
    const sub = client.onProgress(WorkDoneProgress.type, workDoneToken, (v) => {
      if (v.kind === 'end') return;
      const b = v as WorkDoneProgressBegin | WorkDoneProgressReport;
      const pct = b.percentage;
      const increment = pct !== undefined && pct > shown ? pct - shown : undefined;
      if (increment !== undefined) shown = pct!;
      // The server's begin title says what it is doing (e.g. "Running 3 tests of demo-apps/9001").
      const message = v.kind === 'begin' ? [(v as WorkDoneProgressBegin).title, b.message].filter(Boolean).join(': ') : b.message;
      progress.report({ message, increment });
    });
    const token = outer ? anyToken(cancel, outer) : cancel;
    try {
      return await body(workDoneToken, token);
    } finally {
      sub.dispose();
    }
  });
}

/** A token cancelled when either is. */
function anyToken(a: vscode.CancellationToken, b: vscode.CancellationToken): vscode.CancellationToken {
  const src = new vscode.CancellationTokenSource();
  const subs = [a.onCancellationRequested(() => src.cancel()), b.onCancellationRequested(() => src.cancel())];
  if (a.isCancellationRequested || b.isCancellationRequested) src.cancel();
  src.token.onCancellationRequested(() => subs.forEach((s) => s.dispose()));
  return src.token;
}
